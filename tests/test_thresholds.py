"""Live colouring: which threshold a value crosses right now."""

from __future__ import annotations

from tuiot.domain import Rule, Severity, Threshold
from tuiot.fleet.thresholds import ThresholdIndex


def rule(source: str, *thresholds: tuple[str, Severity], enabled: bool = True, kind: str = "threshold") -> Rule:
    return Rule(id=source, profile="p", name="r", enabled=enabled, kind=kind, sources=[source],
                thresholds=[Threshold(condition=c, severity=s) for c, s in thresholds])


def test_worst_crossed_threshold_wins() -> None:
    index = ThresholdIndex([rule("p/metric/t", ("metric > 30", Severity.minor), ("metric > 40", Severity.critical))])
    assert index.severity("p/metric/t", 25) is None
    assert index.severity("p/metric/t", 35) is Severity.minor
    assert index.severity("p/metric/t", 45) is Severity.critical
    assert index.severity("p/metric/other", 45) is None


def test_disabled_offline_and_broken_rules_colour_nothing() -> None:
    index = ThresholdIndex([
        rule("p/metric/a", ("metric > 1", Severity.major), enabled=False),
        rule("p/metric/b", ("10", Severity.major), kind="offline"),
        rule("p/metric/c", ("metric >>> 1", Severity.major)),
    ])
    assert len(index) == 0
    assert index.severity("p/metric/a", 5) is None


def test_text_values_and_missing_values_never_raise() -> None:
    index = ThresholdIndex([rule("p/metric/s", ('metric == "alarm"', Severity.warning), ("metric > 3", Severity.major))])
    assert index.severity("p/metric/s", "alarm") is Severity.warning
    assert index.severity("p/metric/s", "ok") is None
    assert index.severity("p/metric/s", None) is None
