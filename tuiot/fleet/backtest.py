"""What a rule would have done: replay history through the same engine that runs it live.

Threshold rules (local or TeamViewer's own: their conditions use the same language)
are replayed reading by reading through `RuleEngine`, so `checks`, clearing and ids
behave exactly as they will live. An episode runs from the reading that opened the
alarm to the reading that cleared it (`end` None: still open when the window ends);
`count` is the readings seen while it was open and `peak` the most extreme of them
(the highest value, or the lowest for a condition that only tests `metric <`).

Offline rules are replayed from the device's reading times: every gap longer than
`minutes` is an episode from `last reading + minutes` to the next reading. `checks`
is not applied there, since it depends on how often the live poller looks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tuiot.domain import Point, Reading, Rule, Severity, Value, now_utc, utc
from tuiot.fleet.condition import Compare, ConditionError, Metric, Node, Not, parse
from tuiot.fleet.engine import RuleEngine, offline_minutes

MAX_SOURCES = 20  # a rule over hundreds of metrics is backtested on its first few
OFFLINE_METRICS = 3  # reading times of a device come from this many of its metrics


@dataclass(frozen=True)
class Episode:
    source: str
    severity: Severity
    start: datetime
    end: datetime | None
    peak: Value | None
    count: int

    @property
    def duration(self) -> timedelta | None:
        return None if self.end is None else self.end - self.start


@dataclass(frozen=True)
class BacktestResult:
    rule: Rule
    start: datetime
    end: datetime
    episodes: list[Episode] = field(default_factory=list)
    readings: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # source -> why its history is missing

    @property
    def first(self) -> Episode | None:
        return self.episodes[0] if self.episodes else None

    @property
    def last(self) -> Episode | None:
        return self.episodes[-1] if self.episodes else None

    def summary(self) -> str:
        hours = round((self.end - self.start).total_seconds() / 3600)
        if not self.episodes:
            text = f"no alarm in the last {hours} h ({self.readings} readings checked)"
        else:
            n = len(self.episodes)
            text = f"{n} episode{'s' if n != 1 else ''} in the last {hours} h ({self.readings} readings checked)"
        if self.errors:
            text += f"; {len(self.errors)} source(s) without history"
        return text


Samples = Sequence[Point] | Sequence[Reading]


def replay(rule: Rule, samples: Mapping[str, Samples] | Samples, *, start: datetime, end: datetime,
           errors: Mapping[str, str] | None = None) -> BacktestResult:
    """Run `rule` over given samples (per source, or one list for the rule's first source)."""
    start, end = utc(start), utc(end)
    if not isinstance(samples, Mapping):
        samples = {rule.sources[0] if rule.sources else "": samples}
    active = rule.model_copy(update={"enabled": True})  # a disabled rule can still be tried out
    if rule.kind == "offline":
        episodes, count = _offline(active, samples, end)
    else:
        episodes, count = _threshold(active, samples)
    episodes.sort(key=lambda e: (e.start, e.source))
    return BacktestResult(rule=rule, start=start, end=end, episodes=episodes, readings=count, errors=dict(errors or {}))


def _value(p: Point | Reading) -> Value | None:
    if isinstance(p, Reading):
        return p.value
    return p.value if p.value is not None else p.avg


def _threshold(rule: Rule, samples: Mapping[str, Samples]) -> tuple[list[Episode], int]:
    readings = sorted(
        (Reading(metric=src, value=v, ts=p.ts) for src, pts in samples.items() for p in pts if (v := _value(p)) is not None),
        key=lambda r: r.ts,
    )
    engine = RuleEngine([rule])
    if engine.errors:
        raise ConditionError(next(iter(engine.errors.values())), 1)
    lows = tuple(_is_low(parse(t.condition).ast) for t in rule.thresholds)
    open_: dict[str, dict[str, object]] = {}  # alarm id -> running episode
    done: list[Episode] = []
    for r in readings:
        for ev in engine.observe(r):
            a = ev.alarm
            if ev.kind == "raised":
                low = lows[_threshold_index(rule, a.severity)]
                open_[a.id] = {"source": r.metric, "severity": a.severity, "start": a.opened_at, "peak": None, "count": 0, "low": low}
            else:
                ep = open_.pop(a.id)
                done.append(Episode(ep["source"], ep["severity"], ep["start"], a.closed_at, ep["peak"], ep["count"]))  # type: ignore[arg-type]
        for ep in open_.values():
            if ep["source"] == r.metric:
                ep["count"] = int(ep["count"]) + 1  # type: ignore[call-overload]
                ep["peak"] = _more_extreme(ep["peak"], r.value, bool(ep["low"]))  # type: ignore[arg-type]
    for ep in open_.values():
        done.append(Episode(ep["source"], ep["severity"], ep["start"], None, ep["peak"], ep["count"]))  # type: ignore[arg-type]
    return done, len(readings)


def _threshold_index(rule: Rule, severity: Severity) -> int:
    return next((i for i, t in enumerate(rule.thresholds) if t.severity == severity), 0)


def _is_low(node: Node) -> bool:
    """True when every comparison of `metric` with a number asks for it to be small."""
    directions: list[bool] = []

    def walk(n: Node, negated: bool) -> None:
        if isinstance(n, Compare):
            if isinstance(n.left, Metric) and n.op in ("<", "<=", ">", ">="):
                directions.append((n.op in ("<", "<=")) != negated)
            elif isinstance(n.right, Metric) and n.op in ("<", "<=", ">", ">="):
                directions.append((n.op in (">", ">=")) != negated)
        elif isinstance(n, Not):
            walk(n.operand, not negated)
        elif hasattr(n, "left"):
            walk(n.left, negated)  # type: ignore[union-attr]
            walk(n.right, negated)  # type: ignore[union-attr]

    walk(node, False)
    return bool(directions) and all(directions)


def _more_extreme(current: Value | None, value: Value, low: bool) -> Value:
    if current is None:
        return value
    numeric = (int, float)
    if isinstance(value, numeric) and not isinstance(value, bool) and isinstance(current, numeric) and not isinstance(current, bool):
        return min(current, value) if low else max(current, value)
    return value  # text and booleans have no peak: the latest value while open


def _offline(rule: Rule, samples: Mapping[str, Samples], end: datetime) -> tuple[list[Episode], int]:
    minutes = offline_minutes(rule)
    if minutes is None:
        return [], 0
    limit = timedelta(minutes=minutes)
    severity = rule.thresholds[0].severity if rule.thresholds else Severity.major
    source = rule.sources[0] if rule.sources else ""
    times = sorted({p.ts for pts in samples.values() for p in pts})
    episodes: list[Episode] = []
    for a, b in zip(times, times[1:] + [None]):
        stop = b if b is not None else end
        gap = stop - a
        if gap > limit:
            episodes.append(Episode(source, severity, a + limit, b, round(gap.total_seconds() / 60, 1), 1))
    return episodes, len(times)


# ---- fetching history through an adapter ---------------------------------------------------


async def backtest(adapter: object, rule: Rule, *, now: datetime | None = None, hours: float = 24) -> BacktestResult:
    """Fetch the last `hours` of history of the rule's sources and replay the rule over it.

    `adapter` is a `tuiot.adapters.base.Adapter` (typed loosely: fleet code does not
    need the HTTP side). A source whose history fails is listed in `errors`.
    """
    from tuiot.adapters.base import AdapterError

    end = utc(now) if now else now_utc()
    start = end - timedelta(hours=hours)
    errors: dict[str, str] = {}
    samples: dict[str, Samples] = {}

    async def fetch(source: str, metric: str) -> None:
        try:
            series = await adapter.history(metric, start, end)  # type: ignore[attr-defined]
        except AdapterError as e:
            errors[source] = str(e)
            return
        samples[metric if rule.kind != "offline" else f"{source}#{metric}"] = series.points

    sources = list(rule.sources[:MAX_SOURCES])
    if rule.kind == "offline":
        for device in sources:
            try:
                metrics = await _device_metrics(adapter, device)
            except AdapterError as e:
                errors[device] = str(e)
                continue
            if not metrics:
                errors[device] = "no metrics under this device to read its reporting times from"
            await asyncio.gather(*(fetch(device, m) for m in metrics[:OFFLINE_METRICS]))
        if len(sources) > 1:
            # one replay per device: silence of one must not be hidden by another's readings
            results = [replay(rule.model_copy(update={"sources": [d]}), {k: v for k, v in samples.items() if k.startswith(d + "#")},
                              start=start, end=end) for d in sources]
            episodes = sorted((e for r in results for e in r.episodes), key=lambda e: (e.start, e.source))
            return BacktestResult(rule=rule, start=start, end=end, episodes=episodes,
                                  readings=sum(r.readings for r in results), errors=errors)
    else:
        await asyncio.gather(*(fetch(s, s) for s in sources))
    return replay(rule, samples, start=start, end=end, errors=errors)


async def _device_metrics(adapter: object, device: str) -> list[str]:
    """Metric refs below a device (devices may have sensors in between)."""
    frontier = [device]
    for _ in range(3):
        found: list[str] = []
        below: list[str] = []
        for ref in frontier:
            for node in await adapter.children(ref):  # type: ignore[attr-defined]
                (found if node.kind == "metric" else below).append(node.ref)
        if found:
            return found
        frontier = below[:OFFLINE_METRICS]
        if not frontier:
            break
    return []


__all__ = ["BacktestResult", "Episode", "backtest", "replay"]
