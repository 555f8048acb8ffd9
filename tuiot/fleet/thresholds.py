"""Which rule threshold a value crosses right now, for colouring live values.

The engine raises alarms after `checks` consecutive matches; the Live screen wants the
plainer question "is this value outside a threshold now, and how bad", so an operator
sees a value turn red on the poll it crosses, before any alarm exists. Vendor and local
threshold rules count alike. Conditions are parsed once per rule set; a look-up costs
the rules on that one metric, not the fleet.
"""

from __future__ import annotations

from collections.abc import Iterable

from tuiot.domain import Rule, Severity, Value
from tuiot.fleet.condition import Condition, ConditionError, parse


class ThresholdIndex:
    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._by_metric: dict[str, list[tuple[Condition, Severity]]] = {}
        for rule in rules:
            if not rule.enabled or rule.kind != "threshold":
                continue
            for t in rule.thresholds:
                try:
                    cond = parse(t.condition)
                except ConditionError:
                    continue  # the Rules screen shows why; a bad rule colours nothing
                for source in rule.sources:
                    self._by_metric.setdefault(source, []).append((cond, t.severity))

    def __len__(self) -> int:
        return len(self._by_metric)

    def severity(self, metric: str, value: Value | None) -> Severity | None:
        """The worst severity among thresholds on `metric` that `value` crosses, or None."""
        worst: Severity | None = None
        for cond, sev in self._by_metric.get(metric, ()):
            try:
                hit = cond.evaluate(value)
            except Exception:  # a type mismatch (text vs number) is simply no match
                continue
            if hit:
                worst = Severity.worst(worst, sev)
        return worst
