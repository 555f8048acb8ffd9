"""The local rule engine: consecutive checks, clearing, hand closing, offline rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tuiot.domain import Alarm, AlarmStatus, Origin, Reading, Rule, Severity, Threshold
from tuiot.fleet.engine import RuleEngine, alarm_id

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
M = "p/metric/s1:temp"
D = "p/device/dev-1"


def rule(condition: str = "metric > 30", checks: int = 2, **kw: object) -> Rule:
    base: dict[str, object] = {
        "id": "hot", "profile": "p", "name": "hot", "sources": [M], "origin": Origin.local,
        "thresholds": [Threshold(condition=condition, severity=Severity.major, checks=checks)],
    }
    base.update(kw)
    return Rule(**base)  # type: ignore[arg-type]


def offline(minutes: int = 15, checks: int = 1) -> Rule:
    return Rule(
        id="silent", profile="p", name="silent", kind="offline", sources=[D], minutes=minutes, origin=Origin.local,
        thresholds=[Threshold(condition=str(minutes), severity=Severity.critical, checks=checks)],
    )


def readings(*values: object, start: datetime = T0, metric: str = M) -> list[Reading]:
    return [Reading(metric=metric, value=v, ts=start + timedelta(minutes=i)) for i, v in enumerate(values)]  # type: ignore[arg-type]


def kinds(events) -> list[str]:
    return [e.kind for e in events]


def test_opens_after_consecutive_matches_and_clears() -> None:
    eng = RuleEngine([rule(checks=3)])
    rs = readings(31, 32, 10, 31, 32, 33, 34, 20, 25)
    per = [kinds(eng.observe(r)) for r in rs]
    # the streak 31, 32 is broken by 10; 31, 32, 33 opens on the third
    assert per == [[], [], [], [], [], ["raised"], [], ["cleared"], []]
    assert eng.open_alarms() == []


def test_alarm_fields() -> None:
    eng = RuleEngine([rule(checks=2)])
    events = eng.feed(readings(40, 41))
    (ev,) = events
    a = ev.alarm
    assert ev.kind == "raised" and ev.at == T0 + timedelta(minutes=1)
    assert a.origin == Origin.local and a.rule == "hot" and a.value == 41 and a.severity == Severity.major
    assert a.status == AlarmStatus.open and a.metric == M and a.device is None and a.profile == "p" and a.closable
    assert a.opened_at == T0 + timedelta(minutes=1)
    assert a.id == alarm_id(rule(), M, 0, a.opened_at)
    assert "metric > 30" in a.description
    (clear,) = eng.observe(Reading(metric=M, value=1, ts=T0 + timedelta(minutes=5)))
    assert clear.alarm.id == a.id and clear.alarm.status == AlarmStatus.closed
    assert clear.alarm.closed_at == T0 + timedelta(minutes=5) and not clear.by_hand


def test_ids_are_deterministic() -> None:
    first = RuleEngine([rule(checks=1)]).feed(readings(50))
    again = RuleEngine([rule(checks=1)]).feed(readings(50))
    assert first[0].alarm.id == again[0].alarm.id
    other = RuleEngine([rule(checks=1)]).feed(readings(50, start=T0 + timedelta(hours=1)))
    assert other[0].alarm.id != first[0].alarm.id


def test_the_same_sample_polled_again_counts_once() -> None:
    eng = RuleEngine([rule(checks=2)])
    r = Reading(metric=M, value=40, ts=T0)
    assert eng.observe(r) == [] and eng.observe(r) == [] and eng.observe(r) == []
    assert kinds(eng.observe(Reading(metric=M, value=40, ts=T0 + timedelta(seconds=1)))) == ["raised"]
    # an older sample arriving late is ignored too
    assert eng.observe(Reading(metric=M, value=0, ts=T0)) == []
    assert len(eng.open_alarms()) == 1


def test_other_metrics_and_disabled_rules_are_ignored() -> None:
    eng = RuleEngine([rule(checks=1), rule(checks=1, id="off", name="off", enabled=False)])
    assert eng.feed(readings(99, metric="p/metric/other")) == []
    events = eng.feed(readings(99))
    assert [e.alarm.rule for e in events] == ["hot"]


def test_wrong_types_never_match() -> None:
    eng = RuleEngine([rule(checks=1)])
    assert eng.feed(readings("hot", "99", True)) == []


def test_closed_by_hand_stays_closed_until_the_condition_clears() -> None:
    eng = RuleEngine([rule(checks=1)])
    (raised,) = eng.feed(readings(40))
    ev = eng.close(raised.alarm.id, T0 + timedelta(seconds=30))
    assert ev is not None and ev.by_hand and ev.alarm.status == AlarmStatus.closed
    assert eng.close(raised.alarm.id, T0) is None  # already closed
    assert eng.feed(readings(41, 42, start=T0 + timedelta(minutes=1))) == []
    assert eng.feed(readings(10, start=T0 + timedelta(minutes=5))) == []
    assert kinds(eng.feed(readings(45, start=T0 + timedelta(minutes=6)))) == ["raised"]


def test_several_thresholds_track_separately() -> None:
    r = rule(thresholds=[
        Threshold(condition="metric > 30", severity=Severity.minor, checks=1),
        Threshold(condition="metric > 50", severity=Severity.critical, checks=2),
    ])
    eng = RuleEngine([r])
    assert [(e.kind, e.alarm.severity) for e in eng.feed(readings(35, 55, 56))] == [
        ("raised", Severity.minor), ("raised", Severity.critical)]
    assert [(e.kind, e.alarm.severity) for e in eng.feed(readings(40, start=T0 + timedelta(minutes=5)))] == [
        ("cleared", Severity.critical)]


def test_offline_rule() -> None:
    eng = RuleEngine([offline(minutes=15, checks=2)])
    assert eng.offline_devices() == [D] and eng.watched_metrics() == []
    now = T0
    assert eng.seen(D, T0 - timedelta(minutes=5), now) == []
    assert eng.seen(D, T0 - timedelta(minutes=5), now + timedelta(minutes=11)) == []  # first silent check
    (raised,) = eng.seen(D, T0 - timedelta(minutes=5), now + timedelta(minutes=12))
    a = raised.alarm
    assert raised.kind == "raised" and a.device == D and a.metric is None and a.severity == Severity.critical
    assert a.value == 17.0 and "offline" in a.description
    # the same `now` again is not a new check
    assert eng.seen(D, T0 - timedelta(minutes=5), now + timedelta(minutes=12)) == []
    (cleared,) = eng.seen(D, now + timedelta(minutes=13), now + timedelta(minutes=14))
    assert cleared.kind == "cleared" and cleared.alarm.id == a.id


def test_never_seen_device_is_offline() -> None:
    eng = RuleEngine([offline(checks=1)])
    (ev,) = eng.seen(D, None, T0)
    assert ev.kind == "raised" and ev.alarm.value is None and "never seen" in ev.alarm.description


def test_teamviewer_style_offline_rule_takes_minutes_from_the_condition() -> None:
    r = Rule(id="5d31", profile="tv", name="Offline done", kind="offline", sources=["tv/device/42"],
             thresholds=[Threshold(condition="22", severity=Severity.critical, checks=1)])
    eng = RuleEngine([r])
    assert eng.seen("tv/device/42", T0, T0 + timedelta(minutes=21)) == []
    assert kinds(eng.seen("tv/device/42", T0, T0 + timedelta(minutes=23))) == ["raised"]


def test_bad_rules_are_reported_not_run() -> None:
    eng = RuleEngine([rule(condition="metric >"), rule(id="ok", name="ok", checks=1)])
    assert "hot" in eng.errors and "column" in eng.errors["hot"]
    assert [e.alarm.rule for e in eng.feed(readings(99))] == ["ok"]


def test_changing_rules_clears_their_alarms() -> None:
    eng = RuleEngine([rule(checks=1)])
    eng.feed(readings(40))
    assert eng.set_rules([rule(checks=1)], now=T0 + timedelta(minutes=2)) == []  # unchanged: kept
    assert len(eng.open_alarms()) == 1
    events = eng.set_rules([rule(condition="metric > 35", checks=1)], now=T0 + timedelta(minutes=3))
    assert kinds(events) == ["cleared"] and eng.open_alarms() == []
    eng.feed(readings(40, start=T0 + timedelta(minutes=4)))
    assert kinds(eng.set_rules([], now=T0 + timedelta(minutes=5))) == ["cleared"]


def test_restored_alarms_clear_after_restart() -> None:
    eng = RuleEngine([rule(checks=1)])
    (raised,) = eng.feed(readings(40))
    restarted = RuleEngine([rule(checks=1)], alarms=[raised.alarm])
    assert restarted.open_alarms() == [raised.alarm]
    assert restarted.feed(readings(41, start=T0 + timedelta(minutes=1))) == []  # still open, not raised twice
    (cleared,) = restarted.feed(readings(1, start=T0 + timedelta(minutes=2)))
    assert cleared.alarm.id == raised.alarm.id


def test_event_as_dict_is_json_ready() -> None:
    import json

    (ev,) = RuleEngine([rule(checks=1)]).feed(readings(40))
    row = json.loads(json.dumps(ev.as_dict()))
    assert row["event"] == "raised" and row["at"].endswith("Z") and row["origin"] == "local" and row["rule"] == "hot"
    assert isinstance(Alarm.model_validate({k: v for k, v in row.items() if k not in ("event", "at", "by_hand")}), Alarm)


def test_a_threshold_alarm_names_the_device_its_reading_named() -> None:
    eng = RuleEngine([rule(checks=1)])
    (ev,) = eng.observe(Reading(metric=M, value=40, ts=T0, device=D))
    assert ev.alarm.device == D and ev.alarm.metric == M  # the inbox can jump to it
