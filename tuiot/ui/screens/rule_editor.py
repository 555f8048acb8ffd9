"""The rule editor: one form for local rules and TeamViewer's native rules.

A modal that returns the edited `Rule` (or None when cancelled); the caller decides
where it goes (rules.toml for a local rule, the adapter for a vendor rule). The
condition is checked on every keystroke with the same parser the engine uses, and the
fault is shown inline with its column. When a backtest function is given, the panel
below the form shows what the rule would have done over the last 24 hours; it reruns
shortly after the form changes (and on ctrl+t).

Fits 80×24. Keys: enter or ctrl+s saves (only when the form is valid), esc cancels,
ctrl+t backtests, ctrl+o picks the metric (or device) by name. Read-only, the form is
a viewer: its fields are disabled, and only esc and ctrl+t work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Input, Label, Select, Static, Switch

from tuiot.domain import Origin, Rule, Severity, Threshold, make_ref, split_ref
from tuiot.fleet.backtest import BacktestResult, Episode
from tuiot.fleet.condition import ConditionError, parse
from tuiot.ui.labels import clip, clip_name, count, value_text
from tuiot.ui.screens.confirm import Confirm
from tuiot.ui.screens.modal import Modal, keys_footer
from tuiot.ui.screens.source_picker import ExpandFn, SourcePicker

BacktestFn = Callable[[Rule], Awaitable[BacktestResult]]
# stores a rule, calling its second argument once the write starts (after any question it
# asks: "saving…" must not show while the operator is still deciding); returns why not stored
SaveFn = Callable[[Rule, Callable[[], None]], Awaitable[str | None]]
FindIn = Callable[[str, "str | None"], list[tuple[str, str]]]  # (text, profile) -> devices as (ref, label)


class OnOff(Switch, inherit_bindings=False):
    """A switch that space toggles and enter leaves alone: enter saves the form, as it does
    in every field, instead of quietly switching the rule off."""

    BINDINGS: ClassVar = [Binding("space", "toggle_switch", "toggle", show=False)]
MAX_CHECKS = 1000
MAX_MINUTES = 60 * 24 * 365
BACKTEST_DELAY = 0.8  # seconds of quiet typing before the backtest reruns
TITLE_WIDTH = 74  # the form's text width: 78 columns less its border and padding


class RuleEditor(Modal[Rule | None]):
    # the form's footer lists these, and is the one place its keys are said (check_action
    # leaves out what this form cannot do). Enter saves too, from a field or the switch, but
    # a field's own enter would hide a binding of it from the footer: ctrl+s names it instead.
    BINDINGS: ClassVar = [
        Binding("ctrl+s", "save", "save", priority=True, key_display="⏎/^s"),
        Binding("enter", "save", "save", show=False),
        Binding("escape", "cancel", "cancel"),
        Binding("escape", "close", "close"),  # a viewer's esc: nothing to cancel
        Binding("ctrl+t", "backtest", "backtest"),
        Binding("ctrl+o", "pick", "pick by name"),
    ]

    def __init__(
        self,
        rule: Rule | None,
        *,
        profiles: list[str],
        backtest: BacktestFn | None = None,
        native_profiles: Iterable[str] = (),
        save: SaveFn | None = None,
        metric: str | None = None,
        read_only: bool = False,
        read_only_why: str = "",
        name_of: Callable[[str], str | None] | None = None,
        unit_of: Callable[[str], str | None] | None = None,
        find: FindIn | None = None,
        metrics: ExpandFn | None = None,
    ) -> None:
        """`native_profiles`: profiles whose vendor keeps rules itself (TeamViewer); a new
        rule there may be stored with the vendor instead of in rules.toml. With `save`, the
        form stays open until the rule is stored, and says why when it is not (nothing
        typed is lost); without it, the form returns the rule for the caller to store.
        With `read_only` the form is a viewer: every field is disabled and nothing saves;
        `read_only_why` says why (--read-only, a read-only profile)."""
        super().__init__()
        self.read_only = read_only  # shown to be read (and backtested); nothing to save
        self.read_only_why = read_only_why
        # a metric or device ref's name in the fleet, or None: an id is 32 hex digits, and the
        # operator must see it is the pump they mean before the rule watches it
        self.name_of = name_of or (lambda ref: None)
        self.unit_of = unit_of or (lambda ref: None)  # a metric's unit, printed after its backtest peak
        self.find_fn = find  # devices by name, for ctrl+o (a profile or None: every listed one)
        self.metrics_fn = metrics  # a device's metrics, for ctrl+o on a threshold rule
        self.save_fn = save
        # a new rule starts on the metric last looked at (Metrics, Live, the tree): triage goes
        # value → rule without copying a 32-character id from `tuiot tree`
        self.preset = metric if rule is None and metric and metric.split("/", 1)[0] in profiles else None
        self._error_field: str | None = None  # the field the form's error is about
        self._pristine: tuple[object, ...] | None = None  # the form as opened: esc asks only after a change
        self.native_profiles = set(native_profiles)
        self.rule = rule
        self.profiles = list(profiles)
        if rule is not None and rule.profile not in self.profiles:
            self.profiles.append(rule.profile)
        self.backtest_fn = backtest
        self.vendor = rule is not None and rule.origin == Origin.vendor
        self._timer: Timer | None = None
        self.last_backtest: BacktestResult | None = None
        # the profile the source ids were typed or picked in (set in compose): ids are read in
        # the form's profile, so one from the profile chosen before names nothing in a new one
        self._source_profile: str | None = None
        # field → (its value when the form changed it, why): said under it until it is edited
        self._notes: dict[str, tuple[str, str]] = {}

    # ---- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        r = self.rule
        t = r.thresholds[0] if r and r.thresholds else None
        kind = r.kind if r else "threshold"
        sources = ", ".join(_bare(s) for s in r.sources) if r else (_bare(self.preset) if self.preset else "")
        minutes = r.minutes if r and r.minutes is not None else (_int_or_none(t.condition) if t and kind == "offline" else None)
        profile_value = r.profile if r else (self.preset.split("/", 1)[0] if self.preset else
                                             self.profiles[0] if len(self.profiles) == 1 else Select.NULL)
        self._source_profile = profile_value if isinstance(profile_value, str) else None
        with Vertical(id="editor", classes="-read-only" if self.read_only else None):
            yield Static(self._title(), id="title", markup=False)
            with Horizontal(classes="row"):
                yield Label("Name")
                yield Input(r.name if r else "", placeholder="what the alarm says", id="name", compact=True,
                            disabled=self.read_only)
            with Horizontal(classes="row"):
                yield Label("Profile")
                yield Select([(p, p) for p in self.profiles], value=profile_value, prompt="choose a profile",
                             id="profile", compact=True, disabled=self.vendor or self.read_only)
            with Horizontal(classes="row", id="store-row"):
                yield Label("Stored")
                yield Select([("in rules.toml (evaluated by tuiot)", "local"), ("by the vendor (native rule)", "vendor")],
                             value="local", allow_blank=False, id="store", compact=True, disabled=self.read_only)
            with Horizontal(classes="row"):
                yield Label("Kind")
                yield Select([("threshold: a metric's value", "threshold"), ("offline: a device's silence", "offline")],
                             value=kind, allow_blank=False, id="kind", compact=True, disabled=self.read_only)
            with Horizontal(classes="row threshold-only"):
                yield Label("Metric id")
                yield Input(sources if kind == "threshold" else "", placeholder="as printed by `tuiot tree`", id="metric", compact=True,
                            disabled=self.read_only)
            yield Static("", id="metric-name", classes="source-name threshold-only", markup=False)
            with Horizontal(classes="row threshold-only"):
                yield Label("Condition")
                yield Input(t.condition if t and kind == "threshold" else "", placeholder="e.g. metric > 30 && metric < 90",
                            id="condition", compact=True, disabled=self.read_only)
            yield Static("", id="condition-message", classes="threshold-only")
            with Horizontal(classes="row offline-only"):
                yield Label("Device id")
                yield Input(sources if kind == "offline" else "", placeholder="as printed by `tuiot tree`", id="device", compact=True,
                            disabled=self.read_only)
            yield Static("", id="device-name", classes="source-name offline-only", markup=False)
            with Horizontal(classes="row offline-only"):
                yield Label("Minutes")
                yield Input(str(minutes) if minutes else "15", placeholder="silence that counts as offline",
                            id="minutes", restrict=r"[0-9]*", compact=True, disabled=self.read_only)
            with Horizontal(classes="row"):
                yield Label("Severity")
                yield Select([(s.value, s.value) for s in Severity], value=(t.severity.value if t else "major"),
                             allow_blank=False, id="severity", compact=True, disabled=self.read_only)
            with Horizontal(classes="row"):
                yield Label("Checks")
                yield Input(str(t.checks if t else 1), placeholder="consecutive readings", id="checks",
                            restrict=r"[0-9]*", compact=True, disabled=self.read_only)
            with Horizontal(classes="row"):
                yield Label("Enabled")
                yield OnOff(r.enabled if r else True, id="enabled", animate=False, disabled=self.read_only)
                yield Static("", id="enabled-text")
            yield Static("", id="form-error", markup=False)
            yield Static("", id="backtest")
            status = self._status_text()
            yield Static(status, id="status", classes="-shown" if status else "", markup=False)
        yield keys_footer()

    def _title(self) -> str:
        """One line: the rule's name gives way, not what the form is."""
        r = self.rule
        if r is None:
            return "New local rule"
        where = "TeamViewer rule" if self.vendor else "local rule"
        if self.read_only:
            head, tail = f"{where[0].upper()}{where[1:]} '", "' (read-only)"
        else:
            head, tail = f"Edit {where} '", "'"
        return f"{head}{clip(r.name, max(TITLE_WIDTH - len(head) - len(tail), 8))}{tail}"

    def on_mount(self) -> None:
        self._show_enabled()
        self._show_kind()
        self._show_store()
        self._check_condition()
        self._show_source_names()
        if self.backtest_fn is None:
            self.query_one("#backtest", Static).update("backtest: not available for this profile")
        else:
            self._schedule_backtest(0)
        if not self.read_only:  # a viewer's fields are disabled: its keys are the screen's
            self.query_one("#name", Input).focus()
        self.call_after_refresh(self._remember_form)

    def _remember_form(self) -> None:
        self._pristine = self._form_state()

    # ---- live validation ----------------------------------------------------------------------

    @property
    def kind(self) -> str:
        value = self.query_one("#kind", Select).value
        return value if isinstance(value, str) else "threshold"

    @property
    def native(self) -> bool:
        """Whether the form describes a vendor (native) rule."""
        if self.rule is not None:
            return self.vendor
        profile = self.query_one("#profile", Select).value
        return profile in self.native_profiles and self.query_one("#store", Select).value == "vendor"

    def _show_store(self) -> None:
        profile = self.query_one("#profile", Select).value
        self.query_one("#store-row").set_class(self.rule is not None or profile not in self.native_profiles, "hidden")

    def _show_kind(self) -> None:
        offline = self.kind == "offline"
        for w in self.query(".threshold-only"):
            w.set_class(offline, "hidden")
        for w in self.query(".offline-only"):
            w.set_class(not offline, "hidden")

    def _check_condition(self) -> str | None:
        """Validate the condition input; returns the message shown (None when valid)."""
        box = self.query_one("#condition", Input)
        label = self.query_one("#condition-message", Static)
        text = box.value
        if not text.strip():  # a new rule: a hint, not an error before anything is typed
            box.remove_class("-invalid")
            label.remove_class("-error")
            label.update("type a condition, e.g. metric > 8 && metric <= 90")
            return "empty condition"
        try:
            parse(text)
        except ConditionError as e:
            box.add_class("-invalid")
            label.add_class("-error")
            label.update(_pointed(text, e))
            return str(e)
        box.remove_class("-invalid")
        label.remove_class("-error")
        label.update("✓ valid condition")
        return None

    def _profile(self) -> str | None:
        value = self.query_one("#profile", Select).value
        return value if isinstance(value, str) else None

    def _show_source_names(self) -> None:
        """Under each id, the name of what it points at, or that the fleet has not shown it
        (or, until the field is edited, what the form took out of it)."""
        profile = self._profile()
        for field, kind in (("metric", "metric"), ("device", "device")):
            value = self.query_one(f"#{field}", Input).value
            note = self._notes.get(field)
            if note is not None and note[0] != value:  # edited since: the note is history
                del self._notes[field]
                note = None
            ids = _ids(value, many=self.vendor or self.native)
            if note is not None:
                said = note[1]
            elif not ids or profile is None:
                said = ""
            else:
                names = [self.name_of(_ref(profile, kind, i)) for i in ids]
                said = "; ".join(n or f"{i}: not seen in {profile} yet" for n, i in zip(names, ids))
            label = self.query_one(f"#{field}-name", Static)
            label.set_class(note is not None, "-cleared")
            label.update(said)

    def _drop_foreign_sources(self) -> None:
        """The profile changed: a source the fleet knows in the old profile and not in the new
        one belongs to the old (the same id in the new profile names nothing, or something
        else), so it leaves the field, and the line under it says what went and why. An id
        the fleet knows in neither stays, flagged 'not seen' as a typed one is."""
        old, new = self._source_profile, self._profile()
        self._source_profile = new
        if old is None or new is None or old == new:
            return
        for field, kind in (("metric", "metric"), ("device", "device")):
            box = self.query_one(f"#{field}", Input)
            ids = _ids(box.value, many=self.vendor or self.native)
            gone = [i for i in ids if self.name_of(_ref(old, kind, i)) is not None
                    and self.name_of(_ref(new, kind, i)) is None]
            if not gone:
                continue
            kept = ", ".join(i for i in ids if i not in gone)
            if len(gone) == 1:
                what, why = self.name_of(_ref(old, kind, gone[0])) or gone[0], f"it is in {old}"
            else:
                what, why = count(len(gone), kind), f"they are in {old}"
            room = TITLE_WIDTH - 12 - len(f"cleared : {why}")
            self._notes[field] = (kept, f"cleared {clip(what, max(room, 8))}: {why}")
            box.value = kept

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id == "condition":
            self._check_condition()
        elif event.input.id in ("metric", "device"):
            self._show_source_names()
        self._form_error(None)
        self._schedule_backtest()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "kind":
            self._show_kind()
        elif event.select.id == "profile":
            self._show_store()
            self._drop_foreign_sources()
            self._show_source_names()
        if event.select.id == self._error_field:  # "choose a profile" goes once one is chosen
            self._form_error(None)
        self._schedule_backtest()

    @on(Switch.Changed)
    def _show_enabled(self) -> None:
        on_ = self.query_one("#enabled", Switch).value
        self.query_one("#enabled-text", Static).update("on: it raises alarms" if on_ else "off: it raises nothing")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    # ---- building the rule ---------------------------------------------------------------------

    def build(self) -> tuple[Rule | None, str | None, str | None]:
        """The rule the form describes, or (None, message, id of the field to fix)."""
        name = self.query_one("#name", Input).value.strip()
        if not name:
            return None, "a rule needs a name", "name"
        profile = self.query_one("#profile", Select).value
        if profile is Select.NULL or not isinstance(profile, str):
            return None, "choose a profile", "profile"
        severity = Severity(str(self.query_one("#severity", Select).value))
        checks = _int_or_none(self.query_one("#checks", Input).value)
        if checks is None or not 1 <= checks <= MAX_CHECKS:
            return None, f"checks must be a whole number from 1 to {MAX_CHECKS}", "checks"
        enabled = self.query_one("#enabled", Switch).value
        old = self.rule
        extra = list(old.thresholds[1:]) if old is not None and old.kind == self.kind else []
        if self.kind == "offline":
            ids = _ids(self.query_one("#device", Input).value, many=self.native)
            if not ids:
                return None, "an offline rule needs a device id", "device"
            minutes = _int_or_none(self.query_one("#minutes", Input).value)
            if minutes is None or not 1 <= minutes <= MAX_MINUTES:
                return None, f"minutes must be a whole number from 1 to {MAX_MINUTES}", "minutes"
            sources = [_ref(profile, "device", i) for i in ids]
            threshold = Threshold(condition=str(minutes), severity=severity, checks=checks)
        else:
            ids = _ids(self.query_one("#metric", Input).value, many=self.native)
            if not ids:
                return None, "a threshold rule needs a metric id", "metric"
            message = self._check_condition()
            if message is not None:
                return None, f"condition: {message}", "condition"
            minutes = None
            sources = [_ref(profile, "metric", i) for i in ids]
            threshold = Threshold(condition=self.query_one("#condition", Input).value.strip(), severity=severity, checks=checks)
            bad = next((t for t in extra if _condition_error(t.condition)), None)
            if bad is not None:
                return None, f"another threshold of this rule is invalid: {_condition_error(bad.condition)}", "condition"
        if old is not None:
            rule_id = old.id if (self.vendor or old.name == name) else name
        else:
            rule_id = "" if self.native else name  # the vendor assigns a new native rule's id
        rule = Rule(
            id=rule_id,
            profile=profile,
            name=name,
            enabled=enabled,
            kind=self.kind,  # type: ignore[arg-type]
            sources=sources,
            thresholds=[threshold, *extra],
            origin=old.origin if old is not None else (Origin.vendor if self.native else Origin.local),
            minutes=minutes,
            attrs=dict(old.attrs) if old is not None else {},
        )
        return rule, None, None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # a key this form cannot use is not offered at all: a viewer has nothing to save or
        # pick; without a backtest or a fleet to find in, ctrl+t or ctrl+o would do nothing
        if action in ("save", "cancel"):
            return not self.read_only
        if action == "close":
            return self.read_only
        if action == "pick":
            return not self.read_only and self.find_fn is not None
        if action == "backtest":
            return self.backtest_fn is not None
        return True

    def action_save(self) -> None:
        if self.read_only:
            return
        rule, message, field = self.build()
        if rule is None:
            self._form_error(message, field)
            if field:
                self.query_one(f"#{field}").focus()
            return
        if self.save_fn is None:
            self.dismiss(rule)
        else:
            self._store(rule)

    @work(exclusive=True, group="save", exit_on_error=False)
    async def _store(self, rule: Rule) -> None:
        self._form_error(None)
        try:
            error = await self.save_fn(rule, lambda: self._say("saving…"))  # type: ignore[misc]
        except Exception as e:  # the form stays: what was typed is not lost
            error = str(e)
        finally:
            self._say(self._status_text())
        if error is None:
            self.dismiss(rule)
        else:
            self._form_error(error)

    def _status_text(self) -> str:
        """Why a viewer cannot save (its title says that it cannot); the keys are the footer's."""
        return f"read-only ({self.read_only_why})" if self.read_only and self.read_only_why else ""

    def _say(self, text: str) -> None:
        """The line under the form: shown only while it has something to say."""
        status = self.query_one("#status", Static)
        status.update(text)
        status.set_class(bool(text), "-shown")

    # ---- picking a source by name ------------------------------------------------------------

    def action_pick(self) -> None:
        if self.find_fn is None or self.read_only:
            return
        profile = self._profile()
        offline = self.kind == "offline"
        where = f" in {profile}" if profile else ""
        thing = "device" if offline else "metric"
        # a vendor rule that watches something already gets one more (see _picked); a local
        # rule watches one, and the choice takes the place of what the field holds
        adds = self._adds(self.query_one("#device" if offline else "#metric", Input).value)
        title = f"Add another {thing} for this rule to watch{where}" if adds else f"The {thing} this rule watches{where}"
        find = self.find_fn
        self.app.push_screen(SourcePicker(title, lambda text: find(text, profile), None if offline else self.metrics_fn,
                                          adds=adds), self._picked)

    def _adds(self, typed: str) -> bool:
        """Whether a picked source joins those in the field rather than replacing them."""
        return (self.vendor or self.native) and bool(_ids(typed, many=True))

    def _picked(self, ref: str | None) -> None:
        if ref is None:
            return
        profile, kind, id_ = split_ref(ref)
        box = self.query_one("#device" if kind == "device" else "#metric", Input)
        if self._adds(box.value):
            if id_ not in _ids(box.value, many=True):  # a vendor rule may watch several
                box.value = f"{box.value.strip()}, {id_}"
        else:
            box.value = id_
        if self._profile() is None and profile in self.profiles:
            self.query_one("#profile", Select).value = profile
        box.focus()

    def _form_error(self, message: str | None, field: str | None = None) -> None:
        self._error_field = field
        box = self.query_one("#form-error", Static)
        box.update(f"✗ {message}" if message else "")
        box.set_class(message is not None, "-shown")

    def _form_state(self) -> tuple[object, ...]:
        return tuple(w.value for w in self.query("Input, Select, Switch"))  # type: ignore[attr-defined]

    def action_close(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        """Esc: gone at once if nothing was typed; what was typed is not lost to a stray key."""
        if self.read_only or self._pristine is None or self._form_state() == self._pristine:
            self.dismiss(None)
            return
        what = f"your changes to the rule '{self.rule.name}'" if self.rule else "this new rule"

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(Confirm(f"Discard {what}?"), answered)

    # ---- backtest --------------------------------------------------------------------------

    def _schedule_backtest(self, delay: float = BACKTEST_DELAY) -> None:
        if self.backtest_fn is None:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(delay, self.action_backtest) if delay else None
        if not delay:
            self.action_backtest()

    def action_backtest(self) -> None:
        if self.backtest_fn is None:
            return
        rule, _, _ = self.build()
        panel = self.query_one("#backtest", Static)
        if rule is None:
            panel.update("backtest: waiting for a valid rule")
            return
        panel.update("backtest: reading the last 24 h…")
        self._run_backtest(rule)

    @work(exclusive=True, group="backtest", exit_on_error=False)
    async def _run_backtest(self, rule: Rule) -> None:
        assert self.backtest_fn is not None
        panel = self.query_one("#backtest", Static)
        try:
            result = await self.backtest_fn(rule)
        except Exception as e:  # noqa: BLE001  (a failed backtest must not close the form)
            panel.update(Content(f"backtest failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}"))
            return
        self.last_backtest = result
        panel.update(Content("\n".join(_backtest_lines(result, self._episode_source(rule), self.unit_of))))

    def _episode_source(self, rule: Rule) -> Callable[[str], str]:
        """How an episode names its source: not at all when the rule watches one (the form
        above names it), else by the fleet's name, so the line fits 80 columns."""
        if len(rule.sources) <= 1:
            return lambda ref: ""
        return lambda ref: self.name_of(ref) or _bare(ref)


# ---- helpers ---------------------------------------------------------------------------------


def _pointed(text: str, e: ConditionError) -> Content:
    """The error with the faulty spot of the condition shown in context."""
    start = max(0, e.position - 1 - 12)
    before = text[start:e.position - 1]
    at = text[e.position - 1:e.position] or " "
    after = text[e.position:e.position + 12]
    return Content.assemble(
        f"✗ {e}  ", ("…" if start else ""), before, (at, "reverse"), after, ("…" if e.position + 12 < len(text) else ""),
    )


def _backtest_lines(result: BacktestResult, source: Callable[[str], str] | None = None,
                    unit: Callable[[str], str | None] | None = None) -> list[str]:
    """The backtest panel; `source` names an episode's source ('' to leave it out), `unit`
    gives a metric's unit (None: none to print)."""
    name = source or _bare
    peak = _peak_text(result.rule.kind, unit or (lambda ref: None))
    lines = [f"backtest: {result.summary()}"]
    if result.first is not None:
        lines.append(f"  first  {_episode(result.first, name, peak)}")
    if result.last is not None and result.last is not result.first:
        lines.append(f"  last   {_episode(result.last, name, peak)}")
    for ref, err in list(result.errors.items())[:1]:
        where = name(ref)
        lines.append(f"  {where}: {err}" if where else f"  {err}")
    return lines


PANEL_WIDTH = 72  # the backtest panel's text width inside the 78-column form


def _peak_text(kind: str, unit: Callable[[str], str | None]) -> Callable[[Episode], str]:
    """What an episode says of its peak, with its unit as every screen writes a value: an
    offline rule's 'peak' is the silence, in minutes (and its one reading is no count)."""
    def said(e: Episode) -> str:
        if kind == "offline":
            return "" if e.peak is None else f"  silent {value_text(e.peak)} min"
        u = unit(e.source)
        peak = "" if e.peak is None else f"  peak {value_text(e.peak)}{' ' + u if u else ''}"
        return f"{peak}  {count(e.count, 'reading')}"

    return said


def _episode(e: Episode, source: Callable[[str], str], peak: Callable[[Episode], str]) -> str:
    end = e.end.strftime("%H:%M") if e.end is not None else "open"
    line = f"{e.start.strftime('%m-%d %H:%M')} → {end}{peak(e)}"
    where = source(e.source)
    # the name gives way, not the times: one episode is one line at 80 columns
    room = PANEL_WIDTH - len("  first  ") - len(line) - 2
    return f"{line}  {clip_name(where, max(room, 8))}" if where else line


def _bare(ref: str) -> str:
    return split_ref(ref)[2] if ref.count("/") >= 2 and ref.split("/")[1] in ("metric", "device") else ref


def _ref(profile: str, kind: str, value: str) -> str:
    prefix = f"{profile}/{kind}/"
    return value if value.startswith(prefix) else make_ref(profile, kind, value)


def _ids(text: str, *, many: bool) -> list[str]:
    """Vendor rules may watch several sources (comma-separated); a local rule's id is taken whole."""
    if not many:
        return [text.strip()] if text.strip() else []
    return [x.strip() for x in text.split(",") if x.strip()]


def _int_or_none(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _condition_error(text: str) -> str | None:
    try:
        parse(text)
    except ConditionError as e:
        return str(e)
    return None


__all__ = ["RuleEditor"]
