"""What is shown, out: CSV / JSON text and files, and the OSC 52 clipboard sequence.

Public API
----------
`to_csv(rows, columns) -> str`
    A header line of `columns`, then one line per row in that column order (keys a row
    lacks are empty, keys not listed are left out). Cells: datetimes as ISO 8601 UTC with
    'Z', enums by value, None empty, booleans `true`/`false`, timedeltas in seconds,
    lists/dicts (and pydantic models) JSON-encoded, floats as Python prints them
    (shortest exact form; `nan`, `inf`).
`to_json(rows, columns) -> str`
    A JSON list of objects with keys in column order; the same conversions, None and
    non-finite floats as null, lists/dicts as JSON values.
`export_file(rows, columns, fmt, directory=None, stem="export", *, now=None) -> Path`
    Writes `<stem>-<YYYYmmddTHHMMSSZ>.<csv|json>` atomically (temp file + rename) into
    `directory` (default `data_dir()/"exports"`), never replacing an existing file.
`osc52(text, *, tmux=None, max_bytes=74_994) -> str`
    The escape sequence that puts `text` on the terminal's clipboard, over SSH too:
    `ESC ] 52 ; c ; <base64> BEL`, wrapped for tmux passthrough
    (`ESC P tmux; <sequence with every ESC doubled> ESC \\`) when `tmux` is True, or when
    None and `TMUX` is set. Raises ValueError when `text` is more than `max_bytes` bytes
    of UTF-8: 74,994 bytes encode to 99,992 base64 characters, a 100,000-byte sequence,
    the most terminals (xterm, hterm) accept; k9s uses the same cap.
`EXPORT_FORMATS = ("csv", "json")`, `ExportError` (raised by export_file on I/O failure,
    one line with the path).

The CSV matches `tuiot --format csv` cell for cell, so a file exported from the console
and the headless output of the same rows agree.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel

EXPORT_FORMATS: tuple[str, ...] = ("csv", "json")
OSC52_MAX_BYTES = 74_994


class ExportError(Exception):
    """An export could not be written; the message names the path and the reason."""


def _iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _plain(v: Any) -> Any:
    """A JSON-ready value; non-finite floats stay floats (each format decides)."""
    if isinstance(v, Enum):  # before str/int: str- and int-enums are both
        return _plain(v.value)
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, datetime):
        return _iso(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, timedelta):
        s = v.total_seconds()
        return int(s) if s.is_integer() else s
    if isinstance(v, BaseModel):
        return _plain(v.model_dump(mode="python"))
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_plain(x) for x in v]
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


def _json_safe(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None  # JSON has no NaN/Infinity; null keeps the file valid
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_safe(x) for x in v]
    return v


def _csv_cell(v: Any) -> str:
    v = _plain(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(_json_safe(v), ensure_ascii=False, separators=(",", ":"))
    return str(v)


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV text: a header of `columns`, one line per row ("\\n" line ends, RFC 4180 quoting)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_csv_cell(r.get(c)) for c in columns])
    return buf.getvalue()


def to_json(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A JSON list of objects, keys in column order."""
    out = [{c: _json_safe(_plain(r.get(c))) for c in columns} for r in rows]
    return json.dumps(out, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _safe_stem(stem: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")
    return s[:80] or "export"


def export_file(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: str,
    directory: Path | None = None,
    stem: str = "export",
    *,
    now: datetime | None = None,
) -> Path:
    """Write the rows to `<directory>/<stem>-<UTC timestamp>.<fmt>` and return the path."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format '{fmt}' (use {' or '.join(EXPORT_FORMATS)})")
    if directory is None:
        from tuiot.config import data_dir

        directory = data_dir() / "exports"
    text = to_csv(rows, columns) if fmt == "csv" else to_json(rows, columns)
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = f"{_safe_stem(stem)}-{stamp}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".tmp", dir=directory)
    except OSError as e:
        raise ExportError(f"cannot write to {directory}: {e.strerror or e}") from None
    try:
        # newline="" keeps the CSV's own line ends as they are on every platform
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        n = 1
        while True:
            target = directory / (f"{base}.{fmt}" if n == 1 else f"{base}-{n}.{fmt}")
            try:
                # link + unlink: atomic and never replaces a file that appeared meanwhile
                os.link(tmp, target)
                break
            except FileExistsError:
                n += 1
            except OSError:
                # file systems without hard links: a rename after an existence check
                if target.exists():
                    n += 1
                    continue
                os.replace(tmp, target)
                break
        return target
    except OSError as e:
        raise ExportError(f"cannot write {directory / base}.{fmt}: {e.strerror or e}") from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def osc52(text: str, *, tmux: bool | None = None, max_bytes: int = OSC52_MAX_BYTES) -> str:
    """The OSC 52 "set clipboard" sequence for `text`, tmux-wrapped when inside tmux."""
    data = text.encode("utf-8")
    if len(data) > max_bytes:
        raise ValueError(
            f"too large to copy: {len(data):,} bytes, the terminal clipboard takes at most "
            f"{max_bytes:,}; export to a file instead"
        )
    seq = f"\x1b]52;c;{base64.b64encode(data).decode('ascii')}\x07"
    if tmux is None:
        tmux = bool(os.environ.get("TMUX"))
    if tmux:
        # tmux passes a DCS "tmux;" payload through to the outer terminal once every ESC
        # inside is doubled (and `allow-passthrough on` is set in tmux >= 3.3).
        seq = "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return seq
