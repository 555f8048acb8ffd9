"""Screen 2 (Metrics): opening a metric's history, and fetching it.

Separate from the app because a history is two sources merged (the vendor's, and the
values this console buffered, which top up a short vendor window or stand in while the
vendor is away), and a metric seen only in Live needs a node made from its reading first.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tuiot.domain import Node
from tuiot.ui import labels
from tuiot.ui.messages import HistoryRequested
from tuiot.ui.workers import app_work

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp


class MetricHistory:
    """A `ConsoleApp`'s Metrics screen: which metric it shows and its series."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app

    async def open(self, ref: str) -> None:
        """The metric's history on Metrics (a metric seen only in Live gets a node from its reading)."""
        from tuiot.domain import split_ref

        app = self.app
        fleet = app.fleet
        node = fleet.nodes.get(ref)
        if node is None:
            try:
                profile, kind, ident = split_ref(ref)
            except ValueError:
                return
            r = fleet.readings.get(ref)
            node = Node(kind="metric", id=ident, name=app.naming.metric_name(ref), profile=profile, unit=r.unit if r else None)
        device = next((fleet.nodes[a] for a in fleet.ancestors(node.ref) if fleet.nodes.get(a) and fleet.nodes[a].kind == "device"), None)
        from tuiot.adapters.base import Capability

        adapter = app.adapters.get(node.profile)
        app.recent_metric = node.ref
        await app.nav.show("metrics")
        view = app.nav.screen("metrics")
        poller = app.pollers.get(node.profile)
        view.refresh_every = max(poller.interval, 5.0) if poller is not None and not app.offline else None
        if device is not None:  # its title names the device as Live's row did: 'status (Turku Office 4 gateway 1)'
            device = device.model_copy(update={"name": labels.display_name(fleet, device)})
        view.show(node, device=device, can_aggregate=bool(adapter and adapter.can(Capability.aggregate)))

    @app_work(group="history", exclusive=True)
    async def fetch(self, msg: HistoryRequested) -> None:
        app = self.app
        view = app.nav.screen("metrics")
        profile = msg.metric_ref.split("/", 1)[0]
        buffered = await asyncio.to_thread(app.snapshots.history, msg.metric_ref, msg.start, msg.end)
        try:
            series = await app.adapters[profile].history(msg.metric_ref, msg.start, msg.end,
                                                        aggregate=msg.aggregate, bucket=msg.bucket)
        except Exception as e:
            if not buffered:
                view.set_error(str(e))
                return
            # the vendor is away: what this console has seen is still history
            from tuiot.domain import Series

            series = Series(metric=msg.metric_ref, points=[])
            app.notify(f"{profile}: {e}; showing values seen by this console", severity="warning")
        if buffered:
            from tuiot.fleet.snapshot import merge_series

            series = merge_series(series, buffered)
        view.set_series(series, request=msg)
