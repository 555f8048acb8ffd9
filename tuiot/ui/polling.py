"""What each profile's poller fetches next round: what is on screen, and no more.

The pollers themselves (tuiot.fleet.poller) know nothing of screens; before each round
one asks `PollPlan.want(profile)`, which looks at what the console shows: Live's
selection (a whole profile only while it is small, else the rows in view), a device
the user opened or rests on, every reading when local rules watch the profile, and
the alarm inbox once the trees are in, and the identity list once a round while screen 6
shows it. A profile with nothing on screen is read now and then as a sign of life, so a
vendor that dies is seen to die.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tuiot.fleet.poller import Want

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp

ALARM_GRACE = 5.0  # s a loaded profile waits for the other trees before its first alarm sweep
# Live over a whole profile re-reads all of it each round up to this many values; past it,
# only the rows on screen (and a page either side): 140,000 values every round starved the
# console and the profile's own poller.
LIVE_WHOLE = 5_000
PROBE_EVERY = 30.0  # s: a profile with nothing on screen is read this often, as a sign of life


class PollPlan:
    """The console's side of polling: what each round should fetch, and when it last asked."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app
        self.asked: dict[str, set[str]] = {}  # one-shot latest refs per profile (an opened device)
        self.asked_at: dict[str, float] = {}  # monotonic time of each profile's last request
        self.loaded_at: dict[str, float] = {}  # monotonic time each profile's tree came in
        self.identities_at: dict[str, float] = {}  # monotonic time of each profile's last identity read

    def ask(self, refs: list[str] | None, only: str | None = None) -> set[str]:
        """These refs in the next round (None: every profile, whole); the profiles to wake."""
        app = self.app
        woken = set()
        for ref in refs or [f"{n}/profile/{n}" for n in app.config.profiles]:
            name = ref.split("/", 1)[0]
            if only and name != only:
                continue
            self.asked.setdefault(name, set()).add(ref)
            woken.add(name)
        return woken

    def want(self, name: str) -> Want:
        """What profile `name` should fetch this round."""
        app = self.app
        refs = self.asked.pop(name, set())
        identities = self.identities_due(name)
        if identities:
            self.identities_at[name] = time.monotonic()
        whole = f"{name}/profile/{name}"
        if whole in refs:
            # a whole profile asked for (a refresh of everything, Live on the profile just
            # left): read it whole while that is cheap; vendors take no profile ref as a source
            refs.discard(whole)
            if app.fleet.reading_count(name) <= LIVE_WHOLE:
                return Want(latest=None, alarms=self.alarms_due(name), identities=identities)
        latest: tuple[str, ...] | None
        if name in app.lists.rule_profiles():
            latest = None  # local rules need every reading, on screen or not
        else:
            live = app.live_feed.view()
            if live is not None and not live.paused:
                if f"{name}/profile/{name}" in app.live_refs:
                    if app.fleet.reading_count(name) <= LIVE_WHOLE:
                        return Want(latest=None, alarms=self.alarms_due(name), identities=identities)
                    shown = live.list.in_view(margin=live.list.size.height)
                    refs.update(r for r in shown if r.startswith(f"{name}/"))
                refs.update(r for r in app.live_refs if r.startswith(f"{name}/") and "/profile/" not in r)
            latest = tuple(sorted(refs))
        alarms = self.alarms_due(name)
        can_alarms = (poller := app.pollers.get(name)) is not None and poller.can_alarms
        if latest == () and not (alarms and can_alarms) and not identities and self._probe_due(name):
            # nothing of it on screen: one small read now and then keeps its state honest
            # (a dead vendor showed "ok" with a fresh age, since nothing was ever asked)
            latest = self._probe(name)
        return Want(latest=latest, alarms=alarms, identities=identities)

    def identities_due(self, name: str) -> bool:
        """A profile's identities are read again while screen 6 shows them, once per poll
        interval (a round woken early for something else leaves them be: 30,000 identities
        are no small read). Off screen 6 nobody reads them; showing it asks at once
        (`identities_stale`). The first list comes from the console's own load, not from here."""
        app = self.app
        poller = app.pollers.get(name)
        if app.current != "identities" or poller is None or not poller.can_identities:
            return False
        if not app.lists.identities_listed(name):
            return False
        return self.identities_stale(name)

    def identities_stale(self, name: str) -> bool:
        """The profile's identities were last read a poll interval ago or more."""
        poller = self.app.pollers.get(name)
        every = poller.interval if poller is not None else PROBE_EVERY
        # a round comes an interval after the last one ended: its start is never sooner, but the
        # event loop's timers may fire a hair early
        return time.monotonic() - self.identities_at.get(name, float("-inf")) >= every * 0.9

    def alarms_due(self, name: str) -> bool:
        """A profile's alarms are polled once its tree is in and, while other trees still load,
        after a short grace: a 30k-device alarm sweep then does not slow the others' trees,
        and a vendor that never answers delays nobody's alarms by more than the grace."""
        app = self.app
        p = app.fleet.profiles.get(name)
        if p is None or not p.loaded:
            return False
        return app.loader.all_trees_in() or time.monotonic() - self.loaded_at.get(name, 0.0) > ALARM_GRACE

    def _probe_due(self, name: str) -> bool:
        poller = self.app.pollers.get(name)
        every = max(PROBE_EVERY, 3 * poller.interval) if poller is not None else PROBE_EVERY
        return time.monotonic() - self.asked_at.get(name, 0.0) >= every

    def _probe(self, name: str) -> tuple[str, ...]:
        """One known metric (or device) of the profile, to read as a sign of life."""
        fleet = self.app.fleet
        prefix = f"{name}/"
        ref = next((k for k in fleet.readings if k.startswith(prefix)), None)
        if ref is None:
            ref = next((n.ref for n in fleet.nodes.values() if n.profile == name and n.kind == "device"), None)
        return (ref,) if ref else ()
