"""Screen 5, Rules: the vendor's (TeamViewer) and the local (rules.toml) rules in one list.

The view shows and filters; every change is asked of the app with a message, which
checks read-only, confirms, writes and reloads:

`set_rules(rules, *, read_only=())`  replace the list (the cursor stays on its rule)
`RuleEditRequested(rule | None)`      `n` new, enter edit
`RuleToggleRequested(rule)`           space enables or disables
`RuleDeleteRequested(rule)`           `d` (the app asks first)
`NamesWanted(refs)`                   the detail pane shows these sources (the app names them)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.text import Text

from tuiot.domain import Rule
from tuiot.ui.actions import RULE_ACTIONS as ACTIONS  # the registry (keys.py) reads it there
from tuiot.ui.labels import clip, fold, folded
from tuiot.ui.messages import RuleDeleteRequested, RuleEditRequested, RuleToggleRequested
from tuiot.ui.views import TITLES, bindings
from tuiot.ui.views.base import ListBody
from tuiot.ui.widgets.marks import Cell, Column


def rule_key(r: Rule) -> str:
    return f"{r.origin.value}:{r.profile}:{r.id or r.name}"


def condition_text(r: Rule) -> str:
    t = r.thresholds[0] if r.thresholds else None
    if r.kind == "offline":
        return f"silent {r.minutes or '?'} min"
    return t.condition if t else "—"


class RulesView(ListBody):
    """The rule list; see the module doc for the API."""

    BINDINGS = bindings(ACTIONS)
    TITLE = f"{TITLES['rules']} — vendor (TeamViewer) and local (rules.toml)"
    EXPORT_STEM = "rules"

    def __init__(self, *, name_of: Callable[[str], str] | None = None, export_dir: Path | None = None,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        self.name_of = name_of or (lambda ref: ref.split("/", 2)[-1])  # a source ref → what to call it
        self._rules: dict[str, Rule] = {}
        self._needle = ""
        self._wide = False
        super().__init__(export_dir=export_dir, name=name, id=id, classes=classes)

    def set_rules(self, rules: Sequence[Rule]) -> None:
        self._rules = {rule_key(r): r for r in rules}
        if self.is_mounted:
            self.refilter()

    @property
    def rules(self) -> list[Rule]:
        return list(self._rules.values())

    def wanted_names(self, key: str | None) -> Sequence[str]:
        r = self._rules.get(key) if key else None
        return r.sources[:5] if r is not None else ()  # the five the detail pane names

    def shown_rules(self) -> list[Rule]:
        return [self._rules[k] for k in self.list.keys]

    @property
    def highlighted_rule(self) -> Rule | None:
        key = self.list.highlighted
        return self._rules.get(key) if key else None

    # ---- ListBody hooks ---------------------------------------------------------------

    def set_text_filter(self, text: str) -> str | None:
        self.text_filter = text
        self._needle = text.strip().lower()
        return None

    def visible_keys(self) -> list[str]:
        if not self._needle:
            return list(self._rules)
        return [k for k, r in self._rules.items()
                if self._needle in f"{r.name} {r.profile} {r.origin.value} {r.kind} {condition_text(r)} "
                                   f"{' '.join(t.severity.value for t in r.thresholds)} "
                                   f"{'enabled' if r.enabled else 'disabled'}".lower()]

    def columns(self, width: int) -> Sequence[Column]:
        cols = [Column("ORIGIN", 6), Column("PROFILE", 10), Column("NAME", 20, flex=True),
                Column("ON", 3), Column("CONDITION", 14, flex=True), Column("SEV", 8)]
        self._wide = width >= 100
        if self._wide:
            cols.append(Column("CHECKS", 6, right=True))
        return cols

    def cells(self, key: str) -> Sequence[Cell]:
        r = self._rules[key]
        t = r.thresholds[0] if r.thresholds else None
        dim = None if r.enabled else "dim"
        row: list[Cell] = [(r.origin.value, "dim"), (r.profile, dim), (r.name, dim),
                           ("yes" if r.enabled else "no", "ok" if r.enabled else "dim"),
                           (condition_text(r), dim), (t.severity.value if t else "—", dim)]
        if self._wide:
            row.append((str(t.checks) if t else "—", dim))
        return row

    def summary(self) -> Text:
        local = sum(1 for r in self._rules.values() if r.origin.value == "local")
        parts = [f"{len(self.list.keys):,}/{len(self._rules):,}", f"{len(self._rules) - local} vendor · {local} local"]
        if self.text_filter.strip():  # as Live says it: the list is a selection, not every rule
            parts.append(f"filter '{clip(self.text_filter.strip(), 30)}'")
        return Text(" · ".join(parts))

    def empty_text(self) -> str:
        if self._rules:
            return "no rule matches the filter"
        return "no rules yet: n writes a local rule (any vendor) or a TeamViewer rule"

    def detail(self, key: str | None, width: int = 0) -> Text:
        r = self._rules.get(key) if key else None
        if r is None:
            return Text("no rule selected", style="dim")
        # folded: a source named by its id (not loaded yet) breaks only between its parts
        lines = [(f"{r.name}  {r.origin.value} rule of {r.profile} · {'enabled' if r.enabled else 'disabled'}", "")]
        for th in r.thresholds:
            lines.append((f"{th.severity.value}: {condition_text(r) if r.kind == 'offline' else th.condition}"
                          f" for {th.checks} reading{'s' if th.checks != 1 else ''} in a row", ""))
        if r.sources:
            lines.append(("on " + ", ".join(self.name_of(s) for s in r.sources[:5])
                          + (f" and {len(r.sources) - 5} more" if len(r.sources) > 5 else ""), "dim"))
        t = folded(lines, width)
        t.stylize("bold", 0, min(len(r.name), len(fold(lines[0][0], width)[0])))  # the name, as far as line 1 holds it
        return t

    def export_columns(self) -> Sequence[str]:
        return ["origin", "profile", "name", "enabled", "kind", "sources", "thresholds"]

    def export_row(self, key: str) -> Mapping[str, Any]:
        r = self._rules[key]
        return {"origin": r.origin.value, "profile": r.profile, "name": r.name, "enabled": r.enabled, "kind": r.kind,
                "sources": r.sources, "thresholds": [t.model_dump(mode="json") for t in r.thresholds]}

    def copy_text(self, key: str) -> str:
        r = self._rules[key]
        return r.id or r.name  # as rule_key: a rule with no id (a vendor that gave none) is known by its name

    # ---- keys -------------------------------------------------------------------------

    def action_new_rule(self) -> None:
        self.post_message(RuleEditRequested(None))

    def action_edit_rule(self) -> None:
        if (r := self._need_rule()) is not None:
            self.post_message(RuleEditRequested(r))

    def action_toggle_rule(self) -> None:
        if (r := self._need_rule()) is not None:
            self.post_message(RuleToggleRequested(r))

    def action_delete_rule(self) -> None:
        if (r := self._need_rule()) is not None:
            self.post_message(RuleDeleteRequested(r))

    def _need_rule(self) -> Rule | None:
        r = self.highlighted_rule
        if r is None:
            self.notify("no rule selected", severity="warning")
        return r


__all__ = ["ACTIONS", "RuleDeleteRequested", "RuleEditRequested", "RuleToggleRequested", "RulesView",
           "condition_text", "rule_key"]
