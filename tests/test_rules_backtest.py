"""Backtest: replaying history through the live engine gives episodes, first and last."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tuiot.adapters.base import Unavailable
from tuiot.domain import Origin, Point, Reading, Rule, Series, Severity, Threshold
from tuiot.fleet.rules.backtest import backtest, replay, replay_offline

END = datetime(2026, 1, 2, tzinfo=UTC)
START = END - timedelta(hours=24)
M = "P/metric/d1:temp"


def pts(values: list[float], step: int = 10) -> list[Point]:
    return [Point(ts=START + timedelta(minutes=step * (i + 1)), value=v) for i, v in enumerate(values)]


def rule(cond: str = "metric > 10", checks: int = 2, origin: Origin = Origin.local, **kw: object) -> Rule:
    return Rule(id="r", profile="P", name="hot", sources=[M], origin=origin,
                thresholds=[Threshold(condition=cond, severity=Severity.major, checks=checks)], **kw)  # type: ignore[arg-type]


def test_episodes_first_last_peak_count() -> None:
    values = [1, 11, 12, 15, 3, 11, 2, 20, 30, 25]
    res = replay(rule(), {M: pts(values)}, START, END)
    assert res.readings == 10 and len(res.episodes) == 2
    first, last = res.first, res.last
    assert first is not None and last is not None
    assert (first.start, first.end, first.peak, first.count) == (
        START + timedelta(minutes=30), START + timedelta(minutes=50), 15, 2)
    assert (last.start, last.end, last.peak, last.count) == (START + timedelta(minutes=90), None, 30, 2)
    assert "2 episodes" in res.summary()


def test_low_threshold_peak_is_the_minimum_and_disabled_rules_still_backtest() -> None:
    res = replay(rule("metric < 0", checks=1, enabled=False), {M: pts([5, -1, -7, -3, 4])}, START, END)
    [ep] = res.episodes
    assert ep.peak == -7 and ep.count == 3


def test_teamviewer_vendor_rule_with_two_thresholds() -> None:
    r = Rule(id="tv1", profile="TV", name="temp", sources=[M], origin=Origin.vendor,
             thresholds=[Threshold(condition="metric > 10", severity=Severity.minor),
                         Threshold(condition="metric > 20", severity=Severity.critical)])
    res = replay(r, {M: pts([5, 15, 25, 5])}, START, END)
    assert [(e.severity, e.count) for e in res.episodes] == [(Severity.minor, 2), (Severity.critical, 1)]


def test_no_history_no_episodes() -> None:
    res = replay(rule(), {M: []}, START, END)
    assert res.episodes == [] and res.first is None and res.summary() == "no alarms in 0 readings"


def test_offline_gaps() -> None:
    r = Rule(id="o", profile="P", name="quiet", kind="offline", sources=["P/device/d1"], minutes=60,
             origin=Origin.local, thresholds=[Threshold(condition="metric >= 60", severity=Severity.critical)])
    times = [START + timedelta(minutes=m) for m in (10, 20, 200, 210)]
    res = replay_offline(r, times, START, END)
    assert [(e.start, e.end) for e in res.episodes] == [
        (START + timedelta(minutes=80), START + timedelta(minutes=200)),
        (START + timedelta(minutes=270), None),
    ]


class FakeAdapter:
    def __init__(self) -> None:
        self.asked: list[tuple[str, datetime, datetime]] = []

    async def history(self, metric: str, start: datetime, end: datetime, **kw: object) -> Series:
        self.asked.append((metric, start, end))
        if metric == "P/metric/broken":
            raise Unavailable("no answer")
        return Series(metric=metric, points=pts([11, 12, 1]))

    async def latest(self, refs: list[str] | None = None) -> list[Reading]:
        return [Reading(metric=M, value=1, ts=END)]


def test_backtest_fetches_the_last_24_hours() -> None:
    fake = FakeAdapter()
    res = asyncio.run(backtest(fake, rule().model_copy(update={"sources": [M, "P/metric/broken"]}), now=END))  # type: ignore[arg-type]
    assert {(m, s, e) for m, s, e in fake.asked} == {(M, START, END), ("P/metric/broken", START, END)}
    assert len(res.episodes) == 1 and res.errors and "1 source(s) without history" in res.summary()
    off = Rule(id="o", profile="P", name="q", kind="offline", sources=["P/device/d1"], minutes=30, origin=Origin.local,
               thresholds=[Threshold(condition="metric >= 30", severity=Severity.minor)])
    res2 = asyncio.run(backtest(fake, off, now=END))  # type: ignore[arg-type]
    assert res2.readings == 3 and res2.last is not None and res2.last.end is None
