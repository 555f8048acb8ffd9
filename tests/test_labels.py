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


# ---- ids in a narrow detail pane (80 columns: 30 for its text) ----------------------------

THINGSPRO_ID = "gw-0004-1.thingspro.demo|modbus_tcp_master/meter-000004/voltage"
TEAMVIEWER_ID = "100000:be1034f2848a69dd3dff2fd72e1fa908"


def test_an_id_breaks_between_its_parts_never_inside_one() -> None:
    """QA: at 80x24 the Devices detail read 'gw-0004-1.thingspro.demo|modbu' / 's_tcp_master…'."""
    assert labels.fold(THINGSPRO_ID, 30, indent=0) == ["gw-0004-1.thingspro.demo|", "modbus_tcp_master/",
                                                       "meter-000004/voltage"]
    assert labels.fold(THINGSPRO_ID, 46, indent=0) == ["gw-0004-1.thingspro.demo|modbus_tcp_master/",
                                                       "meter-000004/voltage"]
    # inside a part only where the part alone is too long, and then at its own separators
    assert labels.fold("modbus_tcp_master_with_a_long_name", 20, indent=0) == ["modbus_tcp_master_", "with_a_long_name"]
    assert labels.fold(THINGSPRO_ID, 0) == [THINGSPRO_ID] and labels.fold("short", 30) == ["short"]


def test_a_run_slightly_too_long_is_folded_in_halves_and_only_a_longer_one_clipped() -> None:
    """QA: at 80 columns a TeamViewer metric id's 32 hex digits lost 3 to '…' in a 30-column
    pane: worse than a second line. Halves of equal length, each on a line of its own."""
    assert labels.fold(TEAMVIEWER_ID, 30, indent=0) == ["100000:", "be1034f2848a69dd", "3dff2fd72e1fa908"]
    assert labels.fold(TEAMVIEWER_ID, 46, indent=0) == [TEAMVIEWER_ID]
    assert labels.fold("x" * 31, 30, indent=0) == ["x" * 16, "x" * 15]
    assert labels.fold("key: " + "b" * 40, 30) == ["key:", "  " + "b" * 20, "  " + "b" * 20]  # after the indent
    # longer than two lines (a token): clipped in the middle, its tail kept; y copies it whole
    token = "0123456789" * 7
    assert labels.fold(token, 30, indent=0) == [labels.clip_middle(token, 30)]
    assert labels.clip_middle(token, 30).endswith(token[-15:])
    assert labels.clip_middle("abcdef", 5) == "ab…ef" and labels.clip_middle("abc", 5) == "abc"
    assert all(len(labels.clip_middle("x" * 40, w)) == w for w in range(0, 12))


def test_words_wrap_at_spaces_with_later_lines_indented() -> None:
    assert labels.fold("url: http://gw-0004-1.thingspro.demo", 30) == ["url: http://", "  gw-0004-1.thingspro.demo"]
    assert labels.fold("description: Turku Office 4 gateway 1", 30) == ["description: Turku Office 4", "  gateway 1"]


def _plain(markup: str) -> list[str]:
    from rich.text import Text

    return Text.from_markup(markup.replace("[$error]", "[red]").replace("[$warning]", "[yellow]")).plain.split("\n")


