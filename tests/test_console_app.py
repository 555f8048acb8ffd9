"""The console, driven by keys as a user would (Pilot), over the in-process demo fleet."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from conftest import EPOCH
from tuiot.config import Config
from tuiot.simulators.demo import build_demo
from tuiot.simulators.faults import Faults
from tuiot.ui.app import ConsoleApp

FIXED = datetime.fromtimestamp(EPOCH, timezone.utc)


def make_app(**kw) -> ConsoleApp:
    faults = kw.pop("faults", None)
    demo = build_demo(devices=kw.pop("devices", 80), seed=7, epoch=EPOCH, faults=faults, vendors=kw.pop("vendors", None),
                      now=kw.pop("now", None))
    return ConsoleApp(config=Config(profiles={p.name: p for p in demo.profiles}), demo=demo, **kw)


async def loaded(app: ConsoleApp, pilot, timeout: float = 20.0, names: tuple[str, ...] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ps = app.fleet.profiles
        if ps and all(ps[n].loaded for n in (names or ps)):
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError({n: (p.state, p.error) for n, p in app.fleet.profiles.items()})


async def test_devices_tree_shows_every_profile_and_expands_lazily() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        tree = app.query_one("#tree")
        labels = [str(n.label) for n in tree.root.children]
        assert [l.split()[1] for l in labels] == ["TeamViewer", "Thingsee", "Murano", "ThingsPro"]
        assert all("ok" in l for l in labels)
        # a device's sensors are not loaded until it is expanded
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device" and n.profile == "TeamViewer")
        assert not app.fleet.kids(device.ref)
        await pilot.press("slash", *device.id, "enter")  # find it, then expand it
        await pilot.pause(0.2)
        assert app.devices.cursor() == device.ref
        await pilot.press("space")
        for _ in range(40):
            await pilot.pause(0.05)
            if app.fleet.kids(device.ref):
                break
        assert any(k.kind == "sensor" for k in app.fleet.kids(device.ref))
        assert f"device {device.id} · TeamViewer" in str(app.query_one("#detail").render())


async def test_find_reveals_a_device_anywhere_in_the_fleet() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        target = [n for n in app.fleet.nodes.values() if n.kind == "device" and n.profile == "Murano"][-1]
        await pilot.press("slash")
        for ch in target.id:
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.devices.cursor() == target.ref


async def test_screen_keys_help_and_command_line() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        for key, screen in (("3", "live"), ("4", "alarms"), ("5", "rules"), ("6", "identities"), ("2", "metrics"), ("1", "devices")):
            await pilot.press(key)
            assert app.current == screen
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ != "HelpScreen"
        await pilot.press("colon", *"alarms critical", "enter")
        for _ in range(100):
            await pilot.pause(0.05)
            shown = app.query_one("#alarms").shown_alarms()
            if shown:
                break
        assert app.current == "alarms"
        assert shown and {a.severity.value for a in shown} == {"critical"}
        await pilot.press("colon", *"nonsense", "enter")  # a toast, not a crash
        assert app.current == "alarms"


async def _live_rows(app, pilot, n: int = 1) -> list[str]:
    for _ in range(100):
        await pilot.pause(0.05)
        if len(app.query_one("#live").list.keys) >= n:
            break
    return app.query_one("#live").list.keys


async def test_live_shows_values_of_the_selection_and_pauses() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        app.finder.reveal("Thingsee/profile/Thingsee")  # the Devices cursor on the profile
        await pilot.press("3")
        keys = await _live_rows(app, pilot)
        assert keys and all(k.startswith("Thingsee/metric/") for k in keys)
        view = app.query_one("#live")
        await pilot.press("p")
        assert view.paused and "PAUSED" in str(view.query_one("#summary").render())
        assert app.plan.want("Thingsee").latest == ()  # paused: Live asks the vendor for nothing
        await pilot.press("slash", *"temp", "enter")
        assert view.list.keys and len(view.list.keys) < len(keys)
        assert all("temp" in k.lower() or "temp" in app.naming.metric_name(k).lower() for k in view.list.keys)
        await pilot.press("s")
        assert view.sort == 1
        # Enter drills into the metric's history
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.current == "metrics"


async def test_live_colours_values_outside_a_rule_threshold(tmp_path) -> None:
    from tuiot.domain import Rule, Severity, Threshold

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        app.finder.reveal("Thingsee/profile/Thingsee")  # the Devices cursor on the profile
        await pilot.press("3")
        keys = await _live_rows(app, pilot)
        hot, cold = keys[0], keys[1]
        app.rules = [
            Rule(id="r1", profile="Thingsee", name="always", sources=[hot],
                 thresholds=[Threshold(condition="metric > -1000000 || metric == metric || metric != metric", severity=Severity.critical)]),
            Rule(id="r2", profile="Thingsee", name="never", sources=[cold],
                 thresholds=[Threshold(condition="metric > 1e12", severity=Severity.major)]),
        ]
        app.live_feed.index_thresholds()
        view = app.query_one("#live")
        assert view.cells(hot)[1][1] == "critical"
        assert view.cells(cold)[1][1] is None


async def test_devices_marks_feed_live_copy_and_export() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        devices = [n for n in app.fleet.nodes.values() if n.kind == "device" and n.profile == "TeamViewer"][:2]
        for d in devices:
            app.finder.reveal(d.ref)
            await pilot.pause(0.1)
            await pilot.press("m")
        assert app.marked == {d.ref for d in devices}
        assert "2 marked" in str(app.query_one("#statusbar").render())
        await pilot.press("l")
        assert app.current == "live" and sorted(app.live_refs) == sorted(d.ref for d in devices)
        keys = await _live_rows(app, pilot, 2)
        # the values of exactly the marked devices (sensors never expanded: readings name their device)
        assert {app.fleet.readings[k].device for k in keys} == {d.ref for d in devices}
        assert all(" · " in app.naming.metric_name(k) for k in keys)
        await pilot.press("1", "escape")  # Esc on Devices clears the marks first
        assert app.marked == set()


async def test_read_only_refuses_writes_and_says_so() -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        assert "READ-ONLY" in str(app.query_one("#statusbar").render())
        await pilot.press("5")
        await pilot.pause(0.5)
        await pilot.press("d")
        assert app.screen.__class__.__name__ != "Confirm"


async def open_alarms_of(app: ConsoleApp, pilot, profile: str):
    """Screen 4, once the fleet is in, showing `profile`'s open alarms."""
    await loaded(app, pilot)
    await pilot.press("4")
    await pilot.pause(0.5)
    view = app.query_one("#alarms")
    view.apply_filter(profile=profile, status="open")
    await pilot.pause(0.1)
    return view


