"""Screen 6, Identities: identities of every profile, their status, tags and group.

Public API
----------
`IdentitiesView(*, export_dir=None, id=None, ...)`
`set_identities(items, *, capabilities, now=None, read_only=None, group_checks=None, reading_time=None)`
    `capabilities`: profile → capability names (the string values of
    tuiot.adapters.base.Capability, e.g. "identity_write", "tag_write", "installation",
    "group_write"); `read_only`: profiles whose writes are off; `group_checks`: profile →
    its vendor's rule for a group id (`Adapter.group_problem`: why refused, or None);
    `reading_time`: device ref → time of the newest reading the console holds, for
    identities whose vendor gives no last-seen time (Thingsee).
`apply_filter(*, status=..., pattern=..., tag=..., profile=...)`; `/` takes the same as
    text: `status:locked`, `name=value` (tag; `name=` any value), anything else is a
    regex on the identity id (a bad regex is an inline message, never a crash).
`shown_identities() -> list[Identity]`
Messages: `LockRequested(items, lock)`, `TagAddRequested(items, name, value, replace=False)`,
`TagRemoveRequested(items, name, value)`, `InstallationStatusRequested(items, status)`,
`GroupRequested(items, group)`, `JumpToDevice(device_ref)` (from alarms),
`CopyRequested(text)`, `Exported(path, count)`. `ACTIONS` lists every key.

Write actions are offered per profile capability: targets whose profile cannot do it are
left out and a toast says how many and why; nothing is hidden silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text

from tuiot.domain import Identity, IdentityStatus, now_utc
from tuiot.ui.actions import IDENTITY_ACTIONS as ACTIONS  # the registry (keys.py) reads it there
from tuiot.ui.labels import when
from tuiot.ui.messages import (
    GroupRequested,
    InstallationStatusRequested,
    LockRequested,
    TagAddRequested,
    TagRemoveRequested,
)
from tuiot.ui.screens.prompts import ChoiceDialog, TagDialog, TextDialog
from tuiot.ui.views import TITLES, JumpToDevice, ago, bindings, stamp, value_text
from tuiot.ui.views.base import ListBody
from tuiot.ui.widgets.marks import Cell, Column

# capability each write needs, and how to say it is missing
NEEDS: dict[str, tuple[str, str]] = {
    "lock": ("identity_write", "locking identities"),
    "tag": ("tag_write", "tag writes"),
    "installation": ("installation", "installation status"),
    "group": ("group_write", "group changes"),
}

INSTALLATION_STATUSES = ("new", "installed", "uninstalled", "quarantine", "retired")
STATUS_CYCLE: list[str | None] = [None, *(s.value for s in IdentityStatus)]
SCROLLBAR = 2  # cells the list's vertical scrollbar takes from its width


# ---- the view ---------------------------------------------------------------------------


class IdentitiesView(ListBody):
    """Identities across profiles; see the module doc for the API."""

    BINDINGS = bindings(ACTIONS)
    TITLE = TITLES["identities"]
    EXPORT_STEM = "identities"

    def __init__(self, *, export_dir: Path | None = None, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        self._items: dict[str, Identity] = {}
        self._order: list[str] = []
        self._capabilities: dict[str, set[str]] = {}
        self._group_checks: dict[str, Callable[[str], str | None]] = {}
        self._reading_time: Callable[[str], datetime | None] = lambda ref: None
        self.read_only: set[str] = set()
        self.now = now_utc()
        self.status: str | None = None  # from `s` / apply_filter
        self._text_status: str | None = None  # from `status:x` in the `/` filter; wins while typed
        self.profile: str | None = None
        self.pattern: re.Pattern[str] | None = None
        self.tags: list[tuple[str, str | None]] = []
        self._multi_profile = False
        self._wide = False
        super().__init__(export_dir=export_dir, name=name, id=id, classes=classes)

    # ---- input API ------------------------------------------------------------------

    def set_identities(self, items: Sequence[Identity], *, capabilities: Mapping[str, Collection[str]],
                       now: datetime | None = None, read_only: Collection[str] | None = None,
                       group_checks: Mapping[str, Callable[[str], str | None]] | None = None,
                       reading_time: Callable[[str], datetime | None] | None = None,
                       loading: bool = False) -> None:
        """Replace the list (sorted by profile, then id). Marks that still exist are kept.
        `loading`: some profile's identities are still to come (see AlarmsView.set_alarms).

        A refresh that leaves the rows shown as they were (the same identities pass the
        filters, in the same order) repaints only the lines whose cells changed: a lock,
        an age. The cursor, marks, filter and scroll stay as they are either way."""
        self.now = now or now_utc()
        self.rows_loading = loading
        self._capabilities = {p: set(c) for p, c in capabilities.items()}
        if group_checks is not None:
            self._group_checks = dict(group_checks)
        if reading_time is not None:
            self._reading_time = reading_time
        if read_only is not None:
            self.read_only = set(read_only)
        before, multi_before = self._items, self._multi_profile
        self._items = {i.ref: i for i in items}
        if self._items.keys() != before.keys():  # the same identities keep their order: no re-sort
            self._order = sorted(self._items, key=lambda r: (self._items[r].profile, self._items[r].identity))
        self._multi_profile = len({i.profile for i in items}) > 1
        self.list.marked &= self._items.keys()
        if not self.is_mounted:
            return
        if self.list.keys and self._multi_profile == multi_before and self.visible_keys() == self.list.keys:
            if not self.rows_loading:
                self.list.pinned_top = False  # as refilter: the rows are in, the cursor follows its row
            self.list.refresh_changed()
            self._update_text()
            return
        self.list.set_columns(self.columns(self.size.width))
        self.refilter()

    def apply_filter(self, *, status: str | None = ..., pattern: str | None = ...,
                     tag: str | None = ..., profile: str | None = ...) -> None:
        """Preset filters; left-out arguments keep their value. Raises ValueError (one line)."""
        if status is not ...:
            self.status = None if status in (None, "", "all") else str(status).lower()
        if profile is not ...:
            self.profile = None if profile in (None, "", "all") else profile
        if pattern is not ...:
            self.pattern = _compile(pattern or "")
        if tag is not ...:
            self.tags = [_parse_tag(tag)] if tag else []
        if self.is_mounted:
            self.refilter(filter_changed=True)

    def shown_identities(self) -> list[Identity]:
        return [self._items[k] for k in self.list.keys]

    # ---- ListBody hooks ---------------------------------------------------------------

    def set_text_filter(self, text: str) -> str | None:
        status, tags, words = None, [], []
        for token in text.split():
            if token.lower().startswith("status:"):
                status = token.split(":", 1)[1].lower() or None
            elif "=" in token:
                tags.append(_parse_tag(token))
            else:
                words.append(token)
        try:
            pattern = _compile(" ".join(words))
        except ValueError as e:
            return str(e)  # keep the previous filter; the line under the input says why
        self.text_filter = text
        self.pattern, self.tags, self._text_status = pattern, tags, status
        return None

    @property
    def status_filter(self) -> str | None:
        return self._text_status or self.status

    def visible_keys(self) -> list[str]:
        out = []
        status = self.status_filter
        for ref in self._order:
            i = self._items[ref]
            if status is not None and _status(i) != status:
                continue
            if self.profile is not None and i.profile != self.profile:
                continue
            if self.pattern is not None and not self.pattern.search(i.identity):
                continue
            if self.tags and not all(_has_tag(i, n, v) for n, v in self.tags):
                continue
            out.append(ref)
        return out

    def columns(self, width: int) -> Sequence[Column]:
        self._wide = width >= 100
        cols = [Column("IDENTITY", 16, flex=True), Column("STATUS", 11), Column("ON", 3),
                Column("SEEN", 4, right=True)]
        if self._multi_profile:
            cols.insert(0, Column("PROFILE", 10))
        seen_at = [Column("LAST IP", 15), Column("GROUP", 12, flex=True)]
        if self._wide:
            return [*cols, *seen_at, Column("TAGS", 12, flex=True)]
        # narrow: TAGS fills the view and LAST IP and GROUP wait past its right edge, where
        # left/right scroll to them; a column left out no key could ever reach
        used = 1 + sum(c.width + 1 for c in cols) + 1  # the mark, each column's lead space, TAGS' own
        return [*cols, Column("TAGS", max(12, width - used - SCROLLBAR)), *seen_at]

    def cells(self, key: str) -> Sequence[Cell]:
        i = self._items[key]
        status = _status(i)
        status_style = {"locked": "bad", "expired": "warning", "reprovision": "minor"}.get(status)
        online: Cell = ("—", "dim") if i.online is None else (("on", "ok") if i.online else ("off", "bad"))
        row: list[Cell] = [(i.identity, "accent"), (status, status_style), online,
                           (ago(self._seen(i), self.now), "dim")]
        if self._multi_profile:
            row.insert(0, (i.profile, None))
        seen_at: list[Cell] = [(i.lastip or "—", "dim"), (i.group or "—", None)]
        tags: Cell = (_tags_text(i), None)
        return [*row, *seen_at, tags] if self._wide else [*row, tags, *seen_at]

    def summary(self) -> Text:
        parts = [f"{len(self.list.keys):,}/{len(self._items):,}",
                 f"status {self.status_filter or 'all'}"]
        if self.profile:
            parts.append(self.profile)
        if self.pattern is not None:
            parts.append(f"id ~ {self.pattern.pattern}")
        for n, v in self.tags:
            parts.append(f"tag {n}={v or '*'}")
        if (marks := self.marks_text()) is not None:
            parts.append(marks)
        return Text(" · ".join(parts))

    def empty_text(self) -> str:
        return "no identities match the filters" if self._items else "no identities"

    def detail(self, key: str | None, width: int = 0) -> Text:  # noqa: ARG002 - not folded yet: Rich wraps these lines
        if key is None or key not in self._items:
            return Text("no identity selected", style="dim")
        i = self._items[key]
        t = Text()
        t.append(f"{i.identity}", style="bold")
        t.append(f"  {i.profile} · {_status(i)}{' · locked' if i.locked and _status(i) != 'locked' else ''}"
                 f" · {'online' if i.online else 'offline' if i.online is False else 'online unknown'}\n")
        t.append(f"{self._seen_text(i)} · ip {i.lastip or '—'} · group {i.group or '—'}\n")
        t.append(f"tags {_tags_text(i) or '—'}\n")
        if i.state:
            t.append("state " + ", ".join(f"{k}={value_text(v.reported if v.reported is not None else v.set)}"
                                          for k, v in list(i.state.items())[:6]) + "\n")
        t.append(self._offer_line(i.profile), style="dim")
        return t

    def _seen(self, i: Identity) -> datetime | None:
        """When the identity was last seen: as its vendor says, else its newest reading here."""
        return i.lastseen or self._reading_time(i.ref)

    def _seen_text(self, i: Identity) -> str:
        if i.lastseen is not None:
            return f"last seen {stamp(i.lastseen)} ({ago(i.lastseen, self.now)} ago)"
        # the vendor's answer has no such time (Thingsee): say where the time shown comes from
        if (read := self._reading_time(i.ref)) is not None:
            # the short time: the line must say where it comes from and still fit 80 columns
            return f"newest reading {when(read, self.now)}, no last-seen from {i.profile}"
        return f"last seen: not given by {i.profile}"

    def _offer_line(self, profile: str) -> str:
        can = [label for what, (_, label) in NEEDS.items() if self._why_not(profile, what) is None]
        return ("can: " + ", ".join(can)) if can else f"{profile}: no identity writes here"

    def export_columns(self) -> Sequence[str]:
        return ["profile", "identity", "status", "online", "lastseen", "lastip", "group", "locked", "tags"]

    def export_row(self, key: str) -> Mapping[str, Any]:
        i = self._items[key]
        return {"profile": i.profile, "identity": i.identity, "status": _status(i), "online": i.online,
                "lastseen": i.lastseen, "lastip": i.lastip, "group": i.group, "locked": i.locked,
                "tags": i.tags}

    def copy_text(self, key: str) -> str:
        return self._items[key].identity

    # ---- writes: capability-checked, then a message (or a dialog first) --------------

    def _why_not(self, profile: str, what: str) -> str | None:
        cap, label = NEEDS[what]
        if profile in self.read_only:
            return f"writes to {profile} are off (read-only)"
        if cap not in self._capabilities.get(profile, set()):
            return f"{profile} does not support {label}"
        return None

    def _allowed(self, what: str) -> list[Identity]:
        """Targets whose profile allows `what`; says how many are left out and why."""
        chosen = [self._items[k] for k in self.targets() if k in self._items]
        if not chosen:
            if not self.list.marked:  # else targets() has said the marks are hidden: one toast
                self.notify("no identity selected", severity="warning")
            return []
        ok, refused = [], {}
        for i in chosen:
            why = self._why_not(i.profile, what)
            if why is None:
                ok.append(i)
            else:
                refused[why] = refused.get(why, 0) + 1
        if refused:
            text = "; ".join(f"{why} ({n})" if len(chosen) > 1 else why for why, n in refused.items())
            head = f"{sum(refused.values())} of {len(chosen)} left out: " if ok else "unavailable: "
            self.notify(head + text, title=NEEDS[what][1], severity="warning" if ok else "error")
        return ok

    def action_lock(self) -> None:
        if items := self._allowed("lock"):
            self.post_message(LockRequested(items, True))

    def action_unlock(self) -> None:
        if items := self._allowed("lock"):
            self.post_message(LockRequested(items, False))

    def action_tag_add(self) -> None:
        if not (items := self._allowed("tag")):
            return

        def done(result: tuple[str, str, bool] | None) -> None:
            if result:
                self.post_message(TagAddRequested(items, *result))

        self.app.push_screen(TagDialog(f"Add a tag to {_count(items)}", offer_replace=True), done)

    def action_tag_remove(self) -> None:
        if not (items := self._allowed("tag")):
            return
        existing = {(n, v) for i in items for n, vs in i.tags.items() for v in vs}
        if not existing:
            self.notify("the selected identities have no tags", severity="warning")
            return

        def done(result: tuple[str, str, bool] | None) -> None:
            if result:
                name, value, _ = result
                self.post_message(TagRemoveRequested(items, name, value or None))  # None: every value

        self.app.push_screen(TagDialog(f"Remove a tag from {_count(items)}", existing=existing), done)

    def action_installation(self) -> None:
        if not (items := self._allowed("installation")):
            return

        def done(result: str | None) -> None:
            if result:
                self.post_message(InstallationStatusRequested(items, result))

        current = items[0].attrs.get("installation_status") if len(items) == 1 else None
        self.app.push_screen(ChoiceDialog(f"Installation status of {_count(items)}", INSTALLATION_STATUSES,
                                          current=current), done)

    def action_group(self) -> None:
        if not (items := self._allowed("group")):
            return

        def done(result: str | None) -> None:
            if result:
                self.post_message(GroupRequested(items, result))

        self.app.push_screen(TextDialog(f"Move {_count(items)} to group", value=items[0].group or "",
                                        placeholder="group id", hint="a group id has no spaces (1–128 characters)",
                                        check=self._group_check(items)),
                             done)

    def _group_check(self, items: Sequence[Identity]) -> Callable[[str], str | None]:
        """The vendor rules of every profile among `items`, as one check for the dialog."""
        checks = [c for p in sorted({i.profile for i in items}) if (c := self._group_checks.get(p)) is not None]

        def check(group: str) -> str | None:
            return next((why for c in checks if (why := c(group)) is not None), None)

        return check

    def action_jump(self) -> None:
        key = self.list.highlighted
        if key is not None:
            self.post_message(JumpToDevice(self._items[key].ref))

    def action_cycle_status(self) -> None:
        """all → each status some identity has (Murano's in their usual order, then the
        vendors' own, e.g. Thingsee's installed/new) → all."""
        present = {_status(i) for i in self._items.values()}
        cycle = [None, *(st for st in STATUS_CYCLE if st in present),
                 *sorted(present - set(STATUS_CYCLE))]  # type: ignore[operator]
        i = cycle.index(self.status) if self.status in cycle else -1
        self.status = cycle[(i + 1) % len(cycle)]
        self.refilter(filter_changed=True)

    def action_cycle_profile(self) -> None:
        profiles: list[str | None] = [None, *sorted({i.profile for i in self._items.values()})]
        i = profiles.index(self.profile) if self.profile in profiles else -1
        self.profile = profiles[(i + 1) % len(profiles)]
        self.refilter(filter_changed=True)

    def action_toggle_detail(self) -> None:
        self.toggle_class("-no-detail")


def _status(i: Identity) -> str:
    return i.status.value if isinstance(i.status, IdentityStatus) else str(i.status)


def _count(items: Sequence[Identity]) -> str:
    return items[0].identity if len(items) == 1 else f"{len(items)} identities"


def _tags_text(i: Identity) -> str:
    return " ".join(f"{n}={v}" for n, vs in sorted(i.tags.items()) for v in vs)


def _has_tag(i: Identity, name: str, value: str | None) -> bool:
    values = i.tags.get(name)
    if values is None:
        return False
    return value is None or value in values


def _parse_tag(text: str) -> tuple[str, str | None]:
    name, _, value = text.partition("=")
    return name.strip(), (value.strip() or None)


def _compile(text: str) -> re.Pattern[str] | None:
    if not text:
        return None
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error as e:
        raise ValueError(f"bad id pattern '{text}': {e.msg}") from None


__all__ = ["ACTIONS", "ChoiceDialog", "GroupRequested", "IdentitiesView", "InstallationStatusRequested",
           "JumpToDevice", "LockRequested", "TagAddRequested", "TagDialog", "TagRemoveRequested", "TextDialog"]
