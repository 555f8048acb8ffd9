"""FleetState: indexes that keep a keystroke or a refresh from costing the whole fleet."""

from __future__ import annotations

from datetime import UTC, datetime

from tuiot.domain import Alarm, AlarmStatus, Node, Severity
from tuiot.fleet.state import FleetState

T = datetime(2026, 5, 28, tzinfo=UTC)


def _fleet() -> FleetState:
    f = FleetState()
    f.add_nodes([
        Node(kind="group", id="site", name="Site", profile="p"),
        Node(kind="device", id="d1", name="Pump 1", profile="p", parent="p/group/site"),
        Node(kind="device", id="d2", name="Pump 2", profile="p", parent="p/group/site"),
    ])
    return f


def _alarm(i: str, device: str, sev: Severity, status: AlarmStatus = AlarmStatus.open) -> Alarm:
    return Alarm(id=i, profile="p", severity=sev, status=status, device=device, opened_at=T)


def test_a_group_carries_its_worst_devices_alarm_and_changes_are_reported() -> None:
    f = _fleet()
    changed = f.set_alarms("p", [_alarm("a", "p/device/d1", Severity.minor), _alarm("b", "p/device/d2", Severity.major),
                                 _alarm("c", "p/device/d2", Severity.critical, AlarmStatus.closed)])
    assert f.worst_open("p/group/site") is Severity.major and f.worst_open("p/device/d1") is Severity.minor
    assert changed == {"p/group/site", "p/device/d1", "p/device/d2"}
    changed = f.set_alarms("p", [_alarm("a", "p/device/d1", Severity.minor)])
    assert changed == {"p/group/site", "p/device/d2"} and f.worst_open("p/group/site") is Severity.minor


def test_device_count_per_profile_follows_loads_and_replacements() -> None:
    f = _fleet()
    assert f.device_count("p") == 2
    f.replace_children("p/group/site", [Node(kind="device", id="d3", name="Pump 3", profile="p", parent="p/group/site")])
    assert f.device_count("p") == 1 and f.device_count("other") == 0


def test_a_node_reloaded_under_another_parent_moves_there() -> None:
    from tuiot.domain import Node
    from tuiot.fleet.state import FleetState

    fleet = FleetState()
    a = Node(kind="group", id="a", name="A", profile="p")
    b = Node(kind="group", id="b", name="B", profile="p")
    d = Node(kind="device", id="d", name="D", profile="p", parent=a.ref)
    fleet.add_nodes([a, b, d])
    fleet.add_nodes([d.model_copy(update={"parent": b.ref})])
    assert [n.ref for n in fleet.kids(b.ref)] == [d.ref] and fleet.kids(a.ref) == []


def test_a_nodes_severity_is_its_alarms_once_they_are_read_not_the_trees_older_word() -> None:
    f = _fleet()
    group = f.nodes["p/group/site"].model_copy(update={"severity": Severity.critical})  # as the vendor's tree said
    f.nodes[group.ref] = group
    assert f.severity(group) is Severity.critical  # no alarms read yet: the tree is all we know
    f.set_alarms("p", [_alarm("a", "p/device/d1", Severity.minor)])
    assert f.severity(group) is Severity.minor
    f.set_alarms("p", [])
    assert f.severity(group) is None


def test_names_are_counted_once_per_node_however_the_loads_renames_and_removals_interleave() -> None:
    """Names are counted when a profile is first asked about (a tree load no longer pays for
    it): what was renamed or removed before that counts as it would have counted after."""
    site = Node(kind="group", id="site", name="Site", profile="P")
    pumps = [Node(kind="device", id=f"d{i}", name="Pump", profile="P", parent=site.ref) for i in range(3)]
    mixed = [Node(kind="device", id="q", name="Pump", profile="Q"), Node(kind="group", id="g", name="Pump", profile="P")]
    fleet = FleetState()
    fleet.add_nodes([site, *pumps[:2]])
    fleet.add_nodes([pumps[2], *mixed])  # a batch of two profiles and two kinds
    fleet.add_nodes([pumps[0].model_copy(update={"name": "Pump 0"})])  # renamed before any question
    assert fleet.device_count("P") == 3 and fleet.device_count("Q") == 1
    assert fleet.namesakes(pumps[1]) == 1  # pumps 1 and 2; not the renamed one, the group or Q's
    assert fleet.namesakes(mixed[0]) == 0 and fleet.namesakes(mixed[1]) == 0
    fleet.replace_children(site.ref, [pumps[1]])  # pump 2 and the renamed one go, pump 1 stays
    fleet.add_nodes([Node(kind="device", id="d9", name="Pump", profile="P")])
    assert fleet.namesakes(pumps[1]) == 1 and fleet.device_count("P") == 2
