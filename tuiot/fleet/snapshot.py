"""The last known fleet on disk, and a bounded buffer of values seen live.

One SQLite file (default `data_dir()/snapshot.sqlite`, WAL) holds, per profile, the
parts of the last successful refresh, each with the time it was fetched, plus a history
buffer of readings the console saw. The console opens from it at once (marked with its
age) and the headless commands answer `--offline` from it.

Public API
----------
`SnapshotStore(path=None, *, clock=now_utc, max_points=2_000, max_bytes=50 MB, max_age=7 d)`
    Opens lazily on first use. Every method is thread-safe (one connection behind a
    lock) and blocking: from async code call it via `asyncio.to_thread`.
    - `save(profile, *, nodes=None, readings=None, alarms=None, identities=None,
      fetched_at=None, account=None)`: replace only the parts given (an empty list is a
      part too), all in one transaction; `fetched_at` defaults to now. `account`
      (`profile_account(profile)`) notes where the parts came from; parts saved from
      another account are dropped first.
    - `merge_readings(profile, readings, *, fetched_at=None, account=None) -> int`: merge
      readings fetched in part (a few devices) into the saved readings: each metric keeps
      its newest reading, the others stay. Returns the part's reading count.
    - `load(profile, parts=None, *, account=None) -> Snapshot | None`: every saved part
      (or only those named, e.g. `parts=("nodes",)`), or None if none of them is saved,
      or if it was saved from another account than `account` (`mismatch(profile,
      account)` says so in one line). Snapshots saved without an account are accepted.
    - `profiles() -> list[str]`, `age(profile, *, account=None) -> timedelta | None`
      (since the newest part was fetched), `forget(profile)`.
    - `append_readings(readings) -> int`: keep live values (duplicates of the same
      metric and time are ignored). Bounded: at most `max_points` per metric, nothing
      older than `max_age`, and the used database size at most `max_bytes` (oldest
      history points go first; the snapshot parts are never pruned).
    - `history(metric_ref, start=None, end=None, *, limit=None) -> list[Point]`: buffered
      points of one metric with start <= ts <= end, oldest first (`limit` keeps the newest).
    - `series(metric_ref, start, end, *, aggregate=None, bucket=None) -> Series`: the same
      points as a domain Series, bucketed client-side (adapters.series.bucketize) when asked.
    - `stats() -> dict`, `close()`; usable as a context manager.
    - `problems: list[str]`: one-line messages for the UI to show (a database moved
      aside, a failed write); `take_problems()` returns and clears them.
`Snapshot`: profile, nodes, readings, alarms, identities (None = never saved),
    `fetched_at` (part name -> time), `updated_at`, `age`, `age_of(part)`.
`merge_series(vendor_series, buffered_points) -> Series`: vendor history topped up with
    buffered points it lacks (for a short vendor look-back window, e.g. ThingsPro).
`describe_age(delta) -> str`: "40 s", "3 min", "2 h 5 min", "1 d 3 h", "4 d".
`unreachable_hint(store, profile, *, account=None) -> str | None`: the sentence appended
    to a one-line network error when a snapshot exists.
`profile_account(profile) -> str`: vendor, URLs (no userinfo or query) and Murano
    solution of a config Profile, as saved with its snapshot; `describe_account(text)`.

A file that is not SQLite, is damaged, or is SQLite without our schema (or with a newer
schema version) is renamed to `<name>.corrupt-<UTC timestamp>` (with its -wal/-shm) and a
new store is built; a message lands in `problems`. Nothing else in the data dir is touched.
If the file cannot be opened at all (no permission, a directory in its place, no space)
the store keeps working in memory for this run and says so in `problems`; a read-only
file is still read. No method raises sqlite3 errors.

Schema 1 files (readings without device, no accounts) are upgraded in place.

Storage: tree, alarms and identities are JSON (pydantic `dump_json` / `validate_json`,
zlib-compressed) in one row per part; readings are rows with typed columns (the largest
and most frequently saved part), rebuilt without re-validation since their types are
fixed by the columns. History points name their metric by a small integer (table
`series`, which also counts points per metric, kept by triggers): about 60 bytes a point,
so 50 MB hold roughly 700,000 points beside a 25,000-device snapshot (6.4 MB).
Times are integer microseconds since the Unix epoch (exact).
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tuiot.domain import Aggregate, Alarm, Identity, Node, Point, Reading, Series, Value, now_utc, utc

log = logging.getLogger(__name__)

# 2: readings keep their device ref; `accounts` says which account a profile's parts came from.
SCHEMA_VERSION = 2
APP_ID = "tuiot-snapshot"
PARTS: tuple[str, ...] = ("nodes", "readings", "alarms", "identities")
SQLITE_MAGIC = b"SQLite format 3\x00"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)
_BLOB_PARTS: dict[str, TypeAdapter[Any]] = {
    "nodes": TypeAdapter(list[Node]),
    "alarms": TypeAdapter(list[Alarm]),
    "identities": TypeAdapter(list[Identity]),
}
# Value kinds in the typed columns: SQLite would turn bools into ints and NaN into NULL.
# Ints beyond 64 bits would not bind at all.
_NATIVE, _BOOL, _FLOAT_TEXT, _INT_TEXT = 0, 1, 2, 3
_INT64 = 2**63
# sqlite3 extended codes whose primary code says "this file is damaged / not a database".
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26

_ACCOUNTS = "CREATE TABLE accounts(profile TEXT PRIMARY KEY, account TEXT NOT NULL) WITHOUT ROWID;"
_SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('app', '{APP_ID}'), ('schema_version', '{SCHEMA_VERSION}');
CREATE TABLE parts(
    profile TEXT NOT NULL, part TEXT NOT NULL, fetched_at INTEGER NOT NULL,
    count INTEGER NOT NULL, body BLOB,
    PRIMARY KEY (profile, part)) WITHOUT ROWID;
CREATE TABLE readings(
    profile TEXT NOT NULL, seq INTEGER NOT NULL, metric TEXT NOT NULL, value,
    kind INTEGER NOT NULL, ts INTEGER NOT NULL, unit TEXT, device TEXT,
    PRIMARY KEY (profile, seq)) WITHOUT ROWID;
{_ACCOUNTS}
CREATE TABLE series(
    id INTEGER PRIMARY KEY, metric TEXT NOT NULL UNIQUE, n INTEGER NOT NULL DEFAULT 0);
CREATE TABLE history(
    sid INTEGER NOT NULL, ts INTEGER NOT NULL, value, kind INTEGER NOT NULL,
    PRIMARY KEY (sid, ts)) WITHOUT ROWID;
CREATE INDEX history_ts ON history(ts);
CREATE TRIGGER history_ins AFTER INSERT ON history BEGIN
    UPDATE series SET n = n + 1 WHERE id = new.sid;
END;
CREATE TRIGGER history_del AFTER DELETE ON history BEGIN
    UPDATE series SET n = n - 1 WHERE id = old.sid;
END;
"""
_INSERT_READING = (
    "INSERT INTO readings(profile, seq, metric, value, kind, ts, unit, device) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_TABLES = {"meta", "parts", "readings", "history", "series", "accounts"}


class _Foreign(Exception):
    """The file is SQLite but not a snapshot store we can use."""


@dataclass(frozen=True)
class Snapshot:
    """What was saved for one profile. A part is None when it was never saved."""

    profile: str
    loaded_at: datetime
    nodes: list[Node] | None = None
    readings: list[Reading] | None = None
    alarms: list[Alarm] | None = None
    identities: list[Identity] | None = None
    fetched_at: dict[str, datetime] = field(default_factory=dict)

    @property
    def updated_at(self) -> datetime | None:
        """When the newest part was fetched: the last time this profile answered."""
        return max(self.fetched_at.values()) if self.fetched_at else None

    @property
    def age(self) -> timedelta | None:
        """Age of the newest part when loaded (compare `updated_at` with now for a live clock)."""
        at = self.updated_at
        return None if at is None else self.loaded_at - at

    def age_of(self, part: str) -> timedelta | None:
        at = self.fetched_at.get(part)
        return None if at is None else self.loaded_at - at


def _us(dt: datetime) -> int:
    return (utc(dt) - _EPOCH) // _US


def _dt(us: int) -> datetime:
    # Below 2**52 microseconds (until year 2112) the float division is exact to well under
    # half a microsecond, so fromtimestamp rounds back to the stored value, 3x faster.
    if -(2**52) < us < 2**52:
        return datetime.fromtimestamp(us / 1e6, timezone.utc)
    return _EPOCH + timedelta(microseconds=us)


def _encode_value(v: Value | None) -> tuple[Any, int]:
    if isinstance(v, bool):
        return int(v), _BOOL
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v), _FLOAT_TEXT
    if isinstance(v, int) and not -_INT64 <= v < _INT64:
        return str(v), _INT_TEXT
    return v, _NATIVE


