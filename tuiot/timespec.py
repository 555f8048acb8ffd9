"""Durations and points in time as users type them on the command line."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """`90s`, `5m`, `1h`, `7d`, `2w` → timedelta."""
    m = _DURATION.match(text or "")
    if not m:
        raise ValueError(f"'{text}' is not a duration (use e.g. 30s, 5m, 1h, 7d)")
    value = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if value <= 0:
        raise ValueError(f"'{text}' must be longer than zero")
    return timedelta(seconds=value)


def parse_instant(text: str, now: datetime | None = None) -> datetime:
    """ISO 8601 (naive = UTC), an epoch in s/ms, `now`, or a duration ago (`-2h`, `2h`)."""
    now = now or datetime.now(timezone.utc)
    s = (text or "").strip()
    if s.lower() == "now":
        return now
    if _DURATION.match(s.lstrip("-")):
        return now - parse_duration(s.lstrip("-"))
    try:
        n = float(s)
    except ValueError:
        pass
    else:
        return datetime.fromtimestamp(n / 1000 if n > 1e11 else n, tz=timezone.utc)
    try:
        dt = datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith("Z") else s)
    except ValueError:
        raise ValueError(f"'{text}' is not a time (use ISO 8601 like 2026-11-22T08:00, an epoch, or 2h for 2 hours ago)") from None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
