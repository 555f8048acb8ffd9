"""Rows out: a table that fits the terminal (80 columns by default), JSON, or CSV.

Rows are plain dicts whose keys are the domain's field names; JSON and CSV carry every
listed column, the table drops or narrows the widest text columns to fit.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from enum import Enum
from typing import Any

FORMATS = ("table", "json", "csv")


def plain(v: Any) -> Any:
    """A JSON-ready value: enums by value, datetimes as ISO 8601 UTC."""
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, datetime):
        return iso(v)
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if hasattr(v, "total_seconds"):
        return v.total_seconds()
    return v


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def render(rows: list[dict[str, Any]], fmt: str, columns: list[str], *, width: int = 80) -> str:
    if fmt == "json":
        return json.dumps([{c: plain(r.get(c)) for c in columns} for r in rows], indent=2, ensure_ascii=False)
    if fmt == "csv":
        return to_csv(rows, columns)
    return to_table(rows, columns, width=width)


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell_csv(r.get(c)) for c in columns])
    return buf.getvalue().rstrip("\n")


def _cell_csv(v: Any) -> str:
    v = plain(v)
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def cell_text(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, Enum):
        return str(v.value)
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, dict):
        return ",".join(f"{k}={'|'.join(map(str, x)) if isinstance(x, list) else x}" for k, x in v.items())
    if isinstance(v, list):
        return ",".join(map(str, v))
    return " ".join(str(v).split())


def to_table(rows: list[dict[str, Any]], columns: list[str], *, width: int = 80) -> str:
    if not rows:
        return "(no rows)"
    cells = [[cell_text(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    # Shrink the widest columns until the table fits; never below 6 characters.
    gap = 2
    while sum(widths) + gap * (len(widths) - 1) > width:
        i = max(range(len(widths)), key=lambda k: widths[k])
        if widths[i] <= 6:
            break
        widths[i] -= 1
    lines = ["  ".join(_fit(c.upper(), w) for c, w in zip(columns, widths)).rstrip()]
    for row in cells:
        lines.append("  ".join(_fit(v, w) for v, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def _fit(s: str, w: int) -> str:
    return s.ljust(w) if len(s) <= w else s[: w - 1] + "…"