def test_node_detail_fits_its_width_and_keeps_short_ids_on_the_kind_line() -> None:
    from tuiot.domain import Reading
    from tuiot.fleet.state import FleetState

    fleet = FleetState()
    dev = Node(kind="device", id="2000000000", name="Pump house power 1", profile="TeamViewer", online=True,
               attrs={"url": "http://gw-0004-1.thingspro.demo"})
    metric = Node(kind="metric", id=THINGSPRO_ID, name="voltage", profile="ThingsPro", unit="V")
    fleet.add_nodes([dev, metric])
    # readings that arrived before the device's metrics were named: their ids are all there is
    fleet.put_readings([Reading(metric=f"TeamViewer/metric/100000:{h}", value=229.5, unit="V", ts=NOW, device=dev.ref)
                        for h in ("0dc5cc89e342df1adf30cdcc043279f0", "be1034f2848a69dd3dff2fd72e1fa908")])
    lines = _plain(labels.node_detail(dev, fleet, NOW, width=30))
    assert all(len(line) <= 30 for line in lines), lines
    assert "device 2000000000 · TeamViewer" in lines  # a short id stays on its kind's line
    # the ids clipped in the middle, the ages short so each value keeps one line
    assert "  0dc5cc8…43279f0: 229.5 V  0s" in lines and "  be1034f…e1fa908: 229.5 V  0s" in lines
    lines = _plain(labels.node_detail(metric, fleet, NOW, width=30))
    assert lines[1:5] == ["metric · ThingsPro", "gw-0004-1.thingspro.demo|", "modbus_tcp_master/", "meter-000004/voltage"]
    wide = _plain(labels.node_detail(metric, fleet, NOW, width=0))
    assert wide[1] == f"metric {THINGSPRO_ID} · ThingsPro"  # no width known: one line, as before


def test_last_values_keep_their_names_whole_and_drop_ago_when_it_does_not_fit() -> None:
    from tuiot.domain import Reading
    from tuiot.fleet.state import FleetState

    fleet = FleetState()
    dev = Node(kind="device", id="d", name="Server room environment 16", profile="p")
    kids = [Node(kind="metric", id=f"d:{k}", name=name, profile="p", parent=dev.ref, unit=unit)
            for k, name, unit in (("t", "Temperature", "°C"), ("h", "Humidity", "%RH"))]
    fleet.add_nodes([dev, *kids])
    fleet.put_readings([Reading(metric=kids[0].ref, value=24.03, unit="°C", ts=NOW - timedelta(seconds=36), device=dev.ref),
                        Reading(metric=kids[1].ref, value=40.7, unit="%RH", ts=NOW - timedelta(seconds=36), device=dev.ref)])
    lines = _plain(labels.node_detail(dev, fleet, NOW, width=30))
    assert lines[-2:] == ["  Humidity: 40.7 %RH  36s", "  Temperature: 24.03 °C  36s"]
    assert _plain(labels.node_detail(dev, fleet, NOW, width=46))[-1] == "  Temperature: 24.03 °C  36s ago"


def test_values_print_in_plain_digits_not_e_notation() -> None:
    """QA: Metrics' stats said 'max 1.546e+04' for a value of 15460."""
    from tuiot.ui.views.metrics import fmt_value

    value_text = labels.value_text
    assert value_text(15460.23) == "15460.2" and value_text(15460.0) == "15460"
    assert value_text(101156.0) == "101156" and value_text(1234567.89) == "1234568"  # the whole part in full
    assert value_text(-15460.2) == "-15460.2" and value_text(21.5) == "21.5" and value_text(0.1 + 0.2) == "0.3"
    assert value_text(3.14159265) == "3.14159" and value_text(0.000012) == "0.000012"
    assert value_text(0.0) == value_text(-0.0) == "0"
    assert value_text(42) == "42" and value_text(None) == "—" and value_text("on") == "on"
    assert value_text(1e20) == "1e+20" and value_text(float("nan")) == "nan"  # the extremes keep it
    assert not any("e" in value_text(10.0 ** n) for n in range(-6, 15))
    # Metrics' stats: 4 significant digits, the same rule
    assert fmt_value(15463.7) == "15464" and fmt_value(21.5347) == "21.53" and fmt_value(2.5e6) == "2500000"
    assert fmt_value(None) == "—"


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


def test_counts_agree_with_their_nouns() -> None:
    """QA: the source picker said '1 devices' and '1 metrics'."""
    assert labels.count(1, "device") == "1 device" and labels.count(2, "metric") == "2 metrics"
    assert labels.count(0, "metric") == "0 metrics" and labels.count(1200, "device") == "1,200 devices"


