"""`?`: every key of the screen shown, from the one action registry (tuiot.ui.keys)."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from tuiot.ui.keys import help_lines
from tuiot.ui.screens.modal import Modal, keys_footer


class HelpText(Static):
    """The help text, laid out again for its width (the box narrows below 80 columns, and by
    its scrollbar when the help is longer than the screen)."""

    def __init__(self, screen: str) -> None:
        super().__init__(markup=True)
        self._screen = screen
        self._width = 0

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width and event.size.width != self._width:
            self._width = event.size.width
            self.update("\n".join(help_lines(self._screen, self._width)))


class HelpScreen(Modal[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "close"),
                Binding("j", "scroll(1)", show=False), Binding("k", "scroll(-1)", show=False)]

    def __init__(self, screen: str) -> None:
        super().__init__()
        self._screen = screen

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield HelpText(self._screen)
        yield keys_footer()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()  # up/down/pgdn scroll a long help at 80×24 at once

    def action_scroll(self, lines: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=lines, animate=False)
