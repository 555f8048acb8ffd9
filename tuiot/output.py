"""Rows out: a table that fits the terminal (80 columns by default), JSON, or CSV.

Rows are plain dicts whose keys are the domain's field names; JSON and CSV carry every
listed column, the table drops or narrows the widest text columns to fit.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Any

from tuiot.domain import value_text

FORMATS = ("table", "json", "csv")


def render(rows: list[dict[str, Any]], fmt: str, columns: list[str], *, width: int = 80) -> str:
    # CSV and JSON share the console's export encoder, so a file exported from a screen
    # and the same rows from the shell are byte-for-byte alike.
    from tuiot.fleet.export import to_csv, to_json

    if fmt == "json":
        return to_json(rows, columns).rstrip("\n")
    if fmt == "csv":
        return to_csv(rows, columns).rstrip("\n")
    return to_table(rows, columns, width=width)


def cell_text(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, Enum):
        return str(v.value)
    if isinstance(v, float):  # as the console prints a value: 1234567, not 1.23457e+06
        return value_text(v)
    if isinstance(v, dict):
        return ",".join(f"{k}={'|'.join(map(str, x)) if isinstance(x, list) else x}" for k, x in v.items())
    if isinstance(v, list):
        return ",".join(map(str, v))
    return " ".join(str(v).split())


# Identifiers are never cut: a user copies them into the next command.
KEY_COLUMNS = frozenset({"id", "ref", "metric", "identity"})


def to_table(rows: list[dict[str, Any]], columns: list[str], *, width: int = 80) -> str:
    if not rows:
        return "(no rows)"
    columns = list(columns)
    cells = [[cell_text(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    gap = 2

    def total() -> int:
        return sum(widths) + gap * (len(widths) - 1)

    # Narrow the widest other column until the table fits; never below 6 characters.
    while total() > width:
        free = [k for k, c in enumerate(columns) if c not in KEY_COLUMNS and widths[k] > 6]
        if not free:
            break
        i = max(free, key=lambda k: widths[k])
        widths[i] -= 1
    # Still too wide (long ids): drop the rightmost other columns.
    while total() > width:
        droppable = [k for k, c in enumerate(columns) if c not in KEY_COLUMNS]
        if len(columns) <= 2 or not droppable:
            break
        k = droppable[-1]
        del columns[k], widths[k]
        for row in cells:
            del row[k]
    lines = ["  ".join(_fit(c.upper(), w) for c, w in zip(columns, widths)).rstrip()]
    for row in cells:
        lines.append("  ".join(_fit(v, w) for v, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def _fit(s: str, w: int) -> str:
    return s.ljust(w) if len(s) <= w else s[: w - 1] + "…"