def _decode_value(v: Any, kind: int) -> Value | None:
    if kind == _BOOL:
        return bool(v)
    if kind == _FLOAT_TEXT:
        return float(v)
    if kind == _INT_TEXT:
        return int(v)
    return v


def _builder(cls: type[Any], names: tuple[str, ...]) -> Callable[..., Any]:
    """A fast constructor of `cls` from values already of the right types (our own columns).

    Equivalent to `cls.model_construct(**dict(zip(names, values)))` at a fifth of the cost,
    which matters when 100,000 readings are loaded at start. Falls back to
    `model_construct` whenever the model has anything the shortcut would not honour.
    """
    fields = cls.__pydantic_fields__
    order = list(fields)
    rest = order[len(names) :]
    simple = (
        order[: len(names)] == list(names)
        and not cls.__pydantic_post_init__
        and not cls.__pydantic_root_model__
        and cls.model_config.get("extra") != "allow"
        and all(not fields[n].is_required() and fields[n].default_factory is None for n in rest)
        and all(isinstance(fields[n].default, (type(None), bool, int, float, str)) for n in rest)
    )
    if not simple:
        return lambda *values: cls.model_construct(**dict(zip(names, values, strict=True)))
    defaults = {n: fields[n].default for n in rest}
    fields_set = set(names)
    new = cls.__new__
    setattr_ = object.__setattr__

    def make(*values: Any) -> Any:
        m = new(cls)
        d = dict(zip(names, values, strict=True))
        if defaults:
            d.update(defaults)
        setattr_(m, "__dict__", d)
        setattr_(m, "__pydantic_fields_set__", fields_set)
        setattr_(m, "__pydantic_extra__", None)
        setattr_(m, "__pydantic_private__", None)
        return m

    return make


