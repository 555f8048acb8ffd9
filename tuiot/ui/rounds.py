"""The pollers' side of the console: one Poller per profile, waking them, and taking each
round's results in.

Separate from the app because a round's results touch every part (the fleet, Live, the
lists, the snapshot, the status bar) in one fixed order, which belongs in one place;
what a round fetches is tuiot.ui.polling's, and the pollers themselves tuiot.fleet.poller's.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.message import Message

from tuiot.domain import Reading
from tuiot.fleet.poller import Polled, Poller

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp


class PollDone(Message):
    """A profile's poller finished a round (posted from its worker)."""

    def __init__(self, result: Polled) -> None:
        super().__init__()
        self.result = result


class Rounds:
    """Starts a `ConsoleApp`'s pollers, wakes them, and takes their rounds in."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app

    def start_poller(self, name: str) -> None:
        from tuiot.adapters.base import Capability

        app = self.app
        adapter = app.adapters[name]
        poller = Poller(
            name,
            adapter,
            interval=app.poll_interval or app.config.profiles[name].poll_interval,
            want=lambda: app.plan.want(name),
            deliver=lambda result: app.post_message(PollDone(result)),
            can_alarms=adapter.can(Capability.alarms),
            can_identities=adapter.can(Capability.identities),
            clock=app.clock,
        )
        app.pollers[name] = poller
        app.run_worker(poller.run(), name=f"poll {name}", group=f"poll:{name}", exit_on_error=False)

    def wake(self, name: str | None = None) -> None:
        """Start profile `name`'s next round now (None: every profile's)."""
        for pname, poller in self.app.pollers.items():
            if name is None or pname == name:
                poller.wake()

    def refresh_latest(self, refs: list[str] | None, only: str | None = None) -> None:
        """Ask the pollers for these refs now (None: every profile, whole)."""
        for name in self.app.plan.ask(refs, only):
            self.wake(name)

    def took(self, result: Polled) -> None:
        """A round's results, into the fleet and onto the screens."""
        app = self.app
        name = result.profile
        if name not in app.fleet.profiles or app.chrome.status_bar() is None:
            return  # a round that ended while the console was closing
        if result.asked:
            app.plan.asked_at[name] = time.monotonic()
        if result.errors:
            app.loader.failed(name, result.errors[0])
        elif result.asked:  # a round that sent nothing (alarms a vendor has not) proves nothing
            app.fleet.mark(name, "ok")
            app.devices.relabel_profile(name)
        if result.readings is not None:
            self.took_readings(name, result.readings, whole=result.want.latest is None)
        if result.alarms is not None:
            app.lists.took_alarms(name, result.alarms)
        if result.identities is not None:
            app.lists.took_identities(name, result.identities, started=result.started)
        app.chrome.status()

    def took_readings(self, name: str, readings: list[Reading], *, whole: bool) -> None:
        app = self.app
        app.fleet.put_readings(readings)
        if app.local is not None:
            app.lists.alarm_events(app.local.feed(readings))
        if whole:
            app.whole_read.add(name)
            app.snapshots.save(name, readings=readings)
        else:
            app.snapshots.merge_readings(name, readings)
        app.snapshots.buffer(readings)
        app.live_feed.show()
        if app.current == "devices":
            app.devices.show_cursor_detail()