def _gateways(fleet, n: int = 3) -> list[Node]:
    """ThingsPro's shape: gateway (group) → provider 'system' (group) → source 'status' (device)."""
    devices = []
    for i in range(1, n + 1):
        gw = Node(kind="group", id=f"gw-{i}.demo", name=f"Turku Office gateway {i}", profile="TP")
        system = Node(kind="group", id=f"gw-{i}.demo|system", name="system", profile="TP", parent=gw.ref)
        status = Node(kind="device", id=f"gw-{i}.demo|system/status", name="status", profile="TP", parent=system.ref)
        cpu = Node(kind="metric", id=f"gw-{i}.demo|system/status/cpuUsage", name="cpuUsage", profile="TP",
                   parent=status.ref)
        fleet.add_nodes([gw, system, status, cpu])
        devices.append(status)
    return devices


def test_devices_of_one_name_under_other_gateways_are_named_with_their_gateway() -> None:
    """QA: five ThingsPro gateways each have a 'status' device: Live and the source picker
    said 'status · cpuUsage' five times. The provider 'system' is on every gateway too, so
    the name that tells them apart is the gateway's."""
    from tuiot.fleet.state import FleetState

    fleet = FleetState()
    one = _gateways(fleet, 1)[0]
    assert labels.display_name(fleet, one) == "status"  # alone: its own name, nothing added
    assert labels.metric_name(fleet, f"{one.ref.replace('/device/', '/metric/')}/cpuUsage") == "status · cpuUsage"

    fleet = FleetState()
    devices = _gateways(fleet, 3)
    names = [labels.display_name(fleet, d) for d in devices]
    assert names == [f"status (Turku Office gateway {i})" for i in (1, 2, 3)]
    metrics = [labels.metric_name(fleet, f"TP/metric/gw-{i}.demo|system/status/cpuUsage") for i in (1, 2, 3)]
    assert metrics == [f"status (Turku Office gateway {i}) · cpuUsage" for i in (1, 2, 3)]
    assert labels.source_name(fleet, devices[1].ref) == names[1]
    assert labels.known_name(fleet, devices[1].ref) == names[1]
    assert labels.node_title(fleet, devices[1].ref) == f"{names[1]} · TP"
    # a group is told apart the same way; a unique one is not touched
    assert labels.node_title(fleet, "TP/group/gw-2.demo|system") == "system (Turku Office gateway 2) · TP"
    assert labels.node_title(fleet, "TP/group/gw-2.demo") == "Turku Office gateway 2 · TP"
    # a metric seen only in a reading is named by its device as well
    from tuiot.domain import Reading

    unloaded = "TP/metric/gw-3.demo|system/status/memoryUsage"
    fleet.put_readings([Reading(metric=unloaded, value=1, ts=NOW, device=devices[2].ref)])
    assert labels.metric_name(fleet, unloaded) == "status (Turku Office gateway 3) · memoryUsage"


def test_namesakes_under_one_parent_are_told_apart_by_their_ids() -> None:
    """Two devices named alike in one group (TeamViewer, Murano): no group tells them apart."""
    from tuiot.fleet.state import FleetState

    fleet = FleetState()
    site = Node(kind="group", id="site", name="Depot", profile="P")
    a = Node(kind="device", id="be1034f2848a69dd3dff2fd72e1fa908", name="Pump", profile="P", parent=site.ref)
    b = Node(kind="device", id="0dc5cc89e342df1adf30cdcc043279f0", name="Pump", profile="P", parent=site.ref)
    other = Node(kind="device", id="x", name="Pump", profile="Q")  # another profile: not a namesake
    fleet.add_nodes([site, a, b, other])
    assert labels.display_name(fleet, a) == "Pump (be1034f28…d72e1fa908)"  # clipped: ids of a fleet differ at their end
    assert labels.display_name(fleet, b) == "Pump (0dc5cc89e…cc043279f0)"
    assert labels.display_name(fleet, other) == "Pump"


