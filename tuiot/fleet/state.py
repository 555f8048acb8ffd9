"""What the console knows about the fleet, indexed for the screens. No I/O, no Textual.

Workers fetch and hand results to `FleetState`; screens read from it. Every index is
updated per batch, so a keystroke or a refresh costs what it touches, not the fleet:
children by parent ref, a lower-cased search index of names and ids (the `/` filter
searches every loaded device of every profile, not only expanded tree nodes), readings
by metric ref with a version counter so a view repaints only what changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress
from operator import attrgetter

from tuiot.domain import Alarm, AlarmStatus, Identity, Node, Reading, Severity, now_utc


_KIND, _NAME, _PROFILE = attrgetter("kind"), attrgetter("name"), attrgetter("profile")


@dataclass
class ProfileState:
    name: str
    vendor: str
    state: str = "connecting"  # connecting | ok | degraded | offline | snapshot
    error: str | None = None
    last_ok: datetime | None = None
    snapshot_at: datetime | None = None  # shown data came from a snapshot of this time
    loaded: bool = False  # the live tree has come (a snapshot's, still going in, then yields to it)
    indexed: bool = False  # ...and every node of it is in the index: browsable and findable


@dataclass(repr=False)  # the generated repr would print 100,000 nodes (asyncio reprs task results)
class FleetState:
    profiles: dict[str, ProfileState] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    readings: dict[str, Reading] = field(default_factory=dict)
    reading_version: dict[str, int] = field(default_factory=dict)
    alarms: dict[str, list[Alarm]] = field(default_factory=dict)  # profile → alarms
    identities: dict[str, list[Identity]] = field(default_factory=dict)
    version: int = 0
    nodes_version: int = 0  # bumped whenever nodes come or go: names shown may have changed
    # bumped when a metric gets its first reading or another device: the set of metric refs
    # changed (a poll round that only moves values leaves it, so Live keeps its rows)
    metrics_version: int = 0
    _search: list[tuple[str, str]] = field(default_factory=list)  # (haystack, ref) of devices and groups
    _worst: dict[str, Severity] = field(default_factory=dict)  # device ref → worst open alarm
    device_metrics: dict[str, set[str]] = field(default_factory=dict)  # device ref → metric refs read
    _devices: dict[str, int] = field(default_factory=dict)  # profile → devices loaded
    _reading_count: dict[str, int] = field(default_factory=dict)  # profile → metrics with a reading
    # how many devices (groups) of a profile, and of one parent, bear each name: five ThingsPro
    # gateways each have a device 'status' under a group 'system', which a row naming only
    # the device cannot tell apart (see `namesakes`)
    _names: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)  # (profile, kind) → name → how many
    # profile → batches of its new devices and groups whose names are not counted yet (`_count_new`)
    _unnamed: dict[str, list[list[Node]]] = field(default_factory=dict)
    # parent → (nodes_version, (kind, name) → how many), made when first asked (namesakes_under)
    _names_under: dict[str, tuple[int, Counter[tuple[str, str]]]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"FleetState(profiles={list(self.profiles)}, nodes={len(self.nodes)}, readings={len(self.readings)})"

    # ---- nodes --------------------------------------------------------------------------

    def add_nodes(self, nodes: Iterable[Node]) -> list[Node]:
        added = list(nodes)
        self.nodes_version += 1
        index, children, search = self.nodes, self.children, self._search
        fresh: list[Node] = []  # new devices and groups, counted after the loop (`_count_new`)
        for n in added:  # 100,000 at a time: one ref per node, no repeated look-ups
            ref = n.ref
            old = index.get(ref)
            index[ref] = n
            if old is None:
                parent = n.parent or f"{n.profile}/profile/{n.profile}"
                kids = children.get(parent)
                if kids is None:
                    kids = children[parent] = []
                kids.append(ref)
                kind = n.kind
                if kind == "device" or kind == "group":
                    search.append((f"{n.name} {n.id}".lower(), ref))
                    fresh.append(n)
                continue
            if old.parent != n.parent:
                self._move(ref, old.parent or f"{n.profile}/profile/{n.profile}",
                           n.parent or f"{n.profile}/profile/{n.profile}")
            if old.name != n.name and n.kind in ("device", "group"):
                self._name_count(old)[old.name] -= 1
                self._name_count(n)[n.name] += 1
        if fresh:
            self._count_new(fresh)
        return added

    def _count_new(self, fresh: list[Node]) -> None:
        """Count new devices per profile now (the status line says how many are loaded), and
        keep them and the new groups for `namesakes` to count their names when it is first
        asked about their profile: counting 100,000 names cost a tree load ~50 ms, paid for
        every profile though rows name a few of one, and a fleet nobody asks a name of (Devices
        only, `tuiot bench`) never needs it. In C (map, count), not per node in add_nodes'
        loop. A batch is of one profile (a tree comes a profile at a time): the split is rare."""
        kinds = list(map(_KIND, fresh))
        profiles = set(map(_PROFILE, fresh))
        for profile in profiles:
            if len(profiles) == 1:
                mine, theirs = fresh, kinds
            else:
                ours = list(map(profile.__eq__, map(_PROFILE, fresh)))
                mine, theirs = list(compress(fresh, ours)), list(compress(kinds, ours))
            if devices := theirs.count("device"):
                self._devices[profile] = self._devices.get(profile, 0) + devices
            self._unnamed.setdefault(profile, []).append(mine)

    def _count_names(self, profile: str) -> None:
        """Count the names of `profile`'s devices and groups added since its last count: each
        node once, whenever it came (a rename or a removal meanwhile was counted down then:
        the sums come out the same in any order). By kind in C: a loop per name cost as much."""
        for fresh in self._unnamed.pop(profile, []):
            kinds, names = list(map(_KIND, fresh)), list(map(_NAME, fresh))
            for kind in ("device", "group"):
                self._name_count_of(profile, kind).update(compress(names, map(kind.__eq__, kinds)))

    def _name_count(self, node: Node) -> Counter[str]:
        return self._name_count_of(node.profile, node.kind)

    def _name_count_of(self, profile: str, kind: str) -> Counter[str]:
        names = self._names.get((profile, kind))
        if names is None:
            names = self._names[(profile, kind)] = Counter()
        return names

    def namesakes(self, node: Node) -> int:
        """How many other loaded nodes of `node`'s kind (a device or a group) in its profile
        bear its name."""
        if node.profile in self._unnamed:
            self._count_names(node.profile)
        return max(self._name_count(node)[node.name] - 1, 0)

    def namesakes_under(self, node: Node) -> int:
        """How many other loaded nodes of `node`'s kind beside it (under its parent) bear its
        name. Counted when first asked, once per parent until the nodes change: only a name
        some other node bears is asked about."""
        parent = node.parent or f"{node.profile}/profile/{node.profile}"
        made = self._names_under.get(parent)
        if made is None or made[0] != self.nodes_version:
            made = self._names_under[parent] = (self.nodes_version, Counter((k.kind, k.name) for k in self.kids(parent)))
        return max(made[1][(node.kind, node.name)] - 1, 0)

    def _move(self, ref: str, old_parent: str, new_parent: str) -> None:
        """A node reloaded under another parent (a device moved to another group)."""
        kids = self.children.get(old_parent)
        if kids is not None and ref in kids:
            kids.remove(ref)
        self.children.setdefault(new_parent, []).append(ref)

    def replace_children(self, parent: str, nodes: list[Node]) -> None:
        for old in self.children.pop(parent, []):
            gone = self.nodes.pop(old, None)
            if gone is not None and gone.kind in ("device", "group"):
                self._name_count(gone)[gone.name] -= 1
            if gone is not None and gone.kind == "device":
                self._devices[gone.profile] -= 1
        self.add_nodes(nodes)

    def reading_count(self, profile: str) -> int:
        return self._reading_count.get(profile, 0)

    def device_count(self, profile: str) -> int:
        return self._devices.get(profile, 0)

    def kids(self, ref: str) -> list[Node]:
        return [self.nodes[r] for r in self.children.get(ref, []) if r in self.nodes]

    def roots(self, profile: str) -> list[Node]:
        return self.kids(f"{profile}/profile/{profile}")

    def search(self, text: str, limit: int = 200, profile: str | None = None) -> list[Node]:
        """Devices and groups (of one profile, or all) whose name or id contains `text` (case-insensitive)."""
        needle = text.lower().strip()
        if not needle:
            return []
        prefix = f"{profile}/" if profile else ""
        out = []
        for hay, ref in self._search:
            if needle in hay and ref.startswith(prefix) and ref in self.nodes:
                out.append(self.nodes[ref])
                if len(out) >= limit:
                    break
        return out

    def ancestors(self, ref: str) -> list[str]:
        """Refs from the top of the profile down to the parent of `ref`."""
        chain = []
        node = self.nodes.get(ref)
        while node is not None and node.parent:
            chain.append(node.parent)
            node = self.nodes.get(node.parent)
        return list(reversed(chain))

    def below(self, ref: str) -> set[str]:
        out: set[str] = set()
        todo = [ref]
        while todo:
            for c in self.children.get(todo.pop(), []):
                out.add(c)
                todo.append(c)
        return out

    # ---- values, alarms, identities -------------------------------------------------------

    def put_readings(self, readings: Iterable[Reading]) -> list[str]:
        """Store readings; return the metric refs whose value or time changed."""
        changed = []
        for r in readings:
            old = self.readings.get(r.metric)
            if r.device and (old is None or old.device != r.device):
                self.device_metrics.setdefault(r.device, set()).add(r.metric)
                self.metrics_version += 1
            if old is None:
                self.metrics_version += 1
                profile = r.metric.split("/", 1)[0]
                self._reading_count[profile] = self._reading_count.get(profile, 0) + 1
            if old is None or old.ts != r.ts or old.value != r.value:
                self.readings[r.metric] = r
                self.version += 1
                self.reading_version[r.metric] = self.version
                changed.append(r.metric)
        return changed

    def metrics_below(self, ref: str) -> set[str]:
        """Metric refs with a reading below `ref` (a device, group or sensor), whether or not
        the device's sensors were ever loaded: readings name their device."""
        below = self.below(ref) | {ref}
        out = {m for m in below if m in self.readings}
        for dev in below:
            out |= self.device_metrics.get(dev, set())
        return out

    def newest_reading_time(self, device_ref: str) -> datetime | None:
        """When the newest reading held for anything below `device_ref` was taken, or None:
        the last time the console knows the device was heard from."""
        times = [self.readings[m].ts for m in self.metrics_below(device_ref) if m in self.readings]
        return max(times, default=None)

    def set_alarms(self, profile: str, alarms: list[Alarm]) -> set[str]:
        """Store a profile's alarms; return the refs (devices and the groups above them) whose
        worst open alarm changed, so only their tree labels are redrawn."""
        self.alarms[profile] = alarms
        # one pass per alarm refresh, so a tree label costs a dict look-up, not a scan
        worst: dict[str, Severity] = {}
        for a in self.all_alarms():
            if a.device and a.status is AlarmStatus.open:
                for ref in (a.device, *self.ancestors(a.device)):  # a group shows its worst device's
                    worst[ref] = Severity.worst(worst.get(ref), a.severity)  # type: ignore[assignment]
        old, self._worst = self._worst, worst
        return {ref for ref in old.keys() | worst.keys() if old.get(ref) is not worst.get(ref)}

    def all_alarms(self) -> list[Alarm]:
        return [a for items in self.alarms.values() for a in items]

    def worst_open(self, device_ref: str) -> Severity | None:
        return self._worst.get(device_ref)

    def severity(self, node: Node) -> Severity | None:
        """The severity a node shows: its worst open alarm once the profile's alarms are read
        (they are fresher than the tree, which is re-read rarely), else what the tree said."""
        if node.profile in self.alarms:
            return self._worst.get(node.ref)
        return node.severity or self._worst.get(node.ref)

    def set_identities(self, profile: str, items: list[Identity]) -> None:
        self.identities[profile] = items

    def mark(self, profile: str, state: str, error: str | None = None) -> None:
        p = self.profiles[profile]
        p.state = state
        p.error = error
        if state == "ok":
            p.last_ok = now_utc()
            p.snapshot_at = None
