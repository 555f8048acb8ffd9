"""Local alarms persist in the data dir; a corrupt file is moved aside, not fatal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tuiot.domain import AlarmStatus, Origin, Reading, Rule, Severity, Threshold
from tuiot.fleet.rules.engine import RuleEngine
from tuiot.fleet.rules.local_alarms import LocalAlarmStore, default_path

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RULE = Rule(id="local:P:hot", profile="P", name="hot", sources=["P/metric/m"], origin=Origin.local,
            thresholds=[Threshold(condition="metric > 1", severity=Severity.minor)])


def test_alarms_survive_a_restart() -> None:
    store = LocalAlarmStore()
    assert store.path == default_path() and store.all() == []
    engine = RuleEngine([RULE])
    store.apply(engine.feed([Reading(metric="P/metric/m", value=5, ts=T0)]))
    again = LocalAlarmStore()
    [a] = again.open_alarms("P")
    assert a.rule == "hot" and a.value == 5 and a.origin is Origin.local and again.notice is None
    # a restarted engine picks the open alarm up and can clear it
    engine2 = RuleEngine([RULE], alarms=again.open_alarms())
    again.apply(engine2.feed([Reading(metric="P/metric/m", value=0, ts=T0 + timedelta(minutes=1))]))
    assert LocalAlarmStore().open_alarms() == [] and LocalAlarmStore().get(a.id).status is AlarmStatus.closed  # type: ignore[union-attr]


def test_close_by_hand_persists(tmp_path: Path) -> None:
    store = LocalAlarmStore(tmp_path / "a.json")
    store.apply(RuleEngine([RULE]).feed([Reading(metric="P/metric/m", value=5, ts=T0)]))
    [a] = store.open_alarms()
    assert store.close(a.id, T0 + timedelta(minutes=2)) is not None
    assert store.close(a.id, T0) is None and store.close("nope", T0) is None
    assert LocalAlarmStore(tmp_path / "a.json").get(a.id).closed_at == T0 + timedelta(minutes=2)  # type: ignore[union-attr]


def test_corrupt_file_is_moved_aside(tmp_path: Path) -> None:
    p = tmp_path / "local_alarms.json"
    for junk in ("{not json", '{"alarms": [{"id": 1}]}', "[]"):
        p.write_text(junk)
        store = LocalAlarmStore(p)
        assert store.all() == [] and store.notice and "moved aside" in store.notice
        assert not p.exists()
    assert len(list(tmp_path.glob("local_alarms.json.corrupt-*"))) == 3
    store.apply(RuleEngine([RULE]).feed([Reading(metric="P/metric/m", value=5, ts=T0)]))
    assert len(LocalAlarmStore(p).all()) == 1
