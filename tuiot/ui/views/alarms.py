"""Screen 4, Alarms: one inbox over every profile's vendor and local alarms.

The list is a line-API MarkList rather than a DataTable: the inbox is replaced on every
poll and may hold thousands of alarms across vendors, and only the visible lines are
painted (see tuiot.ui.widgets.marks for the numbers behind that choice).

Public API
----------
`AlarmsView(*, export_dir=None, read_only=(), id=None, ...)`
`set_alarms(alarms, *, now, read_only=None)`  replace the inbox (newest first)
`apply_filter(*, severity=..., status=..., profile=..., text=...)`  preset filters
    (for `:alarms critical`); `severity` is a Severity, its name, "all" or None
`shown_alarms() -> list[Alarm]`, `filters` (dict)
Messages: `CloseRequested(alarms)`, `JumpToDevice(device_ref)`, `OpenRule(alarm)`, `CopyRequested(text)`,
`Exported(path, count)`. `ACTIONS` lists every key.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.widgets import Input

from tuiot.domain import Alarm, AlarmStatus, Severity, now_utc, split_ref
from tuiot.ui import labels
from tuiot.ui.actions import ALARM_ACTIONS as ACTIONS  # the registry (keys.py) reads it there
from tuiot.ui.messages import CloseRequested, OpenRule
from tuiot.ui.views import TITLES, CopyRequested, JumpToDevice, ago, bindings, stamp
from tuiot.ui.views.base import ListBody
from tuiot.ui.widgets.marks import Cell, Column

SEVERITY_CYCLE: list[Severity | None] = [None, *Severity]
STATUS_CYCLE: list[AlarmStatus | None] = [AlarmStatus.open, AlarmStatus.closed, None]
SEV_SHORT = {Severity.critical: "CRIT", Severity.major: "MAJ", Severity.minor: "MIN", Severity.warning: "WARN"}


def _short_ref(ref: str | None) -> str:
    if not ref:
        return "—"
    try:
        return split_ref(ref)[2]
    except ValueError:
        return ref


class AlarmsView(ListBody):
    """The alarm inbox; see the module doc for the API."""

    BINDINGS = bindings(ACTIONS)
    TITLE = TITLES["alarms"]
    EXPORT_STEM = "alarms"

    def __init__(self, *, export_dir: Path | None = None, read_only: Collection[str] = (),
                 device_name: Callable[[str], str | None] | None = None,
                 metric_name: Callable[[str], str | None] | None = None,
                 rule_name: Callable[[str, str], str | None] | None = None,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        self._device_name = device_name or (lambda ref: None)  # a device ref → its name, where known
        self._metric_name = metric_name or (lambda ref: None)  # a metric ref → its name, where known
        self._rule_name = rule_name or (lambda profile, rule_id: None)  # a profile's rule id → its name
        self._alarms: dict[str, Alarm] = {}
        self._order: list[str] = []
        self.now = now_utc()
        self.read_only: set[str] = set(read_only)
        self.severity: Severity | None = None
        self.status: AlarmStatus | None = AlarmStatus.open
        self.profile: str | None = None
        self._needle = ""
        self._hay: dict[str, str] = {}
        self._wide = False
        self._with_status = False
        super().__init__(export_dir=export_dir, name=name, id=id, classes=classes)

    # ---- input API ------------------------------------------------------------------

    def set_alarms(self, alarms: Sequence[Alarm], *, now: datetime,
                   read_only: Collection[str] | None = None, loading: bool = False) -> None:
        """Replace the inbox. Marks on alarms that still exist are kept. `loading`: some
        profile's alarms are still to come (the cursor keeps to the newest until they are in;
        after, it stays on the alarm it is on when newer ones arrive above)."""
        self.now = now
        self.rows_loading = loading
        if read_only is not None:
            self.read_only = set(read_only)
        self._alarms = {a.ref: a for a in alarms}
        self._hay = {}  # text-filter haystacks, built on first use after each refresh
        self._order = sorted(self._alarms, key=lambda r: self._alarms[r].opened_at, reverse=True)
        self.list.marked &= self._alarms.keys()
        if self.is_mounted:
            self.refilter()

    def apply_filter(self, *, severity: Severity | str | None = ..., status: AlarmStatus | str | None = ...,
                     profile: str | None = ..., text: str | None = ...) -> None:
        """Preset filters; arguments left out keep their value, "all"/None clears one.

        Raises ValueError with one line for an unknown severity or status.
        """
        if severity is not ...:
            self.severity = _parse(Severity, severity, "severity")
        if status is not ...:
            self.status = _parse(AlarmStatus, status, "status")
        if profile is not ...:
            self.profile = None if profile in (None, "", "all") else profile
        if text is not ...:
            self.set_text_filter(text or "")
            if self.is_mounted:
                self.query_one("#filter", Input).value = self.text_filter
                self.set_class(bool(self.text_filter), "-filtering")
        if self.is_mounted:
            self.refilter(filter_changed=True)

    @property
    def filters(self) -> dict[str, str | None]:
        return {
            "severity": self.severity.value if self.severity else None,
            "status": self.status.value if self.status else None,
            "profile": self.profile,
            "text": self.text_filter or None,
        }

    def shown_alarms(self) -> list[Alarm]:
        return [self._alarms[k] for k in self.list.keys]

    # ---- ListBody hooks ---------------------------------------------------------------

    def set_text_filter(self, text: str) -> str | None:
        self.text_filter = text
        self._needle = text.strip().lower()
        return None

    def visible_keys(self) -> list[str]:
        out = []
        needle = self._needle
        for ref in self._order:
            a = self._alarms[ref]
            if self.severity is not None and a.severity is not self.severity:
                continue
            if self.status is not None and a.status is not self.status:
                continue
            if self.profile is not None and a.profile != self.profile:
                continue
            if needle:
                hay = self._hay.get(ref)
                if hay is None:
                    name = self._device_name(a.device) if a.device else None
                    hay = self._hay[ref] = f"{_haystack(a)} {name.lower()}" if name else _haystack(a)
                if needle not in hay:
                    continue
            out.append(ref)
        return out

    def columns(self, width: int) -> Sequence[Column]:
        cols = [Column("SEV", 4), Column("AGE", 4, right=True), Column("PROFILE", 10),
                Column("DEVICE", 16, flex=True, clip=labels.clip_name), Column("DESCRIPTION", 20, flex=True)]
        self._wide = width >= 100
        self._with_status = self._wide or self.status is None  # open and closed shown together: say which
        if self._with_status:
            cols.insert(1, Column("STATUS", 6))
        if self._wide:
            cols.append(Column("ORIGIN", 6))
        return cols

    def cells(self, key: str) -> Sequence[Cell]:
        a = self._alarms[key]
        sev: Cell = (SEV_SHORT[a.severity], a.severity.value)
        closed = a.status is AlarmStatus.closed
        text_style = "dim" if closed else None
        device = (self._device_name(a.device) if a.device else None) or _short_ref(a.device)
        row: list[Cell] = [sev, (ago(a.opened_at, self.now), "dim"), (a.profile, None),
                           (device, "accent"), (a.description or a.rule or "", text_style)]
        if self._with_status:
            row.insert(1, (a.status.value, "dim" if closed else "bad"))
        if self._wide:
            row.append((a.origin.value, "dim"))
        return row

    def summary(self) -> Text:
        shown = len(self.list.keys)
        parts = [
            f"{shown:,}/{len(self._alarms):,}",
            f"sev {self.severity.value if self.severity else 'all'}",
            self.status.value if self.status else "open+closed",
            self.profile or "all profiles",
        ]
        if (marks := self.marks_text()) is not None:
            parts.append(marks)
        return Text(" · ".join(parts))

    def empty_text(self) -> str:
        return "no alarms match the filters" if self._alarms else "no alarms"

    def _where(self, a: Alarm) -> str:
        """'on Line power 25 · Voltage': names where known, else the ids (export and y give the refs)."""
        device = (self._device_name(a.device) if a.device else None) or (split_ref(a.device)[2] if a.device else "—")
        if not a.metric:
            return f"on {device}"
        metric = self._metric_name(a.metric) or split_ref(a.metric)[2].rsplit(":", 1)[-1]
        return f"on {device} · {metric}"

    def wanted_names(self, key: str | None) -> Sequence[str]:
        a = self._alarms.get(key) if key else None
        return [a.metric] if a is not None and a.metric else ()

    def detail(self, key: str | None, width: int = 0) -> Text:
        if key is None or key not in self._alarms:
            return Text("no alarm selected", style="dim")
        a = self._alarms[key]
        sev = a.severity.value.upper()
        # what triage needs first (where, which rule, since when, can I close it); the ids last,
        # so a 6-line pane at 80x24 cuts only those. Folded: an id breaks only between its parts
        where = self._where(a) + (f" · value {a.value}" if a.value is not None else "")
        if a.rule:
            where += f" · rule {self._rule_name(a.profile, a.rule) or a.rule}"
        reason = None
        if a.closed_at:  # a closed alarm is not closable: its line says when it closed
            state = f"closed {stamp(a.closed_at)} ({ago(a.closed_at, self.now)} ago)"
        else:
            reason = self._closable_reason(a)
            state = reason or "closable: c"
        # the profile once: 'TeamViewer is read-only · TeamViewer' named it twice
        named = reason is not None and reason.startswith(f"{a.profile} ")
        last = f"{state} · {a.origin.value} alarm" if named else f"{state} · {a.profile} · {a.origin.value} alarm"
        t = labels.folded([(f"{sev} {a.status.value}  {a.description or '(no description)'}", ""), (where, ""),
                           (f"opened {stamp(a.opened_at)} ({ago(a.opened_at, self.now)} ago)", ""),
                           (last, "dim"),
                           (f"id {a.id}" + (f" · rule id {a.rule}" if a.rule else ""), "dim")], width)
        t.stylize("bold", 0, len(sev) + 1)  # and its space, as before
        return t

    def export_columns(self) -> Sequence[str]:
        return ["id", "profile", "severity", "status", "opened_at", "closed_at", "device", "metric",
                "description", "origin", "rule", "value"]

    def export_row(self, key: str) -> Mapping[str, Any]:
        return self._alarms[key].model_dump(mode="python")

    def copy_text(self, key: str) -> str:
        return key

    # ---- actions ----------------------------------------------------------------------

    def _closable_reason(self, a: Alarm) -> str | None:
        """Why `a` cannot be closed here, or None when it can. The vendor's refusal comes before
        read-only: it holds whatever the console's settings, and 'read-only' said of a Thingsee
        alarm sent the user looking for a setting that would not help."""
        if a.status is AlarmStatus.closed:
            return "already closed"
        if not a.closable:
            return labels.unclosable_reason(a)
        if a.profile in self.read_only:
            return f"{a.profile} is read-only"
        return None

    def action_close_alarms(self) -> None:
        chosen = [self._alarms[k] for k in self.targets() if k in self._alarms]
        if not chosen:
            if not self.list.marked:  # else targets() has said the marks are hidden: one toast
                self.notify("no alarm selected", severity="warning")
            return
        ok = [a for a in chosen if self._closable_reason(a) is None]
        refused: dict[str, int] = {}
        for a in chosen:
            reason = self._closable_reason(a)
            if reason:
                refused[reason] = refused.get(reason, 0) + 1
        if refused:  # as Identities says it: "2 of 3 left out: already closed (1); …"
            why = "; ".join(f"{reason} ({n})" if len(chosen) > 1 else reason for reason, n in refused.items())
            head = f"{sum(refused.values())} of {len(chosen)} left out: " if ok else "not closable: "
            self.notify(head + why, title="close", severity="warning" if ok else "error")
        if ok:
            self.post_message(CloseRequested(ok))

    def _naming(self, what: str) -> Alarm | None:
        """The alarm under the cursor if it names a `what` (device, rule), else None (said so)."""
        key = self.list.highlighted
        if key is None:
            return None
        a = self._alarms[key]
        if not getattr(a, what):
            self.notify(f"this alarm names no {what}", severity="warning")
            return None
        return a

    def action_jump(self) -> None:
        if (a := self._naming("device")) is not None and a.device:
            self.post_message(JumpToDevice(a.device))

    def action_open_rule(self) -> None:
        if (a := self._naming("rule")) is not None:
            self.post_message(OpenRule(a))

    def action_copy_device(self) -> None:
        key = self.list.highlighted
        if key is not None and self._alarms[key].device:
            self.post_message(CopyRequested(self._alarms[key].device or ""))

    def action_cycle_severity(self) -> None:
        self.severity = _next(SEVERITY_CYCLE, self.severity)
        self.refilter(filter_changed=True)

    def action_cycle_status(self) -> None:
        self.status = _next(STATUS_CYCLE, self.status)
        self.refilter(filter_changed=True)

    def action_cycle_profile(self) -> None:
        profiles: list[str | None] = [None, *sorted({a.profile for a in self._alarms.values()})]
        self.profile = _next(profiles, self.profile)
        self.refilter(filter_changed=True)

    def action_toggle_detail(self) -> None:
        self.toggle_class("-no-detail")


def _haystack(a: Alarm) -> str:
    return " ".join(
        str(x) for x in (a.id, a.profile, a.device, a.metric, a.description, a.rule, a.severity.value,
                         a.origin.value) if x
    ).lower()


def _next(cycle: list, current: Any) -> Any:
    try:
        return cycle[(cycle.index(current) + 1) % len(cycle)]
    except ValueError:
        return cycle[0]


def _parse(enum: type, value: Any, what: str) -> Any:
    if value is None or value in ("", "all"):
        return None
    if isinstance(value, enum):
        return value
    try:
        return enum(str(value).strip().lower())
    except ValueError:
        names = ", ".join(m.value for m in enum)
        raise ValueError(f"unknown {what} '{value}' (use {names} or all)") from None
