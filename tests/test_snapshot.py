"""Snapshot store: round trip, partial saves, damaged files, bounds, history, wording."""

from __future__ import annotations

import math
import random
import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tuiot.domain import (
    Alarm,
    AlarmStatus,
    Identity,
    IdentityStatus,
    Node,
    Origin,
    Point,
    Reading,
    Severity,
    StateValue,
)
from tuiot.fleet.snapshot import SnapshotStore, describe_age, unreachable_hint

T0 = datetime(2026, 11, 20, 12, 0, 0, 123456, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def nodes(profile: str = "tv") -> list[Node]:
    return [
        Node(kind="group", id="g1", name="Site A", profile=profile, has_children=True),
        Node(
            kind="device",
            id="d1",
            name="Pump 1",
            profile=profile,
            parent=f"{profile}/group/g1",
            online=False,
            severity=Severity.major,
            attrs={"model": "X1", "serial": "S-1", "tags": ["a", "b"], "nested": {"fw": 3}},
        ),
        Node(
            kind="metric",
            id="s1:temp",
            name="temperature",
            profile=profile,
            parent=f"{profile}/device/d1",
            unit="°C",
            value_type="double",
            has_children=False,
        ),
    ]


def readings(profile: str = "tv") -> list[Reading]:
    m = f"{profile}/metric/"
    return [
        Reading(metric=m + "s1:temp", value=21.5, ts=T0, unit="°C"),
        Reading(metric=m + "s1:count", value=42, ts=T0 - timedelta(seconds=1)),
        Reading(metric=m + "s1:state", value="running", ts=T0 - timedelta(microseconds=7)),
        Reading(metric=m + "s1:door", value=True, ts=T0),
        Reading(metric=m + "s1:flag", value=False, ts=T0),
        Reading(metric=m + "s1:whole", value=5.0, ts=T0),
        Reading(metric=m + "s1:big", value=2**70, ts=T0),
    ]


def alarms(profile: str = "tv") -> list[Alarm]:
    return [
        Alarm(
            id="a1",
            profile=profile,
            severity=Severity.critical,
            status=AlarmStatus.open,
            device=f"{profile}/device/d1",
            metric=f"{profile}/metric/s1:temp",
            description="too hot",
            opened_at=T0 - timedelta(hours=2),
            origin=Origin.vendor,
            rule="r1",
            value=88.25,
            closable=True,
        ),
        Alarm(id="a2", profile=profile, severity="warning", status="open", opened_at=T0, origin=Origin.local),
    ]


def identities(profile: str = "mur") -> list[Identity]:
    return [
        Identity(
            identity="dev-1",
            profile=profile,
            status=IdentityStatus.provisioned,
            online=True,
            lastseen=T0,
            lastip="10.0.0.1",
            tags={"site": ["a"], "role": ["pump", "main"]},
            state={"temp": StateValue(set=20, reported=20.5, ts=T0), "mode": StateValue(reported="eco")},
            group="a",
        ),
        Identity(identity="dev-2", profile=profile, status="somethingnew", locked=True, attrs={"k": [1, 2]}),
    ]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock):
    s = SnapshotStore(tmp_path / "snapshot.sqlite", clock=clock)
    yield s
    s.close()


def test_default_path_is_in_the_data_dir(tmp_path: Path):
    s = SnapshotStore()
    assert s.path == tmp_path / "data" / "snapshot.sqlite"
    s.save("p", nodes=[])
    assert s.path.exists()
    s.close()


def test_round_trip_every_part(store: SnapshotStore, clock: Clock):
    t_fetch = T0 - timedelta(minutes=5)
    store.save(
        "tv",
        nodes=nodes(),
        readings=readings(),
        alarms=alarms(),
        identities=identities("tv"),
        fetched_at=t_fetch,
    )
    clock.now = T0 + timedelta(minutes=1)
    snap = store.load("tv")
    assert snap is not None
    assert snap.nodes == nodes()
    assert snap.readings == readings()
    assert snap.alarms == alarms()
    assert snap.identities == identities("tv")
    # the types come back, not just equal-comparing values
    assert type(snap.readings[3].value) is bool and type(snap.readings[1].value) is int
    assert type(snap.readings[5].value) is float and snap.readings[6].value == 2**70
    assert snap.nodes[1].severity is Severity.major
    assert snap.alarms[0].status is AlarmStatus.open and snap.alarms[0].opened_at.tzinfo is not None
    assert snap.fetched_at == {p: t_fetch for p in ("nodes", "readings", "alarms", "identities")}
    assert snap.updated_at == t_fetch
    assert snap.age == timedelta(minutes=6)
    assert store.age("tv") == timedelta(minutes=6)
    assert store.profiles() == ["tv"]
    assert store.load("other") is None and store.age("other") is None
    assert store.problems == []


