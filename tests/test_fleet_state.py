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