_make_reading = _builder(Reading, ("metric", "value", "ts", "unit", "device"))
_make_point = _builder(Point, ("ts", "value"))


def _is_corrupt(e: sqlite3.Error) -> bool:
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    text = str(e).lower()
    return "malformed" in text or "not a database" in text


class SnapshotStore:
    """Per-profile last known state plus a bounded history buffer in one SQLite file."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        clock: Callable[[], datetime] = now_utc,
        max_points: int = 2_000,
        max_bytes: int = 50 * 1024 * 1024,
        max_age: timedelta = timedelta(days=7),
    ) -> None:
        if path is None:
            from tuiot.config import data_dir

            path = data_dir() / "snapshot.sqlite"
        self.path = Path(path)
        self.clock = clock
        self.max_points = max_points
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.problems: list[str] = []
        self.in_memory = False
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    # ---- lifecycle ----------------------------------------------------------------

    def __enter__(self) -> SnapshotStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except sqlite3.Error:
                    pass
                self._conn = None

    def take_problems(self) -> list[str]:
        with self._lock:
            out, self.problems = self.problems, []
            return out

    def _problem(self, message: str) -> None:
        log.warning("%s", message)
        if not self.problems or self.problems[-1] != message:
            self.problems.append(message)
            del self.problems[:-50]  # a UI that never reads them must not grow memory

    def _open(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            return self._memory(f"cannot create {self.path.parent}: {e.strerror or e}")
        for attempt in range(2):
            try:
                reason = self._header_problem()
            except OSError as e:
                # unreadable (a directory, no permission) is not damage: leave it alone
                return self._memory(f"cannot read {self.path}: {e.strerror or e}")
            if reason is None:
                conn: sqlite3.Connection | None = None
                try:
                    conn = self._connect(str(self.path))
                    self._prepare(conn)
                    self._conn = conn
                    try:
                        self._maintain(conn)
                    except sqlite3.Error as e:
                        if _is_corrupt(e):
                            raise
                        # e.g. a read-only file or another process holding the lock:
                        # still readable, so keep it; the bounds apply on the next write
                        log.info("snapshot store maintenance skipped: %s", e)
                    return conn
                except _Foreign as e:
                    reason = str(e)
                except sqlite3.Error as e:
                    if not _is_corrupt(e):
                        if conn is not None:
                            conn.close()
                        self._conn = None
                        return self._memory(f"cannot open {self.path}: {e}")
                    reason = f"damaged ({e})"
                if conn is not None:
                    conn.close()
                self._conn = None
            if attempt == 0 and not self._move_aside(reason):
                break
        return self._memory(f"cannot use {self.path}")

    def _memory(self, why: str) -> sqlite3.Connection:
        self._problem(f"snapshot store: {why}; keeping the last known state in memory for this run only")
        self.in_memory = True
        conn = self._connect(":memory:")
        self._prepare(conn)
        self._conn = conn
        return conn

    @staticmethod
    def _connect(target: str) -> sqlite3.Connection:
        # Autocommit mode: transactions are opened explicitly, so a long read never
        # holds a write lock and every write is one BEGIN IMMEDIATE ... COMMIT.
        conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=10.0)
        conn.execute("PRAGMA busy_timeout = 10000")
        return conn

    def _header_problem(self) -> str | None:
        try:
            with self.path.open("rb") as f:
                head = f.read(len(SQLITE_MAGIC))
        except FileNotFoundError:
            return None
        if head and head != SQLITE_MAGIC:
            return "not an SQLite database"
        return None

    def _prepare(self, conn: sqlite3.Connection) -> None:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            # auto_vacuum must be chosen before the first table exists; it lets pruning
            # give pages back to the file system instead of keeping the file at its peak.
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self._pragmas(conn)
            try:
                conn.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
            except sqlite3.Error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return
        if "meta" not in tables:
            raise _Foreign("an SQLite file without the tuiot snapshot schema")
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("app") != APP_ID:
            raise _Foreign("an SQLite file of another program")
        try:
            version = int(meta.get("schema_version", ""))
        except ValueError:
            raise _Foreign("an unknown schema version") from None
        if version > SCHEMA_VERSION:
            raise _Foreign(f"written by a newer tuiot (schema {version}, this one reads {SCHEMA_VERSION})")
        if version < 1:
            raise _Foreign(f"an old schema ({version}) this tuiot no longer reads")
        missing = _TABLES - tables - ({"accounts"} if version == 1 else set())
        if missing:
            raise _Foreign(f"incomplete (missing {', '.join(sorted(missing))})")
        self._pragmas(conn)
        if version == 1:
            self._upgrade_from_1(conn)

    @staticmethod
    def _upgrade_from_1(conn: sqlite3.Connection) -> None:
        """Schema 1 → 2 in place: its snapshots stay usable (without devices or accounts,
        which count as unknown)."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            # another process may have upgraded it while this one waited for the lock
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row and row[0] == "1":
                conn.execute("ALTER TABLE readings ADD COLUMN device TEXT")
                conn.execute(_ACCOUNTS)
                conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _pragmas(conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable except on power loss
        conn.execute("PRAGMA journal_size_limit = 8388608")
        conn.execute("PRAGMA temp_store = MEMORY")

    def _move_aside(self, reason: str) -> bool:
        stamp = self.clock().astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            self.path.rename(target)
        except OSError as e:
            self._problem(
                f"snapshot store {self.path} is {reason} and could not be moved aside: {e.strerror or e}"
            )
            return False
        # The journal files belong to the old database: they travel with it, renamed so
        # SQLite would still pair them if someone opens the copy.
        for suffix in ("-wal", "-shm", "-journal"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                try:
                    side.rename(target.with_name(target.name + suffix))
                except OSError:
                    pass
        self._problem(
            f"snapshot store {self.path} was {reason}: moved aside to {target.name}, started a new one"
        )
        return True

    def _run(self, what: str, fn: Callable[[sqlite3.Connection], Any], default: Any) -> Any:
        """Run `fn` under the lock; a damaged file is moved aside and the call retried once."""
        with self._lock:
            for attempt in range(2):
                conn = self._open()
                try:
                    return fn(conn)
                except sqlite3.Error as e:
                    if conn.in_transaction:
                        try:
                            conn.execute("ROLLBACK")
                        except sqlite3.Error:
                            pass
                    if attempt == 0 and _is_corrupt(e) and not self.in_memory:
                        self.close()
                        if self._move_aside(f"damaged ({e})"):
                            continue
                    self._problem(f"snapshot store: {what} failed: {e}")
                    return default
            return default

    # ---- snapshot -----------------------------------------------------------------

    def save(
        self,
        profile: str,
        *,
        nodes: list[Node] | None = None,
        readings: list[Reading] | None = None,
        alarms: list[Alarm] | None = None,
        identities: list[Identity] | None = None,
        fetched_at: datetime | None = None,
        account: str | None = None,
    ) -> None:
        """Replace the parts given for `profile`; parts left as None keep what was saved.

        `account` (see `profile_account`): where these parts came from. Parts saved from
        another account are dropped first, so they can never be served as this one's.
        """
        at = _us(fetched_at or self.clock())
        blobs: list[tuple[str, str, int, int, bytes]] = []
        for part, items in (("nodes", nodes), ("alarms", alarms), ("identities", identities)):
            if items is not None:
                # fallback: an odd object a vendor put into `attrs` is kept as its text
                body = zlib.compress(_BLOB_PARTS[part].dump_json(list(items), fallback=str), 1)
                blobs.append((profile, part, at, len(items), body))
        rows: list[tuple[Any, ...]] | None = None
        if readings is not None:
            rows = []
            for seq, r in enumerate(readings):
                v, kind = _encode_value(r.value)
                rows.append((profile, seq, r.metric, v, kind, _us(r.ts), r.unit, r.device))
        if not blobs and rows is None:
            return

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            self._claim(conn, profile, account)
            conn.executemany(
                "INSERT INTO parts(profile, part, fetched_at, count, body) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(profile, part) DO UPDATE SET fetched_at = excluded.fetched_at, "
                "count = excluded.count, body = excluded.body",
                blobs,
            )
            if rows is not None:
                conn.execute("DELETE FROM readings WHERE profile = ?", (profile,))
                conn.executemany(_INSERT_READING, rows)
                conn.execute(
                    "INSERT INTO parts(profile, part, fetched_at, count, body) "
                    "VALUES (?, 'readings', ?, ?, NULL) "
                    "ON CONFLICT(profile, part) DO UPDATE SET fetched_at = excluded.fetched_at, "
                    "count = excluded.count, body = NULL",
                    (profile, at, len(rows)),
                )
            conn.execute("COMMIT")

        self._run(f"saving the snapshot of '{profile}'", write, None)

    def load(
        self, profile: str, parts: Iterable[str] | None = None, *, account: str | None = None
    ) -> Snapshot | None:
        """The saved parts of `profile` (all, or those named in `parts`); None if none is saved.

        Naming parts saves time: `tuiot tree --offline` needs no readings, and the console
        can paint the tree before decoding 100,000 values. With `account`, a snapshot saved
        from another account counts as none (`mismatch` says why); one saved without an
        account is accepted.
        """
        wanted = set(PARTS if parts is None else parts)
        unknown = wanted - set(PARTS)
        if unknown:
            raise ValueError(
                f"unknown snapshot part(s): {', '.join(sorted(unknown))} (known: {', '.join(PARTS)})"
            )
        loaded_at = self.clock()

        def read(
            conn: sqlite3.Connection,
        ) -> tuple[list[tuple[str, int, bytes | None]], list[tuple[Any, ...]]]:
            conn.execute("BEGIN")  # one consistent view across both tables
            try:
                if _other_account(_saved_account(conn, profile), account):
                    return [], []
                found = [
                    row
                    for row in conn.execute(
                        "SELECT part, fetched_at, body FROM parts WHERE profile = ?", (profile,)
                    ).fetchall()
                    if row[0] in wanted
                ]
                readings = []
                if "readings" in wanted:
                    readings = conn.execute(
                        "SELECT metric, value, kind, ts, unit, device FROM readings WHERE profile = ? ORDER BY seq",
                        (profile,),
                    ).fetchall()
            finally:
                conn.execute("COMMIT")
            return found, readings

        got = self._run(f"loading the snapshot of '{profile}'", read, None)
        if not got or not got[0]:
            return None
        rows, reading_rows = got
        values: dict[str, Any] = {}
        fetched: dict[str, datetime] = {}
        for part, at, body in rows:
            if part == "readings":
                values["readings"] = [
                    # Typed columns give exactly the validated types back, so the
                    # readings are rebuilt without re-validation (5x faster at 100k).
                    _make_reading(m, _decode_value(v, k), _dt(ts), u, d)
                    for m, v, k, ts, u, d in reading_rows
                ]
            elif part in _BLOB_PARTS:
                try:
                    values[part] = _BLOB_PARTS[part].validate_json(zlib.decompress(body or b""))
                except (zlib.error, ValidationError, ValueError) as e:
                    first = str(e).splitlines()[0]
                    self._problem(f"snapshot of '{profile}': saved {part} unreadable ({first}); ignored")
                    continue
            else:
                continue
            fetched[part] = _dt(at)
        if not fetched:
            return None
        return Snapshot(profile=profile, loaded_at=loaded_at, fetched_at=fetched, **values)

    def profiles(self) -> list[str]:
        rows = self._run(
            "listing snapshots",
            lambda c: c.execute("SELECT DISTINCT profile FROM parts ORDER BY profile").fetchall(),
            [],
        )
        return [r[0] for r in rows]

    def age(self, profile: str, *, account: str | None = None) -> timedelta | None:
        """Time since the newest part of `profile` was fetched; None without a snapshot (or,
        with `account`, with one saved from another account)."""

        def read(conn: sqlite3.Connection) -> Any:
            if _other_account(_saved_account(conn, profile), account):
                return None
            return conn.execute("SELECT max(fetched_at) FROM parts WHERE profile = ?", (profile,)).fetchone()

        row = self._run(f"reading the age of '{profile}'", read, None)
        if not row or row[0] is None:
            return None
        return self.clock() - _dt(row[0])

    def forget(self, profile: str) -> None:
        """Drop every saved part of `profile` (its history points stay until pruned)."""

        def drop(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            _drop_parts(conn, profile)
            conn.execute("DELETE FROM accounts WHERE profile = ?", (profile,))
            conn.execute("COMMIT")

        self._run(f"forgetting '{profile}'", drop, None)

    def mismatch(self, profile: str, account: str) -> str | None:
        """Why the snapshot of `profile` does not count for `account`, in one line; None
        when it does (or when there is none, or it was saved without an account)."""
        saved = self._run(f"reading the account of '{profile}'", lambda c: _saved_account(c, profile), None)
        if not _other_account(saved, account):
            return None
        return f"the saved one came from {describe_account(saved)}, not {describe_account(account)}"  # type: ignore[arg-type]

    def _claim(self, conn: sqlite3.Connection, profile: str, account: str | None) -> None:
        """Inside a write: parts of another account are dropped, then `account` is noted."""
        if account is None:
            return  # the caller does not know: what was saved keeps its account
        if _other_account(_saved_account(conn, profile), account):
            _drop_parts(conn, profile)
        conn.execute(
            "INSERT INTO accounts(profile, account) VALUES (?, ?) "
            "ON CONFLICT(profile) DO UPDATE SET account = excluded.account",
            (profile, account),
        )

    def merge_readings(
        self,
        profile: str,
        readings: Iterable[Reading],
        *,
        fetched_at: datetime | None = None,
        account: str | None = None,
    ) -> int:
        """Merge readings fetched in part (a few devices) into the profile's saved readings.

        Each metric keeps its newest reading; metrics not given keep what was saved. The
        part's `fetched_at` stays that of the oldest fetch it still holds: it becomes the
        new time only when the part was empty or every saved metric was replaced. Returns
        how many readings the part holds now.
        """
        at = _us(fetched_at or self.clock())
        newest: dict[str, Reading] = {}
        for r in readings:
            kept = newest.get(r.metric)
            if kept is None or r.ts >= kept.ts:
                newest[r.metric] = r
        if not newest:
            return self._count_readings(profile)

        def write(conn: sqlite3.Connection) -> int:
            conn.execute("BEGIN IMMEDIATE")
            self._claim(conn, profile, account)
            n = _merge_reading_rows(conn, profile, newest, at)
            conn.execute("COMMIT")
            return n

        return self._run(f"merging readings into the snapshot of '{profile}'", write, 0)

    def _count_readings(self, profile: str) -> int:
        row = self._run(
            f"counting readings of '{profile}'",
            lambda c: c.execute("SELECT count(*) FROM readings WHERE profile = ?", (profile,)).fetchone(),
            None,
        )
        return int(row[0]) if row else 0

    # ---- history buffer -----------------------------------------------------------

    def append_readings(self, readings: Iterable[Reading]) -> int:
        """Keep live values for `history`; returns how many points were new."""
        rows = []
        for r in readings:
            v, kind = _encode_value(r.value)
            rows.append((_us(r.ts), v, kind, r.metric))
        if not rows:
            return 0

        def write(conn: sqlite3.Connection) -> int:
            conn.execute("BEGIN IMMEDIATE")
            metrics = list(dict.fromkeys(r[3] for r in rows))
            conn.executemany(
                "INSERT INTO series(metric) VALUES (?) ON CONFLICT(metric) DO NOTHING",
                [(m,) for m in metrics],
            )
            # Ids are looked up inside this transaction, never cached across calls:
            # another process may prune a series and its id be reused.
            ids: dict[str, int] = {}
            for i in range(0, len(metrics), 10_000):
                chunk = metrics[i : i + 10_000]
                marks = ",".join("?" * len(chunk))
                ids.update(
                    (m, sid)
                    for sid, m in conn.execute(
                        f"SELECT id, metric FROM series WHERE metric IN ({marks})", chunk
                    )
                )
            cur = conn.executemany(
                "INSERT INTO history(sid, ts, value, kind) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(sid, ts) DO NOTHING",
                [(ids[m], ts, v, k) for ts, v, k, m in rows],
            )
            added = max(0, cur.rowcount)  # direct inserts only, not the trigger's writes
            self._prune(conn, list(ids.values()))
            conn.execute("COMMIT")
            self._vacuum(conn)
            return added

        return self._run("keeping history", write, 0)

    def history(
        self,
        metric_ref: str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        limit: int | None = None,
    ) -> list[Point]:
        """Buffered points of one metric with start <= ts <= end, oldest first."""
        lo = _us(start) if start is not None else -(2**62)
        hi = _us(end) if end is not None else 2**62
        if limit is not None:
            sql = (
                "SELECT ts, value, kind FROM (SELECT ts, value, kind FROM history WHERE sid = "
                "(SELECT id FROM series WHERE metric = ?) "
                "AND ts BETWEEN ? AND ? ORDER BY ts DESC LIMIT ?) ORDER BY ts"
            )
            args: tuple[Any, ...] = (metric_ref, lo, hi, max(0, limit))
        else:
            sql = (
                "SELECT ts, value, kind FROM history WHERE sid = (SELECT id FROM series WHERE metric = ?) "
                "AND ts BETWEEN ? AND ? ORDER BY ts"
            )
            args = (metric_ref, lo, hi)
        rows = self._run(f"reading history of {metric_ref}", lambda c: c.execute(sql, args).fetchall(), [])
        return [_make_point(_dt(ts), _decode_value(v, k)) for ts, v, k in rows]

    def series(
        self,
        metric_ref: str,
        start: datetime,
        end: datetime,
        *,
        aggregate: Aggregate | None = None,
        bucket: timedelta | None = None,
    ) -> Series:
        """The buffered points as a domain Series, bucketed client-side when asked."""
        points = self.history(metric_ref, start, end)
        if aggregate is not None and bucket is not None:
            from tuiot.adapters.series import bucketize

            return Series(
                metric=metric_ref,
                points=bucketize(points, aggregate, bucket),
                aggregate=aggregate,
                bucket=bucket,
            )
        return Series(metric=metric_ref, points=points)

    def stats(self) -> dict[str, Any]:
        """Sizes for an about/debug view: points, metrics, used and file bytes."""

        def read(conn: sqlite3.Connection) -> dict[str, Any]:
            points, metrics = conn.execute(
                "SELECT coalesce(sum(n), 0), count(*) FROM series WHERE n > 0"
            ).fetchone()
            profiles = conn.execute("SELECT count(DISTINCT profile) FROM parts").fetchone()[0]
            return {
                "path": None if self.in_memory else str(self.path),
                "profiles": profiles,
                "history_points": points,
                "history_metrics": metrics,
                "used_bytes": self._used_bytes(conn),
                "file_bytes": self.path.stat().st_size if not self.in_memory and self.path.exists() else 0,
            }

        return self._run("reading store statistics", read, {})

    # ---- bounds -------------------------------------------------------------------

    @staticmethod
    def _used_bytes(conn: sqlite3.Connection) -> int:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        return (pages - free) * size

    def _prune(self, conn: sqlite3.Connection, touched: list[int] | None = None) -> None:
        """Apply the bounds; `touched`: the series just appended to (None: check all)."""
        # Per metric: drop the oldest points beyond the cap. Only the series just written
        # can have grown past it, and each delete walks just the excess.
        cap = self.max_points
        if touched is None:
            over = conn.execute("SELECT id, n - ? FROM series WHERE n > ?", (cap, cap)).fetchall()
        else:
            over = []
            for i in range(0, len(touched), 10_000):
                chunk = touched[i : i + 10_000]
                marks = ",".join("?" * len(chunk))
                over += conn.execute(
                    f"SELECT id, n - ? FROM series WHERE id IN ({marks}) AND n > ?", (cap, *chunk, cap)
                ).fetchall()
        if over:
            conn.executemany(
                "DELETE FROM history WHERE sid = ? AND ts IN "
                "(SELECT ts FROM history WHERE sid = ? ORDER BY ts LIMIT ?)",
                [(m, m, k) for m, k in over],
            )
        dropped = conn.execute(
            "DELETE FROM history WHERE ts < ?", (_us(self.clock() - self.max_age),)
        ).rowcount
        # Global size: drop the oldest points until the used size fits, with 10% headroom
        # so the next appends do not prune again at once.
        for _ in range(32):
            used = self._used_bytes(conn)
            if used <= self.max_bytes:
                break
            total = conn.execute("SELECT coalesce(sum(n), 0) FROM series").fetchone()[0]
            if total <= 0:
                break  # only the snapshot itself is left: it is never pruned
            excess = (used - 0.9 * self.max_bytes) / used
            k = max(256, int(total * excess))
            dropped += conn.execute(
                "DELETE FROM history WHERE (sid, ts) IN (SELECT sid, ts FROM history ORDER BY ts LIMIT ?)",
                (k,),
            ).rowcount
        if dropped > 0:  # only whole-store deletes can empty a series (the cap keeps points)
            conn.execute("DELETE FROM series WHERE n <= 0")

    @staticmethod
    def _vacuum(conn: sqlite3.Connection) -> None:
        # Give free pages back once they are a large share of the file.
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        if free > 256 and free * 4 > pages:
            conn.execute("PRAGMA incremental_vacuum")

    def _maintain(self, conn: sqlite3.Connection) -> None:
        """Apply the age and size bounds at open, so a store left alone for weeks shrinks."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._prune(conn)
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._vacuum(conn)


def _saved_account(conn: sqlite3.Connection, profile: str) -> str | None:
    row = conn.execute("SELECT account FROM accounts WHERE profile = ?", (profile,)).fetchone()
    return row[0] if row else None


def _other_account(saved: str | None, wanted: str | None) -> bool:
    # Unknown on either side is no evidence of a different account: older snapshots
    # (schema 1) and callers that do not say stay usable.
    return saved is not None and wanted is not None and saved != wanted


def _drop_parts(conn: sqlite3.Connection, profile: str) -> None:
    conn.execute("DELETE FROM parts WHERE profile = ?", (profile,))
    conn.execute("DELETE FROM readings WHERE profile = ?", (profile,))


def _merge_reading_rows(conn: sqlite3.Connection, profile: str, newest: dict[str, Reading], at: int) -> int:
    """The SQL of `merge_readings`, inside its transaction; returns the part's new count."""
    saved: dict[str, tuple[int, int]] = {}  # metric -> (seq, ts)
    for seq, metric, ts in conn.execute("SELECT seq, metric, ts FROM readings WHERE profile = ?", (profile,)):
        saved[metric] = (seq, ts)
    # a saved reading newer than the one offered (a slower fetch finishing late) stays
    fresh = {m: r for m, r in newest.items() if m not in saved or _us(r.ts) >= saved[m][1]}
    conn.executemany(
        "DELETE FROM readings WHERE profile = ? AND seq = ?",
        [(profile, saved[m][0]) for m in fresh if m in saved],
    )
    start = max((seq for seq, _ in saved.values()), default=-1) + 1
    rows = []
    for seq, r in enumerate(fresh.values(), start):
        v, kind = _encode_value(r.value)
        rows.append((profile, seq, r.metric, v, kind, _us(r.ts), r.unit, r.device))
    conn.executemany(_INSERT_READING, rows)
    count = len(saved) + sum(1 for m in fresh if m not in saved)
    part = conn.execute(
        "SELECT fetched_at FROM parts WHERE profile = ? AND part = 'readings'", (profile,)
    ).fetchone()
    untouched = set(saved) - set(newest)
    fetched = part[0] if part is not None and untouched else at
    conn.execute(
        "INSERT INTO parts(profile, part, fetched_at, count, body) VALUES (?, 'readings', ?, ?, NULL) "
        "ON CONFLICT(profile, part) DO UPDATE SET fetched_at = excluded.fetched_at, "
        "count = excluded.count, body = NULL",
        (profile, fetched, count),
    )
    return count


def merge_series(vendor: Series, buffered: Iterable[Point]) -> Series:
    """Vendor history topped up with buffered points it lacks (the vendor wins on equal times).

    For vendors with a short look-back window (ThingsPro): the buffer fills the time
    before the window and any gap. An aggregated vendor series is returned unchanged,
    since raw points cannot be mixed into buckets.
    """
    if vendor.aggregate is not None:
        return vendor
    seen = {p.ts for p in vendor.points}
    extra = [p for p in buffered if p.ts not in seen]
    if not extra:
        return vendor
    points = sorted([*vendor.points, *extra], key=lambda p: p.ts)
    return vendor.model_copy(update={"points": points})


# ---- words for the UI and CLI -----------------------------------------------------


def describe_age(delta: timedelta) -> str:
    """A short age: "40 s", "3 min", "2 h 5 min", "1 d 3 h", "4 d" (negative counts as 0)."""
    s = max(0, int(delta.total_seconds()))
    if s < 60:
        return f"{s} s"
    m = s // 60
    if m < 60:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(h, 24)
    if d < 3 and h:
        return f"{d} d {h} h"
    return f"{d} d"


def profile_account(profile: Any) -> str:
    """What makes a profile's data its own: vendor, URLs (base_url or gateways) and, for
    Murano, the solution. Saved with a snapshot so a profile replaced by another of the
    same name (`profile add plant --replace`) is never answered with the old one's data.
    URLs keep scheme, host, port and path only: no userinfo or query lands on disk."""
    import json
    from urllib.parse import urlsplit

    urls = []
    for url in getattr(profile, "urls", None) or []:
        try:
            u = urlsplit(url)
            urls.append(f"{u.scheme.lower()}://{u.netloc.rpartition('@')[2].lower()}{u.path.rstrip('/')}")
        except ValueError:  # malformed: config validation refuses it; compare it as it is
            urls.append(url.partition("?")[0])
    account: dict[str, Any] = {"vendor": profile.vendor, "urls": urls}
    if getattr(profile, "solution_id", None):
        account["solution_id"] = profile.solution_id
    return json.dumps(account, sort_keys=True, separators=(",", ":"))


def describe_account(account: str) -> str:
    """`teamviewer at https://h.example` for a hint line."""
    import json

    try:
        a = json.loads(account)
        text = f"{a['vendor']} at {', '.join(a['urls']) or 'no URL'}"
    except (ValueError, KeyError, TypeError):
        return "another account"
    return text + (f" (solution {a['solution_id']})" if a.get("solution_id") else "")


def unreachable_hint(store: SnapshotStore, profile: str, *, account: str | None = None) -> str | None:
    """The sentence to append to a one-line network error when a snapshot can answer."""
    try:
        age = store.age(profile, account=account)
    except Exception:  # a hint must never turn one error into two
        return None
    if age is None:
        return None
    return f"a snapshot from {describe_age(age)} ago exists: add --offline to use it"