def test_survives_restart(tmp_path: Path, clock: Clock):
    with SnapshotStore(tmp_path / "s.sqlite", clock=clock) as s:
        s.save("tv", nodes=nodes(), readings=readings())
        s.append_readings(readings())
    with SnapshotStore(tmp_path / "s.sqlite", clock=clock) as s:
        snap = s.load("tv")
        assert snap is not None and snap.nodes == nodes() and snap.readings == readings()
        assert [p.value for p in s.history("tv/metric/s1:temp")] == [21.5]
        assert s.problems == []


def test_non_finite_reading_values_round_trip(store: SnapshotStore):
    store.save(
        "tv",
        readings=[
            Reading(metric="tv/metric/x", value=float("nan"), ts=T0),
            Reading(metric="tv/metric/y", value=float("-inf"), ts=T0),
        ],
    )
    snap = store.load("tv")
    assert snap is not None and snap.readings is not None
    assert math.isnan(snap.readings[0].value) and snap.readings[1].value == float("-inf")


def test_partial_save_keeps_other_parts(store: SnapshotStore, clock: Clock):
    t1 = T0 - timedelta(hours=1)
    store.save("tv", nodes=nodes(), alarms=alarms(), fetched_at=t1)
    store.save("mur", identities=identities(), fetched_at=t1)
    store.save("tv", readings=readings(), fetched_at=T0)
    snap = store.load("tv")
    assert snap is not None
    assert snap.nodes == nodes() and snap.alarms == alarms() and snap.readings == readings()
    assert snap.identities is None  # never saved: None, not []
    assert snap.fetched_at == {"nodes": t1, "alarms": t1, "readings": T0}
    assert snap.age_of("nodes") == timedelta(hours=1) and snap.age_of("identities") is None
    assert snap.updated_at == T0
    # an empty list replaces the part; other profiles are untouched
    store.save("tv", alarms=[], readings=readings()[:2], fetched_at=T0)
    snap = store.load("tv")
    assert (
        snap is not None and snap.alarms == [] and snap.readings == readings()[:2] and snap.nodes == nodes()
    )
    assert store.load("mur").identities == identities()  # type: ignore[union-attr]
    assert store.profiles() == ["mur", "tv"]
    store.forget("tv")
    assert store.load("tv") is None and store.profiles() == ["mur"]


def _bystanders(d: Path) -> dict[str, bytes]:
    files = {"rules.toml": b"[rules]\nx = 1\n", "config.toml": b"[settings]\n"}
    for name, body in files.items():
        (d / name).write_bytes(body)
    return files


def _foreign_sqlite(path: Path) -> None:
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE contacts(name TEXT)")
    c.execute("INSERT INTO contacts VALUES ('someone')")
    c.commit()
    c.close()


def _newer_schema(path: Path) -> None:
    with SnapshotStore(path) as s:
        s.save("tv", nodes=[])
    c = sqlite3.connect(path)
    c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    c.commit()
    c.close()


