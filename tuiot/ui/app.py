"""The console: six screens over every connected profile.

Workers do the I/O (through the adapters) and hand results to handlers on the UI
thread, which own `FleetState` and the widgets. Nothing waits on the network in a
handler: a slow vendor only delays its own nodes, and its profile shows as degraded or
offline in the status bar while the others keep refreshing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Footer, Input, Static, Tree

from tuiot.config import Config, Profile
from tuiot.domain import Alarm, AlarmStatus, Identity, Node, Reading, Rule, Severity, now_utc
from tuiot.fleet.collector import CollectorHold
from tuiot.fleet.poller import Polled, Poller
from tuiot.ui.polling import LIVE_WHOLE, PollPlan
from tuiot.fleet.state import FleetState, ProfileState
from tuiot.ui import keys, labels
from tuiot.ui.stylesheets import stylesheets
from tuiot.ui.suggest import FleetSuggester
from tuiot.ui.views import TYPING_ACTIONS, CopyRequested, JumpToDevice, NamesWanted
from tuiot.ui.views.alarms import AlarmsView, CloseRequested, OpenRule
from tuiot.ui.views.base import ListBody
from tuiot.ui.views.identities import (
    GroupRequested,
    IdentitiesView,
    InstallationStatusRequested,
    LockRequested,
    TagAddRequested,
    TagRemoveRequested,
)
from tuiot.ui.views.live import LiveView, OpenMetric
from tuiot.ui.views.metrics import HistoryRequested, MetricsView
from tuiot.ui.views.rules import RuleDeleteRequested, RuleEditRequested, RulesView, RuleToggleRequested
from tuiot.ui.widgets.detail_pane import DetailPane
from tuiot.ui.widgets.fleet_tree import ChildrenWanted, FleetTree
from tuiot.ui.widgets.marks import MarkList
from tuiot.ui.writes import Writes

INDEX_SLICE = 4_000  # nodes indexed per turn of the event loop when a tree arrives
# A demo this small (devices) is built as the console mounts, not in a worker thread: its
# world takes ~30 ms, and a thread contending for the GIL with the first screen's drawing
# made its first data 55 ms later. A larger one builds behind the first screen.
INLINE_DEMO = 2_000
DETAIL_VALUES_AFTER = 0.4  # s the Devices cursor rests on a device before its values are asked
LIVE_BURST_ROWS = 5_000  # past this many rows, Live repaints for names arriving at most once per:
LIVE_BURST_WAIT = 1.0  # s


def styles_path() -> Path:
    """Styles ship inside the wheel as tuiot/styles; in a checkout they are the top-level styles/."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "styles"
    return packaged if packaged.is_dir() else here.parent / "styles"