async def test_alarm_close_asks_first_and_round_trips() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_alarms_of(app, pilot, "TeamViewer")
        before = [a.id for a in view.shown_alarms()]
        assert before
        await pilot.press("c")
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ == "Confirm"
        await pilot.press("y")
        for _ in range(60):
            await pilot.pause(0.05)
            open_ids = {a.id for a in app.fleet.alarms["TeamViewer"] if a.status.value == "open"}
            if before[0] not in open_ids:
                break
        assert before[0] not in open_ids


async def test_a_slow_vendor_does_not_freeze_the_console() -> None:
    app = make_app(faults={"thingsee": Faults(latency=3.0)}, poll_interval=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot, names=("TeamViewer", "Murano"))
        assert not app.fleet.profiles["Thingsee"].loaded
        await pilot.press("4", "6", "1")
        # the keys were answered while Thingsee is still loading
        assert app.current == "devices" and app.crumbs[-3:] == ["alarms", "identities", "devices"]
        # and the fast vendors kept refreshing: their pollers wait for nobody (past the short
        # grace that keeps a first alarm sweep off the CPU while other trees load)
        from tuiot.ui.polling import ALARM_GRACE

        await pilot.pause(ALARM_GRACE)
        rounds = app.pollers["TeamViewer"].rounds
        await pilot.pause(2.5)
        assert app.pollers["TeamViewer"].rounds >= rounds + 2
        assert not app.fleet.profiles["Thingsee"].loaded
        # identities wait for every tree, except when screen 6 asks: it did, so Murano's are in
        assert app.fleet.identities.get("Murano")
        assert app.fleet.profiles["TeamViewer"].state == "ok"


ID_SEPARATORS = "|/:-_.,;"


def _pane_lines(widget) -> list[str]:
    """The widget's lines as the terminal shows them, padding stripped."""
    from textual.geometry import Region

    return [strip.text.strip() for strip in widget.render_lines(Region(0, 0, *widget.outer_size))]


