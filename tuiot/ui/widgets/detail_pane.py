"""DetailPane: a detail pane (Devices, and each list view's) with its lines broken at its own width.

A narrow pane (30 columns at 80x24) is where Rich broke ids anywhere; `tuiot.ui.labels`
breaks them between their parts instead, which needs the width. The width is known only
after layout and changes with the terminal, so the pane keeps how to write its text and
writes it again whenever its width changes.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.widgets import Static


class DetailPane(Static):
    def __init__(self, content: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(content, id=id, classes=classes)
        self._write: Callable[[int], str | Text] | None = None
        self._written_at = -1  # the width the text was last written for

    def show(self, write: Callable[[int], str | Text]) -> None:
        """Write `write(width)`, and again at each new width (0: not laid out yet, no limit)."""
        self._write = write
        self._written_at = self.content_size.width
        self.update(write(self._written_at))

    def on_resize(self, event: events.Resize) -> None:
        # a new height alone (the text grew) changes no line: only a new width is written again
        if self._write is not None and self.content_size.width != self._written_at:
            self.show(self._write)