def _damaged(path: Path) -> None:
    with SnapshotStore(path) as s:
        s.save("tv", nodes=nodes())
    data = bytearray(path.read_bytes())
    data[100:4096] = random.Random(1).randbytes(3996)  # keep the SQLite header, wreck the schema page
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "make, why",
    [
        (lambda p: p.write_text("these are my notes, not a database\n"), "not an SQLite database"),
        (lambda p: p.write_bytes(random.Random(2).randbytes(8192)), "not an SQLite database"),
        (_foreign_sqlite, "without the tuiot snapshot schema"),
        (_newer_schema, "newer tuiot"),
        (_damaged, "damaged"),
    ],
    ids=["text", "random-bytes", "foreign-sqlite", "newer-schema", "damaged"],
)
def test_bad_file_is_moved_aside_and_rebuilt(tmp_path: Path, clock: Clock, make, why: str):
    path = tmp_path / "snapshot.sqlite"
    make(path)
    for side in ("-wal", "-shm"):
        Path(str(path) + side).unlink(missing_ok=True)
    original = path.read_bytes()
    bystanders = _bystanders(tmp_path)
    store = SnapshotStore(path, clock=clock)
    assert store.load("tv") is None  # no crash, nothing from the bad file
    assert len(store.problems) == 1
    msg = store.problems[0]
    assert why in msg and "moved aside" in msg and "snapshot.sqlite.corrupt-20261120T120000Z" in msg
    aside = tmp_path / "snapshot.sqlite.corrupt-20261120T120000Z"
    assert aside.read_bytes() == original  # the user's file is kept byte for byte
    for name, body in bystanders.items():
        assert (tmp_path / name).read_bytes() == body
    # rebuilt and usable
    store.save("tv", nodes=nodes(), readings=readings())
    assert store.load("tv").nodes == nodes()  # type: ignore[union-attr]
    assert not store.in_memory
    store.close()
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT value FROM meta WHERE key = 'app'").fetchone() == ("tuiot-snapshot",)
    assert store.take_problems() == [msg] and store.problems == []


def test_moving_aside_twice_in_one_second_keeps_both(tmp_path: Path, clock: Clock):
    path = tmp_path / "snapshot.sqlite"
    for _ in range(2):
        path.write_text("junk")
        s = SnapshotStore(path, clock=clock)
        s.profiles()
        s.close()
    names = sorted(p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name)
    assert names == ["snapshot.sqlite.corrupt-20261120T120000Z", "snapshot.sqlite.corrupt-20261120T120000Z-2"]


def test_damage_found_while_running_is_recovered(tmp_path: Path, clock: Clock):
    path = tmp_path / "snapshot.sqlite"
    store = SnapshotStore(path, clock=clock)
    store.save("tv", nodes=nodes())
    store.close()  # e.g. another program clobbered the file between two runs of a method
    path.write_bytes(random.Random(3).randbytes(4096))
    store.save("tv", nodes=nodes()[:1])
    assert store.load("tv").nodes == nodes()[:1]  # type: ignore[union-attr]
    assert any("moved aside" in p for p in store.problems)


def test_unusable_location_falls_back_to_memory(tmp_path: Path, clock: Clock):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    store = SnapshotStore(blocker / "snapshot.sqlite", clock=clock)
    store.save("tv", nodes=nodes())
    assert store.in_memory and store.load("tv").nodes == nodes()  # type: ignore[union-attr]
    assert len(store.problems) == 1 and "in memory" in store.problems[0]
    assert blocker.read_text() == "a file where the data dir should be"


def _series(metric: str, start: datetime, n: int, step: timedelta = timedelta(seconds=10)) -> list[Reading]:
    return [Reading(metric=metric, value=float(i), ts=start + i * step) for i in range(n)]


