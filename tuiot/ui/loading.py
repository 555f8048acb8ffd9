"""Connecting and the first trees: the demo build, each profile's adapter, its tree load.

Separate from the app because start-up has its own order (snapshot, tree, then rules,
identities and the alarm sweep once the trees are in) and its own state: which load of
a profile's tree is the latest, whether every first load has ended, which secrets the
user declined. The rest of the console reads only `all_trees_in()` and `secrets`.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from tuiot.config import Config, Profile
from tuiot.domain import Node, now_utc
from tuiot.fleet.state import ProfileState
from tuiot.ui.workers import app_work

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp

INDEX_SLICE = 4_000  # nodes indexed per turn of the event loop when a tree arrives
# A demo this small (devices) is built as the console mounts, not in a worker thread: its
# world takes ~30 ms, and a thread contending for the GIL with the first screen's drawing
# made its first data 55 ms later. A larger one builds behind the first screen.
INLINE_DEMO = 2_000


class Loader:
    """How a `ConsoleApp` connects its profiles and shows their trees."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app
        self.secrets: Any = None  # tuiot.credentials.SecretSource of the connected profiles
        self._declined: set[str] = set()  # profiles whose secret prompt was skipped (esc)
        self._settled = False  # every profile's first tree load has ended (loaded or failed)
        self._tree_pass: dict[str, int] = {}  # profile → its latest tree shown (tree_loaded)
        self._identities_due: set[str] = set()  # loaded profiles whose identity list waits for the rest
        self._local_rules_due = False  # rules.toml waits for the first tree (_local_rules_now)

    # ---- the demo fleet -------------------------------------------------------------------------

    def start_demo(self) -> None:
        """Build the demo fleet: as the console mounts (a small one), or behind the first screen."""
        if self.app.demo_inline:
            self._build_demo_inline()
        else:
            self._build_demo()

    @app_work(group="demo", thread=True)
    def _build_demo(self) -> None:
        app = self.app
        try:
            demo = app.demo_factory()  # type: ignore[misc]
        except Exception as e:  # a toast and a status line that says so, never a silent wait
            app.call_from_thread(self._demo_failed, e)
            return
        app.call_from_thread(self._demo_ready, demo)

    def _build_demo_inline(self) -> None:
        try:
            demo = self.app.demo_factory()  # type: ignore[misc]
        except Exception as e:
            self._demo_failed(e)
            return
        self._demo_ready(demo)

    def _demo_failed(self, e: Exception) -> None:
        app = self.app
        app.demo_factory = None
        app.notify(f"the demo fleet could not be built: {e}", severity="error", timeout=20)
        app.chrome.status()

    def _demo_ready(self, demo: Any) -> None:
        app = self.app
        app.demo = demo
        app.config = Config(settings=app.config.settings, profiles={p.name: p for p in demo.profiles})
        self.connect_all()

    # ---- profiles -------------------------------------------------------------------------------

    def connect_all(self) -> None:
        from tuiot.adapters import load_adapter
        from tuiot.credentials import SecretSource

        app = self.app
        if app.demo is not None:
            secrets = SecretSource(fixed=app.demo.secrets, use_keyring=False)
            transport = app.demo.transport
        else:
            secrets = SecretSource(prompt=self._ask_secret)
            transport = None
        self.secrets = secrets
        tree = app.devices.tree()
        if app.config.profiles and not app.offline:
            app.collector.start()
        else:
            app.collector.release()  # no first trees to wait for
        for profile in app.config.profiles.values():
            app.fleet.profiles[profile.name] = ProfileState(profile.name, profile.vendor)
            tree.add_profile(profile.name)
            try:
                app.adapters[profile.name] = load_adapter(profile.vendor)(profile, secrets, transport=transport)
            except Exception as e:  # a broken plug-in shows as offline, never a crash
                app.fleet.mark(profile.name, "offline", str(e))
                continue
            if app.use_snapshot:
                app.snapshots.show(profile.name)
            if not app.offline:
                self.load_profile(profile)
                app.rounds.start_poller(profile.name)
        if tree.root.children and tree.cursor_node is None:
            tree.move_cursor(tree.root.children[0])  # the detail pane speaks of the first profile at once
        if app.offline or not app.adapters:
            app.lists.load_local_rules()
        else:
            # rules.toml and its engine are read once the first tree is on screen (or every
            # load has ended): they act on readings, which come after the trees
            self._local_rules_due = True
        if app.selection is None and app.config.profiles:
            app.selection = f"{next(iter(app.config.profiles))}/profile/{next(iter(app.config.profiles))}"
        app.chrome.status()

    async def _ask_secret(self, profile: str) -> str | None:
        """No secret in the environment or a keyring: ask, once per profile until ctrl+r.
        Called from a worker (a tree load or a poll round), which waits for the answer."""
        app = self.app
        if profile in self._declined or app.offline:
            return None
        from tuiot.config import env_secret_name
        from tuiot.ui.screens.secret import SecretPrompt

        p = app.config.profiles.get(profile)
        problem = self.secrets.last_problem if self.secrets is not None else None
        answer = await app.push_screen_wait(SecretPrompt(profile, p.vendor if p else "", env_name=env_secret_name(profile),
                                                         problem=problem))
        if not answer:
            self._declined.add(profile)  # esc: the poller must not ask again every round
        return answer or None

    def refresh(self) -> None:
        """ctrl+r: every profile's tree again, asking again for a secret skipped with esc."""
        app = self.app
        self._declined.clear()
        for name, profile in app.config.profiles.items():
            if name in app.adapters and not app.offline:
                self.load_profile(profile)

    @app_work()
    async def load_profile(self, profile: Profile) -> None:
        app = self.app
        adapter = app.adapters[profile.name]
        try:
            nodes = await adapter.tree(depth="device")
        except Exception as e:
            self.failed(profile.name, e)
            return
        app.fleet.profiles[profile.name].loaded = True
        app.plan.loaded_at[profile.name] = time.monotonic()
        app.fleet.mark(profile.name, "ok")
        if not await self.tree_loaded(profile.name, nodes):
            return  # a newer load of this profile is showing its tree
        app.fleet.profiles[profile.name].indexed = True
        app.snapshots.save(profile.name, nodes=nodes)
        app.rounds.wake(profile.name)  # the alarm inbox is due now that devices are known
        self._identities_due.add(profile.name)
        self.after_tree_loads()
        app.lists.load_rules()

    def all_trees_in(self) -> bool:
        """Every profile's first tree load has ended, loaded or failed."""
        return all(p.loaded or p.error is not None for p in self.app.fleet.profiles.values())

    def after_tree_loads(self) -> None:
        """Identity lists (30k for a big Murano) load once every tree is in, or at once on screen 6:
        they share one CPU with the tree loads, and the tree is what makes the fleet browsable."""
        app = self.app
        settled = self.all_trees_in()
        if settled and not self._settled:
            self._settled = True
            self._local_rules_now()  # every load failed: no first tree came to do it
            app.collector.release()
            app.rounds.wake()  # alarm sweeps held back while trees loaded (PollPlan.alarms_due) run now
        if settled or app.current == "identities":
            for name in sorted(self._identities_due):
                app.lists.load_identities(name)
            self._identities_due.clear()

    def _local_rules_now(self) -> None:
        if self._local_rules_due:
            self._local_rules_due = False
            self.app.lists.load_local_rules()

    def failed(self, name: str, e: Exception) -> None:
        """A profile's tree load or poll round failed: its state, a toast if it is news."""
        from tuiot.adapters.base import AuthError, Unavailable

        app = self.app
        p = app.fleet.profiles[name]
        if isinstance(e, AuthError) and self.secrets is not None and self.secrets.where(name) == "session":
            self.secrets.forget(name)  # a typed secret the vendor refused: the next round asks again
        state = "offline" if isinstance(e, Unavailable) else "degraded"
        if p.snapshot_at is not None and state == "offline":
            state = "snapshot"
        news = (p.state, p.error) != (state, str(e))
        app.fleet.mark(name, state, str(e))
        if p.snapshot_at:
            p.state = "snapshot"
        if news:  # a vendor that stays down toasts once, not every retry
            app.notify(f"{name}: {e}", severity="error", timeout=8)
        self.after_tree_loads()
        app.devices.relabel_profile(name)
        if app.current == "live":
            app.live_feed.show()  # its values are stale now, and say so
        app.chrome.status()

    # ---- trees ----------------------------------------------------------------------------------

    async def tree_loaded(self, name: str, nodes: list[Node]) -> bool:
        """Show a profile's new tree; False when a newer one for the profile came meanwhile.

        30,000 nodes indexed in one go held the console ~150 ms: they go in slices, a
        turn of the event loop (keys, drawing) between slices."""
        app = self.app
        self._tree_pass[name] = turn = self._tree_pass.get(name, 0) + 1
        app.fleet.replace_children(f"{name}/profile/{name}", [])
        for start in range(0, len(nodes), INDEX_SLICE):
            if start:
                await asyncio.sleep(0)
                if self._tree_pass[name] != turn:
                    return False
            app.fleet.add_nodes(nodes[start:start + INDEX_SLICE])
        if not await app.devices.tree().set_roots(name, lambda: self._tree_pass[name] == turn):
            return False
        if app.first_data_at is None:
            app.first_data_at = now_utc()
            app.call_after_refresh(self._local_rules_now)
            app.devices.tree().when_painted(self._painted_first_data)
        app.chrome.status()
        return True

    def _painted_first_data(self) -> None:
        """The first tree's lines are in a frame: `tuiot bench` counts start-up to here
        (with --exit-on-data it says so on stdout and exits)."""
        app = self.app
        app.first_painted_at = time.perf_counter()
        if app.exit_on_data:
            import os

            os.write(1, b"first data\n")  # headless: stdout is not the screen
            app.exit(0)