class PollDone(Message):
    """A profile's poller finished a round (posted from its worker)."""

    def __init__(self, result: Polled) -> None:
        super().__init__()
        self.result = result


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
        self.demo_inline = demo_inline  # build the demo on mount (INLINE_DEMO), not in a thread
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
        self._live_pick_seen: list[str] | None = None  # what Devices pointed at when live_refs was chosen
        self.marked: set[str] = set()  # device refs marked on Devices (m)
        self._thresholds: Any = None  # tuiot.fleet.thresholds.ThresholdIndex of vendor + local rules
        self.matches: list[Node] = []
        self.match_index = 0
        self.first_data_at: datetime | None = None
        self.first_painted_at: float | None = None  # perf_counter of the frame with the first tree
        self.exit_on_data = False
        self._rules: list[Rule] = []
        self._mounts: dict[str, Any] = {}  # screens whose mount is under way (AwaitMount)
        self.pollers: dict[str, Poller] = {}
        self._identities_due: set[str] = set()
        # profiles whose first alarm sweep / identity list has come: until every one that can
        # has, those lists are still filling and their cursor keeps to the first row
        self._alarms_heard: set[str] = set()
        self._identities_heard: set[str] = set()
        # monotonic start of the request whose identity list is shown, per profile: a poll
        # round that began before a write's re-read must not put the old list back
        self._identities_from: dict[str, float] = {}
        self._settled = False  # every profile's first tree load has ended (loaded or failed)
        self._tree_pass: dict[str, int] = {}  # profile → its latest tree shown (_tree_loaded)
        self.local: Any = None  # tuiot.fleet.local_alarms.LocalRules once rules.toml is read
        self._local_rules_due = False  # rules.toml waits for the first tree (_local_rules_now)
        self._naming: set[str] = set()  # devices whose sensors Live asked for, to name their metrics
        # off while the first trees load (tuiot.fleet.collector); `tuiot` holds it from its start
        self._collector = collector or CollectorHold()
        self.writes = Writes(self)
        self.plan = PollPlan(self)  # what each poll round fetches (tuiot.ui.polling)
        self.recent_metric: str | None = None  # the metric last opened or pointed at (a new rule starts there)
        self._secrets: Any = None  # tuiot.credentials.SecretSource of the connected profiles
        self._declined: set[str] = set()  # profiles whose secret prompt was skipped (esc)
        self._values_timer: Timer | None = None  # asks a device's last values for the detail pane
        self._detail_ref: str | None = None  # what the Devices detail shows
        self._live_keys_of: tuple | None = None  # what _live_keys_cached was computed from
        self._live_keys_cached: list[str] = []
        self._live_names_timer: Timer | None = None  # one Live repaint for a burst of names (_names_arrived)
        self.whole_read: set[str] = set()  # profiles a whole-profile round has been delivered for

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
            # the other five screens are mounted on first visit (_screen): less to style before the first data
        yield Input(placeholder="/ find: name or id, across the whole fleet", id="find",
                    suggester=FleetSuggester(self._find_candidates))
        yield Input(placeholder=":devices @profile · :alarms critical · :live · :q", id="cmdline")
        yield Static("", id="statusbar")
        # 80 columns: the screen's keys and `? help`, not half of them; ctrl+p is in help
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        import time

        self.mounted_at = time.perf_counter()  # `tuiot bench`: the first screen is up
        self.query_one("#find").display = False
        self.query_one("#cmdline").display = False
        tree = self._tree()
        tree.focus()  # not the hidden find box: it would swallow the first keys
        tree.show_root = False
        tree.root.expand()
        self._title()
        if self.demo_factory is not None and self.demo is None:
            self._status()
            if not self.offline:
                self._collector.start()  # a 100k world is a million objects too: build it unscanned
            if self.demo_inline:
                self._build_demo_inline()
            else:
                self._build_demo()
        else:
            self._connect_all()
        self.set_interval(1.0, self._tick)
        # a dialog closing shows the status bar as it is now, not as it was a tick ago
        self.screen_change_signal.subscribe(self, lambda _screen: self._status())

    def on_unmount(self) -> None:
        self._collector.thaw()

    def _screen(self, name: str) -> Any:
        """The widget of screen `name`, mounted into the switcher on first use."""
        switcher = self.query_one("#screens", ContentSwitcher)
        found = switcher.query_children(f"#{name}")
        if found:
            return found.first()
        widget: Any
        if name == "metrics":
            widget = MetricsView(clock=self.clock, id="metrics")
        elif name == "live":
            widget = LiveView(name_of=self._metric_name, clock=self.clock, stale_after=self.config.settings.stale_after, id="live")
        elif name == "alarms":
            widget = AlarmsView(device_name=self._known_name, metric_name=self._known_name,
                                rule_name=self._rule_name, id="alarms")
        elif name == "identities":
            widget = IdentitiesView(id="identities")
        elif name == "rules":
            widget = RulesView(name_of=self._source_name, id="rules")
            widget.set_rules(self._rules)
        else:
            raise ValueError(name)
        self._mounts[name] = switcher.mount(widget)
        return widget

    async def _screen_ready(self, name: str) -> None:
        """Mount screen `name` and wait until its widgets are in, so its keys work at once."""
        if name == "devices":
            return
        self._screen(name)
        pending = self._mounts.pop(name, None)
        if pending is not None:
            await pending

    def _shown(self, name: str) -> Any:
        """The widget of screen `name` if it was ever mounted, else None."""
        found = self.query_one("#screens", ContentSwitcher).query_children(f"#{name}")
        return found.first() if found else None

    # ---- connecting ---------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="demo")
    def _build_demo(self) -> None:
        try:
            demo = self.demo_factory()  # type: ignore[misc]
        except Exception as e:  # a toast and a status line that says so, never a silent wait
            self.call_from_thread(self._demo_failed, e)
            return
        self.call_from_thread(self._demo_ready, demo)

    def _build_demo_inline(self) -> None:
        try:
            demo = self.demo_factory()  # type: ignore[misc]
        except Exception as e:
            self._demo_failed(e)
            return
        self._demo_ready(demo)

    def _demo_failed(self, e: Exception) -> None:
        self.demo_factory = None
        self.notify(f"the demo fleet could not be built: {e}", severity="error", timeout=20)
        self._status()

    def _demo_ready(self, demo: Any) -> None:
        self.demo = demo
        self.config = Config(settings=self.config.settings, profiles={p.name: p for p in demo.profiles})
        self._connect_all()

    def _connect_all(self) -> None:
        from tuiot.adapters import load_adapter
        from tuiot.credentials import SecretSource

        if self.demo is not None:
            secrets = SecretSource(fixed=self.demo.secrets, use_keyring=False)
            transport = self.demo.transport
        else:
            secrets = SecretSource(prompt=self._ask_secret)
            transport = None
        self._secrets = secrets
        tree = self._tree()
        if self.config.profiles and not self.offline:
            self._collector.start()
        else:
            self._collector.release()  # no first trees to wait for
        for profile in self.config.profiles.values():
            self.fleet.profiles[profile.name] = ProfileState(profile.name, profile.vendor)
            tree.add_profile(profile.name)
            try:
                self.adapters[profile.name] = load_adapter(profile.vendor)(profile, secrets, transport=transport)
            except Exception as e:  # a broken plug-in shows as offline, never a crash
                self.fleet.mark(profile.name, "offline", str(e))
                continue
            if self.use_snapshot:
                self._show_snapshot(profile.name)
            if not self.offline:
                self._load_profile(profile)
                self._start_poller(profile.name)
        if tree.root.children and tree.cursor_node is None:
            tree.move_cursor(tree.root.children[0])  # the detail pane speaks of the first profile at once
        if self.offline or not self.adapters:
            self._load_local_rules()
        else:
            # rules.toml and its engine are read once the first tree is on screen (or every
            # load has ended): they act on readings, which come after the trees
            self._local_rules_due = True
        if self.selection is None and self.config.profiles:
            self.selection = f"{next(iter(self.config.profiles))}/profile/{next(iter(self.config.profiles))}"
        self._status()

    @work(exit_on_error=False, group="snapshot")
    async def _show_snapshot(self, name: str) -> None:
        from tuiot.fleet.snapshot import SnapshotStore

        account = self._account(name)

        def load() -> Any:
            with SnapshotStore() as store:
                snap = store.load(name, account=account)
                why = store.mismatch(name, account) if snap is None else None
                return snap, why, store.take_problems()

        snap, why, problems = await asyncio.to_thread(load)
        for p in problems:
            self.notify(p, severity="warning")
        if snap is None or not snap.nodes or self.fleet.profiles[name].loaded:
            if self.offline:
                # a profile redefined for another account must not be shown the old one's fleet
                self.fleet.mark(name, "offline", f"no snapshot of this account: {why}" if why else "no snapshot yet")
                self._refresh_profile_label(name)
                self._status()
            return
        shown = await self._tree_loaded(name, [n for n in snap.nodes if n.kind in ("group", "device")])
        if not shown or self.fleet.profiles[name].loaded:
            return  # the live tree came while the snapshot's was going in: it wins
        self.fleet.put_readings(snap.readings or [])
        if snap.alarms is not None:
            self._relabel(self.fleet.set_alarms(name, snap.alarms))
        self.fleet.profiles[name].snapshot_at = snap.updated_at
        self.fleet.profiles[name].state = "snapshot"
        self._refresh_profile_label(name)  # it said "connecting" for as long as --offline ran
        self._status()

    @work(exit_on_error=False)
    async def _load_profile(self, profile: Profile) -> None:
        adapter = self.adapters[profile.name]
        try:
            nodes = await adapter.tree(depth="device")
        except Exception as e:
            self._failed(profile.name, e)
            return
        self.fleet.profiles[profile.name].loaded = True
        self.plan.loaded_at[profile.name] = time.monotonic()
        self.fleet.mark(profile.name, "ok")
        if not await self._tree_loaded(profile.name, nodes):
            return  # a newer load of this profile is showing its tree
        self._save(profile.name, nodes=nodes)
        self._wake(profile.name)  # the alarm inbox is due now that devices are known
        self._identities_due.add(profile.name)
        self._after_tree_loads()
        self._load_rules()

    def all_trees_in(self) -> bool:
        """Every profile's first tree load has ended, loaded or failed."""
        return all(p.loaded or p.error is not None for p in self.fleet.profiles.values())

    def _after_tree_loads(self) -> None:
        """Identity lists (30k for a big Murano) load once every tree is in, or at once on screen 6:
        they share one CPU with the tree loads, and the tree is what makes the fleet browsable."""
        settled = self.all_trees_in()
        if settled and not self._settled:
            self._settled = True
            self._local_rules_now()  # every load failed: no first tree came to do it
            self._collector.release()
            self._wake()  # alarm sweeps held back while trees loaded (PollPlan.alarms_due) run now
        if settled or self.current == "identities":
            for name in sorted(self._identities_due):
                self._load_identities(name)
            self._identities_due.clear()

    def _local_rules_now(self) -> None:
        if self._local_rules_due:
            self._local_rules_due = False
            self._load_local_rules()

    @work(exit_on_error=False, group="local-rules", exclusive=True)
    async def _load_local_rules(self) -> None:
        """Local rules run in the console on every reading it fetches, for every vendor."""
        from tuiot.fleet.local_alarms import LocalAlarmStore, LocalRules
        from tuiot.fleet.rulefile import load_rules

        try:
            rules = await asyncio.to_thread(load_rules, self.rules_path)
        except Exception as e:
            self.notify(f"rules: {e}", severity="error", timeout=10)
            return
        store = await asyncio.to_thread(LocalAlarmStore)
        if store.warning:
            self.notify(store.warning, severity="warning", timeout=10)
        if self.local is None:
            self.local = LocalRules(rules, store)
            self._index_thresholds()
        else:
            self._alarm_events(self.local.set_rules(rules))
            self._index_thresholds()

    def rule_profiles(self) -> set[str]:
        """Profiles local rules watch: their pollers read every value."""
        if self.local is None:
            return set()
        return {r.profile for r in self.local.engine.rules if r.enabled}

    def _alarm_events(self, events: list[Any]) -> None:
        raised = [ev.alarm for ev in events if ev.kind == "raised"]
        if raised:  # one toast per batch, however many a rule raised at once
            title, message = labels.alarms_toast(raised, self._known_name)
            self.notify(message, title=title, severity="error", timeout=8)
        if events and self.current == "alarms":
            self._show_alarms()

    def _failed(self, name: str, e: Exception) -> None:
        from tuiot.adapters.base import AuthError, Unavailable

        p = self.fleet.profiles[name]
        if isinstance(e, AuthError) and self._secrets is not None and self._secrets.where(name) == "session":
            self._secrets.forget(name)  # a typed secret the vendor refused: the next round asks again
        state = "offline" if isinstance(e, Unavailable) else "degraded"
        if p.snapshot_at is not None and state == "offline":
            state = "snapshot"
        news = (p.state, p.error) != (state, str(e))
        self.fleet.mark(name, state, str(e))
        if p.snapshot_at:
            p.state = "snapshot"
        if news:  # a vendor that stays down toasts once, not every retry
            self.notify(f"{name}: {e}", severity="error", timeout=8)
        self._after_tree_loads()
        self._refresh_profile_label(name)
        if self.current == "live":
            self._live_show()  # its values are stale now, and say so
        self._status()

    def _save(self, name: str, *, unchanged: Callable[[], bool] | None = None, **parts: Any) -> None:
        """`unchanged`: asked in the saving thread first; True leaves the snapshot as it is."""
        if not self.use_snapshot:
            return
        from tuiot.fleet.snapshot import SnapshotStore

        account = self._account(name)

        def save() -> None:
            if unchanged is not None and unchanged():
                return
            with SnapshotStore() as store:
                store.save(name, account=account, **parts)

        self.run_worker(asyncio.to_thread(save), exit_on_error=False, group="save")

    def _merge_readings(self, name: str, readings: list[Reading]) -> None:
        """Values read in part (what was on screen) join the profile's snapshot: `--offline`
        then has what this console saw, not only what a whole-profile round read."""
        if not self.use_snapshot or not readings:
            return
        from tuiot.fleet.snapshot import SnapshotStore

        account = self._account(name)

        def merge() -> None:
            with SnapshotStore() as store:
                store.merge_readings(name, readings, account=account)

        self.run_worker(asyncio.to_thread(merge), exit_on_error=False, group="save")

    def _account(self, name: str) -> str | None:
        """Which vendor account a profile's snapshot belongs to (a redefined profile is another)."""
        from tuiot.fleet.snapshot import profile_account

        profile = self.config.profiles.get(name)
        return profile_account(profile) if profile is not None else None

    async def _tree_loaded(self, name: str, nodes: list[Node]) -> bool:
        """Show a profile's new tree; False when a newer one for the profile came meanwhile.

        30,000 nodes indexed in one go held the console ~150 ms: they go in slices, a
        turn of the event loop (keys, drawing) between slices."""
        self._tree_pass[name] = turn = self._tree_pass.get(name, 0) + 1
        self.fleet.replace_children(f"{name}/profile/{name}", [])
        for start in range(0, len(nodes), INDEX_SLICE):
            if start:
                await asyncio.sleep(0)
                if self._tree_pass[name] != turn:
                    return False
            self.fleet.add_nodes(nodes[start:start + INDEX_SLICE])
        if not await self._tree().set_roots(name, lambda: self._tree_pass[name] == turn):
            return False
        if self.first_data_at is None:
            self.first_data_at = now_utc()
            self.call_after_refresh(self._local_rules_now)
            self._tree().when_painted(self._painted_first_data)
        self._status()
        return True

    def _painted_first_data(self) -> None:
        """The first tree's lines are in a frame: `tuiot bench` counts start-up to here
        (with --exit-on-data it says so on stdout and exits)."""
        import time

        self.first_painted_at = time.perf_counter()
        if self.exit_on_data:
            import os

            os.write(1, b"first data\n")  # headless: stdout is not the screen
            self.exit(0)

    def _tree(self) -> FleetTree:
        return self.query_one("#tree", FleetTree)

    def _relabel(self, refs: set[str]) -> None:
        self._tree().relabel(refs)

    def _refresh_profile_label(self, name: str) -> None:
        self._tree().relabel_profile(name)

    # ---- tree events ----------------------------------------------------------------------------

    @on(ChildrenWanted)
    def _children_wanted(self, msg: ChildrenWanted) -> None:
        self._load_children(msg.node)

    @work(exit_on_error=False, group="children")
    async def _load_children(self, node: Node) -> None:
        try:
            kids = await self.adapters[node.profile].children(node.ref)
        except Exception as e:
            self.notify(f"{node.name}: {e}", severity="error")
            kids = []
        if self._keep_children(node.ref, kids):  # else loaded for names (Live, Rules): no line to fill
            self._refresh_latest([node.ref])
        self._names_arrived()

    def _keep_children(self, ref: str, kids: list[Node]) -> bool:
        """Store what was read below `ref`; True when the tree had that node open to fill."""
        self.fleet.replace_children(ref, kids)
        return self._tree().fill_children(ref)

    async def children_of(self, ref: str) -> list[Node]:
        """The nodes below `ref`: the fleet's, or read from the vendor and kept (as an expand
        keeps them), so what a picker reads the tree need not read again."""
        kids = self.fleet.kids(ref)
        if not kids:
            kids = await self.adapters[ref.split("/", 1)[0]].children(ref)
            self._keep_children(ref, kids)
        return kids

    def _names_arrived(self) -> None:
        """A device's metrics were loaded: the screens that show metric names repaint."""
        if self.current == "live":
            self._live_show_soon()
        elif self.current == "devices" and (cursor := self._tree_cursor()):
            self._show_detail(cursor)  # its last values, under their names now
        elif self.current in ("rules", "alarms") and (view := self._shown(self.current)) is not None:
            view.refilter()

    def _name_device(self, ref: str) -> None:
        """Load a device's sensors and metrics (once) so its metrics show names, not ids."""
        node = self.fleet.nodes.get(ref)
        if node is not None and node.kind == "device" and ref not in self._naming and not self.fleet.kids(ref):
            self._naming.add(ref)
            self._load_children(node)

    @on(NamesWanted)
    def _name_metrics(self, msg: NamesWanted) -> None:
        """Metrics are named only once their device's metrics are loaded (rule sources, an
        alarm's metric): find each one's device (a latest-value read names it) and load
        that device's metrics, once."""
        unknown: dict[str, list[str]] = {}
        for ref in msg.refs:
            if "/metric/" not in ref or ref in self.fleet.nodes or ref in self._naming:
                continue
            self._naming.add(ref)
            r = self.fleet.readings.get(ref)
            if r is not None and r.device:
                self._name_device(r.device)
            else:
                unknown.setdefault(ref.split("/", 1)[0], []).append(ref)
        for profile, refs in unknown.items():
            self._locate_metrics(profile, refs)

    @work(exit_on_error=False, group="naming")
    async def _locate_metrics(self, profile: str, refs: list[str]) -> None:
        adapter = self.adapters.get(profile)
        if adapter is None or not self.fleet.profiles.get(profile, None) or self.offline:
            return
        try:
            readings = await adapter.latest(refs)
        except Exception:
            return  # names are a courtesy: the sources keep their ids, and the poller reports the profile's state
        self.fleet.put_readings(readings)
        for r in readings:
            if r.device:
                self._name_device(r.device)

    @on(Tree.NodeHighlighted, "#tree")
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        ref = event.node.data
        if isinstance(ref, str) and not ref.startswith("more:"):
            self._show_detail(ref)
            node = self.fleet.nodes.get(ref)
            if node is not None and node.kind == "metric":
                self.recent_metric = ref
            if node is not None and node.kind == "device" and not self.offline and \
                    (not self.fleet.metrics_below(ref) or not self.fleet.kids(ref)):
                # its last values, for the detail pane, and their names: a poll round brings a
                # device's values under their ids, and the pane listed '0dc5…279f0: 229.9 V'
                # until the device was opened; asked once the cursor rests on it
                if self._values_timer is not None:
                    self._values_timer.stop()
                self._values_timer = self.set_timer(DETAIL_VALUES_AFTER, lambda: self._values_for(ref))

    def _values_for(self, ref: str) -> None:
        try:
            at = self._tree_cursor()
        except NoMatches:  # the timer outlived the screens: the console is closing
            return
        if at == ref:
            if not self.fleet.metrics_below(ref):
                self._refresh_latest([ref])
            self._name_device(ref)  # a metric id ('0dc5cc89…79f0: 227.6 V') says nothing; its name does

    @on(Tree.NodeSelected, "#tree")
    async def _selected(self, event: Tree.NodeSelected) -> None:
        ref = event.node.data
        node = self.fleet.nodes.get(ref) if isinstance(ref, str) else None
        if node is not None and node.kind == "metric":
            await self.action_open_selected()

    def _show_detail(self, ref: str) -> None:
        detail = self.query_one("#detail-scroll > #detail", DetailPane)  # each view has a #detail too
        if ref != self._detail_ref:  # another node starts at its top; the same one, redrawn, stays put
            self._detail_ref = ref
            self.query_one("#detail-scroll", VerticalScroll).scroll_home(animate=False)
        node = self.fleet.nodes.get(ref)
        if node is not None:
            detail.show(lambda width: labels.node_detail(node, self.fleet, self.clock(), width=width))
            return
        p = self.fleet.profiles.get(ref.split("/", 1)[0])
        if p is None:
            return
        poller = self.pollers.get(p.name)
        detail.show(lambda width: labels.profile_detail(
            p, self.clock(), devices=self.fleet.device_count(p.name),
            poll_interval=poller.interval if poller else None, rounds=poller.rounds if poller else 0,
            failures=poller.failures if poller else 0, width=width))

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
        view = self._view()
        if view is not None and hasattr(view, f"action_{action.split('(')[0]}"):
            await view.run_action(action)
        else:
            await self.run_action(action)

    def _view(self) -> Any:
        if self.current in ("metrics", "live", "alarms", "identities", "rules"):
            return self.query_one(f"#{self.current}")
        return None

    async def action_show(self, screen: str) -> None:
        if screen not in keys.SCREENS:
            return
        if screen == "live":
            self._follow_devices()
        await self._screen_ready(screen)
        self._switch(screen)

    def _switch(self, screen: str) -> None:
        """Show a screen (mounting it if needed; its focus lands once it is mounted)."""
        if screen not in keys.SCREENS:
            return
        if self.current == "live" and screen != "live" and (live := self._shown("live")) is not None:
            self.recent_metric = live.list.highlighted or self.recent_metric  # the value last looked at
        if self.current != screen:
            if screen in self.crumbs:  # each screen once: the trail stays short and esc never loops
                self.crumbs.remove(screen)
            self.crumbs.append(screen)
        self.current = screen
        if screen != "devices":
            self._screen(screen)
        self.query_one("#screens", ContentSwitcher).current = screen
        self._title()
        self._status()  # the marks counted are the shown screen's
        if screen == "live":
            self._live_show()
            if not self._live_paused():  # paused, nothing is wanted: a read now would only be held
                self._refresh_latest(self.live_refs or None)
        elif screen == "rules":
            self._load_rules()
        elif screen == "alarms":
            self._show_alarms()
        elif screen == "identities":
            self._after_tree_loads()
            self._show_identities()
            for name in self.pollers:  # lists read a while ago (screen 6 left, come back): now
                if self.identities_listed(name) and self.plan.identities_stale(name):
                    self._wake(name)
        self._focus_current()

    def _focus_current(self) -> None:
        """Keys go to the screen on show: after switching, and when a find or command box closes."""
        self._focus(self._tree() if self.current == "devices" else self._screen(self.current))

    def _focus(self, widget: Any) -> None:
        if widget is None:
            return
        target = widget.list if isinstance(widget, ListBody) else widget

        def now() -> None:
            # `6:live` typed in one burst: `:` opened the command box while the screen was still
            # mounting, and a deferred focus then took the keys back from it ('no command
            # ':ive''). A box or dialog opened meanwhile keeps them.
            if len(self.screen_stack) > 1 or any(self.query_one(b).display for b in ("#find", "#cmdline")):
                return
            self.screen.set_focus(target)

        if widget.is_mounted:
            now()
        else:
            self.call_after_refresh(now)

    async def action_back(self) -> None:
        for box in ("#find", "#cmdline"):
            if self.query_one(box).display:
                self.query_one(box).display = False
                self._focus_current()
                return
        if self.current == "devices" and self._clear_marks():
            return
        if len(self.crumbs) > 1:
            self.crumbs.pop()
            target = self.crumbs.pop()
            # not action_show: going back to Live shows what Live showed, not the Devices cursor
            await self._screen_ready(target)
            self._switch(target)

    def action_help(self) -> None:
        self.push_screen(keys.HelpScreen(self.current))

    def action_command_line(self) -> None:
        box = self.query_one("#cmdline", Input)
        box.value = ""
        self._open_box(box)

    def _open_box(self, box: Input) -> None:
        """Show a find or command box and give it the keys now: keys typed in one burst
        after `:` (a paste, a slow SSH link) went to the screen below, where `l` locked."""
        box.display = True
        self.screen.set_focus(box)  # at once; box.focus() waits for the queue to drain

    def action_filter(self) -> None:
        box = self.query_one("#find", Input)
        box.placeholder = "/ find: name or id, across the whole fleet" if self.current == "devices" else "/ filter"
        box.value = ""
        self._open_box(box)

    async def _ask_secret(self, profile: str) -> str | None:
        """No secret in the environment or a keyring: ask, once per profile until ctrl+r.
        Called from a worker (a tree load or a poll round), which waits for the answer."""
        if profile in self._declined or self.offline:
            return None
        from tuiot.config import env_secret_name
        from tuiot.ui.screens.secret import SecretPrompt

        p = self.config.profiles.get(profile)
        problem = self._secrets.last_problem if self._secrets is not None else None
        answer = await self.push_screen_wait(SecretPrompt(profile, p.vendor if p else "", env_name=env_secret_name(profile),
                                                          problem=problem))
        if not answer:
            self._declined.add(profile)  # esc: the poller must not ask again every round
        return answer or None

    def action_refresh(self) -> None:
        self._declined.clear()  # ctrl+r asks again for a secret skipped with esc
        for name, profile in self.config.profiles.items():
            if name in self.adapters and not self.offline:
                self._load_profile(profile)

    async def action_live_selected(self) -> None:
        if pick := self._devices_pick():
            self._choose_live(pick)
        await self.action_show("live")

    # What Live shows is the latest choice: Devices' (its cursor or marks, which `3` and `l`
    # follow) or an explicit one (`l`, `:live @profile`). Devices' choice is "latest" when it
    # differs from what Devices pointed at when Live's selection was last chosen, so the
    # screens visited in between (alarm → device → metric → 4 5 6 3) change nothing.

    def _devices_pick(self) -> list[str]:
        """What Devices points Live at: the marked devices, else the node under the cursor."""
        if self.marked:
            return sorted(self.marked)  # side by side
        ref = self._tree_cursor()
        node = self.fleet.nodes.get(ref or "")
        if node is not None and node.kind in ("sensor", "metric"):
            # vendors answer latest by device: show the whole device
            ref = next((a for a in reversed(self.fleet.ancestors(node.ref))
                        if (n := self.fleet.nodes.get(a)) is not None and n.kind == "device"), ref)
        return [ref] if ref else []

    def _choose_live(self, refs: list[str]) -> None:
        """Live shows `refs` until Devices points elsewhere or another choice is made. Asking
        for another selection (`l`, `:live @profile`) while Live is paused resumes it: a frozen
        table of what was not asked for would pass for the new selection's values. Asking for
        the one it shows keeps it paused, and says so: either way the request is answered."""
        if self._live_paused():
            if list(refs) != self.live_refs:
                self._screen("live").set_paused(False)
                self.notify("live refresh resumed for the new selection")
            else:
                self.notify("live refresh is paused on this selection: p resumes")
        self.live_refs = list(refs)
        self._live_pick_seen = self._devices_pick()

    def _follow_devices(self) -> None:
        """`3`: Live follows Devices if Devices has moved on since Live's selection was chosen;
        not while Live is paused (back on Live, its frozen table is still there)."""
        pick = self._devices_pick()
        if pick and pick != self._live_pick_seen and not self._live_paused():
            self._choose_live(pick)

    def _live_paused(self) -> bool:
        view = self._shown("live")
        return view is not None and view.paused

    async def action_open_selected(self) -> None:
        ref = self._tree_cursor()
        node = self.fleet.nodes.get(ref or "")
        if node is not None and node.kind == "metric":
            await self._open_metric_ref(node.ref)

    async def _open_metric_ref(self, ref: str) -> None:
        """The metric's history on Metrics (a metric seen only in Live gets a node from its reading)."""
        from tuiot.domain import split_ref

        node = self.fleet.nodes.get(ref)
        if node is None:
            try:
                profile, kind, ident = split_ref(ref)
            except ValueError:
                return
            r = self.fleet.readings.get(ref)
            node = Node(kind="metric", id=ident, name=self._metric_name(ref), profile=profile, unit=r.unit if r else None)
        device = next((self.fleet.nodes[a] for a in self.fleet.ancestors(node.ref) if self.fleet.nodes.get(a) and self.fleet.nodes[a].kind == "device"), None)
        from tuiot.adapters.base import Capability

        adapter = self.adapters.get(node.profile)
        self.recent_metric = node.ref
        await self.action_show("metrics")
        view = self._screen("metrics")
        poller = self.pollers.get(node.profile)
        view.refresh_every = max(poller.interval, 5.0) if poller is not None and not self.offline else None
        if device is not None:  # its title names the device as Live's row did: 'status (Turku Office 4 gateway 1)'
            device = device.model_copy(update={"name": labels.display_name(self.fleet, device)})
        view.show(node, device=device, can_aggregate=bool(adapter and adapter.can(Capability.aggregate)))

    def action_scroll_detail(self, direction: int) -> None:
        """Half the Devices detail's height down (1) or up (-1), the tree keeping the keys."""
        box = self.query_one("#detail-scroll", VerticalScroll)
        box.scroll_relative(y=direction * max(1, box.scrollable_content_region.height // 2), animate=False)

    def action_copy_selected(self) -> None:
        refs = sorted(self.marked) or ([c] if (c := self._tree_cursor()) else [])
        text = "\n".join(r.split("/", 2)[-1] for r in refs)
        if text:
            self._copy(text)

    def action_export(self, fmt: str) -> None:
        from tuiot.fleet.export import ExportError, export_file

        if self.current == "devices":
            # the marked devices, else what the tree shows: the loaded nodes below the selection
            sel = self._tree_cursor()
            if self.marked:
                refs = set().union(*(self.fleet.below(m) | {m} for m in self.marked))
            else:
                refs = self.fleet.below(sel) | {sel} if sel else set(self.fleet.nodes)
            rows = [{**n.model_dump(mode="json"), "ref": n.ref} for r in sorted(refs) if (n := self.fleet.nodes.get(r))]
            columns, stem = ["ref", "kind", "id", "name", "parent", "online", "severity", "unit"], "devices"
        else:
            return
        try:
            path = export_file(rows, columns, fmt, stem=stem)
        except (ExportError, ValueError) as e:
            self.notify(str(e), severity="error")
            return
        self.notify(f"exported {labels.count(len(rows), 'row')} to {path}")

    def action_mark_device(self) -> None:
        """Mark or unmark the device under the cursor for a bulk action (l, e, y)."""
        ref = self._tree_cursor()
        node = self.fleet.nodes.get(ref or "")
        if node is None or node.kind != "device":
            self.notify("marks are for devices: move to a device", severity="warning")
            return
        self.marked.symmetric_difference_update({node.ref})
        self._relabel({node.ref})
        self._tree().action_cursor_down()
        self._status()

    def _clear_marks(self) -> bool:
        if not self.marked:
            return False
        old, self.marked = self.marked, set()
        self._relabel(old)
        self.notify(f"cleared {labels.count(len(old), 'mark')}")
        self._status()
        return True

    def action_next_match(self) -> None:
        if self.matches:
            self.match_index = (self.match_index + 1) % len(self.matches)
            self._reveal(self.matches[self.match_index].ref)

    def _tree_cursor(self) -> str | None:
        return self._tree().cursor_ref

    # ---- find and command line ------------------------------------------------------------------

    @on(Input.Submitted, "#find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        self._find(event.value.strip().removeprefix("/").strip())  # the "/" that opened the box may echo into it

    def _find(self, text: str, profile: str | None = None) -> None:
        """Find across the whole fleet (or one profile); the cursor goes to the first match (n: the next)."""
        found = self.fleet.search(text, profile=profile)
        exact = text.casefold()
        # a name typed (or completed) in full goes to that node first
        self.matches = sorted(found, key=lambda n: n.name.casefold() != exact and n.id.casefold() != exact)
        self.match_index = 0
        if not self.matches:
            where = f"profile {profile}" if profile else "the fleet"
            self.notify(f"nothing in {where} matches '{text}'", severity="warning")
            self._focus_current()
            return
        if len(self.matches) == 1:
            self.notify("1 match")
        else:
            self.notify(f"{len(self.matches)}{'+' if len(self.matches) >= 200 else ''} matches; n for the next")
        self._reveal(self.matches[0].ref)

    def _find_candidates(self, text: str) -> list[Node]:
        """What the find box completes from: the fleet, while the Devices screen is shown."""
        return self.fleet.search(text, limit=50) if self.current == "devices" else []

    def _reveal(self, ref: str) -> None:
        """Expand the path to `ref` (adding paged-out siblings if needed) and put the cursor on it."""
        if self.current != "devices":
            self._switch("devices")
        tree = self._tree()
        tree.focus()
        if tree.reveal(ref):
            self._show_detail(ref)

    @on(Input.Submitted, "#cmdline")
    async def _command(self, event: Input.Submitted) -> None:
        """`:screen [@profile] [words]` (tuiot.ui.commandline); a bad word is a toast, nothing moves."""
        from tuiot.ui.commandline import CommandError, parse

        event.input.display = False
        self._focus_current()  # a command that fails leaves the keys with the screen
        try:
            cmd = parse(event.value, self.config.profiles)
        except CommandError as e:
            self.notify(str(e), severity="error", timeout=4)  # a typo's toast must not pile up over the list
            return
        if cmd is None:
            return
        if cmd.verb == "quit":
            self.exit(0)
            return
        if cmd.verb == "live" and cmd.profile:
            self._choose_live([f"{cmd.profile}/profile/{cmd.profile}"])  # before the switch: it is the latest choice
        await self.action_show(cmd.verb)
        view = self._view()
        if cmd.verb == "devices" and cmd.text:
            self._find(cmd.text, profile=cmd.profile)
        elif cmd.verb == "devices" and cmd.profile:
            self._reveal(f"{cmd.profile}/profile/{cmd.profile}")
        elif cmd.verb == "alarms":
            # a word left out is that filter's default, not what an earlier command set:
            # `:alarms critical` after `:alarms closed` is the open critical ones
            view.apply_filter(severity=cmd.severity, profile=cmd.profile, status=cmd.status or "open")
        elif cmd.verb == "identities":
            view.apply_filter(profile=cmd.profile, pattern=cmd.text, status=cmd.status)
        elif cmd.verb == "rules" and cmd.text:
            view.apply_text(cmd.text)

    # ---- live ----------------------------------------------------------------------------------

    def _tick(self) -> None:
        """Once a second: repaint ages and the status bar (the pollers fetch on their own)."""
        if self._status_bar() is None:  # closing: the widgets are gone
            return
        if self._collector.overdue():
            self._collector.release()
        if self.current == "live":
            self._screen("live").tick()
        elif self.current == "metrics":
            self._screen("metrics").tick()
        elif self.current == "devices" and (cursor := self._tree_cursor()) and cursor.split("/", 2)[1] != "group":
            self._show_detail(cursor)  # ages, a profile's state and rounds change by the second
        self._status()

    # ---- polling: one Poller per profile (tuiot.fleet.poller) ---------------------------------

    def _start_poller(self, name: str) -> None:
        from tuiot.adapters.base import Capability

        adapter = self.adapters[name]
        poller = Poller(
            name,
            adapter,
            interval=self.poll_interval or self.config.profiles[name].poll_interval,
            want=lambda: self.plan.want(name),
            deliver=lambda result: self.post_message(PollDone(result)),
            can_alarms=adapter.can(Capability.alarms),
            can_identities=adapter.can(Capability.identities),
            clock=self.clock,
        )
        self.pollers[name] = poller
        self.run_worker(poller.run(), name=f"poll {name}", group=f"poll:{name}", exit_on_error=False)

    def _wake(self, name: str | None = None) -> None:
        for pname, poller in self.pollers.items():
            if name is None or pname == name:
                poller.wake()

    def live_view(self) -> Any:
        """The Live screen while it is shown, else None."""
        return self._screen("live") if self.current == "live" else None

    @on(PollDone)
    def _poll_done(self, msg: PollDone) -> None:
        result = msg.result
        name = result.profile
        if name not in self.fleet.profiles or self._status_bar() is None:
            return  # a round that ended while the console was closing
        if result.asked:
            self.plan.asked_at[name] = time.monotonic()
        if result.errors:
            self._failed(name, result.errors[0])
        elif result.asked:  # a round that sent nothing (alarms a vendor has not) proves nothing
            self.fleet.mark(name, "ok")
            self._refresh_profile_label(name)
        if result.readings is not None:
            self._took_readings(name, result.readings, whole=result.want.latest is None)
        if result.alarms is not None:
            self._took_alarms(name, result.alarms)
        if result.identities is not None:
            self._took_identities(name, result.identities, started=result.started)
        self._status()

    def _refresh_latest(self, refs: list[str] | None, only: str | None = None) -> None:
        """Ask the pollers for these refs now (None: every profile, whole)."""
        for name in self.plan.ask(refs, only):
            self._wake(name)

    def _took_readings(self, name: str, readings: list[Reading], *, whole: bool) -> None:
        self.fleet.put_readings(readings)
        if self.local is not None:
            self._alarm_events(self.local.feed(readings))
        if whole:
            self.whole_read.add(name)
            self._save(name, readings=readings)
        else:
            self._merge_readings(name, readings)
        if self.use_snapshot:
            from tuiot.fleet.snapshot import SnapshotStore

            def buffer() -> None:
                with SnapshotStore() as store:
                    store.append_readings(readings)

            self.run_worker(asyncio.to_thread(buffer), exit_on_error=False, group="buffer")
        self._live_show()
        if self.current == "devices":
            cursor = self._tree_cursor()
            if cursor:
                self._show_detail(cursor)

    @property
    def selection(self) -> str | None:
        """The first node Live shows (the profile, group or device picked with l)."""
        return self.live_refs[0] if self.live_refs else None

    @selection.setter
    def selection(self, ref: str | None) -> None:
        self.live_refs = [ref] if ref else []

    def _live_keys(self) -> list[str]:
        """Live's rows; the same list (the same object) until the selection, the nodes or the set
        of metrics changes, so a poll round that only moves values costs no scan of the fleet
        (250,000 readings) and Live knows without comparing that its rows are the same."""
        # a whole profile's rows are its readings; below a group or device they depend on nodes too
        by_nodes = any(not self._is_profile_ref(sel) for sel in self.live_refs)
        of = (tuple(self.live_refs), self.fleet.metrics_version, self.fleet.nodes_version if by_nodes else -1)
        if of != self._live_keys_of:
            self._live_keys_of, self._live_keys_cached = of, self._scan_live_keys()
        return self._live_keys_cached

    @staticmethod
    def _is_profile_ref(ref: str) -> bool:
        name = ref.split("/", 1)[0]
        return ref == f"{name}/profile/{name}"

    def _scan_live_keys(self) -> list[str]:
        keys_: set[str] = set()
        for sel in self.live_refs:
            name = sel.split("/", 1)[0]
            if self._is_profile_ref(sel):
                keys_.update(k for k in self.fleet.readings if k.startswith(f"{name}/"))
            else:
                keys_ |= self.fleet.metrics_below(sel)
        return list(keys_)

    def _name_live_metrics(self, rows: int = 200) -> None:
        """Load the sensors of the devices in Live's first rows (each device once), so their
        metrics show names, not ids. O(rows): called on every repaint of Live."""
        devices = [r for r in self.live_refs[:rows] if r.split("/", 2)[1] == "device"]
        view = self._shown("live")
        if view is not None:
            for key in view.list.keys[:rows]:
                r = self.fleet.readings.get(key)
                if r is not None and r.device:
                    devices.append(r.device)
        for ref in dict.fromkeys(devices):
            self._name_device(ref)

    def _live_show_soon(self) -> None:
        """Repaint Live once for a burst of events: naming the devices on screen loads up to
        200 devices, and a repaint per device re-sorted 150,000 rows 200 times (minutes of a
        frozen console). Small lists repaint at once."""
        view = self._shown("live")
        if view is None or len(view.list.keys) <= LIVE_BURST_ROWS:
            self._live_show()
        elif self._live_names_timer is None:
            self._live_names_timer = self.set_timer(LIVE_BURST_WAIT, self._live_show_burst)

    def _live_show_burst(self) -> None:
        self._live_names_timer = None
        if self.current == "live":
            self._live_show()

    def _live_loading(self) -> bool:
        """Live on a whole profile whose first whole round has not come in yet (it can take a
        minute at 150,000 values): the count shown so far is not the profile's."""
        sel = self.selection
        if len(self.live_refs) != 1 or sel is None:
            return False
        name = sel.split("/", 1)[0]
        p = self.fleet.profiles.get(name)
        return (self._is_profile_ref(sel) and name not in self.whole_read and p is not None
                and p.state in ("ok", "connecting") and self.fleet.reading_count(name) <= LIVE_WHOLE)

    def _live_show(self) -> None:
        view = self._shown("live")
        if view is None:
            return  # Live was never opened: nothing to repaint
        if len(self.live_refs) > 1:
            title = f"{len(self.live_refs)} marked devices"
        else:
            title = self._node_title(self.selection) if self.selection else "nothing selected"
        stale = {n for n, p in self.fleet.profiles.items() if p.state != "ok"}
        view.show(self._live_keys(), self.fleet.readings, title=title, severity_of=self._threshold_severity,
                  stale_profiles=stale, names_version=self.fleet.nodes_version, selected=bool(self.live_refs),
                  loading=self._live_loading())
        self._name_live_metrics()

    # names of refs for the views (plain functions in labels over the fleet state)
    def _metric_name(self, ref: str) -> str:
        return labels.metric_name(self.fleet, ref)

    def _source_name(self, ref: str) -> str:
        return labels.source_name(self.fleet, ref)

    def _known_name(self, ref: str) -> str | None:
        return labels.known_name(self.fleet, ref)

    def _node_title(self, ref: str) -> str:
        return labels.node_title(self.fleet, ref)

    def _rule_name(self, profile: str, rule_id: str) -> str | None:
        return next((r.name for r in self._rules if r.profile == profile and r.id == rule_id), None)

    def _threshold_severity(self, r: Reading) -> Severity | None:
        return self._thresholds.severity(r.metric, r.value) if self._thresholds is not None else None

    def _index_thresholds(self) -> None:
        """Colour live values by every enabled threshold rule, vendor and local."""
        from tuiot.fleet.thresholds import ThresholdIndex

        local = self.local.engine.rules if self.local is not None else []
        self._thresholds = ThresholdIndex([*(r for r in self._rules if r.origin.value != "local"), *local])
        if self.current == "live":
            self._screen("live").tick()

    @on(OpenMetric)
    async def _open_metric(self, msg: OpenMetric) -> None:
        await self._open_metric_ref(msg.metric_ref)

    # ---- alarms, identities, rules ------------------------------------------------------------------

    def _load_alarms(self, name: str) -> None:
        """Refresh a profile's alarms now (after a close, say): the poller's next round, at once."""
        self._wake(name)

    def _took_alarms(self, name: str, alarms: list[Alarm]) -> None:
        self._alarms_heard.add(name)
        changed = self.fleet.set_alarms(name, alarms)
        self._relabel(changed)
        if self.current == "devices" and (cursor := self._tree_cursor()) in changed:
            self._show_detail(cursor)  # a group's detail is not redrawn by the tick: its worst alarm is
        self._save(name, alarms=[a for a in alarms if a.status is AlarmStatus.open])
        if self.current == "alarms":
            self._show_alarms()

    def _show_alarms(self) -> None:
        alarms = self.fleet.all_alarms()
        if self.local is not None:
            alarms += self.local.alarms()
        ro = [n for n, p in self.config.profiles.items() if self.read_only or p.read_only]
        self._screen("alarms").set_alarms(alarms, now=self.clock(), read_only=ro, loading=self._alarms_loading())

    def _alarms_loading(self) -> bool:
        """Some healthy profile that has alarms has not answered its first sweep yet."""
        return any(name not in self._alarms_heard and p.error is None
                   and (poller := self.pollers.get(name)) is not None and poller.can_alarms
                   for name, p in self.fleet.profiles.items())

    def _identities_loading(self) -> bool:
        """Some healthy profile that has identities has not listed them yet."""
        from tuiot.adapters.base import Capability

        return any(name not in self._identities_heard and p.error is None
                   and (adapter := self.adapters.get(name)) is not None and adapter.can(Capability.identities)
                   for name, p in self.fleet.profiles.items())

    def identities_listed(self, name: str) -> bool:
        """A profile's first identity list has been asked for and answered (or failed)."""
        return name in self._identities_heard

    @work(exit_on_error=False, group="identities")
    async def _load_identities(self, name: str) -> None:
        """The first list, and a re-read after a write; screen 6 then keeps it fresh through
        the profile's poller (PollPlan.identities_due)."""
        from tuiot.adapters.base import Capability

        adapter = self.adapters.get(name)
        if adapter is None or not adapter.can(Capability.identities):
            return
        started = self.plan.identities_at[name] = time.monotonic()
        try:
            items = await adapter.identities()
        except Exception as e:
            self._identities_heard.add(name)  # it will not come this round: the others are all there is
            self.notify(f"{name}: identities: {e}", severity="warning")
            return
        self._took_identities(name, items, started=started)

    def _took_identities(self, name: str, items: list[Identity], *, started: float) -> None:
        self._identities_heard.add(name)
        if started < self._identities_from.get(name, float("-inf")):
            return  # asked before the list shown was: older news
        self._identities_from[name] = started
        old = self.fleet.identities.get(name)
        self.fleet.set_identities(name, items)
        # a refresh that changed nothing writes nothing; 30,000 identities take ~50 ms to compare,
        # done in the saving thread rather than the console's
        self._save(name, identities=items, unchanged=None if old is None else lambda: old == items)
        if self.current == "identities":
            self._show_identities()  # the ages move even when nothing else did

    def _show_identities(self) -> None:
        items = [i for lst in self.fleet.identities.values() for i in lst]
        caps = {n: {c.value for c in a.capabilities} for n, a in self.adapters.items()}
        ro = [n for n, p in self.config.profiles.items() if self.read_only or p.read_only]
        checks = {n: a.group_problem for n, a in self.adapters.items()}  # a vendor's rule, said in the form
        self._screen("identities").set_identities(items, capabilities=caps, now=self.clock(), read_only=ro,
                                                  group_checks=checks, reading_time=self.fleet.newest_reading_time,
                                                  loading=self._identities_loading())

    @work(exit_on_error=False, group="rules", exclusive=True)
    async def _load_rules(self) -> None:
        from tuiot.adapters.base import Capability

        rules: list[Rule] = []
        try:
            from tuiot.fleet.rulefile import load_rules

            rules += await asyncio.to_thread(load_rules, self.rules_path)
        except Exception as e:
            self.notify(f"rules.toml: {e}", severity="error")
        for name, adapter in self.adapters.items():
            if adapter.can(Capability.rules) and self.fleet.profiles[name].loaded:
                try:
                    rules += await adapter.rules()
                except Exception as e:
                    self.notify(f"{name}: rules: {e}", severity="warning")
        self._rules = rules
        self._index_thresholds()
        self._show_rules()

    def _show_rules(self) -> None:
        view = self._shown("rules")
        if view is not None:  # else filled when screen 5 is first shown
            view.set_rules(self._rules)

    def rules_changed(self) -> None:
        """A rule was saved or deleted: the Rules list, threshold colours and local rules follow."""
        self._load_rules()
        self._load_local_rules()

    def alarms_changed(self, profiles: set[str]) -> None:
        """Alarms were closed: the inbox shows it now, and the profiles' alarms are read again."""
        self._show_alarms()
        for name in profiles:
            self._load_alarms(name)

    def unmark(self, refs: set[str]) -> None:
        """A bulk action is done with these rows: their marks go, wherever they were set."""
        for name in ("alarms", "identities"):
            if (view := self._shown(name)) is not None:
                view.list.unmark(refs)

    def identities_changed(self, profiles: set[str], *, tree: bool = False) -> None:
        """Identities were changed: read them again (and with `tree`, the profile's tree)."""
        for name in profiles:
            self._load_identities(name)
            if tree and name in self.config.profiles and not self.offline:
                self._load_profile(self.config.profiles[name])

    # ---- writes (tuiot.ui.writes): read-only check, confirmation, audit ---------------------------

    @on(RuleEditRequested)
    def _rule_edit_requested(self, msg: RuleEditRequested) -> None:
        self.writes.edit_rule(msg.rule)

    @on(OpenRule)
    def _open_rule(self, msg: OpenRule) -> None:
        """From an alarm to the rule that raised it: triage goes alarm → rule → fix."""
        a = msg.alarm
        # a local rule's alarms name it by its name, which is its id in rules.toml
        rule = next((r for r in self._rules if r.profile == a.profile and a.rule in (r.id, r.name)), None)
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
        self._fetch_history(msg)

    @work(exit_on_error=False, group="history", exclusive=True)
    async def _fetch_history(self, msg: HistoryRequested) -> None:
        view = self._screen("metrics")
        profile = msg.metric_ref.split("/", 1)[0]
        buffered = await asyncio.to_thread(self._buffered, msg.metric_ref, msg.start, msg.end)
        try:
            series = await self.adapters[profile].history(msg.metric_ref, msg.start, msg.end,
                                                         aggregate=msg.aggregate, bucket=msg.bucket)
        except Exception as e:
            if not buffered:
                view.set_error(str(e))
                return
            # the vendor is away: what this console has seen is still history
            from tuiot.domain import Series

            series = Series(metric=msg.metric_ref, points=[])
            self.notify(f"{profile}: {e}; showing values seen by this console", severity="warning")
        if buffered:
            from tuiot.fleet.snapshot import merge_series

            series = merge_series(series, buffered)
        view.set_series(series, request=msg)

    def _buffered(self, metric: str, start: datetime, end: datetime) -> list[Any]:
        """Values of `metric` seen live, kept across restarts (tops up short vendor windows)."""
        if not self.use_snapshot:
            return []
        from tuiot.fleet.snapshot import SnapshotStore

        with SnapshotStore() as store:
            return store.history(metric, start, end)

    @on(JumpToDevice)
    def _jump(self, msg: JumpToDevice) -> None:
        if msg.device_ref in self.fleet.nodes:
            self._reveal(msg.device_ref)
        else:
            self.notify(f"{msg.device_ref} is not loaded in the tree yet", severity="warning")

    @on(CopyRequested)
    def _copy_requested(self, msg: CopyRequested) -> None:
        self._copy(msg.text)

    def _copy(self, text: str) -> None:
        """OSC 52, wrapped for tmux: reaches the local clipboard through SSH."""
        from tuiot.fleet.export import osc52

        try:
            seq = osc52(text)
        except ValueError as e:
            self.notify(str(e), severity="error")
            return
        driver = getattr(self, "_driver", None)
        if driver is not None:
            driver.write(seq)
            driver.flush()
        lines = text.splitlines()
        if len(lines) > 1:
            self.notify(f"copied {len(lines)} lines")
            return
        # the whole id, broken between its parts (a toast is 60 columns, half the screen at
        # most): at 80 columns the detail pane may have clipped it, and the toast is where
        # it shows whole; clipped at its end it lost the part that tells ids apart
        room = max(min(60, self.size.width // 2) - 4, 16)
        said = f"copied {text}"
        if len(said) > room:
            parts = labels.fold(text, room, indent=0)
            said = "\n".join(["copied", *(parts if len(parts) <= 6 else [*parts[:2], "…", *parts[-3:]])])
        self.notify(said)

    # ---- chrome ----------------------------------------------------------------------------------

    def _title(self) -> None:
        bar = self.query_one("#titlebar", Static)
        tabs = "  ".join(f"[reverse] {keys.TITLES[s]} [/]" if s == self.current else f" {keys.TITLES[s]} " for s in keys.SCREENS)
        # the breadcrumbs get the room the tabs leave; the oldest give way to "…", never the newest
        used = len("tuiot ") + sum(len(keys.TITLES[s]) + 2 for s in keys.SCREENS) + 2 * (len(keys.SCREENS) - 1) + 3
        bar.update(f"[b]tuiot[/b] {tabs}   [dim]{crumb_trail(self.crumbs, self.size.width - 2 - used)}[/]")

    def on_resize(self) -> None:
        self.call_after_refresh(self._title)  # once the new size is laid out

    def _status_bar(self) -> Static | None:
        """The status bar, or None once the app is closing (a late timer or worker must not crash it)."""
        found = self.query("#statusbar").results(Static)
        return next(found, None)

    def _status(self) -> None:
        bar = self._status_bar()
        if bar is None:
            return
        if not self.fleet.profiles and self.demo is None and self.demo_factory is not None:
            bar.update("building the demo fleet… (its profiles appear as soon as it is built)")
            return
        bar.update(labels.status_line(self.fleet.profiles, self.clock(), marked=self._marks_shown(),
                                      read_only=self.read_only, offline=self.offline, width=bar.size.width))
        self._repaint_through_modals(bar)

    def _repaint_through_modals(self, widget: Static) -> None:
        """Textual repaints a screen seen through one translucent modal, not through two (the
        rule editor, then its source picker): the middle one keeps its old picture of what is
        below it, and the status bar's ages stood still until the picker closed. Each screen
        between says that region is stale too."""
        stack = self.screen_stack
        if len(stack) < 3 or widget.screen is not stack[0] or any(s.styles.background.a == 1 for s in stack[1:]):
            return  # one dialog (Textual's own case), or an opaque one hides the bar: it is redrawn on close
        for screen in stack[1:-1]:
            screen.refresh(widget.region)

    def _marks_shown(self) -> int:
        """The marks of the screen shown: each screen's marks are its own (m on Devices, space on lists)."""
        if self.current == "devices":
            return len(self.marked)
        view = self._shown(self.current)
        return len(view.list.marked) if isinstance(view, ListBody) else 0

    @on(MarkList.MarksChanged)
    def _marks_changed(self) -> None:
        self._status()


def crumb_trail(crumbs: list[str], room: int) -> str:
    """'Alarms › Devices › Metrics' in `room` columns: the newest steps kept, the oldest '…'."""
    names = [keys.TITLES[c].split(" ", 1)[1] for c in crumbs]
    for start in range(len(names)):
        trail = ("… › " if start else "") + " › ".join(names[start:])
        if len(trail) <= room:
            return trail
    return ""


def run_console(*, config: Config, demo: Any = None, read_only: bool = False, offline: bool = False,
                low_bandwidth: bool = False, demo_factory: Callable[[], Any] | None = None,
                rules_path: str | None = None, exit_on_data: bool = False, collector: CollectorHold | None = None,
                demo_inline: bool = False) -> int:
    if not config.profiles and demo is None and demo_factory is None:
        from tuiot.ui.first_run import FirstRun

        if collector is not None:
            collector.release()  # nothing loads while the first-run screen waits
        if FirstRun(css_path=styles_path() / "app.tcss").run() != 2:
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
