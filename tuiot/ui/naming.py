"""Names for what the console shows: a node's children read on demand, and the names of refs.

A vendor's poll round brings values under their metric ids; a metric has a name only once
its device's sensors and metrics are loaded. Separate from the app because every screen
asks for names (Live's rows, an alarm's metric, a rule's sources) and the loading that
answers them (each device once, a burst repainted once) is one concern of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuiot.domain import Node
from tuiot.ui import labels
from tuiot.ui.workers import app_work

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp


class Naming:
    """A `ConsoleApp`'s children loads and the names its views show."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app
        self._naming: set[str] = set()  # devices (and metrics) whose names were asked for, once each

    # ---- children -------------------------------------------------------------------------------

    @app_work(group="children")
    async def load_children(self, node: Node) -> None:
        app = self.app
        try:
            kids = await app.adapters[node.profile].children(node.ref)
        except Exception as e:
            app.notify(f"{node.name}: {e}", severity="error")
            kids = []
        if self._keep_children(node.ref, kids):  # else loaded for names (Live, Rules): no line to fill
            app.rounds.refresh_latest([node.ref])
        self.names_arrived()

    def _keep_children(self, ref: str, kids: list[Node]) -> bool:
        """Store what was read below `ref`; True when the tree had that node open to fill."""
        self.app.fleet.replace_children(ref, kids)
        return self.app.devices.tree().fill_children(ref)

    async def children_of(self, ref: str) -> list[Node]:
        """The nodes below `ref`: the fleet's, or read from the vendor and kept (as an expand
        keeps them), so what a picker reads the tree need not read again."""
        kids = self.app.fleet.kids(ref)
        if not kids:
            kids = await self.app.adapters[ref.split("/", 1)[0]].children(ref)
            self._keep_children(ref, kids)
        return kids

    def names_arrived(self) -> None:
        """A device's metrics were loaded: the screens that show metric names repaint."""
        app = self.app
        if app.current == "live":
            app.live_feed.show_soon()
        elif app.current == "devices" and (cursor := app.devices.cursor()):
            app.devices.show_detail(cursor)  # its last values, under their names now
        elif app.current in ("rules", "alarms") and (view := app.nav.shown(app.current)) is not None:
            view.refilter()

    # ---- naming metrics -------------------------------------------------------------------------

    def name_device(self, ref: str) -> None:
        """Load a device's sensors and metrics (once) so its metrics show names, not ids."""
        fleet = self.app.fleet
        node = fleet.nodes.get(ref)
        if node is not None and node.kind == "device" and ref not in self._naming and not fleet.kids(ref):
            self._naming.add(ref)
            self.load_children(node)

    def name_metrics(self, refs: list[str]) -> None:
        """Metrics are named only once their device's metrics are loaded (rule sources, an
        alarm's metric): find each one's device (a latest-value read names it) and load
        that device's metrics, once."""
        fleet = self.app.fleet
        unknown: dict[str, list[str]] = {}
        for ref in refs:
            if "/metric/" not in ref or ref in fleet.nodes or ref in self._naming:
                continue
            self._naming.add(ref)
            r = fleet.readings.get(ref)
            if r is not None and r.device:
                self.name_device(r.device)
            else:
                unknown.setdefault(ref.split("/", 1)[0], []).append(ref)
        for profile, refs_ in unknown.items():
            self._locate_metrics(profile, refs_)

    @app_work(group="naming")
    async def _locate_metrics(self, profile: str, refs: list[str]) -> None:
        app = self.app
        adapter = app.adapters.get(profile)
        if adapter is None or not app.fleet.profiles.get(profile, None) or app.offline:
            return
        try:
            readings = await adapter.latest(refs)
        except Exception:
            return  # names are a courtesy: the sources keep their ids, and the poller reports the profile's state
        app.fleet.put_readings(readings)
        for r in readings:
            if r.device:
                self.name_device(r.device)

    # ---- names of refs for the views (plain functions in labels over the fleet state) -----------

    def metric_name(self, ref: str) -> str:
        return labels.metric_name(self.app.fleet, ref)

    def source_name(self, ref: str) -> str:
        return labels.source_name(self.app.fleet, ref)

    def known_name(self, ref: str) -> str | None:
        return labels.known_name(self.app.fleet, ref)

    def node_title(self, ref: str) -> str:
        return labels.node_title(self.app.fleet, ref)

    def rule_name(self, profile: str, rule_id: str) -> str | None:
        return next((r.name for r in self.app.rules if r.profile == profile and r.id == rule_id), None)