def test_history_window_types_and_duplicates(store: SnapshotStore):
    m = "tp/metric/gw|modbus/plc/temp"
    pts = _series(m, T0, 10)
    assert store.append_readings(pts) == 10
    assert store.append_readings(pts[5:]) == 0  # the same values seen again on the next poll
    store.append_readings(_series("tp/metric/other", T0, 3))
    store.append_readings(
        [Reading(metric="tp/metric/s", value="on", ts=T0), Reading(metric="tp/metric/b", value=True, ts=T0)]
    )
    got = store.history(m, T0 + timedelta(seconds=20), T0 + timedelta(seconds=50))
    assert got == [Point(ts=T0 + timedelta(seconds=s), value=float(s // 10)) for s in (20, 30, 40, 50)]
    assert [p.value for p in store.history(m)] == [float(i) for i in range(10)]
    assert [p.value for p in store.history(m, limit=3)] == [7.0, 8.0, 9.0]
    assert store.history(m, T0 + timedelta(hours=1), T0 + timedelta(hours=2)) == []
    assert store.history("tp/metric/none") == []
    assert store.history("tp/metric/s")[0].value == "on"
    assert store.history("tp/metric/b")[0].value is True
    assert store.stats()["history_points"] == 15 and store.stats()["history_metrics"] == 4


def test_per_metric_cap(tmp_path: Path, clock: Clock):
    store = SnapshotStore(tmp_path / "s.sqlite", clock=clock, max_points=50)
    m1, m2 = "p/metric/a", "p/metric/b"
    store.append_readings(_series(m1, T0 - timedelta(hours=1), 120))
    for chunk in range(0, 80, 7):  # many small polls, as the console does
        store.append_readings(_series(m2, T0 - timedelta(hours=1) + chunk * timedelta(seconds=10), 7))
    h1, h2 = store.history(m1), store.history(m2)
    assert len(h1) == 50 and h1[0].value == 70.0 and h1[-1].value == 119.0  # newest kept
    assert len(h2) == 50 and h2[-1].ts == T0 - timedelta(hours=1) + 83 * timedelta(seconds=10)
    with sqlite3.connect(store.path) as c:
        assert c.execute("SELECT count(*) FROM history").fetchone() == (100,)
        # the per-metric counters agree with the rows
        assert c.execute("SELECT sum(n) FROM series").fetchone() == (100,)
    store.close()


def test_age_bound_on_append_and_at_open(tmp_path: Path, clock: Clock):
    path = tmp_path / "s.sqlite"
    store = SnapshotStore(path, clock=clock, max_age=timedelta(days=7))
    old = _series("p/metric/a", T0 - timedelta(days=8), 5, step=timedelta(days=1))  # days -8 .. -4
    store.append_readings(old)
    assert [p.ts for p in store.history("p/metric/a")] == [T0 - timedelta(days=d) for d in (7, 6, 5, 4)]
    store.close()
    clock.now = T0 + timedelta(days=2) - timedelta(hours=1)  # a restart two days later prunes at open
    store = SnapshotStore(path, clock=clock, max_age=timedelta(days=7))
    assert [p.ts for p in store.history("p/metric/a")] == [T0 - timedelta(days=d) for d in (5, 4)]
    assert store.stats()["history_points"] == 2
    store.close()


def test_size_bound(tmp_path: Path, clock: Clock):
    limit = 512 * 1024
    store = SnapshotStore(tmp_path / "s.sqlite", clock=clock, max_bytes=limit, max_points=100_000)
    store.save("p", nodes=nodes("p"))
    start = T0 - timedelta(days=1)
    for batch in range(20):
        rows = [
            Reading(
                metric=f"p/metric/dev{i % 500}:value",
                value=batch * 1000.0 + i,
                ts=start + timedelta(seconds=batch * 1000 + i),
            )
            for i in range(1000)
        ]
        store.append_readings(rows)
        assert store.stats()["used_bytes"] <= limit
    stats = store.stats()
    assert 0 < stats["history_points"] < 20_000
    assert stats["file_bytes"] <= limit * 1.5  # free pages are given back, not kept at the peak
    # oldest went first: the newest point of the last batch is there, the first batch is gone
    last = store.history("p/metric/dev499:value")
    assert last[-1].value == 19_999.0 and last[0].value > 999.0
    assert store.load("p").nodes == nodes("p")  # type: ignore[union-attr]  # snapshot parts never pruned
    store.close()


def test_thread_safe(tmp_path: Path, clock: Clock):
    store = SnapshotStore(tmp_path / "s.sqlite", clock=clock)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for j in range(20):
                store.save(f"p{k}", nodes=nodes(f"p{k}"), readings=readings(f"p{k}"))
                store.append_readings(_series(f"p{k}/metric/m", T0 + timedelta(minutes=j), 5))
                assert store.load(f"p{k}").nodes == nodes(f"p{k}")  # type: ignore[union-attr]
                store.history(f"p{k}/metric/m")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and store.problems == []
    assert store.profiles() == ["p0", "p1", "p2", "p3"]
    store.close()


def test_save_and_load_big_fleet_fast(tmp_path: Path, clock: Clock):
    fleet = [
        Node(
            kind="device",
            id=f"d{i}",
            name=f"Device {i}",
            profile="big",
            parent="big/group/g",
            online=i % 7 != 0,
            attrs={"model": "X1", "serial": f"S{i}", "lastseen": "2026-11-20T11:59:00Z"},
        )
        for i in range(25_000)
    ]
    values = [
        Reading(
            metric=f"big/metric/d{i // 4}:m{i % 4}", value=i * 0.5, ts=T0 - timedelta(seconds=i), unit="°C"
        )
        for i in range(100_000)
    ]
    store = SnapshotStore(tmp_path / "s.sqlite", clock=clock)
    store.profiles()  # open outside the timing
    t = time.perf_counter()
    store.save("big", nodes=fleet, readings=values)
    saved = time.perf_counter() - t
    t = time.perf_counter()
    snap = store.load("big")
    loaded = time.perf_counter() - t
    print(f"save 25k nodes + 100k readings: {saved:.2f} s; load: {loaded:.2f} s")
    assert snap is not None and snap.nodes == fleet and snap.readings == values
    assert saved < 2.0


def test_describe_age():
    cases = {
        timedelta(seconds=-5): "0 s",
        timedelta(seconds=40): "40 s",
        timedelta(minutes=3, seconds=59): "3 min",
        timedelta(hours=2): "2 h",
        timedelta(hours=2, minutes=5): "2 h 5 min",
        timedelta(days=1, hours=3, minutes=10): "1 d 3 h",
        timedelta(days=2): "2 d",
        timedelta(days=4, hours=7): "4 d",
    }
    assert {d: describe_age(d) for d in cases} == cases


def test_unreachable_hint(store: SnapshotStore, clock: Clock):
    assert unreachable_hint(store, "tv") is None
    store.save("tv", nodes=nodes(), fetched_at=T0 - timedelta(hours=2, minutes=5))
    assert unreachable_hint(store, "tv") == "a snapshot from 2 h 5 min ago exists: add --offline to use it"


def test_series_and_merge(store: SnapshotStore):
    from tuiot.domain import Aggregate, Series
    from tuiot.fleet.snapshot import merge_series

    m = "tp/metric/gw|modbus/plc/temp"
    store.append_readings(_series(m, T0, 12, step=timedelta(seconds=30)))  # 6 minutes
    raw = store.series(m, T0, T0 + timedelta(hours=1))
    assert raw.metric == m and len(raw.points) == 12 and raw.aggregate is None
    agg = store.series(m, T0, T0 + timedelta(hours=1), aggregate=Aggregate.max, bucket=timedelta(minutes=2))
    assert agg.aggregate is Aggregate.max and agg.bucket == timedelta(minutes=2)
    assert sum(p.count or 0 for p in agg.points) == 12 and max(p.value for p in agg.points) == 11.0

    # the vendor only looks back 2 minutes; the buffer supplies the rest, the vendor wins on overlaps
    vendor = Series(
        metric=m, points=[Point(ts=T0 + timedelta(seconds=30 * i), value=100.0 + i) for i in range(8, 12)]
    )
    merged = merge_series(vendor, raw.points)
    assert [p.value for p in merged.points] == [float(i) for i in range(8)] + [108.0, 109.0, 110.0, 111.0]
    assert merge_series(agg, raw.points) is agg


def test_store_that_cannot_be_written_is_still_read(tmp_path: Path, clock: Clock, monkeypatch):
    """A read-only file or a lock held elsewhere skips the upkeep at open, keeps the data."""
    path = tmp_path / "snapshot.sqlite"
    with SnapshotStore(path, clock=clock) as s:
        s.save("tv", nodes=nodes())

    def refuse(self, conn):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(SnapshotStore, "_maintain", refuse)
    store = SnapshotStore(path, clock=clock)
    assert store.load("tv").nodes == nodes()  # type: ignore[union-attr]
    assert not store.in_memory and store.problems == []
    assert not any(".corrupt-" in p.name for p in tmp_path.iterdir())
    store.close()


def test_a_directory_in_the_way_is_left_alone(tmp_path: Path, clock: Clock):
    path = tmp_path / "snapshot.sqlite"
    path.mkdir()
    (path / "keep.txt").write_text("mine")
    store = SnapshotStore(path, clock=clock)
    store.save("tv", nodes=nodes())
    assert store.in_memory and store.load("tv").nodes == nodes()  # type: ignore[union-attr]
    assert (path / "keep.txt").read_text() == "mine"
    assert not any(".corrupt-" in p.name for p in tmp_path.iterdir())


def test_load_only_some_parts(store: SnapshotStore):
    store.save("tv", nodes=nodes(), readings=readings(), alarms=alarms(), fetched_at=T0)
    snap = store.load("tv", parts=("nodes", "alarms"))
    assert snap is not None and snap.nodes == nodes() and snap.alarms == alarms()
    assert snap.readings is None and set(snap.fetched_at) == {"nodes", "alarms"}
    assert store.load("tv", parts=["identities"]) is None  # none of those saved
    with pytest.raises(ValueError, match="unknown snapshot part"):
        store.load("tv", parts=["tree"])


# ---- devices, accounts, merges -------------------------------------------------------------

TV = '{"urls":["https://h.example"],"vendor":"teamviewer"}'
TS = '{"urls":["https://h.example"],"vendor":"thingsee"}'


def test_readings_keep_their_device(store: SnapshotStore):
    got = [r.model_copy(update={"device": "tv/device/d1"}) for r in readings()]
    store.save("tv", readings=got)
    assert store.load("tv").readings == got  # type: ignore[union-attr]


def test_profile_account_names_vendor_urls_and_solution_without_secrets():
    from tuiot.config import Profile
    from tuiot.fleet.snapshot import describe_account, profile_account

    tv = Profile(name="plant", vendor="teamviewer", base_url="https://h.example/")
    assert profile_account(tv) == TV
    assert profile_account(Profile(name="plant", vendor="thingsee", base_url="https://h.example", client_id="c")) == TS
    gw = Profile(name="l", vendor="thingspro", gateways=["https://ops@10.0.0.5:8443", "https://10.0.0.6:8443?x=1"])
    assert describe_account(profile_account(gw)) == "thingspro at https://10.0.0.5:8443, https://10.0.0.6:8443"
    m1, m2 = (Profile(name="m", vendor="murano", base_url="https://b", solution_id=s) for s in ("s1", "s2"))
    assert profile_account(m1) != profile_account(m2)


def test_a_snapshot_from_another_account_counts_as_none(store: SnapshotStore, clock: Clock):
    store.save("plant", nodes=nodes("plant"), readings=readings("plant"), fetched_at=T0 - timedelta(hours=1), account=TV)
    assert store.load("plant", account=TS) is None
    assert store.age("plant", account=TS) is None and unreachable_hint(store, "plant", account=TS) is None
    assert store.mismatch("plant", TS) == (
        "the saved one came from teamviewer at https://h.example, not thingsee at https://h.example"
    )
    assert store.mismatch("plant", TV) is None and store.load("plant", account=TV).nodes == nodes("plant")  # type: ignore[union-attr]
    assert store.load("plant").nodes == nodes("plant")  # type: ignore[union-attr]  # a caller that does not say

    # the new account's first save drops every part of the old one
    store.save("plant", alarms=[], account=TS)
    snap = store.load("plant", account=TS)
    assert snap is not None and snap.alarms == [] and snap.nodes is None and snap.readings is None
    assert store.load("plant", account=TV) is None


def test_a_snapshot_saved_without_an_account_is_accepted(store: SnapshotStore):
    store.save("plant", nodes=nodes("plant"))
    assert store.load("plant", account=TS).nodes == nodes("plant")  # type: ignore[union-attr]
    assert store.mismatch("plant", TS) is None
    store.save("plant", alarms=[], account=TS)  # from now on it is thingsee's
    assert store.load("plant", account=TV) is None


def test_a_schema_1_store_is_upgraded_in_place(tmp_path: Path, clock: Clock):
    path = tmp_path / "snapshot.sqlite"
    c = sqlite3.connect(path)
    c.executescript(
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        INSERT INTO meta VALUES ('app', 'tuiot-snapshot'), ('schema_version', '1');
        CREATE TABLE parts(profile TEXT NOT NULL, part TEXT NOT NULL, fetched_at INTEGER NOT NULL,
            count INTEGER NOT NULL, body BLOB, PRIMARY KEY (profile, part)) WITHOUT ROWID;
        CREATE TABLE readings(profile TEXT NOT NULL, seq INTEGER NOT NULL, metric TEXT NOT NULL, value,
            kind INTEGER NOT NULL, ts INTEGER NOT NULL, unit TEXT, PRIMARY KEY (profile, seq)) WITHOUT ROWID;
        CREATE TABLE series(id INTEGER PRIMARY KEY, metric TEXT NOT NULL UNIQUE, n INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE history(sid INTEGER NOT NULL, ts INTEGER NOT NULL, value, kind INTEGER NOT NULL,
            PRIMARY KEY (sid, ts)) WITHOUT ROWID;
        INSERT INTO parts VALUES ('tv', 'readings', 1795000000000000, 1, NULL);
        INSERT INTO readings VALUES ('tv', 0, 'tv/metric/s1:temp', 21.5, 0, 1795000000000000, '°C');
        """
    )
    c.close()
    with SnapshotStore(path, clock=clock) as store:
        snap = store.load("tv", account=TV)
        assert snap is not None and [(r.metric, r.value, r.device) for r in snap.readings] == [("tv/metric/s1:temp", 21.5, None)]  # type: ignore[union-attr]
        store.save("tv", readings=[Reading(metric="tv/metric/a", value=1, ts=T0, device="tv/device/d1")], account=TV)
        assert store.load("tv").readings[0].device == "tv/device/d1"  # type: ignore[union-attr]
        assert store.problems == []
    assert not any(".corrupt-" in p.name for p in tmp_path.iterdir())


def test_merge_readings_keeps_the_metrics_it_was_not_given(store: SnapshotStore, clock: Clock):
    d1 = [Reading(metric=f"tv/metric/s1:{k}", value=i, ts=T0, device="tv/device/d1") for i, k in enumerate("ab")]
    d2 = [Reading(metric="tv/metric/s2:a", value=9, ts=T0, device="tv/device/d2")]
    # nothing saved yet (a console that only watched one device): the merge starts the part
    assert store.merge_readings("tv", d1, fetched_at=T0) == 2
    assert store.load("tv").readings == d1 and store.load("tv").fetched_at["readings"] == T0  # type: ignore[union-attr]

    later = T0 + timedelta(minutes=5)
    newer = Reading(metric="tv/metric/s1:a", value=100, ts=later, device="tv/device/d1")
    assert store.merge_readings("tv", [*d2, newer], fetched_at=later) == 3
    snap = store.load("tv")
    assert snap is not None
    assert {r.metric: r.value for r in snap.readings} == {"tv/metric/s1:a": 100, "tv/metric/s1:b": 1, "tv/metric/s2:a": 9}  # type: ignore[union-attr]
    assert snap.fetched_at["readings"] == T0  # s1:b is still the one fetched at T0

    # an older value never replaces a newer one; an empty merge changes nothing
    stale = newer.model_copy(update={"value": -1, "ts": T0})
    assert store.merge_readings("tv", [stale], fetched_at=later) == 3
    assert store.merge_readings("tv", []) == 3
    assert {r.metric: r.value for r in store.load("tv").readings}["tv/metric/s1:a"] == 100  # type: ignore[union-attr]

    # every saved metric replaced: the part is as new as the merge
    everything = [r.model_copy(update={"ts": later}) for r in store.load("tv").readings]  # type: ignore[union-attr]
    store.merge_readings("tv", everything, fetched_at=later + timedelta(minutes=1))
    assert store.load("tv").fetched_at["readings"] == later + timedelta(minutes=1)  # type: ignore[union-attr]


def test_merge_readings_from_another_account_replaces_the_old_snapshot(store: SnapshotStore):
    store.save("plant", nodes=nodes("plant"), readings=readings("plant"), account=TV)
    one = Reading(metric="plant/metric/t1:temp", value=3.0, ts=T0, device="plant/device/t1")
    assert store.merge_readings("plant", [one], account=TS) == 1
    snap = store.load("plant", account=TS)
    assert snap is not None and snap.readings == [one] and snap.nodes is None