def _shows_whole(lines: list[str], ident: str) -> bool:
    """`ident` is on screen either on one line or across lines that each end at one of its
    separators, or that hold a half of a run too long for one line (a TeamViewer metric's
    32 hex digits at 80 columns) on its own; or clipped to 'head…tail' on one line, its tail
    intact (a run longer than two lines)."""
    joined, cuts, halves = "", [], set()
    for line in lines:
        cuts.append(len(joined))
        if line and not any(ch in ID_SEPARATORS for ch in line):
            halves |= {len(joined), len(joined) + len(line)}  # a line of a run alone: cut at both ends
        joined += line
    at = joined.find(ident)
    if at >= 0:
        return all(joined[c - 1] in ID_SEPARATORS or c in halves for c in cuts if at < c < at + len(ident))
    for line in lines:
        for word in line.split():
            head, _, tail = word.partition("…")
            if tail and len(tail) >= 8 and ident.endswith(tail) and head in ident:
                return True
    return False


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_devices_detail_never_breaks_an_id_inside_a_part(size) -> None:
    """QA: at 80x24 the detail read 'gw-0004-1.thingspro.demo|modbu' / 's_tcp_master/…' and
    '100000:be1034f2848a69dd3dff2fd' / '72e1fa908'. Every node of ThingsPro and TeamViewer
    (whose ids are the long ones): each line fits the pane, so nothing is broken for it,
    and the id is whole or broken only after its separators."""
    app = make_app(devices=24, vendors=("teamviewer", "thingspro"))
    async with app.run_test(size=size) as pilot:
        await loaded(app, pilot)
        detail = app.query_one("#detail")
        width = detail.content_size.width
        assert width == {80: 30, 120: 46}[size[0]]
        nodes = [n for p in ("ThingsPro", "TeamViewer") for n in await app.adapters[p].tree(depth="metric")]
        app.fleet.add_nodes(nodes)
        assert any(n.kind == "metric" and len(n.id) > 60 for n in nodes)  # the long ThingsPro ids are there
        for node in nodes:
            app.finder.reveal(node.ref)
            await pilot.pause()
            assert app.devices.cursor() == node.ref
            shown = str(detail.render()).split("\n")
            assert all(len(line) <= width for line in shown), (node.ref, shown)
            lines = _pane_lines(detail)
            assert _shows_whole(lines, node.id), (node.ref, lines)
            # no id of theirs is longer than two lines' worth: each is on screen whole, never clipped
            assert node.id in "".join(lines), (node.ref, lines)
            if len(f"{node.kind} {node.id} · {node.profile}") <= width:
                assert f"{node.kind} {node.id} · {node.profile}" in lines


