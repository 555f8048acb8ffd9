"""Backtest: what a rule would have done over past history, before it is saved.

The same engine that runs live replays the history, so a backtest can never disagree
with the alarms the rule would really raise. TeamViewer's native rules use the same
condition language and go through the same path. Offline rules are replayed from the
gaps between a device's readings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tuiot.adapters.base import Adapter, AdapterError, gather_limited
from tuiot.domain import Point, Reading, Rule, Severity, Value, now_utc
from tuiot.fleet.rules.engine import RuleEngine


@dataclass(frozen=True)
class Episode:
    source: str
    severity: Severity
    start: datetime
    end: datetime | None  # None: still open at the end of the window
    peak: Value | None  # the most extreme matching value (numbers), else the last one
    count: int  # readings (offline: checks) that matched while it was open


@dataclass(frozen=True)
class BacktestResult:
    rule: Rule
    start: datetime
    end: datetime
    episodes: list[Episode] = field(default_factory=list)
    readings: int = 0
    errors: list[str] = field(default_factory=list)  # sources whose history could not be had

    @property
    def first(self) -> Episode | None:
        return self.episodes[0] if self.episodes else None

    @property
    def last(self) -> Episode | None:
        return self.episodes[-1] if self.episodes else None

    def summary(self) -> str:
        if not self.episodes:
            text = f"no alarms in {self.readings} readings"
        else:
            n = len(self.episodes)
            text = f"{n} episode{'s' if n != 1 else ''} in {self.readings} readings"
        return text + (f"; {len(self.errors)} source(s) without history" if self.errors else "")


def _value(p: Point) -> Value | None:
    if p.value is not None:
        return p.value
    return p.avg if p.avg is not None else (p.max if p.max is not None else p.min)


def _more_extreme(a: Value | None, b: Value, cond: str) -> Value:
    num = (int, float)
    if isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool) and not isinstance(b, bool):
        # "peak" is the side of the threshold the condition watches
        return min(a, b) if "<" in cond and ">" not in cond else max(a, b)
    return b


def replay(rule: Rule, points: Mapping[str, Sequence[Point]], start: datetime, end: datetime) -> BacktestResult:
    """Run a threshold rule over given history (source ref → points); pure."""
    live = rule.model_copy(update={"enabled": True, "kind": "threshold"})
    engine = RuleEngine([live])
    readings = sorted(
        (Reading(metric=src, value=v, ts=p.ts) for src, pts in points.items() for p in pts
         if (v := _value(p)) is not None and start <= p.ts <= end),
        key=lambda r: r.ts,
    )
    conds = {t.severity: t.condition for t in live.thresholds}
    open_: dict[str, dict] = {}
    done: list[Episode] = []
    for r in readings:
        for ev in engine.feed([r]):
            a = ev.alarm
            if ev.kind == "raised":
                open_[a.id] = {"source": r.metric, "sev": a.severity, "start": a.opened_at, "peak": r.value, "count": 1}
            elif a.id in open_:
                o = open_.pop(a.id)
                done.append(Episode(o["source"], o["sev"], o["start"], a.closed_at, o["peak"], o["count"]))
        for o in open_.values():
            if o["source"] == r.metric and r.ts > o["start"]:
                o["peak"] = _more_extreme(o["peak"], r.value, conds.get(o["sev"], ""))
                o["count"] += 1
    done.extend(Episode(o["source"], o["sev"], o["start"], None, o["peak"], o["count"]) for o in open_.values())
    done.sort(key=lambda e: e.start)
    return BacktestResult(rule, start, end, done, len(readings))


def replay_offline(rule: Rule, times: Iterable[datetime], start: datetime, end: datetime) -> BacktestResult:
    """An offline rule over a device's reading times: each gap of `minutes` or more is an episode."""
    limit = timedelta(minutes=rule.minutes or 0)
    sev = rule.thresholds[0].severity if rule.thresholds else Severity.major
    source = rule.sources[0] if rule.sources else ""
    ts = sorted(t for t in times if start <= t <= end)
    edges = [start, *ts] if not ts or ts[0] > start else ts
    episodes: list[Episode] = []
    for a, b in zip(edges, [*edges[1:], None]):
        stop = b if b is not None else end
        if stop - a >= limit:
            gap = round((stop - a).total_seconds() / 60.0, 1)
            episodes.append(Episode(source, sev, a + limit, b, gap, 1))
    return BacktestResult(rule, start, end, episodes, len(ts))


async def backtest(adapter: Adapter, rule: Rule, *, hours: float = 24, now: datetime | None = None) -> BacktestResult:
    """Fetch the last `hours` of history for the rule's sources and replay it."""
    end = now or now_utc()
    start = end - timedelta(hours=hours)
    errors: list[str] = []
    if rule.kind == "offline":
        times: list[datetime] = []
        for device in rule.sources:
            try:
                metrics = sorted({r.metric for r in await adapter.latest([device])})
                if metrics:
                    times += [p.ts for p in (await adapter.history(metrics[0], start, end)).points]
            except AdapterError as e:
                errors.append(f"{device}: {e}")
        res = replay_offline(rule, times, start, end)
        return BacktestResult(res.rule, start, end, res.episodes, res.readings, errors)

    async def one(src: str) -> tuple[str, list[Point]]:
        try:
            return src, list((await adapter.history(src, start, end)).points)
        except AdapterError as e:
            errors.append(f"{src}: {e}")
            return src, []

    pairs = await gather_limited([one(s) for s in rule.sources], limit=4)
    res = replay(rule, dict(pairs), start, end)
    return BacktestResult(res.rule, start, end, res.episodes, res.readings, errors)
