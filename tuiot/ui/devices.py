"""The Devices screen: the fleet tree's cursor, its detail pane and the device marks.

Separate from the app because the detail pane has its own timing (a device's last values
are asked once the cursor rests on it) and state (what it shows, what is marked for a
bulk action) that the other screens only read through `cursor()` and `app.marked`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.timer import Timer

from tuiot.ui import labels
from tuiot.ui.widgets.detail_pane import DetailPane
from tuiot.ui.widgets.fleet_tree import FleetTree
from tuiot.ui.workers import app_work

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp

DETAIL_VALUES_AFTER = 0.4  # s the Devices cursor rests on a device before its values are asked
GROUP_DEVICES_NAMED = 6  # a group's detail lists about this many devices' values in its 12 lines
DESCRIBED_FOR = 60.0  # s a node's fuller detail (a gateway's cloud status) is shown before it is asked again


class Devices:
    """Screen 1 of a `ConsoleApp`: what its tree points at and what its detail pane says."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app
        self._values_timer: Timer | None = None  # asks a device's last values for the detail pane
        self._detail_ref: str | None = None  # what the Devices detail shows
        self._rested: str | None = None  # the node the cursor last rested on (its values were asked)
        self._described: dict[str, float] = {}  # node → when its adapter was last asked for it afresh

    def tree(self) -> FleetTree:
        return self.app.query_one("#tree", FleetTree)

    def cursor(self) -> str | None:
        return self.tree().cursor_ref

    def relabel(self, refs: set[str]) -> None:
        self.tree().relabel(refs)

    def relabel_profile(self, name: str) -> None:
        self.tree().relabel_profile(name)

    def highlighted(self, ref: object) -> None:
        """The tree's cursor moved to `ref` (a node's ref, or a paging line's data)."""
        app = self.app
        if isinstance(ref, str) and not ref.startswith("more:"):
            self.show_detail(ref)
            node = app.fleet.nodes.get(ref)
            if node is not None and node.kind == "metric":
                app.recent_metric = ref
            wants_values = node is not None and not app.offline and (
                (node.kind == "device" and (not app.fleet.metrics_below(ref) or not app.fleet.kids(ref)))
                or node.kind == "group")  # its values if none came yet, their names if they did
            if wants_values:
                # its last values, for the detail pane, and their names: a poll round brings a
                # device's values under their ids, and the pane listed '0dc5…279f0: 229.9 V'
                # until the device was opened; asked once the cursor rests on it
                if self._values_timer is not None:
                    self._values_timer.stop()
                self._values_timer = app.set_timer(DETAIL_VALUES_AFTER, lambda: self._values_for(ref))

    def _values_for(self, ref: str) -> None:
        try:
            at = self.cursor()
        except NoMatches:  # the timer outlived the screens: the console is closing
            return
        if at == ref:
            self._rested = ref
            if self._lacks_values(ref):
                self.app.rounds.refresh_latest([ref])  # a group's: its devices' latest, one request
            self._name_values(ref)
            if time.monotonic() - self._described.get(ref, float("-inf")) >= DESCRIBED_FOR:
                self._described[ref] = time.monotonic()
                self._describe(ref)

    @app_work(group="describe")
    async def _describe(self, ref: str) -> None:
        """What the first tree left out of a node (a ThingsPro gateway's cloud connectivity),
        into its detail. A failure says nothing: the detail keeps what the tree said, and the
        profile's own state (status bar) tells of a vendor that does not answer."""
        app = self.app
        adapter = app.adapters.get(ref.split("/", 1)[0])
        if adapter is None or app.offline:
            return
        try:
            node = await adapter.node(ref)
        except Exception:
            self._described.pop(ref, None)  # the next rest asks again
            return
        if node is None or ref not in app.fleet.nodes:
            return
        app.fleet.add_nodes([node])
        self.relabel({ref})
        self.show_cursor_detail(only={ref})

    def _lacks_values(self, ref: str) -> bool:
        """No value below `ref` yet, or (a group) fewer of its devices have one than its detail
        names: one device opened before left the group's detail listing only that one."""
        fleet = self.app.fleet
        below = fleet.metrics_below(ref)
        node = fleet.nodes.get(ref)
        if not below or node is None or node.kind != "group":
            return not below
        owners = {r.device for m in below if (r := fleet.readings.get(m)) and r.device}
        devices = sum(1 for d in fleet.kids(ref) if d.kind == "device")
        return len(owners) < min(devices, GROUP_DEVICES_NAMED)

    def _name_values(self, ref: str) -> None:
        """Load the sensors of the devices whose values the detail lists (once each), so they
        show their names, not ids. A group's values may come after the cursor came to rest:
        the detail's redraw for them calls this again."""
        fleet = self.app.fleet
        node = fleet.nodes.get(ref)
        if node is None or node.kind != "group":
            self.app.naming.name_device(ref)
            return
        # the devices the pane lists first (by name, as it does)
        owners = {r.device for m in fleet.metrics_below(ref) if (r := fleet.readings.get(m)) and r.device}
        named = sorted((fleet.nodes[d] for d in owners if d in fleet.nodes), key=lambda n: labels.natural_key(n.name))
        for device in named[:GROUP_DEVICES_NAMED]:
            self.app.naming.name_device(device.ref)  # a metric id ('0dc5cc89…79f0: 227.6 V') says nothing; its name does

    def show_detail(self, ref: str) -> None:
        app = self.app
        detail = app.query_one("#detail-scroll > #detail", DetailPane)  # each view has a #detail too
        if ref != self._detail_ref:  # another node starts at its top; the same one, redrawn, stays put
            self._detail_ref = ref
            app.query_one("#detail-scroll", VerticalScroll).scroll_home(animate=False)
        node = app.fleet.nodes.get(ref)
        if node is not None and node.kind == "group" and ref == self._rested:
            self._name_values(ref)  # its values came after the cursor rested: name them too
        if node is not None:
            detail.show(lambda width: labels.node_detail(node, app.fleet, app.clock(), width=width))
            return
        p = app.fleet.profiles.get(ref.split("/", 1)[0])
        if p is None:
            return
        poller = app.pollers.get(p.name)
        detail.show(lambda width: labels.profile_detail(
            p, app.clock(), devices=app.fleet.device_count(p.name),
            poll_interval=poller.interval if poller else None, rounds=poller.rounds if poller else 0,
            failures=poller.failures if poller else 0, width=width))

    def show_cursor_detail(self, only: set[str] | None = None) -> None:
        """Redraw the detail of the node under the cursor (with `only`, if it is one of those)."""
        cursor = self.cursor()
        if cursor and (only is None or cursor in only):
            self.show_detail(cursor)

    def scroll_detail(self, direction: int) -> None:
        """Half the detail's height down (1) or up (-1), the tree keeping the keys."""
        box = self.app.query_one("#detail-scroll", VerticalScroll)
        box.scroll_relative(y=direction * max(1, box.scrollable_content_region.height // 2), animate=False)

    def mark(self) -> None:
        """Mark or unmark the device under the cursor for a bulk action (l, e, y)."""
        app = self.app
        node = app.fleet.nodes.get(self.cursor() or "")
        if node is None or node.kind != "device":
            app.notify("marks are for devices: move to a device", severity="warning")
            return
        app.marked.symmetric_difference_update({node.ref})
        self.relabel({node.ref})
        self.tree().action_cursor_down()
        app.chrome.status()

    def clear_marks(self) -> bool:
        app = self.app
        if not app.marked:
            return False
        old, app.marked = app.marked, set()
        self.relabel(old)
        app.notify(f"cleared {labels.count(len(old), 'mark')}")
        app.chrome.status()
        return True
