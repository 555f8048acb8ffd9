"""What every modal of the console shares: its own footer.

The app's footer belongs to the screen below a modal, so it went on listing that screen's
keys (Rules' `n new` under a question whose `n` is no). A modal yields `keys_footer()`
instead: Textual's footer lists the bindings of the screen it is on, and a modal's chain
stops at the modal, so it shows the modal's keys and nothing of the screen below.
"""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen
from textual.widgets import Footer

ResultT = TypeVar("ResultT")


class Modal(ModalScreen[ResultT]):
    """A modal of the console: by convention, `keys_footer()` comes last in its compose."""


def keys_footer() -> Footer:
    """The modal's own keys, as the app's footer shows a screen's: compact, no palette key."""
    return Footer(compact=True, show_command_palette=False)
