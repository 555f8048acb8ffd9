"""The console's side of the on-disk snapshot (tuiot.fleet.snapshot).

What a profile showed last time is shown at start, before its vendor answers; what the
console reads is saved (whole rounds), merged (parts read) and buffered as history.
Separate from the app because every one of these goes through a thread, never the UI's,
and none of the rest of the console needs to know how the store is laid out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tuiot.domain import Reading
from tuiot.ui.workers import app_work

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp


class Snapshots:
    """What a `ConsoleApp` keeps across restarts (nothing when it runs without a snapshot)."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app

    @app_work(group="snapshot")
    async def show(self, name: str) -> None:
        """Profile `name`'s last snapshot, until its live tree comes (with --offline, for good)."""
        from tuiot.fleet.snapshot import SnapshotStore

        app = self.app
        account = self.account(name)

        def load() -> Any:
            with SnapshotStore() as store:
                snap = store.load(name, account=account)
                why = store.mismatch(name, account) if snap is None else None
                return snap, why, store.take_problems()

        snap, why, problems = await asyncio.to_thread(load)
        for p in problems:
            app.notify(p, severity="warning")
        if snap is None or not snap.nodes or app.fleet.profiles[name].loaded:
            if app.offline:
                # a profile redefined for another account must not be shown the old one's fleet
                app.fleet.mark(name, "offline", f"no snapshot of this account: {why}" if why else "no snapshot yet")
                app.devices.relabel_profile(name)
                app.chrome.status()
            return
        shown = await app.loader.tree_loaded(name, [n for n in snap.nodes if n.kind in ("group", "device")])
        if not shown or app.fleet.profiles[name].loaded:
            return  # the live tree came while the snapshot's was going in: it wins
        app.fleet.put_readings(snap.readings or [])
        if snap.alarms is not None:
            app.devices.relabel(app.fleet.set_alarms(name, snap.alarms))
        app.fleet.profiles[name].snapshot_at = snap.updated_at
        app.fleet.profiles[name].state = "snapshot"
        app.devices.relabel_profile(name)  # it said "connecting" for as long as --offline ran
        app.chrome.status()

    def save(self, name: str, *, unchanged: Callable[[], bool] | None = None, **parts: Any) -> None:
        """`unchanged`: asked in the saving thread first; True leaves the snapshot as it is."""
        if not self.app.use_snapshot:
            return
        from tuiot.fleet.snapshot import SnapshotStore

        account = self.account(name)

        def save() -> None:
            if unchanged is not None and unchanged():
                return
            with SnapshotStore() as store:
                store.save(name, account=account, **parts)

        self.app.run_worker(asyncio.to_thread(save), exit_on_error=False, group="save")

    def merge_readings(self, name: str, readings: list[Reading]) -> None:
        """Values read in part (what was on screen) join the profile's snapshot: `--offline`
        then has what this console saw, not only what a whole-profile round read."""
        if not self.app.use_snapshot or not readings:
            return
        from tuiot.fleet.snapshot import SnapshotStore

        account = self.account(name)

        def merge() -> None:
            with SnapshotStore() as store:
                store.merge_readings(name, readings, account=account)

        self.app.run_worker(asyncio.to_thread(merge), exit_on_error=False, group="save")

    def buffer(self, readings: list[Reading]) -> None:
        """Every value read joins the history buffer (`history` reads it back)."""
        if not self.app.use_snapshot:
            return
        from tuiot.fleet.snapshot import SnapshotStore

        def buffer() -> None:
            with SnapshotStore() as store:
                store.append_readings(readings)

        self.app.run_worker(asyncio.to_thread(buffer), exit_on_error=False, group="buffer")

    def history(self, metric: str, start: datetime, end: datetime) -> list[Any]:
        """Values of `metric` seen live, kept across restarts (tops up short vendor windows)."""
        if not self.app.use_snapshot:
            return []
        from tuiot.fleet.snapshot import SnapshotStore

        with SnapshotStore() as store:
            return store.history(metric, start, end)

    def account(self, name: str) -> str | None:
        """Which vendor account a profile's snapshot belongs to (a redefined profile is another)."""
        from tuiot.fleet.snapshot import profile_account

        profile = self.app.config.profiles.get(name)
        return profile_account(profile) if profile is not None else None
