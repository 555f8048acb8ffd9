"""What screen 3 (Live) shows: the selection it follows, its rows, their names and colours.

Separate from the app because Live's selection has its own rule (the latest choice wins:
Devices' cursor or marks, or an explicit `l` / `:live @profile`), its rows are cached
against the fleet's versions (a poll round that only moves values rescans nothing), and a
burst of names arriving repaints it once. The app keeps `live_refs`, which the pollers read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.timer import Timer

from tuiot.domain import Reading, Severity
from tuiot.ui.polling import LIVE_WHOLE

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp

LIVE_BURST_ROWS = 5_000  # past this many rows, Live repaints for names arriving at most once per:
LIVE_BURST_WAIT = 1.0  # s


def is_profile_ref(ref: str) -> bool:
    name = ref.split("/", 1)[0]
    return ref == f"{name}/profile/{name}"


class LiveFeed:
    """Live's selection, rows and repaints for a `ConsoleApp`."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app
        self._pick_seen: list[str] | None = None  # what Devices pointed at when live_refs was chosen
        self._keys_of: tuple | None = None  # what _keys_cached was computed from
        self._keys_cached: list[str] = []
        self.names_timer: Timer | None = None  # one Live repaint for a burst of names (show_soon)
        self._thresholds: Any = None  # tuiot.fleet.thresholds.ThresholdIndex of vendor + local rules

    # What Live shows is the latest choice: Devices' (its cursor or marks, which `3` and `l`
    # follow) or an explicit one (`l`, `:live @profile`). Devices' choice is "latest" when it
    # differs from what Devices pointed at when Live's selection was last chosen, so the
    # screens visited in between (alarm → device → metric → 4 5 6 3) change nothing.

    def devices_pick(self) -> list[str]:
        """What Devices points Live at: the marked devices, else the node under the cursor."""
        app = self.app
        if app.marked:
            return sorted(app.marked)  # side by side
        ref = app.devices.cursor()
        node = app.fleet.nodes.get(ref or "")
        if node is not None and node.kind in ("sensor", "metric"):
            # vendors answer latest by device: show the whole device
            ref = next((a for a in reversed(app.fleet.ancestors(node.ref))
                        if (n := app.fleet.nodes.get(a)) is not None and n.kind == "device"), ref)
        return [ref] if ref else []

    def choose(self, refs: list[str]) -> None:
        """Live shows `refs` until Devices points elsewhere or another choice is made. Asking
        for another selection (`l`, `:live @profile`) while Live is paused resumes it: a frozen
        table of what was not asked for would pass for the new selection's values. Asking for
        the one it shows keeps it paused, and says so: either way the request is answered."""
        app = self.app
        if self.paused():
            if list(refs) != app.live_refs:
                app.nav.screen("live").set_paused(False)
                app.notify("live refresh resumed for the new selection")
            else:
                app.notify("live refresh is paused on this selection: p resumes")
        app.live_refs = list(refs)
        self._pick_seen = self.devices_pick()

    def follow_devices(self) -> None:
        """`3`: Live follows Devices if Devices has moved on since Live's selection was chosen;
        not while Live is paused (back on Live, its frozen table is still there)."""
        pick = self.devices_pick()
        if pick and pick != self._pick_seen and not self.paused():
            self.choose(pick)

    def paused(self) -> bool:
        view = self.app.nav.shown("live")
        return view is not None and view.paused

    def view(self) -> Any:
        """The Live screen while it is shown, else None."""
        return self.app.nav.screen("live") if self.app.current == "live" else None

    # ---- rows -----------------------------------------------------------------------------------

    def keys(self) -> list[str]:
        """Live's rows; the same list (the same object) until the selection, the nodes or the set
        of metrics changes, so a poll round that only moves values costs no scan of the fleet
        (250,000 readings) and Live knows without comparing that its rows are the same."""
        app = self.app
        # a whole profile's rows are its readings; below a group or device they depend on nodes too
        by_nodes = any(not is_profile_ref(sel) for sel in app.live_refs)
        of = (tuple(app.live_refs), app.fleet.metrics_version, app.fleet.nodes_version if by_nodes else -1)
        if of != self._keys_of:
            self._keys_of, self._keys_cached = of, self._scan_keys()
        return self._keys_cached

    def _scan_keys(self) -> list[str]:
        fleet = self.app.fleet
        keys_: set[str] = set()
        for sel in self.app.live_refs:
            name = sel.split("/", 1)[0]
            if is_profile_ref(sel):
                keys_.update(k for k in fleet.readings if k.startswith(f"{name}/"))
            else:
                keys_ |= fleet.metrics_below(sel)
        return list(keys_)

    def _name_metrics(self, rows: int = 200) -> None:
        """Load the sensors of the devices in Live's first rows (each device once), so their
        metrics show names, not ids. O(rows): called on every repaint of Live."""
        app = self.app
        devices = [r for r in app.live_refs[:rows] if r.split("/", 2)[1] == "device"]
        view = app.nav.shown("live")
        if view is not None:
            for key in view.list.keys[:rows]:
                r = app.fleet.readings.get(key)
                if r is not None and r.device:
                    devices.append(r.device)
        for ref in dict.fromkeys(devices):
            app.naming.name_device(ref)

    def _loading(self) -> bool:
        """Live on a whole profile whose first whole round has not come in yet (it can take a
        minute at 150,000 values): the count shown so far is not the profile's."""
        app = self.app
        sel = app.selection
        if len(app.live_refs) != 1 or sel is None:
            return False
        name = sel.split("/", 1)[0]
        p = app.fleet.profiles.get(name)
        return (is_profile_ref(sel) and name not in app.whole_read and p is not None
                and p.state in ("ok", "connecting") and app.fleet.reading_count(name) <= LIVE_WHOLE)

    # ---- repaints -------------------------------------------------------------------------------

    def show(self) -> None:
        app = self.app
        view = app.nav.shown("live")
        if view is None:
            return  # Live was never opened: nothing to repaint
        if len(app.live_refs) > 1:
            title = f"{len(app.live_refs)} marked devices"
        else:
            title = app.naming.node_title(app.selection) if app.selection else "nothing selected"
        stale = {n for n, p in app.fleet.profiles.items() if p.state != "ok"}
        view.show(self.keys(), app.fleet.readings, title=title, severity_of=self._threshold_severity,
                  stale_profiles=stale, names_version=app.fleet.nodes_version, selected=bool(app.live_refs),
                  loading=self._loading())
        self._name_metrics()

    def show_soon(self) -> None:
        """Repaint Live once for a burst of events: naming the devices on screen loads up to
        200 devices, and a repaint per device re-sorted 150,000 rows 200 times (minutes of a
        frozen console). Small lists repaint at once."""
        view = self.app.nav.shown("live")
        if view is None or len(view.list.keys) <= LIVE_BURST_ROWS:
            self.show()
        elif self.names_timer is None:
            self.names_timer = self.app.set_timer(LIVE_BURST_WAIT, self._show_burst)

    def _show_burst(self) -> None:
        self.names_timer = None
        if self.app.current == "live":
            self.show()

    # ---- threshold colours ----------------------------------------------------------------------

    def _threshold_severity(self, r: Reading) -> Severity | None:
        return self._thresholds.severity(r.metric, r.value) if self._thresholds is not None else None

    def index_thresholds(self) -> None:
        """Colour live values by every enabled threshold rule, vendor and local."""
        from tuiot.fleet.thresholds import ThresholdIndex

        app = self.app
        local = app.local.engine.rules if app.local is not None else []
        self._thresholds = ThresholdIndex([*(r for r in app.rules if r.origin.value != "local"), *local])
        if app.current == "live":
            app.nav.screen("live").tick()
