"""What screens 4, 5 and 6 list: the alarm inbox, the rules, the identities, and local rules.

Separate from the app because each list has its own loading rules (alarms come with the
poll rounds; identities once every tree is in; rules after each tree, vendor and local)
and its own "still filling" state, and writes (tuiot.ui.writes) tell it what changed.
The rules read stay on the app as `app.rules`: Live's colours, alarms' rule names and the
Rules screen read them too.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from tuiot.domain import Alarm, AlarmStatus, Identity, Rule, Severity
from tuiot.ui import labels
from tuiot.ui.workers import app_work

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp


class Lists:
    """A `ConsoleApp`'s alarms, identities and rules: loading them and showing them."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app
        # profiles whose first alarm sweep / identity list has come: until every one that can
        # has, those lists are still filling and their cursor keeps to the first row
        self._alarms_heard: set[str] = set()
        self._identities_heard: set[str] = set()
        # monotonic start of the request whose identity list is shown, per profile: a poll
        # round that began before a write's re-read must not put the old list back
        self._identities_from: dict[str, float] = {}

    def _read_only_profiles(self) -> list[str]:
        app = self.app
        return [n for n, p in app.config.profiles.items() if app.read_only or p.read_only]

    def unmark(self, refs: set[str]) -> None:
        """A bulk action is done with these rows: their marks go, wherever they were set."""
        for name in ("alarms", "identities"):
            if (view := self.app.nav.shown(name)) is not None:
                view.list.unmark(refs)

    # ---- alarms ---------------------------------------------------------------------------------

    def took_alarms(self, name: str, alarms: list[Alarm]) -> None:
        app = self.app
        if name in self._alarms_heard:  # the first sweep is the inbox as it stands, not news
            self._toast_new(name, alarms)
        self._alarms_heard.add(name)
        changed = app.fleet.set_alarms(name, alarms)
        app.devices.relabel(changed)
        if app.current == "devices":
            app.devices.show_cursor_detail(only=changed)  # a group's detail is not redrawn by the tick: its worst alarm is
        app.snapshots.save(name, alarms=[a for a in alarms if a.status is AlarmStatus.open])
        if app.current == "alarms":
            self.show_alarms()

    def _toast_new(self, name: str, alarms: list[Alarm]) -> None:
        """A vendor alarm opened since the last sweep toasts as a local rule's does: on call,
        the inbox must not need watching to learn of it."""
        seen = {a.id for a in self.app.fleet.alarms.get(name, []) if a.status is AlarmStatus.open}
        new = [a for a in alarms if a.status is AlarmStatus.open and a.id not in seen]
        if new:
            title, message = labels.alarms_toast(new, self.app.naming.known_name)
            urgent = any(a.severity in (Severity.critical, Severity.major) for a in new)
            self.app.notify(message, title=title, severity="error" if urgent else "warning", timeout=8)

    def show_alarms(self) -> None:
        app = self.app
        alarms = app.fleet.all_alarms()
        if app.local is not None:
            alarms += app.local.alarms()
        app.nav.screen("alarms").set_alarms(alarms, now=app.clock(), read_only=self._read_only_profiles(),
                                            loading=self.alarms_loading())

    def alarms_loading(self) -> bool:
        """Some healthy profile that has alarms has not answered its first sweep yet."""
        app = self.app
        return any(name not in self._alarms_heard and p.error is None
                   and (poller := app.pollers.get(name)) is not None and poller.can_alarms
                   for name, p in app.fleet.profiles.items())

    def alarm_events(self, events: list[Any]) -> None:
        """Local rules raised or cleared alarms: one toast per batch, and the inbox if shown."""
        app = self.app
        raised = [ev.alarm for ev in events if ev.kind == "raised"]
        if raised:  # one toast per batch, however many a rule raised at once
            title, message = labels.alarms_toast(raised, app.naming.known_name)
            app.notify(message, title=title, severity="error", timeout=8)
        if events and app.current == "alarms":
            self.show_alarms()

    def alarms_changed(self, profiles: set[str]) -> None:
        """Alarms were closed: the inbox shows it now, and the profiles' alarms are read again
        (their pollers' next round, at once)."""
        self.show_alarms()
        for name in profiles:
            self.app.rounds.wake(name)

    # ---- identities -----------------------------------------------------------------------------

    def _identities_loading(self) -> bool:
        """Some healthy profile that has identities has not listed them yet."""
        from tuiot.adapters.base import Capability

        app = self.app
        return any(name not in self._identities_heard and p.error is None
                   and (adapter := app.adapters.get(name)) is not None and adapter.can(Capability.identities)
                   for name, p in app.fleet.profiles.items())

    def identities_listed(self, name: str) -> bool:
        """A profile's first identity list has been asked for and answered (or failed)."""
        return name in self._identities_heard

    @app_work(group="identities")
    async def load_identities(self, name: str) -> None:
        """The first list, and a re-read after a write; screen 6 then keeps it fresh through
        the profile's poller (PollPlan.identities_due)."""
        from tuiot.adapters.base import Capability

        app = self.app
        adapter = app.adapters.get(name)
        if adapter is None or not adapter.can(Capability.identities):
            return
        started = app.plan.identities_at[name] = time.monotonic()
        try:
            items = await adapter.identities()
        except Exception as e:
            self._identities_heard.add(name)  # it will not come this round: the others are all there is
            app.notify(f"{name}: identities: {e}", severity="warning")
            return
        self.took_identities(name, items, started=started)

    def took_identities(self, name: str, items: list[Identity], *, started: float) -> None:
        app = self.app
        self._identities_heard.add(name)
        if started < self._identities_from.get(name, float("-inf")):
            return  # asked before the list shown was: older news
        self._identities_from[name] = started
        old = app.fleet.identities.get(name)
        app.fleet.set_identities(name, items)
        # a refresh that changed nothing writes nothing; 30,000 identities take ~50 ms to compare,
        # done in the saving thread rather than the console's
        app.snapshots.save(name, identities=items, unchanged=None if old is None else lambda: old == items)
        if app.current == "identities":
            self.show_identities()  # the ages move even when nothing else did

    def show_identities(self) -> None:
        app = self.app
        items = [i for lst in app.fleet.identities.values() for i in lst]
        caps = {n: {c.value for c in a.capabilities} for n, a in app.adapters.items()}
        checks = {n: a.group_problem for n, a in app.adapters.items()}  # a vendor's rule, said in the form
        app.nav.screen("identities").set_identities(items, capabilities=caps, now=app.clock(),
                                                    read_only=self._read_only_profiles(), group_checks=checks,
                                                    reading_time=app.fleet.newest_reading_time,
                                                    loading=self._identities_loading())

    def identities_changed(self, profiles: set[str], *, tree: bool = False) -> None:
        """Identities were changed: read them again (and with `tree`, the profile's tree)."""
        app = self.app
        for name in profiles:
            self.load_identities(name)
            if tree and name in app.config.profiles and not app.offline:
                app.loader.load_profile(app.config.profiles[name])

    # ---- rules ----------------------------------------------------------------------------------

    @app_work(group="rules", exclusive=True)
    async def load_rules(self) -> None:
        from tuiot.adapters.base import Capability

        app = self.app
        rules: list[Rule] = []
        try:
            from tuiot.fleet.rulefile import load_rules

            rules += await asyncio.to_thread(load_rules, app.rules_path)
        except Exception as e:
            app.notify(f"rules.toml: {e}", severity="error")
        for name, adapter in app.adapters.items():
            if adapter.can(Capability.rules) and app.fleet.profiles[name].loaded:
                try:
                    rules += await adapter.rules()
                except Exception as e:
                    app.notify(f"{name}: rules: {e}", severity="warning")
        app.rules = rules
        app.live_feed.index_thresholds()
        view = app.nav.shown("rules")
        if view is not None:  # else filled when screen 5 is first shown
            view.set_rules(app.rules)

    def rule_of(self, alarm: Alarm) -> Rule | None:
        """The rule that raised `alarm`, among the rules read."""
        # a local rule's alarms name it by its name, which is its id in rules.toml
        return next((r for r in self.app.rules if r.profile == alarm.profile and alarm.rule in (r.id, r.name)), None)

    @app_work(group="local-rules", exclusive=True)
    async def load_local_rules(self) -> None:
        """Local rules run in the console on every reading it fetches, for every vendor."""
        from tuiot.fleet.local_alarms import LocalAlarmStore, LocalRules
        from tuiot.fleet.rulefile import load_rules

        app = self.app
        try:
            rules = await asyncio.to_thread(load_rules, app.rules_path)
        except Exception as e:
            app.notify(f"rules: {e}", severity="error", timeout=10)
            return
        store = await asyncio.to_thread(LocalAlarmStore)
        if store.warning:
            app.notify(store.warning, severity="warning", timeout=10)
        if app.local is None:
            app.local = LocalRules(rules, store)
            app.live_feed.index_thresholds()
        else:
            self.alarm_events(app.local.set_rules(rules))
            app.live_feed.index_thresholds()

    def rule_profiles(self) -> set[str]:
        """Profiles local rules watch: their pollers read every value."""
        local = self.app.local
        if local is None:
            return set()
        return {r.profile for r in local.engine.rules if r.enabled}

    def rules_changed(self) -> None:
        """A rule was saved or deleted: the Rules list, threshold colours and local rules follow."""
        self.load_rules()
        self.load_local_rules()