async def test_devices_detail_breaks_its_lines_again_when_the_terminal_is_resized() -> None:
    """A group's detail is not redrawn by the second tick: a resize redraws it at the new width."""
    app = make_app(devices=24, vendors=("thingspro",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        gateway = next(n for n in app.fleet.nodes.values() if n.kind == "group" and n.profile == "ThingsPro")
        app.finder.reveal(gateway.ref)
        await pilot.pause()
        assert _pane_lines(app.query_one("#detail"))[1:3] == ["group · ThingsPro", gateway.id]
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.2)
        assert _pane_lines(app.query_one("#detail"))[1] == f"group {gateway.id} · ThingsPro"


async def test_devices_detail_names_the_values_a_poll_brought_before_the_device_was_opened() -> None:
    """QA: a TeamViewer device's detail listed its last values under their metric ids
    ('0dc5cc89e342df1adf30cdcc0432' / '79f0: 229.5 V') until the device was expanded."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device" and n.profile == "TeamViewer")
        for _ in range(100):  # a poll round brings every device's values, under their metric ids
            await pilot.pause(0.05)
            if app.fleet.metrics_below(device.ref):
                break
        assert not app.fleet.kids(device.ref)  # its values are in, its metrics' names are not
        await pilot.press("slash", *device.id, "enter")
        for _ in range(60):
            await pilot.pause(0.05)
            if "Voltage:" in "\n".join(_pane_lines(app.query_one("#detail"))):
                break
        lines = _pane_lines(app.query_one("#detail"))
        assert any(line.startswith("Voltage: ") for line in lines), lines
        assert not any("…" in line for line in lines[lines.index("last values"):]), lines


async def test_copying_a_long_id_shows_it_whole_in_the_toast() -> None:
    """`y` is how the full id is reached where the pane clipped it: the toast said
    'copied gw-0004-1.thingspro.demo|modbus_tcp_' / 'master/meter-…', its tail lost."""
    app = make_app(devices=24, vendors=("teamviewer", "thingspro"))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        nodes = [n for p in ("ThingsPro", "TeamViewer") for n in await app.adapters[p].tree(depth="metric")]
        app.fleet.add_nodes(nodes)
        for profile in ("ThingsPro", "TeamViewer"):
            metric = max((n for n in nodes if n.kind == "metric" and n.profile == profile), key=lambda n: len(n.id))
            for _ in range(40):  # each level's lines come in as it expands
                app.finder.reveal(metric.ref)
                await pilot.pause(0.05)
                if app.devices.cursor() == metric.ref:
                    break
            await pilot.press("y")
            await pilot.pause()
            toast = list(app._notifications)[-1].message.split("\n")
            assert toast[0] == "copied" and "".join(toast[1:]) == metric.id, toast
            assert all(len(line) <= 36 and line[-1] in ID_SEPARATORS for line in toast[1:-1]), toast


async def test_origin_and_checks_hidden_as_columns_at_80_show_in_the_detail() -> None:
    """Below 100 columns Alarms drops ORIGIN and Rules drops CHECKS: the detail pane of the
    highlighted row must still say them, within the rows it has at 80x24."""
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("4")
        view = app.query_one("#alarms")
        for _ in range(60):
            await pilot.pause(0.05)
            if view.list.keys:
                break
        assert "ORIGIN" not in _pane_lines(view.list)[0]
        for key in view.list.keys[:5]:
            view.list.move_to(key)
            await pilot.pause()
            a = view._alarms[key]
            assert f"{a.origin.value} alarm" in "\n".join(_pane_lines(view.query_one("#detail")))
        await pilot.press("5")
        view = app.query_one("#rules")
        for _ in range(60):
            await pilot.pause(0.05)
            if view.list.keys:
                break
        assert "CHECKS" not in _pane_lines(view.list)[0]
        for key in view.list.keys:
            view.list.move_to(key)
            await pilot.pause()
            pane = "\n".join(_pane_lines(view.query_one("#detail")))
            for t in view._rules[key].thresholds:
                assert f"for {t.checks} reading{'s' if t.checks != 1 else ''} in a row" in pane, pane


def test_snapshot_devices(snap_compare) -> None:
    async def settle(pilot) -> None:
        await loaded(pilot.app, pilot)
        await pilot.press("down", "enter")
        for _ in range(100):  # the group's devices' values, each under its device, by name
            await pilot.pause(0.05)
            pane = _pane_lines(pilot.app.query_one("#detail"))
            if "last values" in pane and not any("…" in line for line in pane):
                break
        # the simulators' values move with the wall clock: the picture holds fixed ones
        app, group = pilot.app, pilot.app.devices.cursor()
        shown = sorted(m for m in app.fleet.metrics_below(group) if m in app.fleet.readings)
        app.fleet.put_readings([app.fleet.readings[m].model_copy(update={"value": 10.0 + i, "ts": FIXED})
                                for i, m in enumerate(shown)])
        app.fleet.put_readings = lambda readings: []  # a round still under way must not move them
        app.devices.show_detail(group)
        await pilot.pause(0.3)

    # vendors whose simulated state depends only on the seeded world, not on the wall clock
    app = make_app(clock=lambda: FIXED, vendors=("teamviewer", "murano"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_snapshot_alarms(snap_compare) -> None:
    async def settle(pilot) -> None:
        await loaded(pilot.app, pilot)
        await pilot.press("4")
        await pilot.pause(0.3)

    app = make_app(clock=lambda: FIXED, vendors=("teamviewer", "murano"))
    assert snap_compare(app, terminal_size=(120, 40), run_before=settle)


def test_snapshot_live_with_a_threshold(snap_compare) -> None:
    from tuiot.domain import Origin, Rule, Severity, Threshold

    async def settle(pilot) -> None:
        app = pilot.app
        await loaded(app, pilot)
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device" and n.profile == "Murano")
        app.finder.reveal(device.ref)
        await pilot.press("3")
        keys = await _live_rows(app, pilot, 3)
        for _ in range(100):  # the vendor's rules come in after the trees: the test's rule goes in after them
            if app.rules and not any(w.group == "rules" and not w.is_finished for w in app.workers):
                break
            await pilot.pause(0.05)
        hot = sorted(keys)[0]
        app.rules = [*app.rules, Rule(id="r", profile="Murano", name="hot", sources=[hot], origin=Origin.vendor,
                                         thresholds=[Threshold(condition="metric == metric", severity=Severity.critical)])]
        app.live_feed.index_thresholds()
        await pilot.pause(0.3)
        app.query_one("#live").list.move_to(hot)  # its detail says why it is coloured
        await pilot.pause(0.1)

    app = make_app(clock=lambda: FIXED, vendors=("teamviewer", "murano"), now=EPOCH)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_snapshot_rules(snap_compare) -> None:
    async def settle(pilot) -> None:
        await loaded(pilot.app, pilot)
        await pilot.press("5")
        for _ in range(40):
            await pilot.pause(0.05)
            if pilot.app.query_one("#rules").list.keys:
                break
        await pilot.pause(0.2)

    app = make_app(clock=lambda: FIXED, vendors=("teamviewer", "murano"))
    assert snap_compare(app, terminal_size=(120, 40), run_before=settle)


async def test_a_local_rule_raises_an_alarm_in_the_console(tmp_path, monkeypatch) -> None:
    import os
    from pathlib import Path

    app = make_app()
    # a rule that always holds, on a Thingsee metric: raised after 1 check
    Path(os.environ["TUIOT_CONFIG"]).parent.mkdir(parents=True, exist_ok=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device" and n.profile == "Thingsee")
        (Path(os.environ["TUIOT_CONFIG"]).parent / "rules.toml").write_text(
            f'[[rules]]\nname = "always"\nprofile = "Thingsee"\nmetric = "{device.id}:batl"\n'
            'condition = "metric > -1000"\nseverity = "minor"\nchecks = 1\nenabled = true\n'
        )
        app.lists.load_local_rules()
        await pilot.pause(0.3)
        app.pollers["Thingsee"].wake()  # local rules: the next round reads the whole profile
        for _ in range(60):
            await pilot.pause(0.05)
            if app.local is not None and app.local.alarms():
                break
        local = app.local.alarms()
        assert local and local[0].origin.value == "local" and local[0].rule == "always"
        await pilot.press("4")
        await pilot.pause(0.2)
        assert any(a.origin.value == "local" for a in app.query_one("#alarms").shown_alarms())


async def test_starts_from_the_snapshot_when_the_vendor_is_unreachable(monkeypatch) -> None:
    """Field mode: the last known fleet at once, marked with its age, and no crash."""
    from datetime import timedelta

    from simproc import free_port
    from tuiot.config import parse_config
    from tuiot.domain import Node, Reading
    from tuiot.fleet.snapshot import SnapshotStore

    config = parse_config(f'[profiles.site]\nvendor = "thingsee"\nbase_url = "http://127.0.0.1:{free_port()}"\nclient_id = "c"\ntimeout = 1\n')
    monkeypatch.setenv("TUIOT_SECRET_SITE", "s")
    taken = datetime.now(timezone.utc) - timedelta(hours=2)
    nodes = [
        Node(kind="group", id="prfi00oulu", name="Oulu office", profile="site"),
        Node(kind="device", id="TSPD1", name="Lobby sensor", profile="site", parent="site/group/prfi00oulu", online=True),
    ]
    with SnapshotStore() as store:
        store.save("site", nodes=nodes, readings=[Reading(metric="site/metric/TSPD1:temp", value=21.5, ts=taken, unit="°C")],
                   fetched_at=taken)
    app = ConsoleApp(config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.fleet.profiles["site"].snapshot_at and app.fleet.profiles["site"].error:
                break
        assert "site/device/TSPD1" in app.fleet.nodes
        status = str(app.query_one("#statusbar").render())
        assert "snapshot" in status and "offline since 2h" in status


async def test_offline_flag_never_touches_the_network(monkeypatch) -> None:
    from tuiot.config import parse_config

    config = parse_config('[profiles.site]\nvendor = "thingsee"\nbase_url = "http://127.0.0.1:9"\nclient_id = "c"\n')
    app = ConsoleApp(config=config, offline=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        assert "OFFLINE" in str(app.query_one("#statusbar").render())
        assert app.adapters["site"].health.requests == 0
        # no snapshot here: its tree line says so, not "connecting" for ever
        assert "connecting" not in str(app.devices.tree().lines["site/profile/site"].label)


def test_screenshots_command_writes_every_screen(tmp_path) -> None:
    from tuiot.cli import main

    assert main(["--demo", "--devices", "40", "screenshots", "--out", str(tmp_path), "--size", "80x24"]) == 0
    names = sorted(p.stem for p in tmp_path.glob("*.svg"))
    assert names == sorted(["devices", "metrics", "live", "alarms", "rules", "identities"])
    import html

    text = html.unescape((tmp_path / "metrics.svg").read_text()).replace("\xa0", " ")
    assert "Metrics · " in text and "24h" in text  # a metric's chart, not the empty screen


async def test_a_newer_tree_supersedes_one_still_going_in() -> None:
    """A big tree goes in slices (the console keeps drawing); a newer tree of the same
    profile arriving meanwhile (the live load over a snapshot's) is the one shown."""
    import asyncio

    from tuiot.domain import Node
    from tuiot.ui.loading import INDEX_SLICE

    app = make_app(vendors=("murano",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)

        def tree(tag: str) -> list[Node]:
            return [Node(kind="group", id=f"{tag}-{i}", name=f"{tag} {i}", profile="Murano")
                    for i in range(INDEX_SLICE * 2 + 10)]

        old, new = tree("old"), tree("new")
        first = asyncio.ensure_future(app.loader.tree_loaded("Murano", old))
        await asyncio.sleep(0)  # the old tree's first slice is in
        shown = await app.loader.tree_loaded("Murano", new)
        assert shown is True and await first is False
        await pilot.pause()
        roots = {n.id for n in app.fleet.roots("Murano")}
        assert roots == {n.id for n in new}
        assert all(not r.startswith("old") for r in roots)


async def test_a_snapshot_of_another_account_is_not_shown_under_offline() -> None:
    """A profile redefined for another vendor must not be shown the old one's fleet."""
    from tuiot.config import parse_config
    from tuiot.domain import Node
    from tuiot.fleet.snapshot import SnapshotStore, profile_account

    old = parse_config('[profiles.site]\nvendor = "teamviewer"\nbase_url = "http://127.0.0.1:9"\n')
    with SnapshotStore() as store:
        store.save("site", nodes=[Node(kind="device", id="1", name="Old pump", profile="site")],
                   account=profile_account(old.profiles["site"]))
    new = parse_config('[profiles.site]\nvendor = "thingsee"\nbase_url = "http://127.0.0.1:9"\nclient_id = "c"\n')
    app = ConsoleApp(config=new, offline=True)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(60):
            await pilot.pause(0.05)
            if app.fleet.profiles["site"].error:
                break
        assert "site/device/1" not in app.fleet.nodes
        assert "no snapshot of this account" in app.fleet.profiles["site"].error


async def test_values_seen_in_part_join_the_snapshot(monkeypatch) -> None:
    """`--offline` later has what the console saw, not only whole-profile rounds."""
    from tuiot.domain import Reading
    from tuiot.fleet.snapshot import SnapshotStore

    app = make_app(vendors=("murano",))
    app.use_snapshot = True  # as with a configured profile
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        r = Reading(metric="Murano/metric/x:temp", value=3.0, ts=FIXED, device="Murano/device/x")
        app.rounds.took_readings("Murano", [r], whole=False)
        saves = [w for w in app.workers if w.group == "save"]
        await app.workers.wait_for_complete(saves)
    with SnapshotStore() as store:
        snap = store.load("Murano")
    assert snap is not None and any(x.metric == r.metric for x in snap.readings or [])


async def test_r_on_an_alarm_opens_the_rule_that_raised_it() -> None:
    """Triage: alarm → the rule behind it, not the one under the Rules cursor (QA)."""
    from tuiot.ui.screens.rule_editor import RuleEditor

    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_alarms_of(app, pilot, "TeamViewer")
        for _ in range(40):  # rules are read after the trees
            if app.naming.rule_name("TeamViewer", view.shown_alarms()[-1].rule or ""):
                break
            await pilot.pause(0.05)
        alarm = view.shown_alarms()[-1]
        view.list.focus()
        await pilot.press("end", "r")
        await pilot.pause(0.3)
        assert isinstance(app.screen, RuleEditor)
        assert app.screen.rule.id == alarm.rule


def _seen_age(app, profile: str) -> str | None:
    """The age the screen shows for `profile` in the status bar, dialogs and all (a screenshot)."""
    import html
    import re

    text = html.unescape(app.export_screenshot()).replace("\xa0", " ")
    m = re.search(rf"{profile}: \w+ (\d+[smhd])", text)
    return m.group(1) if m else None


async def test_the_status_bar_ages_tick_under_the_rule_editor_and_its_source_picker() -> None:
    """QA: with the picker open over the rule editor the ages stood still (Textual repaints a
    screen seen through one translucent dialog, not through two)."""
    from datetime import timedelta

    from tuiot.domain import now_utc
    from tuiot.ui.screens.source_picker import SourcePicker

    app = make_app(poll_interval=60.0)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(app, pilot)
        await pilot.press("5")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause(0.2)
        await pilot.press("ctrl+o")
        await pilot.pause(0.2)
        assert isinstance(app.screen, SourcePicker)
        for poller in app.pollers.values():
            poller.paused = True  # no round resets the age under test
        await pilot.pause(0.3)
        p = app.fleet.profiles["Murano"]
        p.last_ok = now_utc() - timedelta(hours=3)  # a vendor silent for three hours
        for _ in range(30):
            await pilot.pause(0.1)
            if _seen_age(app, "Murano") == "3h":
                break
        assert _seen_age(app, "Murano") == "3h"
        # closing a dialog shows the bar as it is now, without waiting for the next tick
        p.last_ok = now_utc() - timedelta(hours=5)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "RuleEditor"
        assert _seen_age(app, "Murano") == "5h"


async def _identities_on_screen(app, pilot):
    from test_console_writes import _identities_screen

    view = await _identities_screen(app, pilot)
    view.list.focus()
    return view


def _screen_text(app) -> str:
    import html
    import re

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(app.export_screenshot()).replace("\xa0", " ")))


async def test_identities_refresh_by_themselves_and_keep_cursor_marks_and_scroll() -> None:
    """QA: screen 6 was read once; a lock made elsewhere showed only after ctrl+r. It is read
    again each poll interval while shown, and the cursor stays on its identity."""
    app = make_app(vendors=("murano",), devices=160, poll_interval=1.0)
    async with app.run_test(size=(120, 30)) as pilot:
        view = await _identities_on_screen(app, pilot)
        await pilot.press("space")  # a mark on the first row (the cursor moves on)
        marked = set(view.list.marked)
        await pilot.press(*["down"] * 24)  # scrolled: the cursor is past the first screenful
        shown = view.shown_identities()
        target = next(i for i in shown[view.list.cursor:] if i.status.value == "provisioned")
        view.list.move_to(target.ref)
        await pilot.pause()
        top = view.list.scroll_offset.y
        assert top > 0 and view.list.highlighted == target.ref
        adapter = app.adapters["Murano"]
        await adapter.lock(target.identity)  # behind the console's back: as another operator would
        for _ in range(60):
            await pilot.pause(0.1)
            if view._items[target.ref].status.value == "locked":
                break
        await pilot.pause(0.1)
        assert view._items[target.ref].status.value == "locked"
        assert f"{target.identity} locked" in _screen_text(app)  # drawn, not only held
        assert view.list.highlighted == target.ref and view.list.scroll_offset.y == top
        assert view.list.marked == marked
        # a new identity sorting first moves every row down one: the cursor follows its identity
        await adapter.add_identity("0000-new-one")
        for _ in range(60):
            await pilot.pause(0.1)
            if any(i.identity == "0000-new-one" for i in view.shown_identities()):
                break
        assert view.shown_identities()[0].identity == "0000-new-one"
        assert view.list.highlighted == target.ref and view.list.marked == marked


async def test_identities_are_read_again_only_while_screen_6_shows_them() -> None:
    app = make_app(vendors=("murano",), poll_interval=1.0)
    async with app.run_test(size=(120, 30)) as pilot:
        await _identities_on_screen(app, pilot)
        adapter = app.adapters["Murano"]
        calls: list[float] = []
        real = adapter.identities

        async def counted(**kw):
            calls.append(time.monotonic())
            return await real(**kw)

        adapter.identities = counted
        await pilot.pause(2.5)
        assert 1 <= len(calls) <= 3  # once a round, not more
        await pilot.press("1")
        await pilot.pause(0.3)
        n = len(calls)
        await pilot.pause(2.5)
        assert len(calls) == n  # off screen 6, nobody reads them
        await pilot.press("6")  # back: read at once, not a poll interval later
        for _ in range(20):
            await pilot.pause(0.05)
            if len(calls) > n:
                break
        assert len(calls) == n + 1


def _screen_lines(app) -> list[str]:
    """The terminal's lines as the user sees them."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def _gateway_with_values(app, pilot):
    """A ThingsPro gateway whose devices were opened and read: its attributes, then its
    devices' last values, longer than the 21 rows the detail has at 80x24."""
    from tuiot.domain import Reading

    nodes = await app.adapters["ThingsPro"].tree(depth="metric")
    app.fleet.add_nodes(nodes)
    gateway = next(n for n in nodes if n.kind == "group" and "|" not in n.id)  # gw-…demo, not its providers
    metrics = [m for m in sorted(app.fleet.below(gateway.ref)) if app.fleet.nodes[m].kind == "metric"]
    app.fleet.put_readings([Reading(metric=m, value=230.0 + i, ts=FIXED, unit="V") for i, m in enumerate(metrics)])
    for _ in range(40):
        app.finder.reveal(gateway.ref)
        await pilot.pause(0.05)
        if app.devices.cursor() == gateway.ref:
            break
    assert app.devices.cursor() == gateway.ref
    return gateway


async def test_a_groups_last_values_name_their_device() -> None:
    """QA: a gateway's detail listed 'current: 12.01 A' from several meters without saying
    which meter each was. Each device's values stand under its name."""
    app = make_app(devices=24, vendors=("thingspro",), clock=lambda: FIXED)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        gateway = await _gateway_with_values(app, pilot)
        lines = _pane_lines(app.query_one("#detail"))
        values = lines[lines.index("last values") + 1:]
        devices = {n.name for n in app.fleet.nodes.values() if n.kind == "device" and gateway.ref in app.fleet.ancestors(n.ref)}
        named = [line for line in values if line in devices]
        assert len(named) >= 2, values  # the values of two devices or more, each under its name
        assert values[0] in devices and all(line in devices or ": " in line for line in values), values
        width = app.query_one("#detail").content_size.width
        assert all(len(line) <= width for line in str(app.query_one("#detail").render()).split("\n"))


async def test_a_groups_value_lines_keep_value_unit_and_age_on_one_line_at_80() -> None:
    """QA: at 80x24 a group's detail read '    Air pressure: 101430 Pa' and then '      0s'
    alone on the next line. The name gives way ('Air pre…'): each value line holds its
    value, its unit and its age."""
    app = make_app(devices=24, vendors=("thingsee",), clock=lambda: FIXED)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        group = next(n for n in app.fleet.nodes.values() if n.kind == "group" and app.fleet.kids(n.ref))
        app.finder.reveal(group.ref)
        detail = app.query_one("#detail")
        for _ in range(100):
            await pilot.pause(0.05)
            if "Air pressure" in str(detail.render()) or "Air pr" in str(detail.render()):
                break
        shown = sorted(m for m in app.fleet.metrics_below(group.ref) if m in app.fleet.readings)
        app.fleet.put_readings([app.fleet.readings[m].model_copy(update={"value": 101430.0, "ts": FIXED}) for m in shown])
        app.fleet.put_readings = lambda readings: []  # a round under way must not move them
        app.devices.show_detail(group.ref)
        await pilot.pause(0.1)
        lines = _pane_lines(detail)
        values = lines[lines.index("last values") + 1:]
        assert any(line.startswith("Air pr") and "…: 101430 Pa  0s" in line for line in values), values
        assert "0s" not in values  # no age alone on a line
        devices = {n.name for n in app.fleet.kids(group.ref)}
        assert all(line in devices or line.endswith("  0s") for line in values), values
        assert all(len(line) <= detail.content_size.width for line in str(detail.render()).split("\n"))


@pytest.mark.parametrize("keys", [("ctrl+down",) * 4, ("J",) * 4, ("tab", "end")])
async def test_the_bottom_of_a_long_devices_detail_is_reached_with_keys(keys) -> None:
    """QA: at 80x24 a ThingsPro gateway's detail ran past the pane's bottom, its last values
    lost. It scrolls: ctrl+down or J from the tree, or tab to it and its own keys; another
    node starts at its top again."""
    app = make_app(devices=24, vendors=("thingspro",), clock=lambda: FIXED)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await _gateway_with_values(app, pilot)
        await pilot.pause(0.1)
        last = _pane_lines(app.query_one("#detail"))[-1]
        assert last.endswith("ago") or last.split()[-1][-1] in "smhd", last  # a value line, its age
        assert not any(last in line for line in _screen_lines(app))  # below the pane's bottom
        await pilot.press(*keys)
        await pilot.pause(0.1)
        assert any(line.rstrip().endswith(last) for line in _screen_lines(app)), _screen_lines(app)
        if keys[0] != "tab":
            assert app.focused is app.query_one("#tree")  # the tree kept the keys
            await pilot.press("ctrl+up" if keys[0] == "ctrl+down" else "K")
            await pilot.pause(0.1)
            assert not any(line.rstrip().endswith(last) for line in _screen_lines(app))
            await pilot.press(*(["ctrl+down" if keys[0] == "ctrl+down" else "J"] * 4))
        await pilot.press("shift+tab") if keys[0] == "tab" else None
        await pilot.press("down")  # the next node: its detail from the top
        await pilot.pause(0.1)
        assert app.query_one("#detail-scroll").scroll_y == 0


def test_help_names_the_detail_scroll_keys() -> None:
    from tuiot.ui import keys

    text = "\n".join(keys.help_lines("devices"))
    assert "ctrl+down/J" in text and "ctrl+up/K" in text and "Scroll the detail" in text
