"""Find across the whole fleet (`/` on Devices), the next match (`n`), and revealing a node.

Separate from the app because finding owns its own state (the matches and which one is
shown) and `reveal` is how every other screen jumps to a device (an alarm's device, a
command's profile), so it needs one home that all of them call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input

from tuiot.domain import Node

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp


class Finder:
    """A `ConsoleApp`'s fleet-wide find and its way to put the tree's cursor on a node."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app
        self.matches: list[Node] = []
        self.match_index = 0

    def open(self) -> None:
        """`/`: the find box (a filter box on the list screens)."""
        app = self.app
        box = app.query_one("#find", Input)
        box.placeholder = "/ find: name or id, across the whole fleet" if app.current == "devices" else "/ filter"
        box.value = ""
        app.nav.open_box(box)

    def find(self, text: str, profile: str | None = None) -> None:
        """Find across the whole fleet (or one profile); the cursor goes to the first match (n: the next)."""
        app = self.app
        found = app.fleet.search(text, profile=profile)
        exact = text.casefold()
        # a name typed (or completed) in full goes to that node first
        self.matches = sorted(found, key=lambda n: n.name.casefold() != exact and n.id.casefold() != exact)
        self.match_index = 0
        if not self.matches:
            where = f"profile {profile}" if profile else "the fleet"
            app.notify(f"nothing in {where} matches '{text}'", severity="warning")
            app.nav.focus_current()
            return
        if len(self.matches) == 1:
            app.notify("1 match")
        else:
            app.notify(f"{len(self.matches)}{'+' if len(self.matches) >= 200 else ''} matches; n for the next")
        self.reveal(self.matches[0].ref)

    def next_match(self) -> None:
        if self.matches:
            self.match_index = (self.match_index + 1) % len(self.matches)
            self.reveal(self.matches[self.match_index].ref)

    def candidates(self, text: str) -> list[Node]:
        """What the find box completes from: the fleet, while the Devices screen is shown."""
        return self.app.fleet.search(text, limit=50) if self.app.current == "devices" else []

    def reveal(self, ref: str) -> None:
        """Expand the path to `ref` (adding paged-out siblings if needed) and put the cursor on it."""
        app = self.app
        if app.current != "devices":
            app.nav.switch("devices")
        tree = app.devices.tree()
        tree.focus()
        if tree.reveal(ref):
            app.devices.show_detail(ref)
