"""Table, JSON and CSV output."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from tuiot.output import render
from tuiot.timespec import parse_duration, parse_instant

ROWS = [
    {"name": "Boiler room temperature sensor with a long name", "value": 21.5, "ts": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "tags": {"site": ["oslo"]}},
    {"name": "b", "value": None, "ts": datetime(2026, 1, 2, 3, 4, 6, tzinfo=timezone.utc), "tags": {}},
]


def test_table_fits_80_columns() -> None:
    wide = [{**r, "description": "x" * 200} for r in ROWS]
    out = render(wide, "table", ["name", "value", "ts", "description"])
    assert all(len(line) <= 80 for line in out.splitlines())
    assert out.splitlines()[0].startswith("NAME")


def test_json_uses_iso_utc() -> None:
    data = json.loads(render(ROWS, "json", ["name", "value", "ts", "tags"]))
    assert data[0]["ts"] == "2026-01-02T03:04:05Z"
    assert data[1]["value"] is None
    assert data[0]["tags"] == {"site": ["oslo"]}


def test_csv_round_trips() -> None:
    out = render(ROWS, "csv", ["name", "value", "ts", "tags"])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["value"] == "21.5" and rows[1]["value"] == ""
    assert json.loads(rows[0]["tags"]) == {"site": ["oslo"]}


def test_time_specs() -> None:
    assert parse_duration("5m").total_seconds() == 300
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_instant("2h", now) == datetime(2025, 12, 31, 22, tzinfo=timezone.utc)
    assert parse_instant("2026-01-01T01:00", now).tzinfo is not None
    assert parse_instant("1767225600000", now) == now
    for bad in ("", "5 parsecs", "-1h"):
        try:
            parse_duration(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_table_prints_values_as_the_console_does_and_json_keeps_the_numbers() -> None:
    """QA: the CLI's table printed 1.23457e+06 where the console prints 1234568."""
    rows = [{"metric": "m1", "value": 1234567.89}, {"metric": "m2", "value": 15460.23},
            {"metric": "m3", "value": 0.000012}, {"metric": "m4", "value": 21.5}, {"metric": "m5", "value": 42}]
    table = render(rows, "table", ["metric", "value"])
    cells = [line.split()[1] for line in table.splitlines()[1:]]
    assert cells == ["1234568", "15460.2", "0.000012", "21.5", "42"]
    assert "e+" not in table and "e-" not in table
    assert [r["value"] for r in json.loads(render(rows, "json", ["metric", "value"]))] == \
        [1234567.89, 15460.23, 0.000012, 21.5, 42]
