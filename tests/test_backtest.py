"""Backtest: episodes a rule would have opened over history, for local and TeamViewer rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tuiot.domain import Origin, Point, Reading, Rule, Severity, Threshold, now_utc
from tuiot.fleet.backtest import backtest, replay

T0 = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
M = "p/metric/m1"
END = T0 + timedelta(hours=24)


def rule(condition: str, checks: int = 1, origin: Origin = Origin.local, **kw: object) -> Rule:
    base: dict[str, object] = {
        "id": "r", "profile": "p", "name": "r", "sources": [M], "origin": origin,
        "thresholds": [Threshold(condition=condition, severity=Severity.minor, checks=checks)],
    }
    base.update(kw)
    return Rule(**base)  # type: ignore[arg-type]


def points(*values: object, every: int = 10) -> list[Point]:
    return [Point(ts=T0 + timedelta(minutes=every * i), value=v) for i, v in enumerate(values)]  # type: ignore[arg-type]


def at(i: int, every: int = 10) -> datetime:
    return T0 + timedelta(minutes=every * i)


def test_episodes_with_checks_peak_and_count() -> None:
    res = replay(rule("metric > 30", checks=2), points(10, 31, 35, 40, 20, 31, 10, 50, 60, 70), start=T0, end=END)
    assert [(e.start, e.end, e.peak, e.count) for e in res.episodes] == [
        (at(2), at(4), 40, 2),     # 31 starts the streak, 35 completes it; 40 is the peak; 20 clears
        (at(8), None, 70, 2),      # 50, 60 opens; still open at the end of the window
    ]
    assert res.first is res.episodes[0] and res.last is res.episodes[-1]
    assert res.readings == 10 and res.errors == {}
    assert res.summary() == "2 episodes in the last 24 h (10 readings checked)"
    assert res.episodes[0].duration == timedelta(minutes=20) and res.episodes[1].duration is None


def test_low_conditions_peak_at_the_minimum_and_text_values() -> None:
    res = replay(rule("metric < 5"), points(10, 4, 1, 3, 9), start=T0, end=END)
    assert [(e.peak, e.count) for e in res.episodes] == [(1, 3)]
    res = replay(rule("!(metric > 5)"), points(10, 4, 1, 9), start=T0, end=END)
    assert res.episodes[0].peak == 1
    res = replay(rule("metric == 'alarm'"), points("ok", "alarm", "alarm", "ok"), start=T0, end=END)
    assert [(e.start, e.end, e.peak, e.count) for e in res.episodes] == [(at(1), at(3), "alarm", 2)]


def test_none_and_aggregated_points() -> None:
    pts = [Point(ts=at(0), value=None), Point(ts=at(1), avg=50.0), Point(ts=at(2), value=1)]
    res = replay(rule("metric > 30"), pts, start=T0, end=END)
    assert res.readings == 2 and [(e.start, e.end) for e in res.episodes] == [(at(1), at(2))]


def test_disabled_rule_can_still_be_tried_and_nothing_found() -> None:
    res = replay(rule("metric > 100", enabled=False), points(1, 2, 3), start=T0, end=END)
    assert res.episodes == [] and res.first is None and res.last is None
    assert res.summary() == "no alarm in the last 24 h (3 readings checked)"


def test_teamviewer_rule_with_several_sources_and_thresholds() -> None:
    other = "tv/metric/9:load"
    tv = Rule(id="5d52", profile="tv", name="Overheating", origin=Origin.vendor, sources=["tv/metric/1:temp", other],
              thresholds=[Threshold(condition="metric>=60", severity=Severity.critical, checks=1)])
    samples = {
        "tv/metric/1:temp": [Reading(metric="tv/metric/1:temp", value=v, ts=at(i)) for i, v in enumerate([50, 61, 62, 10])],
        other: points(70, 10, every=15),
    }
    res = replay(tv, samples, start=T0, end=END)
    assert [(e.source, e.start, e.end, e.severity) for e in res.episodes] == [
        (other, at(0), at(1, 15), Severity.critical),
        ("tv/metric/1:temp", at(1), at(3), Severity.critical),
    ]


def test_offline_episodes_from_gaps() -> None:
    off = Rule(id="o", profile="p", name="o", kind="offline", sources=["p/device/d"], minutes=15, origin=Origin.local,
               thresholds=[Threshold(condition="15", severity=Severity.major)])
    times = [0, 10, 20, 60, 70, 1380]  # minutes: a 40-minute gap, then silence from 70 to 1380
    pts = [Point(ts=T0 + timedelta(minutes=m), value=1) for m in times]
    res = replay(off, {"a": pts[:4], "b": pts[4:]}, start=T0, end=END)
    assert [(e.start, e.end, e.peak) for e in res.episodes] == [
        (T0 + timedelta(minutes=35), T0 + timedelta(minutes=60), 40.0),
        (T0 + timedelta(minutes=85), T0 + timedelta(minutes=1380), 1310.0),
        (T0 + timedelta(minutes=1395), None, 60.0),  # silent until the window ends
    ]


# ---- through a real adapter (Thingsee simulator in process) ----------------------------------


@pytest.fixture
async def adapter():
    from tuiot.adapters import load_adapter
    from tuiot.credentials import SecretSource
    from tuiot.simulators.demo import build_demo

    demo = build_demo(devices=30, vendors=("thingsee",))
    prof = demo.profiles[0]
    a = load_adapter(prof.vendor)(prof, SecretSource(fixed=demo.secrets, use_keyring=False), transport=demo.transport)
    yield a
    await a.aclose()


async def test_backtest_fetches_the_last_24h_through_the_adapter(adapter) -> None:
    nodes = await adapter.tree(depth="metric")
    metric = next(n for n in nodes if n.kind == "metric" and n.id.endswith(":temp"))
    device = next(n for n in nodes if n.ref == metric.parent or n.kind == "device" and metric.parent and metric.parent.startswith(n.ref))
    now = now_utc()
    history = await adapter.history(metric.ref, now - timedelta(hours=24), now)
    assert history.points
    values = sorted(p.value for p in history.points)
    r = Rule(id="t", profile=adapter.name, name="t", sources=[metric.ref], origin=Origin.local,
             thresholds=[Threshold(condition=f"metric > {values[len(values) // 2]}", severity=Severity.major, checks=2)])
    res = await backtest(adapter, r, now=now)
    assert res.start == now - timedelta(hours=24) and res.end == now
    assert res.readings == len(history.points) and res.errors == {}
    assert res.episodes and res.episodes == replay(r, history.points, start=res.start, end=res.end).episodes

    always = r.model_copy(update={"thresholds": [Threshold(condition="metric > -1e9", severity=Severity.major, checks=1)]})
    (ep,) = (await backtest(adapter, always, now=now)).episodes
    assert ep.start == history.points[0].ts and ep.end is None and ep.count == len(history.points)

    missing = r.model_copy(update={"sources": [metric.ref, f"{adapter.name}/metric/NOPE:temp"]})
    res = await backtest(adapter, missing, now=now)
    assert list(res.errors) == [f"{adapter.name}/metric/NOPE:temp"] and res.readings == len(history.points)

    off = Rule(id="o", profile=adapter.name, name="o", kind="offline", sources=[device.ref], minutes=600, origin=Origin.local,
               thresholds=[Threshold(condition="600", severity=Severity.critical)])
    res = await backtest(adapter, off, now=now)
    assert res.readings > 0 and res.errors == {} and res.episodes == []


async def test_teamviewer_native_rules_backtest_through_the_adapter() -> None:
    from tuiot.adapters import load_adapter
    from tuiot.credentials import SecretSource
    from tuiot.fleet.condition import parse
    from tuiot.simulators import available
    from tuiot.simulators.demo import build_demo

    if "teamviewer" not in available():
        pytest.skip("TeamViewer simulator not installed")
    demo = build_demo(devices=30, vendors=("teamviewer",))
    prof = demo.profiles[0]
    a = load_adapter(prof.vendor)(prof, SecretSource(fixed=demo.secrets, use_keyring=False), transport=demo.transport)
    try:
        rules = [r for r in await a.rules() if r.kind == "threshold"]
        assert rules
        for r in rules:
            for t in r.thresholds:
                parse(t.condition)  # the vendor's conditions are in the same language
        now = now_utc()
        res = await backtest(a, rules[0], now=now)
        assert res.readings > 0 and res.errors == {}
        always = rules[0].model_copy(update={"thresholds": [Threshold(condition="metric > -1e9", severity=Severity.minor)]})
        (ep,) = (await backtest(a, always, now=now)).episodes
        assert ep.end is None and ep.count == res.readings and ep.source == rules[0].sources[0]
    finally:
        await a.aclose()
