"""What the console writes about nodes and profiles (tuiot.ui.labels), without an app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tuiot.domain import Node, Severity
from tuiot.fleet.state import ProfileState
from tuiot.ui import labels

NOW = datetime(2026, 5, 28, 12, 0, tzinfo=UTC)


def test_node_label_mark_online_name_unit_then_badge() -> None:
    node = Node(kind="device", id="d1", name="Pump [1]", profile="p", online=False, unit="V")
    text = labels.node_label(node, worst=Severity.major, marked=True)
    assert text == "[reverse]*[/] [$error]○[/] Pump \\[1] [dim]V[/] [$warning][b]MAJ[/b][/]"
    assert labels.node_label(node, worst=None, marked=False) == "[$error]○[/] Pump \\[1] [dim]V[/]"


def test_a_unit_the_name_already_ends_with_is_not_said_twice() -> None:
    """QA: Thingsee's "Movement count count"."""
    moves = Node(kind="metric", id="t:moveCount", name="Movement count", profile="p", unit="count")
    people = Node(kind="metric", id="t:count", name="Occupants", profile="p", unit="count")
    assert labels.node_label(moves, worst=None, marked=False) == "Movement count"
    assert labels.node_label(people, worst=None, marked=False) == "Occupants [dim]count[/]"
    from tuiot.domain import Reading
    from tuiot.fleet.state import FleetState

    fleet = FleetState()
    fleet.add_nodes([Node(kind="device", id="t", name="t", profile="p"),
                     moves.model_copy(update={"parent": "p/device/t"})])
    fleet.put_readings([Reading(metric=moves.ref, value=3, unit="count", ts=NOW, device="p/device/t")])
    assert "  Movement count: 3  [dim]0s ago[/]" in labels.node_detail(fleet.nodes["p/device/t"], fleet, NOW)


def test_device_detail_says_yes_no_and_times_as_the_console_does() -> None:
    """QA: a Murano device showed `locked: False` and `lastseen: 2026-…T08:00:09+00:00`."""
    from tuiot.fleet.state import FleetState

    now = datetime(2026, 12, 5, 8, 0, 21, tzinfo=UTC)
    dev = Node(kind="device", id="air-1", name="Lobby air 1", profile="Murano",
               attrs={"locked": False, "lastseen": "2026-12-05T08:00:09+00:00", "auth": True,
                      "firstseen": "2026-11-01T07:00:00+00:00", "version": "2019.11.15.2_ts"})
    lines = labels.node_detail(dev, FleetState(), now).splitlines()
    assert "locked: no" in lines and "auth: yes" in lines
    assert "last seen: 08:00:09 (12s ago)" in lines
    assert "firstseen: 2026-11-01 07:00 (34d ago)" in lines  # older than a day: the date too
    assert "version: 2019.11.15.2_ts" in lines  # text that is no time stays as it is


def test_status_line_puts_flags_first_so_they_show_at_80_columns() -> None:
    profiles = {"TeamViewer": ProfileState("TeamViewer", "teamviewer", state="ok", last_ok=NOW - timedelta(seconds=3)),
                "Thingsee": ProfileState("Thingsee", "thingsee", state="snapshot", snapshot_at=NOW - timedelta(hours=2))}
    line = labels.status_line(profiles, NOW, marked=2, read_only=True, offline=False)
    assert line.startswith("[reverse] READ-ONLY [/]  [reverse] 2 marked [/]  [$success]TeamViewer: ok 3s[/]")
    assert line.endswith("[$warning]Thingsee: snapshot offline since 2h[/]")
    assert labels.status_line({}, NOW, marked=0, read_only=False, offline=False) == "no profiles"


def test_counts_and_clips() -> None:
    assert [labels.count(n, "round") for n in (1, 2, 1200)] == ["1 round", "2 rounds", "1,200 rounds"]
    assert labels.clip("abcdef", 4) == "abc…" and labels.clip("abc", 4) == "abc"


def test_names_of_metrics_sources_and_nodes_from_what_the_fleet_holds() -> None:
    from tuiot.domain import Reading
    from tuiot.fleet.state import FleetState

    fleet = FleetState()
    dev = Node(kind="device", id="d1", name="Boiler room", profile="P")
    sensor = Node(kind="sensor", id="s1", name="env", profile="P", parent=dev.ref)
    metric = Node(kind="metric", id="s1:t", name="Temperature", profile="P", parent=sensor.ref)
    fleet.add_nodes([dev])
    unloaded = "P/metric/s1:t"
    assert labels.metric_name(fleet, unloaded) == "s1:t"  # nothing known: the id
    fleet.put_readings([Reading(metric=unloaded, value=21.5, ts=datetime(2026, 1, 1, tzinfo=UTC), device=dev.ref)])
    assert labels.metric_name(fleet, unloaded) == "Boiler room · t"  # its device, from a reading
    fleet.add_nodes([sensor, metric])
    assert labels.metric_name(fleet, metric.ref) == "Boiler room · Temperature"
    assert labels.source_name(fleet, dev.ref) == "Boiler room"
    assert labels.source_name(fleet, metric.ref) == "Boiler room · Temperature"
    assert labels.known_name(fleet, "P/device/nope") is None
    assert labels.node_title(fleet, dev.ref) == "Boiler room · P"
    assert labels.node_title(fleet, "P/profile/P") == "P"


def test_natural_key_orders_numbers_by_value_and_ignores_case() -> None:
    names = ["edge 298", "Edge 31", "edge 2", "edge x", "edge 007", "x10y10", "x10y2", "X9y99"]
    assert sorted(names, key=labels.natural_key) == [
        "edge 2", "edge 007", "Edge 31", "edge 298", "edge x", "X9y99", "x10y2", "x10y10"]
    # the batch form gives the same keys, also for a name holding its separator
    assert labels.natural_keys([*names, "a\x00b"]) == [labels.natural_key(n) for n in [*names, "a\x00b"]]
    assert labels.natural_keys([]) == []


def test_a_value_unit_comes_from_the_metric_or_its_reading_and_is_not_said_twice() -> None:
    from tuiot.domain import Reading
    from tuiot.fleet.state import FleetState

    fleet = FleetState()
    temp = Node(kind="metric", id="t:temp", name="Temperature", profile="p", unit="°C")
    moves = Node(kind="metric", id="t:moveCount", name="Movement count", profile="p", unit="count")
    fleet.add_nodes([temp, moves])
    fleet.put_readings([Reading(metric="p/metric/u:volts", value=230, unit="V", ts=NOW)])
    assert labels.value_unit(fleet, temp.ref) == "°C"
    assert labels.value_unit(fleet, moves.ref) is None
    assert labels.value_unit(fleet, "p/metric/u:volts") == "V"  # only read, never expanded
    assert labels.value_unit(fleet, "p/metric/nothing") is None
