"""What every modal of the console shares: its own footer, and a box that covers cleanly.

The app's footer belongs to the screen below a modal, so it went on listing that screen's
keys (Rules' `n new` under a question whose `n` is no). A modal yields `keys_footer()`
instead: Textual's footer lists the bindings of the screen it is on, and a modal's chain
stops at the modal, so it shows the modal's keys and nothing of the screen below.

Below `NARROW` columns a modal is given the class `-narrow` and its box spans the width:
a 70-column box in 80 columns left a few columns of the screen behind at each side,
cut mid-word ("ven│ … │tical", "│l"). Above and below it, whole rows of that screen
stay in view, dimmed: a question keeps in sight what it is about.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.screen import ModalScreen
from textual.widgets import Footer

ResultT = TypeVar("ResultT")

NARROW = 100  # columns: below, a box of 70-78 would leave slivers of the screen behind at its sides


class Modal(ModalScreen[ResultT]):
    """A ModalScreen with the `-narrow` class below NARROW columns (each modal's CSS widens
    its box there) and, by convention, `keys_footer()` last in its compose."""

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (NARROW, "-wide")]


def keys_footer() -> Footer:
    """The modal's own keys, as the app's footer shows a screen's: compact, no palette key."""
    return Footer(compact=True, show_command_palette=False)
