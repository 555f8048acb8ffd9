"""Export: CSV / JSON content equals the rows, files are written safely, OSC 52 bytes."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tuiot.domain import AlarmStatus, Severity, StateValue
from tuiot.fleet.export import ExportError, export_file, osc52, to_csv, to_json

T = datetime(2026, 11, 20, 12, 30, 5, 250000, tzinfo=timezone.utc)
COLUMNS = ["id", "name", "severity", "opened_at", "value", "online", "tags", "missing", "count"]
ROWS = [
    {
        "id": "a1",
        "name": 'Pump, "north"\nline 2',
        "severity": Severity.critical,
        "opened_at": T,
        "value": 21.5,
        "online": True,
        "tags": {"site": ["a", "b"]},
        "count": 3,
        "not_a_column": "left out",
    },
    {
        "id": "a2",
        "name": "Ventilación °C ✓",
        "severity": None,
        "opened_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        "value": "running",
        "online": False,
        "tags": ["x", 1, None],
        "count": 0,
    },
    {
        "id": "a3",
        "name": "",
        "severity": AlarmStatus.open,
        "opened_at": None,
        "value": None,
        "online": None,
        "tags": {},
        "count": -7,
    },
]
# What each row must read back as: CSV gives strings, JSON gives JSON values.
EXPECT_JSON = [
    {
        "id": "a1",
        "name": 'Pump, "north"\nline 2',
        "severity": "critical",
        "opened_at": "2026-11-20T12:30:05.250000Z",
        "value": 21.5,
        "online": True,
        "tags": {"site": ["a", "b"]},
        "missing": None,
        "count": 3,
    },
    {
        "id": "a2",
        "name": "Ventilación °C ✓",
        "severity": None,
        "opened_at": "2026-01-02T01:04:05Z",
        "value": "running",
        "online": False,
        "tags": ["x", 1, None],
        "missing": None,
        "count": 0,
    },
    {
        "id": "a3",
        "name": "",
        "severity": "open",
        "opened_at": None,
        "value": None,
        "online": None,
        "tags": {},
        "missing": None,
        "count": -7,
    },
]
EXPECT_CSV = [
    [
        "a1",
        'Pump, "north"\nline 2',
        "critical",
        "2026-11-20T12:30:05.250000Z",
        "21.5",
        "true",
        '{"site":["a","b"]}',
        "",
        "3",
    ],
    ["a2", "Ventilación °C ✓", "", "2026-01-02T01:04:05Z", "running", "false", '["x",1,null]', "", "0"],
    ["a3", "", "open", "", "", "", "{}", "", "-7"],
]


def test_csv_content_equals_rows():
    text = to_csv(ROWS, COLUMNS)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == COLUMNS
    assert parsed[1:] == EXPECT_CSV
    # JSON-encoded cells decode back to the row's values
    assert json.loads(parsed[1][6]) == ROWS[0]["tags"] and json.loads(parsed[2][6]) == ROWS[1]["tags"]


def test_json_content_equals_rows():
    parsed = json.loads(to_json(ROWS, COLUMNS))
    assert parsed == EXPECT_JSON
    assert [list(r) for r in parsed] == [COLUMNS] * 3  # keys in column order


def test_column_order_is_the_callers():
    cols = ["count", "id"]
    assert to_csv(ROWS, cols).splitlines() == ["count,id", "3,a1", "0,a2", "-7,a3"]
    assert [list(r) for r in json.loads(to_json(ROWS, cols))] == [cols] * 3


def test_odd_values():
    rows = [
        {
            "nan": float("nan"),
            "inf": float("inf"),
            "naive": datetime(2026, 1, 1, 0, 0),
            "bucket": timedelta(minutes=5),
            "half": timedelta(seconds=1.5),
            "model": StateValue(set=1, reported=2.5, ts=T),
            "big": 2**70,
        }
    ]
    cols = list(rows[0])
    [row] = json.loads(to_json(rows, cols))
    assert row == {
        "nan": None,
        "inf": None,
        "naive": "2026-01-01T00:00:00Z",
        "bucket": 300,
        "half": 1.5,
        "model": {"set": 1, "reported": 2.5, "ts": "2026-11-20T12:30:05.250000Z"},
        "big": 2**70,
    }
    [_, cells] = list(csv.reader(io.StringIO(to_csv(rows, cols))))
    assert cells[:5] == ["nan", "inf", "2026-01-01T00:00:00Z", "300", "1.5"]
    assert json.loads(cells[5]) == row["model"] and cells[6] == str(2**70)


def test_empty_rows():
    assert to_csv([], ["a", "b"]) == "a,b\n"
    assert json.loads(to_json([], ["a"])) == []


NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_file(tmp_path: Path, fmt: str):
    p = export_file(ROWS, COLUMNS, fmt, tmp_path / "out", "alarms", now=NOW)
    assert p == tmp_path / "out" / f"alarms-20261120T120000Z.{fmt}"
    assert p.read_bytes().decode("utf-8") == (
        to_csv(ROWS, COLUMNS) if fmt == "csv" else to_json(ROWS, COLUMNS)
    )
    # a second export in the same second never replaces the first
    p2 = export_file(ROWS[:1], COLUMNS, fmt, tmp_path / "out", "alarms", now=NOW)
    assert p2.name == f"alarms-20261120T120000Z-2.{fmt}" and p.read_text(encoding="utf-8").count("a2") >= 1
    assert sorted(x.name for x in (tmp_path / "out").iterdir()) == sorted([p.name, p2.name])  # no temp left


def test_export_file_defaults_and_errors(tmp_path: Path):
    p = export_file(ROWS, COLUMNS, "csv", stem="tv / tree: site*A", now=NOW)
    assert p == tmp_path / "data" / "exports" / "tv-tree-site-A-20261120T120000Z.csv"
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        export_file(ROWS, COLUMNS, "xml", tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="cannot write to .*file"):
        export_file(ROWS, COLUMNS, "json", blocker / "sub")


def test_osc52_plain_bytes():
    seq = osc52("hello", tmux=False)
    assert seq == "\x1b]52;c;aGVsbG8=\x07"
    assert seq.encode() == b"\x1b]52;c;aGVsbG8=\x07"
    uni = osc52("tv/metric/s1:temp °C", tmux=False)
    assert uni == "\x1b]52;c;" + base64.b64encode("tv/metric/s1:temp °C".encode()).decode() + "\x07"


def test_osc52_tmux_wrapped():
    assert osc52("hello", tmux=True) == "\x1bPtmux;\x1b\x1b]52;c;aGVsbG8=\x07\x1b\\"
    assert osc52("hello", tmux=True).encode() == b"\x1bPtmux;\x1b\x1b]52;c;aGVsbG8=\x07\x1b\\"


def test_osc52_tmux_from_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,1234,0")
    assert osc52("x").startswith("\x1bPtmux;\x1b\x1b]52;c;")
    monkeypatch.delenv("TMUX")
    assert osc52("x") == "\x1b]52;c;eA==\x07"


def test_osc52_size_refusal():
    at_limit = "a" * 74_994
    seq = osc52(at_limit, tmux=False)
    assert len(seq) == 100_000  # the longest sequence terminals take
    with pytest.raises(ValueError, match=r"too large to copy: 74,995 bytes.*at most 74,994.*export"):
        osc52(at_limit + "b", tmux=False)
    with pytest.raises(ValueError, match="at most 10"):
        osc52("é" * 6, max_bytes=10)  # counted in UTF-8 bytes, not characters
