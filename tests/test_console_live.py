"""Live and getting around it: what is polled, what stays, what is marked stale."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from test_console_app import loaded, make_app
from tuiot.domain import Reading
from tuiot.fleet.state import ProfileState
from tuiot.ui import labels


async def _live_on(app, pilot, profile: str, rows: int = 1) -> None:
    """Once the fleet is in: `:live PROFILE`, until Live shows at least `rows` values."""
    await loaded(app, pilot)
    await pilot.press("colon", *f"live @{profile}", "enter")
    await _live_values(app, pilot, rows)


async def _live_values(app, pilot, rows: int = 1) -> None:
    view = app.query_one("#live")
    for _ in range(100):
        await pilot.pause(0.05)
        if len(view.list.keys) >= rows:
            return
    raise AssertionError("Live showed no values")


async def test_live_over_a_big_profile_polls_the_rows_on_screen_not_all_of_it(monkeypatch) -> None:
    import tuiot.ui.polling as polling

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _live_on(app, pilot, "TeamViewer", rows=30)
        assert app.plan.want("TeamViewer").latest is None  # a small profile: all of it, every round
        monkeypatch.setattr(polling, "LIVE_WHOLE", 10)
        wanted = app.plan.want("TeamViewer").latest
        view = app.query_one("#live")
        assert wanted is not None and set(wanted) <= set(view.list.keys) and len(wanted) < len(view.list.keys)
        assert set(view.list.in_view()) <= set(wanted)


async def test_back_to_live_shows_what_live_showed_before() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _live_on(app, pilot, "Murano")
        await pilot.press("1", "down", "down", "escape")
        await pilot.pause(0.1)
        assert app.current == "live" and app.live_refs == ["Murano/profile/Murano"]


async def test_live_marks_its_values_stale_as_soon_as_their_vendor_fails() -> None:
    from tuiot.adapters.base import Unavailable

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _live_on(app, pilot, "Thingsee")
        view = app.query_one("#live")
        key = view.list.keys[0]
        assert "stale" not in view.cells(key)[3][0]
        app.loader.failed("Thingsee", Unavailable("no answer"))
        await pilot.pause(0.1)
        assert "stale" in view.cells(key)[3][0]


async def test_live_drops_marks_of_rows_it_no_longer_lists() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _live_on(app, pilot, "Thingsee", rows=2)
        await pilot.press("space", "space")
        view = app.query_one("#live")
        assert len(view.list.marked) == 2
        await pilot.press("colon", *"live @Murano", "enter")
        await _live_values(app, pilot)
        assert view.list.marked == set() and "marked" not in str(view.summary())


async def test_live_filter_finds_rows_by_names_that_arrive_later() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _live_on(app, pilot, "TeamViewer", rows=5)
        view = app.query_one("#live")
        key = view.list.keys[0]
        for _ in range(100):  # the first rows' devices are loaded for their metric names
            await pilot.pause(0.05)
            if key in app.fleet.nodes:
                break
        name = app.naming.metric_name(key).split(" · ")[-1]
        app.live_feed.show()
        view.apply_text(name)
        await pilot.pause()
        assert key in view.list.keys


async def test_j_and_k_move_the_devices_cursor() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        tree = app.devices.tree()
        start = tree.cursor_line
        await pilot.press("j", "j")
        assert tree.cursor_line == start + 2
        await pilot.press("k")
        assert tree.cursor_line == start + 1


def test_the_status_bar_shows_every_profile_within_80_columns() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    profiles = {}
    for name in ("TeamViewer", "Thingsee", "Murano", "ThingsPro"):
        p = profiles[name] = ProfileState(name, name.lower())
        p.state, p.last_ok = "ok", now - timedelta(seconds=8)
    profiles["Murano"].state = "offline"
    wide = labels.status_line(profiles, now, marked=12, read_only=True, offline=False, width=200)
    assert "Murano: offline 8s" in wide and "ThingsPro: ok 8s" in wide
    narrow = labels.status_line(profiles, now, marked=12, read_only=True, offline=False, width=78)
    plain = narrow.replace("[reverse]", "").replace("[/]", "")
    for tag in ("[$success]", "[$error]"):
        plain = plain.replace(tag, "")
    assert len(plain) <= 78 and "READ-ONLY" in plain and "12 marked" in plain
    assert "○ Murano 8s" in plain and plain.count("●") == 3  # every profile, its state as a mark


def test_names_version_moves_when_nodes_come() -> None:
    from tuiot.domain import Node
    from tuiot.fleet.state import FleetState

    fleet = FleetState()
    before = fleet.nodes_version
    fleet.add_nodes([Node(kind="device", id="d1", name="Pump", profile="p")])
    assert fleet.nodes_version > before
    fleet.put_readings([Reading(metric="p/metric/d1:t", value=1.0, ts=datetime(2026, 1, 1, tzinfo=timezone.utc))])
    assert fleet.reading_count("p") == 1


async def _detail_once_values_show(app, pilot, ref: str) -> str:
    """The Devices detail of `ref` (the cursor brought to it) once its last values show, or after 5 s."""
    app.finder.reveal(ref)
    detail = app.query_one("#detail")
    for _ in range(100):
        await pilot.pause(0.05)
        if "last values" in str(detail.render()):
            break
    return str(detail.render())


async def test_the_devices_detail_shows_a_collapsed_devices_last_values() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device" and n.profile == "Thingsee")
        assert "last values" in await _detail_once_values_show(app, pilot, device.ref)
        assert device.ref not in app.devices.tree().lines or not app.devices.tree().lines[device.ref].is_expanded


async def test_the_devices_detail_names_a_teamviewer_devices_values() -> None:
    """TeamViewer metric ids are 32-hex hashes: the detail said '0dc5cc89…79f0: 227.6 V'."""
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device")
        app.finder.reveal(device.ref)
        detail = app.query_one("#detail")
        names = set()
        for _ in range(100):
            await pilot.pause(0.05)
            names = {app.fleet.nodes[m].name for m in app.fleet.metrics_below(device.ref) if m in app.fleet.nodes}
            if names and all(n in str(detail.render()) for n in names):
                break
        assert names and all(f"{n}:" in str(detail.render()) for n in names)


async def test_live_says_it_is_waiting_while_a_selection_has_no_values_yet() -> None:
    app = make_app(faults=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("3")
        view = app.query_one("#live")
        view.show([], {}, title="Murano", selected=True)
        assert view.empty_text() == "waiting for the first values…"
        view.show([], {}, title="nothing selected", selected=False)
        assert view.empty_text().startswith("select a device")


async def test_a_device_moved_to_another_group_is_found_there_after_a_reload() -> None:
    """A reloaded tree forgets the lines it removed: a kept line once put the cursor on
    another device (the one now at the removed line's index)."""

    app = make_app(vendors=("murano",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        groups = [n for n in app.fleet.roots("Murano") if n.kind == "group"]
        assert len(groups) >= 2
        device = app.fleet.kids(groups[0].ref)[0]
        app.finder.reveal(device.ref)  # its line exists under the first group
        await pilot.pause()
        nodes = [n for n in app.fleet.nodes.values() if n.profile == "Murano" and n.kind in ("group", "device")]
        moved = [n.model_copy(update={"parent": groups[1].ref}) if n.ref == device.ref else n for n in nodes]
        assert await app.loader.tree_loaded("Murano", moved)
        assert device.ref not in app.devices.tree().lines or app.devices.tree().lines[device.ref].parent.data == groups[1].ref
        app.finder.reveal(device.ref)
        await pilot.pause()
        assert app.devices.cursor() == device.ref
        assert app.devices.tree().cursor_node.parent.data == groups[1].ref


async def test_a_vendor_without_alarms_that_dies_does_not_stay_ok() -> None:
    """Murano and ThingsPro have no alarms: a round with nothing on screen sent nothing and
    was taken as a good answer, so a dead vendor showed 'ok' with a fresh age. Now such a
    round proves nothing, and a small read now and then is the sign of life."""
    from tuiot.fleet.poller import Polled, Want

    app = make_app(vendors=("murano",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        p = app.fleet.profiles["Murano"]
        app.plan.asked_at["Murano"] = 0.0  # long ago
        want = app.plan.want("Murano")
        assert want.latest and len(want.latest) == 1  # the probe
        app.loader.failed("Murano", RuntimeError("down"))
        before = p.last_ok
        app.post_message(app_mod_polldone(Polled("Murano", Want(latest=(), alarms=True))))
        await pilot.pause()
        assert p.state != "ok" and p.last_ok == before


def app_mod_polldone(result):
    from tuiot.ui.rounds import PollDone

    return PollDone(result)


async def test_a_reloaded_tree_keeps_open_groups_and_the_cursor() -> None:
    """The live tree over the snapshot's (or ctrl+r) used to fold what the user had opened."""
    app = make_app(vendors=("murano",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        group = next(n for n in app.fleet.roots("Murano") if n.kind == "group")
        device = app.fleet.kids(group.ref)[1]
        app.finder.reveal(device.ref)
        await pilot.pause()
        nodes = [n for n in app.fleet.nodes.values() if n.profile == "Murano" and n.kind in ("group", "device")]
        assert await app.loader.tree_loaded("Murano", nodes)
        await pilot.pause()
        assert app.devices.tree().lines[group.ref].is_expanded
        assert app.devices.cursor() == device.ref


async def test_a_whole_profile_asked_for_never_goes_to_the_vendor_as_a_source() -> None:
    """Leaving Live on Thingsee asked for 'Thingsee/profile/Thingsee' in the next round; the
    vendor refused it as a source and the profile showed degraded with an internal error."""
    app = make_app(vendors=("thingsee",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        app.plan.ask(["Thingsee/profile/Thingsee"])
        want = app.plan.want("Thingsee")
        assert want.latest is None  # a small profile: read whole
        app.plan.ask(["Thingsee/profile/Thingsee"])
        import tuiot.ui.polling as polling

        was, polling.LIVE_WHOLE = polling.LIVE_WHOLE, -1  # as if it had 100k values
        app.lists.rule_profiles = lambda: set()  # no local rule needs all its readings
        try:
            want = app.plan.want("Thingsee")
        finally:
            polling.LIVE_WHOLE = was
        assert want.latest is not None and not any("/profile/" in r for r in want.latest)


async def test_a_poll_round_on_a_big_live_repaints_values_in_place_without_a_resort(monkeypatch) -> None:
    """At 150,000 rows a re-sort per poll round froze the console for seconds: past
    RESORT_MAX a round that only moves values keeps the rows and repaints what is on screen."""
    import tuiot.ui.views.live as live_mod
    from tuiot.ui.views import value_text

    monkeypatch.setattr(live_mod, "RESORT_MAX", 10)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _live_on(app, pilot, "TeamViewer", rows=30)
        view = app.query_one("#live")
        await pilot.press("s")  # by value: before, every refresh re-sorted
        await pilot.pause()
        assert view.sort == 1
        order = list(view.list.keys)
        rebuilt = []
        set_rows = view.list.set_rows
        monkeypatch.setattr(view.list, "set_rows", lambda *a, **k: (rebuilt.append(1), set_rows(*a, **k)))
        key = view.list.in_view()[0]
        r = app.fleet.readings[key]
        moved = r.model_copy(update={"value": 123456.0, "ts": r.ts + timedelta(seconds=1)})
        app.rounds.took_readings("TeamViewer", [moved], whole=False)
        assert rebuilt == [] and view.list.keys == order
        assert view.cells(key)[1][0] == value_text(123456.0)


async def test_names_arriving_for_a_big_live_repaint_it_once_per_burst(monkeypatch) -> None:
    """Naming the first rows' devices loads up to 200 devices; a repaint (a re-sort of every
    row) per device starved the pollers for minutes."""
    import tuiot.ui.live_feed as live_feed_mod

    monkeypatch.setattr(live_feed_mod, "LIVE_BURST_ROWS", 10)
    monkeypatch.setattr(live_feed_mod, "LIVE_BURST_WAIT", 0.2)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _live_on(app, pilot, "TeamViewer", rows=30)
        shows = []
        show = app.live_feed.show
        monkeypatch.setattr(app.live_feed, "show", lambda: (shows.append(1), show()))
        for _ in range(50):
            app.naming.names_arrived()
        assert shows == [] and app.live_feed.names_timer is not None
        for _ in range(40):
            await pilot.pause(0.05)
            if app.live_feed.names_timer is None:
                break
        assert app.live_feed.names_timer is None and shows


async def test_live_on_a_profile_says_it_is_loading_until_its_first_whole_round() -> None:
    """'TeamViewer · 3 values' read as final for the 15-55 s a 150,000-value profile took."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _live_on(app, pilot, "TeamViewer")
        view = app.query_one("#live")
        app.whole_read.discard("TeamViewer")
        app.live_feed.show()
        assert "loading…" in str(view.summary()) and "so far" in str(view.summary())
        app.whole_read.add("TeamViewer")
        app.live_feed.show()
        assert "loading" not in str(view.summary())


async def test_a_new_live_selection_keeps_its_cursor_on_the_first_row_while_rows_arrive() -> None:
    """The cursor followed the first row it was put on, and as rows sorted before it came in
    the list opened scrolled mid-way (QA, and the README's screenshot)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        app.finder.reveal("Thingsee/profile/Thingsee")
        await pilot.press("3")
        view = app.query_one("#live")
        for _ in range(40):
            await pilot.pause(0.05)
            if len(view.list.keys) > 20:
                break
        view.list.set_rows(["Thingsee/metric/A:first", *view.list.keys])  # a row sorted before the rest
        assert view.list.cursor == 0 and view.list.scroll_y == 0
        await pilot.press("down", "down")
        key = view.list.highlighted
        view.list.set_rows(["Thingsee/metric/0:new", *view.list.keys])
        assert view.list.highlighted == key  # once moved, the cursor stays on its row


async def test_rows_sorted_into_view_show_metric_names_not_field_ids() -> None:
    # no poll round comes to repaint Live: the rows `s` brings up are named on their own
    app = make_app(devices=400, poll_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await _live_on(app, pilot, "Thingsee", rows=300)  # more rows than the shell names up front
        view = app.query_one("#live")
        await pilot.press("s")
        assert view.sort == 1

        def unnamed() -> list[str]:
            return [view.cells(k)[0][0] for k in view.list.in_view() if k not in app.fleet.nodes]

        for _ in range(100):
            await pilot.pause(0.05)
            if not unnamed():
                break
        assert not unnamed()
        shown = [view.cells(k)[0][0] for k in view.list.in_view()]
        assert shown == [labels.metric_name(app.fleet, k) for k in view.list.in_view()]
        assert not any(n.endswith((" · lght", " · moveCount")) for n in shown), shown


async def test_live_key_shows_the_devices_choice_unless_live_was_given_a_later_one() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("down", "down", "down")
        group = app.devices.cursor()
        assert group is not None and "/group/" in group
        await pilot.press("4", "3")  # another screen in between changes nothing
        assert app.live_refs == [group]
        view = app.query_one("#live")
        assert str(view.summary()).startswith(labels.node_title(app.fleet, group))

        await pilot.press("colon", *"live @Murano", "enter")  # an explicit choice, later than the cursor's
        await pilot.press("4", "3")
        assert app.live_refs == ["Murano/profile/Murano"]
        await pilot.press("1", "3")  # Devices visited, its cursor not moved: still the latest choice
        assert app.live_refs == ["Murano/profile/Murano"]

        # the cursor on a metric (opened on Metrics): 3 after other screens shows its device
        await pilot.press("1")
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device" and n.profile == "TeamViewer")
        app.finder.reveal(device.ref)
        await pilot.press("right")
        for _ in range(100):
            await pilot.pause(0.05)
            if app.fleet.metrics_below(device.ref):
                break
        while app.fleet.nodes[app.devices.cursor()].kind != "metric":
            await pilot.press("down")
        await pilot.press("enter")
        assert app.current == "metrics"
        await pilot.press("4", "5", "6", "3")
        assert app.live_refs == [device.ref]

        # marks are Devices' choice too: the marked devices, until Live is given another
        await pilot.press("1")
        app.finder.reveal(device.ref)
        await pilot.press("m", "4", "3")
        assert app.live_refs == [device.ref] and app.marked == {device.ref}
        await pilot.press("colon", *"live @Thingsee", "enter", "2", "3")
        assert app.live_refs == ["Thingsee/profile/Thingsee"]


def _painted(view) -> list[str]:
    """The Live table's lines as painted (header and rows), and its detail pane."""
    rows = [view.list.render_line(y).text for y in range(view.list.size.height)]
    return [*rows, str(view.query_one("#detail").render())]


async def test_a_paused_live_table_keeps_its_values_and_ages_until_resumed() -> None:
    """QA: values changed while paused, now and then: the view read the fleet's readings (a
    dict the shell fills in place) on every repaint, ages ticked, and going 3 → 1 → 3 re-read
    the whole profile and followed the Devices cursor."""
    from tuiot.ui.views import value_text

    app = make_app(poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await _live_on(app, pilot, "Thingsee", rows=10)
        view = app.query_one("#live")
        await pilot.press("p")
        await pilot.pause(0.1)
        shown = view.list.in_view()
        before = _painted(view)
        frozen = {k: app.fleet.readings[k] for k in shown}
        assert any(value_text(r.value) in line for r in frozen.values() for line in before)
        # new values for every row on screen, as a poll round brings them, ages moving on
        moved = [r.model_copy(update={"value": 424242.0, "ts": r.ts + timedelta(seconds=30)}) for r in frozen.values()]
        app.rounds.took_readings("Thingsee", moved, whole=False)
        await pilot.pause(1.2)  # the once-a-second tick has run
        await pilot.press("1", "down", "down", "3")  # away and back, the Devices cursor moved
        await pilot.pause(0.5)
        assert app.current == "live" and app.live_refs == ["Thingsee/profile/Thingsee"]
        assert all(app.fleet.readings[k] is not r for k, r in frozen.items())  # new readings did arrive
        assert _painted(view)[1:] == before[1:]  # the header line too: 'AGE' and the column widths
        assert not any("424242" in line for line in _painted(view))
        summary = str(view.summary())
        assert summary.startswith("PAUSED") and "new values waiting" in summary

        await pilot.press("p")
        await pilot.pause(0.1)
        assert not view.paused and "PAUSED" not in str(view.summary())
        for k in view.list.in_view():
            assert view.cells(k)[1][0] == value_text(app.fleet.readings[k].value)
        assert _painted(view)[1:-1] != before[1:-1]  # (poll rounds go on: 424242 may be gone by now)


async def test_another_selection_asked_for_while_paused_resumes_live() -> None:
    """`3` keeps a paused table (Devices' cursor is not a request), `:live @x` and `l` are."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _live_on(app, pilot, "Thingsee")
        view = app.query_one("#live")
        await pilot.press("p")
        await pilot.press("colon", *"live @Murano", "enter")
        await _live_values(app, pilot)
        assert not view.paused and app.live_refs == ["Murano/profile/Murano"]
        assert str(view.summary()).startswith(labels.node_title(app.fleet, "Murano/profile/Murano"))
        assert all(k.startswith("Murano/") for k in view.list.keys)


async def test_a_paused_live_header_shows_paused_first_at_80_columns() -> None:
    """QA: on a device, with a filter, the line ran past 80 columns and PAUSED, last, was cut."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        device = max((n for n in app.fleet.nodes.values() if n.kind == "device"),
                     key=lambda n: len(labels.node_title(app.fleet, n.ref)))
        app.finder.reveal(device.ref)
        await pilot.press("l")
        await _live_values(app, pilot)
        view = app.query_one("#live")
        await pilot.press("slash", *"temp", "enter", "p")
        await pilot.pause(0.1)
        assert len(str(view.summary())) > 78  # the whole line does not fit at 80 columns
        line = view.query_one("#summary").render_line(0).text  # as painted: cut at the screen's edge
        assert len(line) <= 80 and line.strip().startswith("PAUSED")


async def test_live_names_each_thingspro_status_device_with_its_gateway() -> None:
    """QA: every ThingsPro gateway has a device 'status': Live listed 'status · cpuUsage' once
    per gateway, rows nobody could tell apart. Each names its gateway, as Devices shows it."""
    app = make_app(vendors=("thingspro",))
    async with app.run_test(size=(80, 24)) as pilot:
        await _live_on(app, pilot, "ThingsPro")
        view = app.query_one("#live")
        await pilot.press("slash", *"status/cpu", "enter")
        for _ in range(100):
            await pilot.pause(0.05)
            rows = list(view.list.keys)
            if len(rows) >= 2 and all("(" in view.cells(k)[0][0] for k in rows):
                break
        names = [view.cells(k)[0][0] for k in rows]
        assert len(rows) >= 2 and len(set(names)) == len(names), names
        for key, name in zip(rows, names):
            gateway = app.fleet.nodes[f"ThingsPro/group/{key.split('/', 2)[2].split('|')[0]}"]
            assert name == f"status ({gateway.name}) · cpuUsage"
        assert str(view.query_one("#detail").render()).startswith(names[0])


async def test_live_detail_never_breaks_an_id_inside_a_part_at_80x24() -> None:
    """QA: at 80x24 the detail read '…thingspro.demo|modbus_tcp_master/meter-000004/cur' /
    'rent': Rich broke the ref anywhere. Each line fits the pane, and the ref is whole or
    broken only after its separators, for every row of ThingsPro and TeamViewer (the long
    ids), as the Devices detail."""
    from test_console_app import _pane_lines, _shows_whole

    app = make_app(devices=24, vendors=("teamviewer", "thingspro"))
    async with app.run_test(size=(80, 24)) as pilot:
        for profile in ("ThingsPro", "TeamViewer"):
            await _live_on(app, pilot, profile, rows=10)
            view = app.query_one("#live")
            pane = view.query_one("#detail")
            width = pane.content_size.width
            assert width == 78
            # a ref too long for one line with its time ('   at 2026-12-05 17:07:08 UTC')
            assert any(len(k) + 30 > width for k in view.list.keys)
            for key in list(view.list.keys):
                view.list.move_to(key)
                await pilot.pause()
                shown = str(pane.render()).split("\n")
                assert all(len(line) <= width for line in shown), (key, shown)
                assert _shows_whole(_pane_lines(pane), key), (key, _pane_lines(pane))


async def test_l_and_the_live_command_answer_alike_while_paused() -> None:
    """QA: `:live @x` while paused resumed without a word where `l` said so. Either way of
    asking for another selection resumes Live and says so; asking for the selection shown
    keeps the pause, and says that (p resumes)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _live_on(app, pilot, "Thingsee")
        view = app.query_one("#live")

        async def asked(*keys: str) -> list[str]:
            """The toasts that `keys`, pressed while Live is paused, bring."""
            if not view.paused:
                await pilot.press("p")
            assert view.paused
            app.clear_notifications()
            await pilot.press(*keys)
            await pilot.pause(0.1)
            return [str(n.message) for n in app._notifications]

        kept = "live refresh is paused on this selection: p resumes"
        resumed = "live refresh resumed for the new selection"
        assert await asked("colon", *"live @Thingsee", "enter") == [kept]
        assert view.paused and app.live_refs == ["Thingsee/profile/Thingsee"]
        assert await asked("colon", *"live @Murano", "enter") == [resumed]
        assert not view.paused and app.live_refs == ["Murano/profile/Murano"]

        await pilot.press("p")
        app.finder.reveal("TeamViewer/profile/TeamViewer")  # Devices, the cursor on another profile
        await pilot.pause()
        assert await asked("l") == [resumed]
        assert not view.paused and app.live_refs == ["TeamViewer/profile/TeamViewer"] and app.current == "live"
        await pilot.press("p", "1")
        assert await asked("l") == [kept]
        assert view.paused and app.current == "live"


async def test_a_long_name_at_80_columns_keeps_its_metric_name_whole() -> None:
    """QA: 'status (Tartu Warehouse 7 gateway 1) · cpuUsa…' at 80x24: the name was cut at its
    end, and the metric's name, which a row is read for, went first. Now the gateway gives way."""
    app = make_app(devices=400, vendors=("thingspro",))  # as `tuiot --demo`: Tartu Warehouse 7 is in it
    async with app.run_test(size=(80, 24)) as pilot:
        await _live_on(app, pilot, "ThingsPro", rows=30)
        view = app.query_one("#live")
        app.fleet.add_nodes(await app.adapters["ThingsPro"].tree(depth="metric"))  # every name known
        key = max((k for k in view.list.keys if k.endswith("|system/status/cpuUsage")),
                  key=lambda k: len(labels.metric_name(app.fleet, k)))
        name = labels.metric_name(app.fleet, key)
        assert name.endswith(") · cpuUsage") and len(name) > 46, name  # longer than the column
        view.list.move_to(key)
        for _ in range(100):  # the next repaint names the rows anew
            await pilot.pause(0.05)
            if view._row_names([key]) == [name]:
                break
        view.list.invalidate()
        await pilot.pause()
        row = next(line for line in _painted(view)[:-1] if "status (Tartu" in line)  # the table, not the detail
        assert "status (Tartu" in row and "…" in row and "gateway 1) · cpuUsage " in row, row


async def test_a_collapsed_groups_detail_asks_for_and_lists_its_devices_last_values() -> None:
    """QA: a group's detail listed last values only for devices whose sensors were opened; a
    group never opened said nothing, though a poll round would have the values."""
    app = make_app(vendors=("murano",))
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        group = next(n for n in app.fleet.nodes.values() if n.kind == "group" and app.fleet.kids(n.ref))
        assert not any(app.fleet.nodes[d].kind == "metric" for d in app.fleet.below(group.ref))  # never opened
        text = await _detail_once_values_show(app, pilot, group.ref)
        assert "last values" in text
        device_names = {d.name for d in app.fleet.kids(group.ref)}
        assert any(name in text for name in device_names)  # each device's values under its name


async def test_a_groups_detail_lists_its_other_devices_after_one_was_opened() -> None:
    """QA: with one device's values in (the cursor had rested on it), its group's detail
    listed that one device only: the group's latest was asked only when it had none."""
    app = make_app(vendors=("thingsee",))
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        group = next(n for n in app.fleet.nodes.values()
                     if n.kind == "group" and sum(d.kind == "device" for d in app.fleet.kids(n.ref)) >= 3)
        first = sorted(app.fleet.kids(group.ref), key=lambda d: d.name)[0]
        assert "last values" in await _detail_once_values_show(app, pilot, first.ref)
        app.finder.reveal(group.ref)
        owners: set[str] = set()
        for _ in range(100):
            await pilot.pause(0.05)
            owners = {r.device for m in app.fleet.metrics_below(group.ref) if (r := app.fleet.readings.get(m))}
            if len(owners) >= 3:
                break
        assert len(owners) >= 3
        text = str(app.query_one("#detail").render())
        assert sum(d.name in text for d in app.fleet.kids(group.ref) if d.ref in owners) >= 2


async def test_a_gateways_detail_gets_its_cloud_status_once_the_cursor_rests_on_it() -> None:
    """The first tree asks each ThingsPro gateway for its name only (one request, not
    five): its cloud connectivity is asked when the user looks at it."""
    app = make_app(vendors=("thingspro",))
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        gateway = next(n for n in app.fleet.nodes.values() if n.kind == "group" and n.parent is None)
        assert "mqtt" not in gateway.attrs
        app.finder.reveal(gateway.ref)
        detail = app.query_one("#detail")
        for _ in range(100):
            await pilot.pause(0.05)
            if "mqtt" in str(detail.render()):
                break
        assert "mqtt" in app.fleet.nodes[gateway.ref].attrs
        assert "mqtt" in str(detail.render()) and gateway.name in str(detail.render())
