"""The console's chrome: the title bar (tabs and breadcrumbs) and the status bar.

Separate from the app because every part of the console asks for a repaint of these
two lines, and none of them needs to know how the lines are laid out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from tuiot.ui import keys, labels

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp


def crumb_trail(crumbs: list[str], room: int) -> str:
    """'Alarms › Devices › Metrics' in `room` columns: the newest steps kept, the oldest '…'."""
    names = [keys.TITLES[c].split(" ", 1)[1] for c in crumbs]
    for start in range(len(names)):
        trail = ("… › " if start else "") + " › ".join(names[start:])
        if len(trail) <= room:
            return trail
    return ""


class Chrome:
    """The title bar and the status bar of a `ConsoleApp`."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app

    def title(self) -> None:
        app = self.app
        bar = app.query_one("#titlebar", Static)
        tabs = "  ".join(f"[reverse] {keys.TITLES[s]} [/]" if s == app.current else f" {keys.TITLES[s]} " for s in keys.SCREENS)
        # the breadcrumbs get the room the tabs leave; the oldest give way to "…", never the newest
        used = len("tuiot ") + sum(len(keys.TITLES[s]) + 2 for s in keys.SCREENS) + 2 * (len(keys.SCREENS) - 1) + 3
        bar.update(f"[b]tuiot[/b] {tabs}   [dim]{crumb_trail(app.crumbs, app.size.width - 2 - used)}[/]")

    def status_bar(self) -> Static | None:
        """The status bar, or None once the app is closing (a late timer or worker must not crash it)."""
        found = self.app.query("#statusbar").results(Static)
        return next(found, None)

    def status(self) -> None:
        app = self.app
        bar = self.status_bar()
        if bar is None:
            return
        if not app.fleet.profiles and app.demo is None and app.demo_factory is not None:
            bar.update("building the demo fleet… (its profiles appear as soon as it is built)")
            return
        bar.update(labels.status_line(app.fleet.profiles, app.clock(), marked=self._marks_shown(),
                                      read_only=app.read_only, offline=app.offline, width=bar.size.width))
        self._repaint_through_modals(bar)

    def _repaint_through_modals(self, widget: Static) -> None:
        """Textual repaints a screen seen through one translucent modal, not through two (the
        rule editor, then its source picker): the middle one keeps its old picture of what is
        below it, and the status bar's ages stood still until the picker closed. Each screen
        between says that region is stale too."""
        stack = self.app.screen_stack
        if len(stack) < 3 or widget.screen is not stack[0] or any(s.styles.background.a == 1 for s in stack[1:]):
            return  # one dialog (Textual's own case), or an opaque one hides the bar: it is redrawn on close
        for screen in stack[1:-1]:
            screen.refresh(widget.region)

    def _marks_shown(self) -> int:
        """The marks of the screen shown: each screen's marks are its own (m on Devices, space on lists)."""
        app = self.app
        if app.current == "devices":
            return len(app.marked)
        # here, not at the top: start-up imports no view (DESIGN §7); the view shown has loaded it
        from tuiot.ui.views.base import ListBody

        view = app.nav.shown(app.current)
        return len(view.list.marked) if isinstance(view, ListBody) else 0
