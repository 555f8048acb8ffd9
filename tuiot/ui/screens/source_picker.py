"""Picking a rule's source by name: a device found across the fleet, then one of its metrics.

Rule sources are vendor ids (TeamViewer's are 32 hex digits): nobody should copy one by
hand. The picker finds devices as the `/` find box does (the fleet's index, loaded or
not), and Enter on a device lists its metrics (read from the vendor if the tree has not
loaded them). It returns the chosen ref, or None on esc.

Keys: type to find · up/down choose · enter take or add (on a device: its metrics) · esc back/cancel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tuiot.ui.labels import count, natural_key
from tuiot.ui.screens.modal import Modal, keys_footer

Choice = tuple[str, str]  # (ref, what the row says)
FindFn = Callable[[str], list[Choice]]
ExpandFn = Callable[[str], Awaitable[list[Choice]]]
LIMIT = 50  # devices listed for what is typed: more is typing more, not scrolling


def in_order(choices: list[Choice]) -> list[Choice]:
    """As a person orders them: 'sensor-2' before 'sensor-10', case aside."""
    return sorted(choices, key=lambda c: natural_key(c[1]))


class SourcePicker(Modal[str | None]):
    """Find a device; with `expand`, Enter lists its metrics and a metric is the answer."""

    BINDINGS: ClassVar = [
        Binding("escape", "back", "back"),
        Binding("down", "move(1)", show=False, priority=True),
        Binding("up", "move(-1)", show=False, priority=True),
        Binding("pagedown", "move(10)", show=False, priority=True),
        Binding("pageup", "move(-10)", show=False, priority=True),
    ]
    AUTO_FOCUS = "Input"

    def __init__(self, title: str, find: FindFn, expand: ExpandFn | None = None, *, adds: bool = False) -> None:
        """`adds`: the choice joins the sources already there (a vendor rule watches several),
        so enter says 'add it', not 'take it'."""
        super().__init__()
        self.title_text = title
        self.take = "add it" if adds else "take it"
        self.find = find
        self.expand = expand
        self.device: str | None = None  # the device whose metrics are listed, or None: devices are

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, id="pick-title", markup=False)
            yield Input(placeholder="device name or id", id="pick-find", compact=True)
            yield OptionList(id="pick-list")
            yield Static("", id="pick-hint", markup=False)
        yield keys_footer()

    def on_mount(self) -> None:
        self._hint("type part of a device's name or id")

    def _hint(self, text: str) -> None:
        self.query_one("#pick-hint", Static).update(text)

    def _show(self, choices: list[Choice]) -> None:
        box = self.query_one(OptionList)
        box.clear_options()
        # names and ids are text, never markup
        box.add_options([Option(label, id=ref) for ref, label in choices])
        if choices:
            box.highlighted = 0

    @on(Input.Changed, "#pick-find")
    def _typed(self, event: Input.Changed) -> None:
        if self.device is None:  # typing filters devices; a device's metrics are few and listed whole
            self._list_devices(event.value)

    def _list_devices(self, typed: str) -> None:
        text = typed.strip()
        every = in_order(self.find(text)) if text else []
        found = every[:LIMIT]  # the first in that order, not the first the index holds
        self._show(found)
        if not text:
            self._hint("type part of a device's name or id")
        elif not found:
            self._hint(f"no device matches '{text}'")
        else:
            more = f" (the first {LIMIT})" if len(every) > LIMIT else ""
            self._hint(f"{count(len(found), 'device')}{more} · enter: {'its metrics' if self.expand else self.take} · esc: cancel")

    def action_move(self, step: int) -> None:
        box = self.query_one(OptionList)
        if box.option_count:
            now = box.highlighted if box.highlighted is not None else 0
            box.highlighted = max(0, min(box.option_count - 1, now + step))

    @on(Input.Submitted, "#pick-find")
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self._take()

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._take()

    def _take(self) -> None:
        box = self.query_one(OptionList)
        if box.highlighted is None or not box.option_count:
            return
        ref = box.get_option_at_index(box.highlighted).id
        assert ref is not None
        if self.expand is None or self.device is not None:
            self.dismiss(ref)
            return
        self.device = ref
        # the find box gives way to the device's name while its metrics are listed
        self.query_one("#pick-find", Input).display = False
        self.query_one("#pick-title", Static).update(f"{self.title_text}: {box.get_option_at_index(box.highlighted).prompt}")
        box.clear_options()
        self._hint("reading its metrics…")
        self._metrics(ref)

    @work(exclusive=True, group="pick", exit_on_error=False)
    async def _metrics(self, device: str) -> None:
        assert self.expand is not None
        try:
            metrics = await self.expand(device)
        except Exception as e:  # noqa: BLE001 - said in the picker; esc goes back to the devices
            self._hint(f"its metrics could not be read: {e} · esc: back")
            return
        if self.device != device:
            return  # esc'd back meanwhile
        self._show(in_order(metrics))
        self.query_one(OptionList).focus()
        self._hint(f"{count(len(metrics), 'metric')} · enter: {self.take} · esc: back to the devices" if metrics
                   else "this device has no metrics · esc: back to the devices")

    def action_back(self) -> None:
        if self.device is None:
            self.dismiss(None)
            return
        self.device = None
        self.query_one("#pick-title", Static).update(self.title_text)
        box = self.query_one("#pick-find", Input)
        box.display = True
        box.focus()
        self._list_devices(box.value)
