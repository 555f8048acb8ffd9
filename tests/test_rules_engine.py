"""Local rule engine: consecutive checks, clearing, repeated polls, offline rules, hand close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tuiot.domain import AlarmStatus, Origin, Reading, Rule, Severity, Threshold
from tuiot.fleet.rules.engine import RuleEngine

T0 = datetime(2026, 1, 1, tzinfo=UTC)
M = "P/metric/dev1:temp"
D = "P/device/dev1"


def rule(checks: int = 3, cond: str = "metric > 10", **kw: object) -> Rule:
    return Rule(id="local:P:hot", profile="P", name="hot", sources=[M], origin=Origin.local,
                thresholds=[Threshold(condition=cond, severity=Severity.major, checks=checks)], **kw)  # type: ignore[arg-type]


def offline(minutes: int = 5) -> Rule:
    return Rule(id="local:P:quiet", profile="P", name="quiet", kind="offline", sources=[D], minutes=minutes,
                origin=Origin.local, thresholds=[Threshold(condition=f"metric >= {minutes}", severity=Severity.critical)])


def r(i: int, v: object) -> Reading:
    return Reading(metric=M, value=v, ts=T0 + timedelta(minutes=i))  # type: ignore[arg-type]


def test_opens_after_consecutive_checks_and_clears() -> None:
    e = RuleEngine([rule(3)])
    assert e.feed([r(0, 11), r(1, 12)]) == []
    assert e.feed([r(2, 9)]) == []  # streak broken
    assert e.feed([r(3, 11), r(4, 11)]) == []
    [raised] = e.feed([r(5, 15)])
    a = raised.alarm
    assert raised.kind == "raised" and a.status is AlarmStatus.open and a.origin is Origin.local
    assert (a.rule, a.value, a.opened_at, a.severity, a.metric) == ("hot", 15, T0 + timedelta(minutes=5), Severity.major, M)
    assert e.feed([r(6, 20)]) == []  # still open, no duplicate
    [cleared] = e.feed([r(7, 1)])
    assert cleared.kind == "cleared" and cleared.alarm.id == a.id and cleared.alarm.closed_at == T0 + timedelta(minutes=7)
    assert e.open_alarms() == []
    d = cleared.as_dict()
    assert d["event"] == "cleared" and d["rule"] == "hot" and d["origin"] == "local" and d["severity"] == "major"


def test_same_reading_polled_twice_counts_once_and_ids_are_deterministic() -> None:
    e = RuleEngine([rule(2)])
    assert e.feed([r(0, 11)]) == [] and e.feed([r(0, 11)]) == []
    [ev] = e.feed([r(1, 11)])
    [ev2] = RuleEngine([rule(2)]).feed([r(0, 11), r(1, 11)])
    assert ev.alarm.id == ev2.alarm.id


def test_strings_and_wrong_types_never_crash() -> None:
    e = RuleEngine([rule(1, "metric == 'alarm'")])
    assert e.feed([r(0, 3)]) == []
    assert [x.kind for x in e.feed([r(1, "alarm")])] == ["raised"]
    assert [x.kind for x in e.feed([r(2, "ok")])] == ["cleared"]


def test_hand_close_stays_closed_until_condition_lifts() -> None:
    e = RuleEngine([rule(1)])
    [ev] = e.feed([r(0, 11)])
    closed = e.close(ev.alarm.id, T0 + timedelta(minutes=1))
    assert closed is not None and closed.by_hand and closed.alarm.status is AlarmStatus.closed
    assert e.close(ev.alarm.id, T0) is None
    assert e.feed([r(2, 12)]) == []  # still matching, but muted
    assert e.feed([r(3, 1)]) == []
    assert [x.kind for x in e.feed([r(4, 50)])] == ["raised"]


def test_offline_rule_by_reading_age() -> None:
    e = RuleEngine([offline(5)])
    assert e.offline_devices() == [D]
    assert e.seen(D, T0, T0 + timedelta(minutes=4)) == []
    assert e.seen(D, None, T0 + timedelta(minutes=60)) == []  # no answer is not silence
    [ev] = e.seen(D, T0, T0 + timedelta(minutes=6))
    assert ev.kind == "raised" and ev.alarm.device == D and ev.alarm.value == 6.0 and ev.alarm.severity is Severity.critical
    assert e.seen(D, T0, T0 + timedelta(minutes=7)) == []
    [back] = e.seen(D, T0 + timedelta(minutes=8), T0 + timedelta(minutes=8, seconds=30))
    assert back.kind == "cleared"


def test_restore_and_rule_removal() -> None:
    e = RuleEngine([rule(1)])
    [ev] = e.feed([r(0, 11)])
    again = RuleEngine([rule(1)], alarms=[ev.alarm])
    assert again.open_alarms() == [ev.alarm]
    [cl] = again.feed([r(1, 0)])
    assert cl.alarm.id == ev.alarm.id
    e2 = RuleEngine([rule(1)], alarms=[ev.alarm])
    [gone] = e2.set_rules([], now=T0 + timedelta(hours=1))
    assert gone.kind == "cleared" and e2.watched_metrics() == []
    assert RuleEngine([rule(1, enabled=False)]).feed([r(0, 99)]) == []
