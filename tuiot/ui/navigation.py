"""Getting around: the six screens (mounted on first visit), the breadcrumbs, focus, esc,
and the `:` command line.

Separate from the app because which screen shows, what each needs when it is shown and
where the keys go after are one piece of logic that every other part only triggers
(`show`, `switch`, `focus_current`) or asks about (`screen`, `shown`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import ContentSwitcher, Input

from tuiot.ui import keys

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp

VIEWS = ("metrics", "live", "alarms", "identities", "rules")  # the screens mounted on first visit
BOXES = ("#find", "#cmdline")


class Navigation:
    """Which screen a `ConsoleApp` shows, the way back, and where its keys go."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app
        self._mounts: dict[str, Any] = {}  # screens whose mount is under way (AwaitMount)

    # ---- screens --------------------------------------------------------------------------------

    def screen(self, name: str) -> Any:
        """The widget of screen `name`, mounted into the switcher on first use."""
        app = self.app
        switcher = app.query_one("#screens", ContentSwitcher)
        found = switcher.query_children(f"#{name}")
        if found:
            return found.first()
        # each view is imported here, on its first visit: start-up imports only what Devices
        # needs (DESIGN §7); a view's module brings its list widget and dialogs
        widget: Any
        naming = app.naming
        if name == "metrics":
            from tuiot.ui.views.metrics import MetricsView

            widget = MetricsView(clock=app.clock, id="metrics")
        elif name == "live":
            from tuiot.ui.views.live import LiveView

            widget = LiveView(name_of=naming.metric_name, clock=app.clock, stale_after=app.config.settings.stale_after, id="live")
        elif name == "alarms":
            from tuiot.ui.views.alarms import AlarmsView

            widget = AlarmsView(device_name=naming.known_name, metric_name=naming.known_name,
                                rule_name=naming.rule_name, id="alarms")
        elif name == "identities":
            from tuiot.ui.views.identities import IdentitiesView

            widget = IdentitiesView(id="identities")
        elif name == "rules":
            from tuiot.ui.views.rules import RulesView

            widget = RulesView(name_of=naming.source_name, id="rules")
            widget.set_rules(app.rules)
        else:
            raise ValueError(name)
        self._mounts[name] = switcher.mount(widget)
        return widget

    async def ready(self, name: str) -> None:
        """Mount screen `name` and wait until its widgets are in, so its keys work at once."""
        if name == "devices":
            return
        self.screen(name)
        pending = self._mounts.pop(name, None)
        if pending is not None:
            await pending

    def shown(self, name: str) -> Any:
        """The widget of screen `name` if it was ever mounted, else None."""
        found = self.app.query_one("#screens", ContentSwitcher).query_children(f"#{name}")
        return found.first() if found else None

    def view(self) -> Any:
        """The view of the screen shown (None on Devices)."""
        if self.app.current in VIEWS:
            return self.app.query_one(f"#{self.app.current}")
        return None

    async def show(self, screen: str) -> None:
        """A screen asked for by its key or name (`3` makes Live follow Devices first)."""
        if screen not in keys.SCREENS:
            return
        if screen == "live":
            self.app.live_feed.follow_devices()
        await self.ready(screen)
        self.switch(screen)

    def switch(self, screen: str) -> None:
        """Show a screen (mounting it if needed; its focus lands once it is mounted)."""
        app = self.app
        if screen not in keys.SCREENS:
            return
        if app.current == "live" and screen != "live" and (live := self.shown("live")) is not None:
            app.recent_metric = live.list.highlighted or app.recent_metric  # the value last looked at
        if app.current != screen:
            if screen in app.crumbs:  # each screen once: the trail stays short and esc never loops
                app.crumbs.remove(screen)
            app.crumbs.append(screen)
        app.current = screen
        if screen != "devices":
            self.screen(screen)
        app.query_one("#screens", ContentSwitcher).current = screen
        app.chrome.title()
        app.chrome.status()  # the marks counted are the shown screen's
        if screen == "live":
            app.live_feed.show()
            if not app.live_feed.paused():  # paused, nothing is wanted: a read now would only be held
                app.rounds.refresh_latest(app.live_refs or None)
        elif screen == "rules":
            app.lists.load_rules()
        elif screen == "alarms":
            app.lists.show_alarms()
        elif screen == "identities":
            app.loader.after_tree_loads()
            app.lists.show_identities()
            for name in app.pollers:  # lists read a while ago (screen 6 left, come back): now
                if app.lists.identities_listed(name) and app.plan.identities_stale(name):
                    app.rounds.wake(name)
        self.focus_current()

    # ---- keys -----------------------------------------------------------------------------------

    def focus_current(self) -> None:
        """Keys go to the screen on show: after switching, and when a find or command box closes."""
        app = self.app
        if app.current == "devices":
            self._focus(app.devices.tree())
            return
        # here, not at the top: start-up imports no view (DESIGN §7); the view shown has loaded it
        from tuiot.ui.views.base import ListBody

        view = self.screen(app.current)
        self._focus(view, view.list if isinstance(view, ListBody) else view)

    def _focus(self, widget: Any, target: Any = None) -> None:
        """Give the keys to `target` (`widget` itself by default) once `widget` is mounted."""
        app = self.app
        if widget is None:
            return
        if target is None:
            target = widget

        def now() -> None:
            # `6:live` typed in one burst: `:` opened the command box while the screen was still
            # mounting, and a deferred focus then took the keys back from it ('no command
            # ':ive''). A box or dialog opened meanwhile keeps them.
            if len(app.screen_stack) > 1 or any(app.query_one(b).display for b in BOXES):
                return
            app.screen.set_focus(target)

        if widget.is_mounted:
            now()
        else:
            app.call_after_refresh(now)

    async def back(self) -> None:
        """esc: close a box, else clear Devices' marks, else the previous screen on the trail."""
        app = self.app
        for box in BOXES:
            if app.query_one(box).display:
                app.query_one(box).display = False
                self.focus_current()
                return
        if app.current == "devices" and app.devices.clear_marks():
            return
        if len(app.crumbs) > 1:
            app.crumbs.pop()
            target = app.crumbs.pop()
            # not show(): going back to Live shows what Live showed, not the Devices cursor
            await self.ready(target)
            self.switch(target)

    def open_box(self, box: Input) -> None:
        """Show a find or command box and give it the keys now: keys typed in one burst
        after `:` (a paste, a slow SSH link) went to the screen below, where `l` locked."""
        box.display = True
        self.app.screen.set_focus(box)  # at once; box.focus() waits for the queue to drain

    async def command(self, text: str) -> None:
        """`:screen [@profile] [words]` (tuiot.ui.commandline); a bad word is a toast, nothing moves."""
        from tuiot.ui.commandline import CommandError, parse

        app = self.app
        self.focus_current()  # a command that fails leaves the keys with the screen
        try:
            cmd = parse(text, app.config.profiles)
        except CommandError as e:
            app.notify(str(e), severity="error", timeout=4)  # a typo's toast must not pile up over the list
            return
        if cmd is None:
            return
        if cmd.verb == "quit":
            app.exit(0)
            return
        if cmd.verb == "live" and cmd.profile:
            app.live_feed.choose([f"{cmd.profile}/profile/{cmd.profile}"])  # before the switch: it is the latest choice
        await self.show(cmd.verb)
        view = self.view()
        if cmd.verb == "devices" and cmd.text:
            app.finder.find(cmd.text, profile=cmd.profile)
        elif cmd.verb == "devices" and cmd.profile:
            app.finder.reveal(f"{cmd.profile}/profile/{cmd.profile}")
        elif cmd.verb == "alarms":
            # a word left out is that filter's default, not what an earlier command set:
            # `:alarms critical` after `:alarms closed` is the open critical ones
            view.apply_filter(severity=cmd.severity, profile=cmd.profile, status=cmd.status or "open")
        elif cmd.verb == "identities":
            view.apply_filter(profile=cmd.profile, pattern=cmd.text, status=cmd.status)
        elif cmd.verb == "rules" and cmd.text:
            view.apply_text(cmd.text)