def test_a_name_stops_being_shared_when_its_namesake_is_renamed_or_goes() -> None:
    from tuiot.fleet.state import FleetState

    fleet = FleetState()
    devices = _gateways(fleet, 2)
    assert labels.display_name(fleet, devices[0]) != "status"
    fleet.add_nodes([devices[1].model_copy(update={"name": "status 2"})])  # renamed on reload
    assert labels.display_name(fleet, devices[0]) == "status"
    fleet.add_nodes([devices[1]])
    assert labels.display_name(fleet, devices[0]) == "status (Turku Office gateway 1)"
    fleet.replace_children(devices[1].parent, [])  # gone from its gateway
    assert labels.display_name(fleet, devices[0]) == "status"


def test_wrap_breaks_at_spaces_and_after_bars_and_keeps_no_break_spaces() -> None:
    from tuiot.ui.labels import wrap

    assert wrap("status: provisioned|whitelisted|locked|expired|reprovision|all", 55) == [
        "status: provisioned|whitelisted|locked|expired|", "reprovision|all"]
    assert wrap("close alarm (cursor or marked)\u00a0(writes)", 36) == ["close alarm (cursor or", "marked)\u00a0(writes)"]
    assert wrap("short", 40) == ["short"] and wrap("", 10) == [""]
    assert wrap("abcdefgh ij", 4) == ["abcdefgh", "ij"]  # a long word whole, on its own line


def test_a_long_name_gives_way_by_its_parts_and_keeps_the_metric_name_whole() -> None:
    """QA: Live at 80 columns showed 'status (Tartu Warehouse 7 gateway 1) · cpuUsa…'."""
    name = "status (Tartu Warehouse 7 gateway 1) · cpuUsage"
    assert labels.clip_name(name, 60) == name
    # the gateway first, in the middle: gateways of one site differ at their end
    assert labels.clip_name(name, 40) == "status (Tartu War… gateway 1) · cpuUsage"
    assert labels.clip_name(name, 24) == "status (T… 1) · cpuUsage"
    # then only '(…)' says a namesake was told apart, then the device's name alone, then cut
    assert labels.clip_name(name, 21) == "status (…) · cpuUsage"
    assert labels.clip_name(name, 18) == "status · cpuUsage"
    assert labels.clip_name(name, 14) == "s…s · cpuUsage"
    assert labels.clip_name(name, 12) == "… · cpuUsage"
    # a metric's name longer than the column: its start, as any text is cut
    assert labels.clip_name(name, 10) == "status (T…"
    # a long device name gives way after its parenthesis has shrunk to a few letters
    long_device = "Compressor room north wall (Tartu Warehouse 7 gateway 1) · cpuUsage"
    assert labels.clip_name(long_device, 50) == "Compressor room north wall (Tart…way 1) · cpuUsage"
    assert labels.clip_name(long_device, 44) == "Compressor… north wall (Tar…ay 1) · cpuUsage"
    # no parenthesis: the device's name is cut in the middle, where ids of one fleet differ
    assert labels.clip_name("meter-000018 · current", 14) == "m…18 · current"
    assert labels.clip_name("gw-0007-1.thingspro.demo|system/status", 20) == "gw-0007-1…tem/status"
    # a gateway named with brackets of its own is still one parenthesis
    assert labels.clip_name("status (Depot (old) gateway 1) · cpuUsage", 30) == "status (Depo…way 1) · cpuUsage"
    for text in (name, long_device, "", " · ", "(a) · b", "x (", "a ((b) · c", "((((", "·"):
        for width in range(0, len(text) + 2):
            clipped = labels.clip_name(text, width)
            assert len(clipped) <= width and (clipped == text or len(text) > width), (text, width, clipped)
            if width >= len(" · cpuUsage") + 1 and text.endswith(" · cpuUsage"):
                assert clipped.endswith(" · cpuUsage"), (text, width, clipped)
