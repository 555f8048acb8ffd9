"""Local alarms persist in the data dir, survive a restart, and a corrupt file is moved aside."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tuiot.config import data_dir
from tuiot.domain import AlarmStatus, Origin, Reading, Rule, Severity, Threshold
from tuiot.fleet.engine import RuleEngine
from tuiot.fleet.local_alarms import FILE_NAME, LocalAlarmStore

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
M = "p/metric/m1"
RULE = Rule(id="hot", profile="p", name="hot", sources=[M], origin=Origin.local,
            thresholds=[Threshold(condition="metric > 30", severity=Severity.major, checks=1)])


def clock() -> datetime:
    return T0 + timedelta(hours=1)


def reading(v: float, minute: int) -> Reading:
    return Reading(metric=M, value=v, ts=T0 + timedelta(minutes=minute))


def test_events_persist_and_survive_restart() -> None:
    store = LocalAlarmStore(clock=clock)
    assert store.path == data_dir() / FILE_NAME and store.alarms() == []
    eng = RuleEngine([RULE])
    assert store.apply(eng.feed([reading(40, 0)]))
    assert store.apply([]) is False
    assert store.path.exists() and not list(store.path.parent.glob("*.tmp"))

    again = LocalAlarmStore(clock=clock)
    (alarm,) = again.open_alarms()
    assert alarm.origin == Origin.local and alarm.rule == "hot" and alarm.value == 40
    # the restarted engine picks the open alarm up and clears it
    eng2 = RuleEngine([RULE], alarms=again.open_alarms())
    again.apply(eng2.feed([reading(10, 5)]))
    third = LocalAlarmStore(clock=clock)
    assert third.open_alarms() == [] and third.alarms(status=AlarmStatus.closed)[0].id == alarm.id
    assert third.get(alarm.id).closed_at == T0 + timedelta(minutes=5)


def test_close_by_hand() -> None:
    store = LocalAlarmStore(clock=clock)
    eng = RuleEngine([RULE])
    store.apply(eng.feed([reading(40, 0)]))
    (alarm,) = store.open_alarms(profile="p")
    assert store.open_alarms(profile="other") == []
    closed = store.close(alarm.id)
    assert closed is not None and closed.status == AlarmStatus.closed and closed.closed_at == clock()
    assert store.close("nope") is None
    assert LocalAlarmStore(clock=clock).get(alarm.id).status == AlarmStatus.closed


def test_old_closed_alarms_are_pruned_open_ones_kept() -> None:
    store = LocalAlarmStore(clock=lambda: T0 + timedelta(days=30))
    eng = RuleEngine([RULE])
    store.apply(eng.feed([reading(40, 0), reading(1, 1), reading(50, 2)]))
    assert [a.status for a in store.alarms()] == [AlarmStatus.open]


def test_corrupt_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "alarms.json"
    for body in ("{not json", json.dumps({"version": 1, "alarms": [{"id": 3}]}), json.dumps([1, 2]), "\xff\xfe"):
        path.write_text(body, encoding="latin-1")
        store = LocalAlarmStore(path, clock=clock)
        assert store.alarms() == [] and store.warning and "moved to" in store.warning
        assert not path.exists()
        store.apply(RuleEngine([RULE]).feed([reading(40, 0)]))
        assert len(LocalAlarmStore(path, clock=clock).alarms()) == 1
        path.unlink()
    assert len(list(tmp_path.glob("alarms.json.corrupt-*"))) >= 1


def test_local_rules_bundle_engine_and_store() -> None:
    from tuiot.fleet.local_alarms import LocalRules

    lr = LocalRules([RULE], LocalAlarmStore(clock=clock))
    (raised,) = lr.feed([reading(40, 0)])
    assert LocalAlarmStore(clock=clock).open_alarms()[0].id == raised.alarm.id
    closed = lr.close(raised.alarm.id)
    assert closed is not None and closed.status == AlarmStatus.closed and closed.closed_at == clock()
    assert lr.feed([reading(41, 1)]) == []  # closed by hand: not reopened while still hot
    assert LocalAlarmStore(clock=clock).open_alarms() == []
    # after a restart, the engine picks up what is open
    lr.feed([reading(1, 2), reading(45, 3)])
    restarted = LocalRules([RULE], LocalAlarmStore(clock=clock))
    assert [a.value for a in restarted.engine.open_alarms()] == [45]
    assert [e.kind for e in restarted.set_rules([])] == ["cleared"]
    assert restarted.alarms(status=AlarmStatus.open) == [] and lr.close("nope") is None
