"""Screen 3, Live: the latest value of every metric below the selection.

The selection is one node (a device, a group, a profile) or several marked devices. The
shell pushes readings in (`show`); this view filters, sorts and paints them. Values
that cross a rule's threshold right now take that rule's severity colour; values older
than `stale_after`, or from a profile whose last poll failed, are marked stale rather
than hidden, so an operator sees what is old instead of a blank.

Public API
----------
`LiveView(*, name_of, clock, stale_after, export_dir=None, id=None, ...)`
`show(keys, readings, *, title, severity_of, stale_profiles)`  replace the rows
`paused`, `set_paused(on)`, `sort` (0 name, 1 value, 2 age); `action_pause`, `action_sort`
While paused the table is frozen: `show` keeps only the latest call for the resume, and
values, ages and stale marks are those of the moment of the pause.
Messages: `OpenMetric(ref)` (Enter: its history on Metrics), `CopyRequested(text)`,
`NamesWanted(refs)` (the rows on screen, for the shell to name).
`ACTIONS` lists every key.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text

from tuiot.domain import Reading, Severity
from tuiot.ui.actions import LIVE_ACTIONS as ACTIONS  # the registry (keys.py) reads it there
from tuiot.ui.labels import clip_name, count, folded, natural_keys
from tuiot.ui.messages import OpenMetric
from tuiot.ui.views import TITLES, age, bindings, stamp, value_text
from tuiot.ui.views.base import ListBody
from tuiot.ui.widgets.marks import Cell, Column

SORTS = ("name", "value", "age")
_NUMBERS = {int, float}  # a list of only these sorts as numbers at once (bool, an int subclass, is not one)
# Past this many rows, a refresh repaints values in place and keeps the order (until `s`, the
# filter or the rows change): PollPlan then polls only the rows on screen, so nothing off
# screen moves, and re-sorting 150,000 rows by value each poll round took seconds a round.
RESORT_MAX = 5_000


def _by_value(keys: list[str], values: list[Any]) -> list[str]:
    """Numbers first, by number, then the rest (text, booleans) by their text: a mixed list
    sorts without comparing str to float. Sorting a flat list of plain values: a key tuple
    per row made the sort of 150,000 rows twice as slow."""
    if set(map(type, values)) <= _NUMBERS:  # the usual list: numbers only, one sort
        return _arrange(keys, values)
    nums = [i for i, v in enumerate(values) if _is_number(v)]
    rest = [i for i, v in enumerate(values) if not _is_number(v)]
    return (_arrange([keys[i] for i in nums], [values[i] for i in nums])
            + _arrange([keys[i] for i in rest], [str(values[i]) for i in rest]))


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _cached(cache: dict[str, str], keys: list[str], make: Callable[[list[str]], list[str]]) -> list[str]:
    """`cache`'s entry of each key; the missing ones are made first, all in one `make` call.
    Looked up with map(): a comprehension per lookup cost 150,000 rows 25 ms a pass."""
    found = list(map(cache.get, keys))
    if None not in found:
        return found  # type: ignore[return-value]
    new = [k for k, v in zip(keys, found) if v is None]
    cache.update(zip(new, make(new)))
    return list(map(cache.__getitem__, keys))


def _arrange(keys: list[str], sort_keys: Sequence[Any], *, reverse: bool = False) -> list[str]:
    """`keys` in the order of their `sort_keys` (stable)."""
    return [keys[i] for i in sorted(range(len(keys)), key=sort_keys.__getitem__, reverse=reverse)]


class LiveView(ListBody):
    """Live values; see the module doc for the API."""

    BINDINGS = bindings(ACTIONS)
    TITLE = TITLES["live"]
    EXPORT_STEM = "live"

    def __init__(self, *, name_of: Callable[[str], str], clock: Callable[[], datetime], stale_after: float,
                 export_dir: Path | None = None, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        self.name_of = name_of
        self.clock = clock
        self.stale_after = stale_after
        self.paused = False
        # paused: the rows' readings and the time as they were at the pause (ages stop too), and
        # the latest `show` call, applied on resume; `show` keeps the live mapping by reference
        # and the shell mutates it in place, so without the copy any repaint showed new values
        self._frozen_at: datetime | None = None
        self._held: tuple[tuple, dict] | None = None
        self.news_waiting = False  # paused, and a value or a row came that the table does not show
        self.sort = 0
        self.heading = "nothing selected"
        self._keys: list[str] = []
        self._keys_src: Sequence[str] | None = None  # the object `show` was last given
        self._readings: Mapping[str, Reading] = {}
        self._severity_of: Callable[[Reading], Severity | None] = lambda r: None
        self._stale_profiles: Collection[str] = ()
        self._needle = ""
        self._selected = False
        # 150,000 rows: names, their sort keys and lowercase haystacks, and each sort's order are
        # kept between keystrokes, so a filter is one substring scan and `s` back to an order whose
        # rows and values have not moved since costs nothing (names change with names_version)
        self._names: dict[str, str] = {}
        self._nat: dict[str, str] = {}  # the natural sort key of each row's name
        self._named_before: tuple[dict[str, str], dict[str, str]] = ({}, {})  # (_names, _nat) of an earlier names_version
        self._hay: dict[str, str] = {}
        self._hay_made: tuple[list[str], list[str]] | None = None  # haystacks made for one order, not yet in _hay
        self._names_version = -1
        self._keys_gen = 0
        self._values_gen = 0  # one per `show`: any value or age may have moved
        self._order: list[str] = []
        self._order_of: tuple[int, int, int] | None = None
        self._orders: dict[int, tuple[tuple[int, int, int, int], list[str]]] = {}  # sort: (_order_of + values_gen, order)
        self._order_hay: list[str] | None = None  # the haystacks of _order, in its order
        self._shown_of: tuple | None = None  # (order, needle) the list's rows were last set from
        self.still_loading = False  # the selection's values are still coming in: the count is not final
        super().__init__(export_dir=export_dir, name=name, id=id, classes=classes)

    # ---- input API ------------------------------------------------------------------

    def show(self, keys: Sequence[str], readings: Mapping[str, Reading], *, title: str,
             severity_of: Callable[[Reading], Severity | None] | None = None,
             stale_profiles: Collection[str] = (), names_version: int = 0, selected: bool = True,
             loading: bool = False) -> None:
        """Replace the rows (metric refs); marks on rows still listed are kept, others go.
        `names_version` changes when the names `name_of` gives may have changed. Passing the
        same `keys` object again says the rows are the same (no O(rows) comparison).
        `loading`: more of the selection's values are still coming. Paused: held until resumed."""
        if self.paused:
            self._hold((keys, readings), dict(title=title, severity_of=severity_of, stale_profiles=stale_profiles,
                                              names_version=names_version, selected=selected, loading=loading))
            return
        same = keys is self._keys_src or list(keys) == self._keys
        self._keys_src = keys
        if not same:
            self._keys_gen += 1
            self._keys = list(keys)
            self._orders.clear()  # every one is of other rows: free the memory now
            if self.is_mounted and self.list.marked:
                self.list.marked &= set(self._keys)  # marks on rows of an earlier selection would act unseen
        elif self.sort != 0 and len(self._keys) <= RESORT_MAX:
            self._keys_gen += 1  # values or ages moved: re-sort (cheap at this size)
        if names_version != self._names_version:
            self._names_version = names_version
            if self._nat:  # kept for the names that stay the same (most: a burst names a few devices)
                self._named_before = (self._names, self._nat)
            self._names, self._nat = {}, {}
            self._hay.clear()
            self._hay_made = None
            self._order_hay = None
        self._readings = readings
        self._values_gen += 1
        self._selected = selected  # False: nothing picked yet (the empty list says how to pick)
        new_selection = title != self.heading
        self.heading = title
        if severity_of is not None:
            self._severity_of = severity_of
        self._stale_profiles = stale_profiles
        self.still_loading = loading
        if self.is_mounted:
            self.refilter()
            if new_selection:
                self.list.action_first()  # another selection starts at its top, not at an old row
                self.list.pinned_top = True  # and stays there while its rows come in

    def _hold(self, args: tuple, kwargs: dict) -> None:
        """Paused: keep the call for the resume, and note whether it brings anything new."""
        self._held = (args, kwargs)
        if self.news_waiting:
            return
        keys, readings = args
        # identity, not equality: the fleet stores a new Reading only when its value or time moved
        self.news_waiting = (not (keys is self._keys_src or list(keys) == self._keys) or kwargs["title"] != self.heading
                             or any(map(operator.is_not, map(self._readings.get, self._keys), map(readings.get, self._keys))))
        if self.news_waiting and self.is_mounted:
            self._update_text()

    def set_paused(self, on: bool) -> None:
        """Freeze the table as it is (on) or catch up with everything held meanwhile (off)."""
        if on == self.paused:
            return
        if on:
            self._frozen_at = self.clock()
            live = self._readings
            self._readings = {k: r for k in self._keys if (r := live.get(k)) is not None}
            self._held = ((self._keys_src if self._keys_src is not None else self._keys, live),
                          dict(title=self.heading, stale_profiles=self._stale_profiles, names_version=self._names_version,
                               selected=self._selected, loading=self.still_loading))
            self.paused = True
            # the lines on screen were painted before the pause, up to a tick ago: painted again at
            # its time now, else an age moved on by a second at the next tick of a frozen table
            self.list.invalidate()
            self._update_text()
            return
        self.paused = False
        self._frozen_at = None
        self.news_waiting = False
        (keys, readings), kwargs = self._held or ((self._keys, self._readings), {"title": self.heading})
        self._held = None
        self.show(keys, readings, **kwargs)

    def _now(self) -> datetime:
        """The time ages are counted to: the pause's while paused."""
        return self._frozen_at if self._frozen_at is not None else self.clock()

    def tick(self) -> None:
        """Ages (or threshold colours) moved on: repaint the visible lines and the detail."""
        self.list.invalidate()
        if self.is_mounted:
            self._show_detail(self.list.highlighted)

    # ---- ListBody hooks ---------------------------------------------------------------

    def set_text_filter(self, text: str) -> str | None:
        self.text_filter = text
        self._needle = text.strip().lower()
        return None

    def _row_name(self, key: str) -> str:
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = self.name_of(key)
        return name

    def _row_names(self, keys: list[str]) -> list[str]:
        return _cached(self._names, keys, lambda new: list(map(self.name_of, new)))

    def _natural(self, keys: list[str]) -> list[str]:
        """The natural sort key of each row's name, worked out once per name, in one batch."""
        return _cached(self._nat, keys, self._new_natural)

    def _new_natural(self, keys: list[str]) -> list[str]:
        names = self._row_names(keys)
        names_before, nat_before = self._named_before
        self._named_before = ({}, {})  # used once: it would keep 150,000 old names alive
        out = list(map(nat_before.get, keys))
        renamed = list(map(operator.ne, map(names_before.get, keys), names))
        redo = [i for i, key in enumerate(out) if key is None or renamed[i]]
        for i, key in zip(redo, natural_keys([names[i] for i in redo])):
            out[i] = key
        return out  # type: ignore[return-value]

    def _haystacks(self, keys: list[str]) -> list[str]:
        """Each row's lowercase 'ref\\nname', which the filter searches; the missing ones are
        made in one pass (the first filter letter made 150,000 of them a method call each)."""
        if self._hay_made is not None:  # another order wants them: index the first batch by row now
            self._hay.update(zip(*self._hay_made))
            self._hay_made = None
        if not self._hay:  # the first filter letter: no index by row yet, it can wait
            made = self._lowered(keys)
            self._hay_made = (keys, made)
            return made
        return _cached(self._hay, keys, self._lowered)

    def _lowered(self, keys: list[str]) -> list[str]:
        return [text.lower() for text in map("\n".join, zip(keys, self._row_names(keys)))]

    def _ordered(self) -> list[str]:
        """The rows with a value, sorted; kept until the rows, the sort or (sorted by name)
        their names change. A name arriving does not reorder a list sorted by value or age."""
        of = (self._keys_gen, self.sort, self._names_version if self.sort == 0 else -1)
        if self._order_of != of:
            cached = self._orders.get(self.sort)
            if cached is not None and cached[0] == (*of, self._values_gen):
                order = cached[1]  # `s` back to it, nothing moved since: the same order
            else:
                order = self._sort_rows()
                self._orders[self.sort] = ((*of, self._values_gen), order)
            self._order, self._order_of, self._order_hay = order, of, None
        return self._order

    def _sort_rows(self) -> list[str]:
        readings = self._readings
        keys = list(filter(readings.__contains__, self._keys))
        if self.sort == 1:
            return _by_value(keys, [r.value for r in map(readings.__getitem__, keys)])
        if self.sort == 2:
            return _arrange(keys, [r.ts for r in map(readings.__getitem__, keys)], reverse=True)
        return _arrange(keys, self._natural(keys))

    def refilter(self, *, filter_changed: bool = False) -> None:
        """As ListBody's, but when neither the order nor the filter moved (a poll round that
        only changed values) the rows stay and only the visible lines repaint: O(screen)."""
        order = self._ordered()
        # a filter matches names too: names arriving re-run it even when the order stays
        shown_of = (id(order), self._order_of, self._needle, self._names_version if self._needle else -1)
        if filter_changed or shown_of != self._shown_of or self.list.empty != self.empty_text():
            super().refilter(filter_changed=filter_changed)
            self._shown_of = shown_of
        else:
            self.list.invalidate()
            self._update_text()

    def visible_keys(self) -> list[str]:
        keys = self._ordered()
        if not self._needle:
            return list(keys)
        if self._order_hay is None:  # once per order: then each keystroke is one scan
            self._order_hay = self._haystacks(keys)
        needle = self._needle
        return [k for k, hay in zip(keys, self._order_hay) if needle in hay]

    def columns(self, width: int) -> Sequence[Column]:
        # a long name gives way by its parts, so the metric's name stays whole (clip_name)
        return [Column("METRIC", 24, flex=True, clip=clip_name), Column("VALUE", 12, right=True), Column("UNIT", 6),
                Column("AGE", 9, right=True)]

    def _stale(self, r: Reading) -> bool:
        if r.metric.split("/", 1)[0] in self._stale_profiles:
            return True
        return (self._now() - r.ts).total_seconds() > self.stale_after

    def cells(self, key: str) -> Sequence[Cell]:
        r = self._readings.get(key)
        if r is None:
            return [(self._row_name(key), "dim"), ("", None), ("", None), ("", None)]
        stale = self._stale(r)
        sev = self._severity_of(r)
        value_style = sev.value if sev is not None else ("dim" if stale else None)
        return [(self._row_name(key), "dim" if stale else None), (value_text(r.value), value_style),
                (r.unit or "", "dim"), (age(self._now() - r.ts) + (" stale" if stale else ""), "bad" if stale else "dim")]

    def summary(self) -> Text:
        shown = count(len(self.list.keys), "value")
        if self.still_loading:  # a count that is still growing must not read as the selection's total
            # paused, nothing comes in: "loading…" would promise values that wait for p
            shown = f"{shown} so far" if self.paused else f"loading… {shown} so far"
        parts = [self.heading, shown, f"sort {SORTS[self.sort]}"]
        if self.text_filter:
            parts.append(f"filter '{self.text_filter}'")
        if (marks := self.marks_text()) is not None:
            parts.append(marks)
        text = Text(" · ".join(parts))
        if self.paused:
            # first: the line is cut at the screen's edge, and at 80 columns a filter pushed it off
            note = " · new values waiting · " if self.news_waiting else " · "
            text = Text.assemble(("PAUSED", "bold reverse"), note, text)
        return text

    def empty_text(self) -> str:
        if not self._selected:
            return "select a device, group or profile on Devices (1) and press l"
        if not self._keys:
            return "waiting for the first values…"
        return "no values match the filter" if self._needle else "waiting for the first values…"

    def wanted_names(self, key: str | None) -> Sequence[str]:
        """The rows on screen: the shell names the first rows of each repaint, but `s`, a
        filter or a scroll brings up rows it never named (their ids showed until a poll)."""
        return self.list.in_view() if self.is_mounted else ()

    def detail(self, key: str | None, width: int = 0) -> Text:
        r = self._readings.get(key or "")
        if r is None:
            return Text("")
        sev = self._severity_of(r)
        # folded: at 80 columns a ThingsPro ref ('…|system/status/cpuUsage') broke mid-part
        # the time on a line of its own: after a long ref (TeamViewer's) it wrapped alone
        lines = [(f"{self.name_of(r.metric)}   {value_text(r.value)} {r.unit or ''}".rstrip(), ""),
                 (f"at {stamp(r.ts)} ({age(self._now() - r.ts)} ago)" + ("   STALE" if self._stale(r) else ""), ""),
                 (r.metric, "")]
        if sev is not None:
            lines.append((f"outside a {sev.value} threshold · enter: history", ""))
        return folded(lines, width)

    def export_columns(self) -> Sequence[str]:
        return ["metric", "name", "value", "unit", "ts"]

    def export_row(self, key: str) -> Mapping[str, Any]:
        r = self._readings[key]
        return {"metric": key, "name": self.name_of(key), "value": r.value, "unit": r.unit, "ts": r.ts}

    def export_rows_shown(self) -> list[Mapping[str, Any]]:
        """Marked rows when any are marked (a bulk export), else every row shown."""
        return [self.export_row(k) for k in self.targets()] if self.list.marked else super().export_rows_shown()

    def copy_text(self, key: str) -> str:
        r = self._readings.get(key)
        return f"{self.name_of(key)}\t{value_text(r.value) if r else ''}"

    # ---- keys -----------------------------------------------------------------------

    def action_open(self) -> None:
        key = self.list.highlighted
        if key is not None:
            self.post_message(OpenMetric(key))

    def action_pause(self) -> None:
        self.set_paused(not self.paused)
        self.notify("live refresh paused" if self.paused else "live refresh resumed")

    def action_sort(self) -> None:
        self.sort = (self.sort + 1) % len(SORTS)
        self.refilter()
