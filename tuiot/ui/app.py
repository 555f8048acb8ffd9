"""The console: six screens over every connected profile.

Workers do the I/O (through the adapters) and hand results to handlers on the UI
thread, which own `FleetState` and the widgets. Nothing waits on the network in a
handler: a slow vendor only delays its own nodes, and its profile shows as degraded or
offline in the status bar while the others keep refreshing.

`ConsoleApp` is the wiring: its widgets, keys and message handlers. What they do lives in
objects that take the app, one job each (as `Writes` and `PollPlan` do): `loader`
(tuiot.ui.loading), `snapshots`, `rounds` (the pollers), `devices`, `nav` (tuiot.ui.navigation),
`finder`, `live_feed`, `lists`, `naming`, `metric_history`, `copy_export` and `chrome`.
Textual's `@on` handlers must stay here: it collects them from MessagePump subclasses only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.notifications import SeverityLevel
from textual.widgets import ContentSwitcher, Footer, Input, Static, Tree

from tuiot.config import Config
from tuiot.domain import Rule, now_utc
from tuiot.fleet.collector import CollectorHold
from tuiot.fleet.poller import Poller
from tuiot.fleet.state import FleetState
from tuiot.ui import keys
from tuiot.ui.chrome import Chrome
from tuiot.ui.copy_export import CopyExport
from tuiot.ui.devices import Devices
from tuiot.ui.finder import Finder
from tuiot.ui.lists import Lists
from tuiot.ui.live_feed import LiveFeed
from tuiot.ui.loading import Loader
from tuiot.ui.messages import (  # the views' messages, without the views (mounted on first visit)
    CloseRequested,
    CopyRequested,
    GroupRequested,
    HistoryRequested,
    InstallationStatusRequested,
    JumpToDevice,
    LockRequested,
    NamesWanted,
    OpenMetric,
    OpenRule,
    RuleDeleteRequested,
    RuleEditRequested,
    RuleToggleRequested,
    TagAddRequested,
    TagRemoveRequested,
)
from tuiot.ui.metric_history import MetricHistory
from tuiot.ui.naming import Naming
from tuiot.ui.navigation import Navigation
from tuiot.ui.polling import PollPlan
from tuiot.ui.rounds import PollDone, Rounds
from tuiot.ui.snapshots import Snapshots
from tuiot.ui.stylesheets import styles_dir, stylesheets
from tuiot.ui.suggest import FleetSuggester
from tuiot.ui.views import TYPING_ACTIONS
from tuiot.ui.widgets.detail_pane import DetailPane
from tuiot.ui.widgets.fleet_tree import ChildrenWanted, FleetTree
from tuiot.ui.writes import Writes


class ConsoleApp(App[int]):
    TITLE = "tuiot"
    CSS_PATH = [str(p) for p in stylesheets()]
    AUTO_FOCUS = "#tree"
    COMMANDS = App.COMMANDS | {keys.ActionCommands}
    BINDINGS = keys.app_bindings()

    def __init__(
        self,
        *,
        config: Config,
        demo: Any = None,
        demo_factory: Callable[[], Any] | None = None,
        read_only: bool = False,
        offline: bool = False,
        poll_interval: float | None = None,
        clock: Callable[[], datetime] = now_utc,
        use_snapshot: bool = True,
        rules_path: str | None = None,
        collector: CollectorHold | None = None,
        demo_inline: bool = False,
    ) -> None:
        super().__init__()
        self.demo_inline = demo_inline  # build the demo on mount (tuiot.ui.loading.INLINE_DEMO), not in a thread
        self.rules_path = rules_path
        self.config = config
        self.demo = demo
        self.demo_factory = demo_factory
        self.read_only = read_only or config.settings.read_only
        self.offline = offline
        self.poll_interval = poll_interval
        self.clock = clock
        self.use_snapshot = use_snapshot and demo is None and demo_factory is None
        self.fleet = FleetState()
        self.adapters: dict[str, Any] = {}
        self.current = "devices"
        self.crumbs: list[str] = ["devices"]
        self.live_refs: list[str] = []  # what Live shows: one node, or the devices marked on Devices
        self.marked: set[str] = set()  # device refs marked on Devices (m)
        self.first_data_at: datetime | None = None
        self.first_painted_at: float | None = None  # perf_counter of the frame with the first tree
        self.exit_on_data = False
        self.rules: list[Rule] = []  # vendor and local rules read (tuiot.ui.lists loads them)
        self.pollers: dict[str, Poller] = {}
        self.local: Any = None  # tuiot.fleet.local_alarms.LocalRules once rules.toml is read
        # off while the first trees load (tuiot.fleet.collector); `tuiot` holds it from its start
        self.collector = collector or CollectorHold()
        self.chrome = Chrome(self)  # title and status bars (tuiot.ui.chrome)
        self.snapshots = Snapshots(self)  # what is kept across restarts (tuiot.ui.snapshots)
        self.devices = Devices(self)  # screen 1's cursor, detail and marks (tuiot.ui.devices)
        self.loader = Loader(self)  # connecting and the first trees (tuiot.ui.loading)
        self.naming = Naming(self)  # children read on demand, names of refs (tuiot.ui.naming)
        self.nav = Navigation(self)  # screens, crumbs, focus, esc, `:` (tuiot.ui.navigation)
        self.finder = Finder(self)  # / find and reveal (tuiot.ui.finder)
        self.live_feed = LiveFeed(self)  # what Live shows (tuiot.ui.live_feed)
        self.lists = Lists(self)  # alarms, identities, rules (tuiot.ui.lists)
        self.rounds = Rounds(self)  # the pollers and their rounds (tuiot.ui.rounds)
        self.metric_history = MetricHistory(self)  # screen 2's metric and series (tuiot.ui.metric_history)
        self.copy_export = CopyExport(self)  # y and e (tuiot.ui.copy_export)
        self.writes = Writes(self)
        self.plan = PollPlan(self)  # what each poll round fetches (tuiot.ui.polling)
        self.recent_metric: str | None = None  # the metric last opened or pointed at (a new rule starts there)
        self.whole_read: set[str] = set()  # profiles a whole-profile round has been delivered for

    @property
    def selection(self) -> str | None:
        """The first node Live shows (the profile, group or device picked with l)."""
        return self.live_refs[0] if self.live_refs else None

    @selection.setter
    def selection(self, ref: str | None) -> None:
        self.live_refs = [ref] if ref else []

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Toasts carry names, descriptions and vendor errors: text, never markup, from any
        widget too (a rule named 'Tank [/] level' would otherwise crash the console)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # ---- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="titlebar")
        with ContentSwitcher(initial="devices", id="screens"):
            with Horizontal(id="devices"):
                yield FleetTree(self.fleet, marked=lambda: self.marked, id="tree")
                # a ThingsPro gateway's attributes and last values are longer than 80x24 has
                # rows: the detail scrolls (ctrl+down/up from the tree, or tab to it)
                with VerticalScroll(id="detail-scroll"):
                    yield DetailPane("Select a node to see its details.", id="detail")
            # the other five screens are mounted on first visit (Navigation.screen): less to style before the first data
        yield Input(placeholder="/ find: name or id, across the whole fleet", id="find",
                    suggester=FleetSuggester(self.finder.candidates))
        yield Input(placeholder=":devices @profile · :alarms critical · :live · :q", id="cmdline")
        yield Static("", id="statusbar")
        # 80 columns: the screen's keys and `? help`, not half of them; ctrl+p is in help
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        import time

        self.mounted_at = time.perf_counter()  # `tuiot bench`: the first screen is up
        self.query_one("#find").display = False
        self.query_one("#cmdline").display = False
        tree = self.devices.tree()
        tree.focus()  # not the hidden find box: it would swallow the first keys
        tree.show_root = False
        tree.root.expand()
        self.chrome.title()
        if self.demo_factory is not None and self.demo is None:
            self.chrome.status()
            if not self.offline:
                self.collector.start()  # a 100k world is a million objects too: build it unscanned
            self.loader.start_demo()
        else:
            self.loader.connect_all()
        self.set_interval(1.0, self._tick)
        # a dialog closing shows the status bar as it is now, not as it was a tick ago
        self.screen_change_signal.subscribe(self, lambda _screen: self.chrome.status())

    def on_unmount(self) -> None:
        self.collector.thaw()

    # ---- tree events ----------------------------------------------------------------------------

    @on(ChildrenWanted)
    def _children_wanted(self, msg: ChildrenWanted) -> None:
        self.naming.load_children(msg.node)

    @on(NamesWanted)
    def _names_wanted(self, msg: NamesWanted) -> None:
        self.naming.name_metrics(msg.refs)

    @on(Tree.NodeHighlighted, "#tree")
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        self.devices.highlighted(event.node.data)

    @on(Tree.NodeSelected, "#tree")
    async def _selected(self, event: Tree.NodeSelected) -> None:
        ref = event.node.data
        node = self.fleet.nodes.get(ref) if isinstance(ref, str) else None
        if node is not None and node.kind == "metric":
            await self.action_open_selected()

    # ---- actions ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in TYPING_ACTIONS and (len(self.screen_stack) > 1 or isinstance(self.focused, Input)):
            return False  # a box, a form or a dialog has the keys: there `:` and `/` are text
        screens = keys.action_screens(action)
        if screens and self.current not in screens:
            return False  # the key belongs to another screen: let the focused widget have it
        if screens and any(self.query_one(box).has_focus for box in ("#find", "#cmdline")):
            return False  # typing in the find or command box
        return True

    async def run_action_for_view(self, action: str) -> None:
        """Run a registry action from the palette on whatever owns it."""
        view = self.nav.view()
        if view is not None and hasattr(view, f"action_{action.split('(')[0]}"):
            await view.run_action(action)
        else:
            await self.run_action(action)

    async def action_show(self, screen: str) -> None:
        await self.nav.show(screen)

    async def action_back(self) -> None:
        await self.nav.back()

    def action_help(self) -> None:
        from tuiot.ui.screens.help import HelpScreen  # on first ?, not at start-up

        self.push_screen(HelpScreen(self.current))

    def action_command_line(self) -> None:
        box = self.query_one("#cmdline", Input)
        box.value = ""
        self.nav.open_box(box)

    def action_filter(self) -> None:
        self.finder.open()

    def action_refresh(self) -> None:
        self.loader.refresh()

    async def action_live_selected(self) -> None:
        if pick := self.live_feed.devices_pick():
            self.live_feed.choose(pick)
        await self.nav.show("live")

    async def action_open_selected(self) -> None:
        ref = self.devices.cursor()
        node = self.fleet.nodes.get(ref or "")
        if node is not None and node.kind == "metric":
            await self.metric_history.open(node.ref)

    def action_scroll_detail(self, direction: int) -> None:
        """Half the Devices detail's height down (1) or up (-1), the tree keeping the keys."""
        self.devices.scroll_detail(direction)

    def action_copy_selected(self) -> None:
        self.copy_export.copy_selected()

    def action_export(self, fmt: str) -> None:
        self.copy_export.export(fmt)

    def action_mark_device(self) -> None:
        """Mark or unmark the device under the cursor for a bulk action (l, e, y)."""
        self.devices.mark()

    def action_next_match(self) -> None:
        self.finder.next_match()

    # ---- find and command line ------------------------------------------------------------------

    @on(Input.Submitted, "#find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        self.finder.find(event.value.strip().removeprefix("/").strip())  # the "/" that opened the box may echo into it

    @on(Input.Submitted, "#cmdline")
    async def _command(self, event: Input.Submitted) -> None:
        event.input.display = False
        await self.nav.command(event.value)

    # ---- the clock -----------------------------------------------------------------------------

    def _tick(self) -> None:
        """Once a second: repaint ages and the status bar (the pollers fetch on their own)."""
        if self.chrome.status_bar() is None:  # closing: the widgets are gone
            return
        if self.collector.overdue():
            self.collector.release()
        if self.current == "live":
            self.nav.screen("live").tick()
        elif self.current == "metrics":
            self.nav.screen("metrics").tick()
        elif self.current == "devices" and (cursor := self.devices.cursor()) and cursor.split("/", 2)[1] != "group":
            self.devices.show_detail(cursor)  # ages, a profile's state and rounds change by the second
        self.chrome.status()

    # ---- polling: one Poller per profile (tuiot.fleet.poller, tuiot.ui.rounds) -----------------

    @on(PollDone)
    def _poll_done(self, msg: PollDone) -> None:
        self.rounds.took(msg.result)

    @on(OpenMetric)
    async def _open_metric(self, msg: OpenMetric) -> None:
        await self.metric_history.open(msg.metric_ref)

    # ---- writes (tuiot.ui.writes): read-only check, confirmation, audit ---------------------------

    @on(RuleEditRequested)
    def _rule_edit_requested(self, msg: RuleEditRequested) -> None:
        self.writes.edit_rule(msg.rule)

    @on(OpenRule)
    def _open_rule(self, msg: OpenRule) -> None:
        """From an alarm to the rule that raised it: triage goes alarm → rule → fix."""
        a = msg.alarm
        rule = self.lists.rule_of(a)
        if rule is None:
            self.notify(f"rule {a.rule} of {a.profile} is not among the rules read (deleted, or not read yet)",
                        severity="warning")
            return
        self.writes.edit_rule(rule)

    @on(RuleToggleRequested)
    def _rule_toggle_requested(self, msg: RuleToggleRequested) -> None:
        self.writes.toggle_rule(msg.rule)

    @on(RuleDeleteRequested)
    def _rule_delete_requested(self, msg: RuleDeleteRequested) -> None:
        self.writes.delete_rule(msg.rule)

    @on(CloseRequested)
    def _close_requested(self, msg: CloseRequested) -> None:
        self.writes.close_alarms(msg.alarms)

    @on(LockRequested)
    def _lock(self, msg: LockRequested) -> None:
        self.writes.lock(msg.items, msg.lock)

    @on(TagAddRequested)
    def _tag_add(self, msg: TagAddRequested) -> None:
        self.writes.tag_add(msg.items, msg.name, msg.value, msg.replace)

    @on(TagRemoveRequested)
    def _tag_remove(self, msg: TagRemoveRequested) -> None:
        self.writes.tag_remove(msg.items, msg.name, msg.value)

    @on(InstallationStatusRequested)
    def _installation(self, msg: InstallationStatusRequested) -> None:
        self.writes.installation_status(msg.items, msg.status)

    @on(GroupRequested)
    def _group(self, msg: GroupRequested) -> None:
        self.writes.group(msg.items, msg.group)

    # ---- view messages ---------------------------------------------------------------------------

    @on(HistoryRequested)
    def _history_requested(self, msg: HistoryRequested) -> None:
        self.metric_history.fetch(msg)

    @on(JumpToDevice)
    def _jump(self, msg: JumpToDevice) -> None:
        if msg.device_ref in self.fleet.nodes:
            self.finder.reveal(msg.device_ref)
        else:
            self.notify(f"{msg.device_ref} is not loaded in the tree yet", severity="warning")

    @on(CopyRequested)
    def _copy_requested(self, msg: CopyRequested) -> None:
        self.copy_export.copy(msg.text)

    # ---- chrome ----------------------------------------------------------------------------------

    def on_resize(self) -> None:
        self.call_after_refresh(self.chrome.title)  # once the new size is laid out

    def on_mark_list_marks_changed(self) -> None:
        """A list's marks changed (MarkList.MarksChanged, by its handler name: importing the
        class would import the list views' widget at start-up, DESIGN §7)."""
        self.chrome.status()


def run_console(*, config: Config, demo: Any = None, read_only: bool = False, offline: bool = False,
                low_bandwidth: bool = False, demo_factory: Callable[[], Any] | None = None,
                rules_path: str | None = None, exit_on_data: bool = False, collector: CollectorHold | None = None,
                demo_inline: bool = False) -> int:
    if not config.profiles and demo is None and demo_factory is None:
        from tuiot.ui.first_run import FirstRun

        if collector is not None:
            collector.release()  # nothing loads while the first-run screen waits
        if FirstRun(css_path=styles_dir() / "app.tcss").run() != 2:
            return 0
        from tuiot.simulators.demo import build_demo

        demo_factory = build_demo
    from tuiot.fleet.linkmode import detect

    mode = detect(low_bandwidth=low_bandwidth)
    app = ConsoleApp(config=config, demo=demo, demo_factory=demo_factory, read_only=read_only, offline=offline,
                     poll_interval=None, rules_path=rules_path, collector=collector, demo_inline=demo_inline)
    if not mode.animations:
        app.animation_level = mode.animation_level
    app.exit_on_data = exit_on_data
    app.run(headless=exit_on_data)
    # Textual prints a crash's traceback itself; the shell and scripts still need to know
    return app.return_code if app.return_code is not None else 0
