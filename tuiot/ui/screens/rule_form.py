"""Rule form: create or edit one rule (local, or a vendor's native rule) safely.

The condition is checked on every keystroke and a fault is shown inline with its column;
ctrl+s returns the Rule only when every field is valid, Esc returns None. When a
`backtest` callable is given, the form shows what the rule would have done over the last
24 hours (episodes, first and last) each time the rule settles into a valid state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Label, Select, Static, Switch

from tuiot.domain import Origin, Rule, Severity, Threshold, make_ref, split_ref
from tuiot.fleet.rules.backtest import BacktestResult, Episode
from tuiot.fleet.rules.condition import ConditionError, parse
from tuiot.fleet.rules.rulefile import rule_id

Backtest = Callable[[Rule], Awaitable[BacktestResult]]
KINDS = (("threshold: a metric's value", "threshold"), ("offline: a device's silence", "offline"))


def _bare(ref: str) -> str:
    return split_ref(ref)[2] if ref.count("/") >= 2 else ref


def _when(ep: Episode) -> str:
    end = ep.end.strftime("%H:%M") if ep.end else "still open"
    return f"{ep.start:%m-%d %H:%M} → {end}  peak {ep.peak}  ({ep.count} readings, {ep.severity.value})"


class RuleForm(ModalScreen[Rule | None]):
    DEFAULT_CSS = """
    RuleForm { align: center middle; }
    RuleForm > #box {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    RuleForm #title { text-style: bold; color: $text; padding-bottom: 1; }
    RuleForm .row { height: auto; }
    RuleForm .row Label { width: 12; padding: 1 1 0 0; color: $text-muted; }
    RuleForm .row Input, RuleForm .row Select { width: 1fr; }
    RuleForm Switch { width: auto; }
    RuleForm .message { height: auto; padding-left: 12; color: $text-muted; }
    RuleForm .message.-error { color: $error; }
    RuleForm #backtest { height: auto; min-height: 3; border-top: solid $panel; color: $text-muted; padding-top: 0; }
    RuleForm #hint { color: $text-muted; padding-top: 1; }
    RuleForm .-hidden { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel", priority=True),
    ]

    def __init__(self, rule: Rule | None, *, profiles: list[str], backtest: Backtest | None = None) -> None:
        super().__init__()
        self.rule = rule
        self.profiles = list(profiles)
        if rule is not None and rule.profile not in self.profiles:
            self.profiles.insert(0, rule.profile)
        self.backtest = backtest
        self._debounce: Timer | None = None
        self._backtested: Rule | None = None

    # -- layout ----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        r = self.rule
        t = r.thresholds[0] if r and r.thresholds else None
        source = _bare(r.sources[0]) if r and r.sources else ""
        kind = r.kind if r else "threshold"
        profile = r.profile if r else (self.profiles[0] if len(self.profiles) == 1 else Select.NULL)
        with VerticalScroll(id="box"):
            yield Static("Edit rule" if r else "New rule", id="title")
            with Horizontal(classes="row"):
                yield Label("Name")
                yield Input(r.name if r else "", placeholder="e.g. hot boiler", id="name")
            with Horizontal(classes="row"):
                yield Label("Profile")
                yield Select([(p, p) for p in self.profiles], value=profile, prompt="choose a profile",
                             id="profile", disabled=r is not None and r.origin is Origin.vendor)
            with Horizontal(classes="row"):
                yield Label("Kind")
                yield Select(KINDS, value=kind, allow_blank=False, id="kind")
            with Horizontal(classes="row threshold"):
                yield Label("Metric")
                yield Input(source if kind == "threshold" else "", placeholder="metric id as `tuiot tree` prints it",
                            id="metric")
            with Horizontal(classes="row threshold"):
                yield Label("Condition")
                yield Input(t.condition if t and kind == "threshold" else "", placeholder="metric > 30 && metric < 90",
                            id="condition")
            yield Static("", id="condition-msg", classes="message threshold", markup=False)
            with Horizontal(classes="row offline"):
                yield Label("Device")
                yield Input(source if kind == "offline" else "", placeholder="device id", id="device")
            with Horizontal(classes="row offline"):
                yield Label("Minutes")
                yield Input(str(r.minutes) if r and r.minutes else "15", type="integer", id="minutes")
            with Horizontal(classes="row"):
                yield Label("Severity")
                yield Select([(s.value, s.value) for s in Severity], value=(t.severity.value if t else "major"),
                             allow_blank=False, id="severity")
            with Horizontal(classes="row threshold"):
                yield Label("Checks")
                yield Input(str(t.checks if t else 1), type="integer", id="checks")
            with Horizontal(classes="row"):
                yield Label("Enabled")
                yield Switch(r.enabled if r else True, id="enabled")
            yield Static("", id="form-msg", classes="message", markup=False)
            with Vertical(id="backtest", classes="" if self.backtest else "-hidden"):
                yield Static("backtest: waiting for a valid rule", id="backtest-body", markup=False)
            yield Static("ctrl+s save · esc cancel", id="hint")

    def on_mount(self) -> None:
        self._show_kind()
        self._validate()
        self.query_one("#name", Input).focus()

    # -- state -----------------------------------------------------------------
    def _kind(self) -> str:
        value = self.query_one("#kind", Select).value
        return value if isinstance(value, str) else "threshold"

    def _show_kind(self) -> None:
        offline = self._kind() == "offline"
        for w in self.query(".threshold"):
            w.set_class(offline, "-hidden")
        for w in self.query(".offline"):
            w.set_class(not offline, "-hidden")

    def _text(self, id: str) -> str:
        return self.query_one(f"#{id}", Input).value.strip()

    def _int(self, id: str) -> int | None:
        try:
            v = int(self._text(id))
        except ValueError:
            return None
        return v if v >= 1 else None

    def _condition_error(self) -> ConditionError | None:
        try:
            parse(self.query_one("#condition", Input).value)
        except ConditionError as e:
            return e
        return None

    def build(self) -> tuple[Rule | None, str | None]:
        """The rule the fields describe, or None and the first problem in one line."""
        name = self._text("name")
        profile = self.query_one("#profile", Select).value
        if not name:
            return None, "name is missing"
        if profile is Select.NULL or not isinstance(profile, str):
            return None, "choose a profile"
        kind = self._kind()
        severity = Severity(str(self.query_one("#severity", Select).value))
        enabled = self.query_one("#enabled", Switch).value
        if kind == "offline":
            device, minutes = self._text("device"), self._int("minutes")
            if not device:
                return None, "device is missing"
            if minutes is None:
                return None, "minutes must be a whole number ≥ 1"
            source = device if device.startswith(f"{profile}/device/") else make_ref(profile, "device", device)
            threshold = Threshold(condition=f"metric >= {minutes}", severity=severity, checks=1)
        else:
            metric, checks = self._text("metric"), self._int("checks")
            if not metric:
                return None, "metric is missing"
            err = self._condition_error()
            if err is not None:
                return None, f"condition: {err}"
            if checks is None:
                return None, "checks must be a whole number ≥ 1"
            source = metric if metric.startswith(f"{profile}/metric/") else make_ref(profile, "metric", metric)
            threshold = Threshold(condition=self.query_one("#condition", Input).value.strip(), severity=severity,
                                  checks=checks)
            minutes = None
        old = self.rule
        if old is not None and old.origin is Origin.vendor:
            # A vendor rule keeps its id, its other sources and thresholds: only the first is edited here.
            sources = [source, *old.sources[1:]]
            thresholds = [threshold, *old.thresholds[1:]]
            rule = old.model_copy(update={"name": name, "enabled": enabled, "kind": kind, "sources": sources,
                                          "thresholds": thresholds, "minutes": minutes})
        else:
            rule = Rule(id=rule_id(profile, name), profile=profile, name=name, enabled=enabled, kind=kind,  # type: ignore[arg-type]
                        sources=[source], thresholds=[threshold], origin=Origin.local, minutes=minutes)
        return rule, None

    def _validate(self) -> Rule | None:
        msg = self.query_one("#condition-msg", Static)
        err = self._condition_error() if self._kind() == "threshold" else None
        if err is None:
            msg.update("condition ok")
            msg.remove_class("-error")
        else:
            text = self.query_one("#condition", Input).value
            caret = " " * (err.position - 1) + "^"
            msg.update(f"{text}\n{caret}\n{err}" if text.strip() else str(err))
            msg.add_class("-error")
        rule, problem = self.build()
        form = self.query_one("#form-msg", Static)
        form.update("" if problem is None else problem)
        form.set_class(problem is not None, "-error")
        return rule

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Switch.Changed)
    def _changed(self, event: Input.Changed | Select.Changed | Switch.Changed) -> None:
        if isinstance(event, Select.Changed) and event.select.id == "kind":
            self._show_kind()
        rule = self._validate()
        if self.backtest is not None and rule is not None and rule != self._backtested:
            if self._debounce is not None:
                self._debounce.stop()
            self._debounce = self.set_timer(0.4, lambda: self._run_backtest(rule))

    # -- backtest --------------------------------------------------------------
    @work(exclusive=True, group="rule-form-backtest")
    async def _run_backtest(self, rule: Rule) -> None:
        assert self.backtest is not None
        self._backtested = rule
        body = self.query_one("#backtest-body", Static)
        body.update("backtest: replaying the last 24 h …")
        try:
            result = await self.backtest(rule)
        except Exception as e:  # noqa: BLE001 - any failure is shown in the panel, the form stays usable
            body.update(f"backtest failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
            return
        lines = [f"last 24 h: {result.summary()}"]
        if result.first is not None:
            lines.append(f"first  {_when(result.first)}")
        if result.last is not None and result.last is not result.first:
            lines.append(f"last   {_when(result.last)}")
        lines.extend(f"! {e}" for e in result.errors[:2])
        body.update("\n".join(lines))

    # -- actions ---------------------------------------------------------------
    def action_save(self) -> None:
        rule = self._validate()
        if rule is None:
            self.app.bell()
            return
        self.dismiss(rule)

    def action_cancel(self) -> None:
        self.dismiss(None)
