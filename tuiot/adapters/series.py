"""Client-side aggregation of raw points, for vendors without server-side aggregation."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from tuiot.domain import Aggregate, Point


def bucketize(points: Iterable[Point], aggregate: Aggregate, bucket: timedelta) -> list[Point]:
    """Group numeric points into buckets aligned to the epoch; one point per non-empty bucket.

    Each output point carries the requested aggregate as `value` plus min/max/avg/count,
    so a chart can draw a band while a table shows the one figure asked for.
    """
    size = bucket.total_seconds()
    if size <= 0:
        raise ValueError("bucket must be positive")
    groups: dict[int, list[float]] = {}
    for p in points:
        v = p.value
        if isinstance(v, bool):
            v = int(v)
        if not isinstance(v, (int, float)) or (isinstance(v, float) and math.isnan(v)):
            continue
        groups.setdefault(math.floor(p.ts.timestamp() / size), []).append(float(v))
    out = []
    for key in sorted(groups):
        vals = groups[key]
        avg = sum(vals) / len(vals)
        figures = {
            Aggregate.min: min(vals),
            Aggregate.max: max(vals),
            Aggregate.avg: avg,
            Aggregate.sum: sum(vals),
            Aggregate.count: float(len(vals)),
            Aggregate.stdev: statistics.pstdev(vals) if len(vals) > 1 else 0.0,
        }
        ts = datetime.fromtimestamp(key * size, tz=timezone.utc)
        value = figures[aggregate]
        out.append(
            Point(
                ts=ts,
                value=int(value) if aggregate is Aggregate.count else round(value, 6),
                min=min(vals),
                max=max(vals),
                avg=round(avg, 6),
                count=len(vals),
            )
        )
    return out
