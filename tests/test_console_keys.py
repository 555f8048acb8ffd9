"""Getting around the console with keys alone: the palette, the command line, focus, status."""

from __future__ import annotations

import pytest
from test_console_app import loaded, make_app
from textual.command import CommandPalette


async def _palette_prompts(app, pilot) -> list[str]:
    for _ in range(40):
        await pilot.pause(0.05)
        prompts = [str(o.prompt) for o in app.screen.query("CommandList").first().options] if app.screen.query("CommandList") else []
        if prompts:
            return prompts
    return []


async def test_palette_lists_every_action_with_its_key_on_every_screen_and_runs_it() -> None:
    app = make_app(vendors=("teamviewer", "murano"))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        for key in ("1", "2", "3", "4", "5", "6"):
            await pilot.press(key)
            await pilot.press("ctrl+p")
            await pilot.pause(0.1)
            assert isinstance(app.screen, CommandPalette)
            prompts = await _palette_prompts(app, pilot)
            assert any("Quit  [ctrl+q]" in p for p in prompts), prompts
            if key == "1":
                assert any("Find in the whole fleet  [/]" in p for p in prompts)  # '[/]' once crashed the palette
            await pilot.press(*"find")  # a search highlights matches in the same plain prompts
            await pilot.pause(0.2)
            await pilot.press("escape")
            await pilot.pause(0.05)
            if isinstance(app.screen, CommandPalette):
                await pilot.press("escape")
        await pilot.press("1", "ctrl+p", *"alarms")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.current == "alarms"
        # another screen's action is found by name, goes to its screen and runs there
        await pilot.press("1", "ctrl+p", *"sort name")
        prompts = await _palette_prompts(app, pilot)
        assert any("Live: sort name/value/age  [s]" in p for p in prompts), prompts
        assert not any("show('" in p or "export('" in p for p in prompts)  # no action ids
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.current == "live" and app.query_one("#live").sort == 1
        await pilot.press("1", "ctrl+p", *"close alarm")  # as an on-call engineer would type it
        prompts = await _palette_prompts(app, pilot)
        assert any(p.startswith("Alarms: close alarm") and "[c]" in p for p in prompts), prompts


async def test_keys_return_to_the_screen_after_the_command_line_closes() -> None:
    app = make_app(vendors=("teamviewer", "murano"))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("4")
        await pilot.pause(0.3)
        alarms = app.query_one("#alarms")
        for keys in (("colon", "escape"), ("colon", *"devices @nope", "enter"), ("colon", "enter")):
            await pilot.press(*keys)
            await pilot.pause(0.1)
            assert app.current == "alarms"
            assert app.focused is not None and alarms in app.focused.ancestors_with_self, app.focused
        await pilot.press("s")  # the view's own key works again: severity filter
        await pilot.pause(0.1)
        assert alarms.filters["severity"] == "critical"


async def test_the_status_bar_keeps_ticking_after_metrics_is_visited() -> None:
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("2", "1")
        await pilot.pause(0.1)
        assert len(app.query("#statusbar")) == 1
        app.fleet.profiles["TeamViewer"].state = "degraded"
        await pilot.pause(1.3)  # one tick
        assert "TeamViewer: degraded" in str(app.query_one("#statusbar").render())


async def test_screen_keys_keep_each_screen_once_in_the_breadcrumbs() -> None:
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(120, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("3", "2", "1", "3", "2", "1", "4")
        await pilot.pause(0.2)
        assert app.crumbs == ["live", "metrics", "devices", "alarms"]
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.current == "devices"


async def test_help_scrolls_with_the_keys_at_80x24_and_shows_bracket_keys() -> None:
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("2", "question_mark")
        await pilot.pause(0.2)
        from textual.containers import VerticalScroll

        scroll = app.screen.query_one(VerticalScroll)
        text = str(app.screen.query_one("Static").render())
        assert "  [            shorter range" in text and ":q" in text
        await pilot.press("end")
        await pilot.pause(0.2)
        assert scroll.scroll_y > 0


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_help_of_every_screen_fits_in_two_columns(size) -> None:
    """QA: at 80x24 'scroll sideways by / a column' broke mid-phrase to the left edge and
    '(writes)' stood alone on a line. Each text wraps under its own column, and the box's
    width is the width it was laid out for (nothing wrapped again by Rich)."""
    from tuiot.ui.keys import SCREENS, help_lines, help_sections
    from tuiot.ui.screens.help import HelpText
    from tuiot.ui.labels import wrap

    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=size) as pilot:
        await loaded(app, pilot)
        for n, screen in enumerate(SCREENS, 1):
            await pilot.press(str(n), "question_mark")
            await pilot.pause(0.2)
            help_ = app.screen.query_one(HelpText)
            width = help_.content_size.width
            lines = [l.replace("\\[", "[") for l in help_lines(screen, width)]
            assert help_.content_size.height == len(lines), screen  # not one line wrapped again
            text = str(help_.render())
            assert text.replace("\u00a0", " ").splitlines() == [
                l.replace("[b]", "").replace("[/b]", "").replace("\u00a0", " ") for l in lines]
            for line in text.splitlines():
                assert len(line) <= width, line
                assert not line.strip().startswith("(writes)"), line
                if line.startswith("   "):  # a text's next line: under the text column
                    assert line.startswith(" " * 15) and line[15] != " ", (screen, line)
            assert "  left/right   Devices: close/open a node; lists: scroll sideways" in text
            # QA: Rules' enter row wrapped at 80 columns; every row says its text in one line
            room = width - 15
            wrapped = [(key, t) for _, rows in help_sections(screen) for key, t in rows if len(wrap(t, room)) > 1]
            assert not wrapped, (screen, room, wrapped)
            await pilot.press("escape")
            await pilot.pause(0.05)


async def test_live_key_follows_the_devices_cursor_and_names_a_profiles_metrics() -> None:
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(app, pilot)
        app.finder.reveal("TeamViewer/profile/TeamViewer")  # the cursor on the profile, as with the arrows
        await pilot.press("3")
        live = app.query_one("#live")
        for _ in range(100):
            await pilot.pause(0.05)
            keys = live.list.keys
            if keys and all(app.fleet.nodes.get(k) is not None for k in keys[:10]):
                break
        assert app.live_refs == ["TeamViewer/profile/TeamViewer"]
        names = [app.naming.metric_name(k) for k in live.list.keys[:10]]
        assert names and all(":" not in n for n in names), names  # 'Pump house power 1 · Voltage', no hash ids
        assert str(live.query_one("#summary").render()).startswith("TeamViewer · ")
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device")
        await pilot.press("1")
        app.finder.reveal(device.ref)
        await pilot.press("3")
        assert app.live_refs == [device.ref]


async def test_metrics_without_a_metric_says_how_to_choose_one() -> None:
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("2")
        await pilot.pause(0.2)
        view = app.query_one("#metrics")
        assert "1h 6h [24h] 7d" in str(view.query_one("#controls").render())
        # said once (QA: the chart and the summary line both said it, in other words), with the keys
        chart = str(view.chart.render())
        assert "no metric selected" in chart and "press enter on a metric on Devices (1)" in chart
        assert str(view.query_one("#summary").render()) == ""
        # the keys it names do pick one: enter on a metric on Devices shows its history
        await pilot.press("1")
        nodes = await app.adapters["TeamViewer"].tree(depth="metric")
        app.fleet.add_nodes(nodes)
        metric = next(n for n in nodes if n.kind == "metric")
        for _ in range(40):
            app.finder.reveal(metric.ref)
            await pilot.pause(0.05)
            if app.devices.cursor() == metric.ref:
                break
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.current == "metrics" and view.metric is not None and view.metric.ref == metric.ref
        assert "no metric selected" not in str(view.chart.render())


async def test_tree_badges_follow_alarm_changes_on_devices_and_their_groups() -> None:
    from datetime import UTC, datetime

    from tuiot.domain import Alarm, Severity

    app = make_app(vendors=("murano",))
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(app, pilot)
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device")
        app.finder.reveal(device.ref)
        group = app.devices.tree().lines[device.parent]
        alarm = Alarm(id="x", profile="Murano", severity=Severity.major, status="open", device=device.ref,
                      opened_at=datetime(2026, 5, 28, tzinfo=UTC))
        app.lists.took_alarms("Murano", [alarm])
        assert str(app.devices.tree().lines[device.ref].label).endswith(" MAJ") and str(group.label).endswith(" MAJ")
        app.lists.took_alarms("Murano", [])  # closed: the badges go at once
        assert not str(app.devices.tree().lines[device.ref].label).endswith("MAJ") and not str(group.label).endswith("MAJ")


def test_the_demo_keeps_its_rules_and_data_apart_from_the_users(tmp_path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "TUIOT_CONFIG": str(tmp_path / "cfg" / "config.toml"), "TUIOT_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "tuiot", "--demo", "--devices", "40", "--exit-on-data"],
                          env=env, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "demo" / "rules.toml").is_file()
    assert not (tmp_path / "cfg" / "rules.toml").exists()  # the user's own rules file is not touched


async def _rules_screen(app, pilot, ready):
    """Screen 5 once the fleet is in and `ready(view)` holds (rules arrive after the trees)."""
    await loaded(app, pilot)
    await pilot.press("5")
    view = app.query_one("#rules")
    for _ in range(60):
        await pilot.pause(0.05)
        if ready(view):
            break
    return view


async def test_rules_list_filters_toggles_edits_and_deletes_with_keys(tmp_path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nname = "hot"\nprofile = "Murano"\nmetric = "x:temp"\ncondition = "metric > 8"\n'
                     'severity = "major"\n', encoding="utf-8")
    app = make_app(vendors=("teamviewer", "murano"), rules_path=str(rules))
    async with app.run_test(size=(80, 24)) as pilot:
        view = await _rules_screen(app, pilot, lambda v: any(r.origin.value == "local" for r in v.rules)
                                   and any(r.origin.value == "vendor" for r in v.rules))
        await pilot.press("slash", *"hot", "enter")
        assert [r.name for r in view.shown_rules()] == ["hot"]
        assert str(view.query_one("#summary").render()).endswith(" · filter 'hot'")  # the header says why 1 of n
        await pilot.press("space")  # disable: asks first, then a local rule is written to rules.toml
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ == "Confirm"
        assert app.screen.question == "Disable the local rule 'hot' of Murano?"
        await pilot.press("y")
        for _ in range(60):
            await pilot.pause(0.05)
            if "enabled = false" in rules.read_text():
                break
        assert "enabled = false" in rules.read_text()
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen.__class__.__name__ == "RuleEditor"
        await pilot.press("escape")
        await pilot.pause(0.1)
        await pilot.press("d")
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ == "Confirm"
        await pilot.press("y")
        for _ in range(60):
            await pilot.pause(0.05)
            if "hot" not in rules.read_text():
                break
        assert 'name = "hot"' not in rules.read_text()



async def test_y_on_a_rule_copies_its_id_as_help_and_the_palette_say() -> None:
    """Help said 'y copy id' and y copied the name: the key, help, palette and toast agree."""
    from tuiot.ui.keys import help_sections

    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _rules_screen(app, pilot, lambda v: bool(v.list.keys))
        rule = view.highlighted_rule
        assert rule is not None and rule.id and rule.id != rule.name
        await pilot.press("y")
        await pilot.pause()
        assert list(app._notifications)[-1].message == f"copied {rule.id}"
        said = "copy rule id (a local rule's id is its name)"
        assert ("y", said) in help_sections("rules")[0][1]
        await pilot.press("ctrl+p", *"copy rule id")
        prompts = await _palette_prompts(app, pilot)
        assert any(p.startswith(f"{said}  [y]") for p in prompts), prompts

@pytest.mark.parametrize("inline", [False, True])  # a large demo builds in a thread, a small one on mount
async def test_the_status_bar_says_the_demo_is_building_and_a_failed_build_is_told(inline: bool) -> None:
    from tuiot.config import Config
    from tuiot.ui.app import ConsoleApp

    def broken():
        raise ValueError("no room for 10 devices")

    app = ConsoleApp(config=Config(), demo_factory=broken, demo_inline=inline)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        assert "no profiles" in str(app.query_one("#statusbar").render())
        assert any("could not be built: no room" in str(n.message) for n in app._notifications)


async def test_a_small_demo_built_on_mount_shows_its_fleet() -> None:
    from functools import partial

    from tuiot.config import Config
    from tuiot.simulators.demo import build_demo
    from tuiot.ui.app import ConsoleApp

    app = ConsoleApp(config=Config(), demo_factory=partial(build_demo, devices=20), demo_inline=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        assert set(app.fleet.profiles) == {"TeamViewer", "Thingsee", "Murano", "ThingsPro"}
        assert app.first_data_at is not None
        # the frame with the first tree went out (what `tuiot bench` counts start-up to)
        assert app.first_painted_at is not None


async def test_the_first_paint_is_counted_from_the_frame_not_from_an_idle_screen() -> None:
    """The tree says it was painted after its next render, even while other work keeps the
    screen busy (call_after_refresh would wait for the whole screen to go idle)."""
    from textual.app import App

    from tuiot.fleet.state import FleetState
    from tuiot.ui.widgets.fleet_tree import FleetTree

    painted: list[str] = []

    class One(App[None]):
        def compose(self):  # type: ignore[no-untyped-def]
            yield FleetTree(FleetState(), marked=set, id="tree")

    async with One().run_test(size=(40, 10)) as pilot:
        tree = pilot.app.query_one(FleetTree)
        tree.add_profile("P")
        tree.when_painted(lambda: painted.append(str(tree.root.children[0].label)))
        await pilot.pause()
        assert painted and "P" in painted[0]


async def test_the_status_bar_says_the_demo_is_building_until_it_is_built() -> None:
    import threading

    from tuiot.config import Config
    from tuiot.simulators.demo import build_demo
    from tuiot.ui.app import ConsoleApp

    go = threading.Event()

    def slow():
        go.wait(10)
        return build_demo(devices=20, vendors=("murano",))

    app = ConsoleApp(config=Config(), demo_factory=slow)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(1.2)  # a tick went by
        assert "building the demo fleet" in str(app.query_one("#statusbar").render())
        go.set()
        await loaded(app, pilot)
        assert "Murano: ok" in str(app.query_one("#statusbar").render())


async def test_rules_detail_names_its_sources_without_the_device_being_expanded() -> None:
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _rules_screen(app, pilot, lambda v: bool(v.list.keys))
        rule = view.highlighted_rule
        assert rule is not None
        metric_id = rule.sources[0].split("/", 2)[2].split(":")[-1]
        for _ in range(60):
            await pilot.pause(0.05)
            if rule.sources[0] in app.fleet.nodes:
                break
        await pilot.pause(0.1)
        detail = str(view.query_one("#detail").content)
        metric = app.fleet.nodes[rule.sources[0]]
        device = app.fleet.nodes[app.fleet.nodes[metric.parent].parent]
        assert f"{device.name} · {metric.name}" in detail and metric_id not in detail
        assert rule.sources[0] not in app.devices.tree().lines  # named without expanding the device in the tree


async def test_the_find_box_completes_a_device_name_as_you_type() -> None:
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device")
        await pilot.press("slash")
        await pilot.press(*device.name[:5].lower())
        box = app.query_one("#find")
        for _ in range(20):
            await pilot.pause(0.05)
            if box._suggestion:
                break
        assert box._suggestion.casefold().startswith(device.name[:5].casefold())
        await pilot.press("right", "enter")  # take the completion, then go there
        await pilot.pause(0.2)
        assert app.fleet.nodes[app.query_one("#tree").cursor_node.data].name == box.value


async def test_keys_typed_in_one_burst_after_colon_or_slash_go_into_the_box() -> None:
    """A paste, or typing over a slow SSH link, delivers keys together: those after `:` once
    went to the screen below (`:live` on Identities asked to lock an identity)."""
    from textual import events

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("6")
        await pilot.pause(0.3)
        for ch in ":live":
            app.post_message(events.Key("colon" if ch == ":" else ch, ch))
        app.post_message(events.Key("enter", "\r"))
        await pilot.pause(0.3)
        assert app.screen.__class__.__name__ != "Confirm" and app.current == "live"
        for ch in "/pump":
            app.post_message(events.Key("slash" if ch == "/" else ch, ch))
        await pilot.pause(0.3)
        assert app.query_one("#live").text_filter == "pump"
        await pilot.press("escape", "escape", "5", "n")  # in a form, `:` and `/` are text
        await pilot.pause(0.3)
        assert app.screen.__class__.__name__ == "RuleEditor"
        app.screen.query_one("#condition").focus()
        await pilot.pause()
        await pilot.press("colon", "slash", "6")  # screen keys too
        assert app.screen.query_one("#condition").value.endswith(":/6")


async def test_every_screens_footer_ends_with_help() -> None:
    from textual.widgets._footer import FooterKey

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        for key in "123456":
            await pilot.press(key)
            await pilot.pause(0.1)
            footer_keys = [k for k in app.screen.query(FooterKey) if k.display]
            assert footer_keys and footer_keys[-1].key_display == "?", (key, [k.key_display for k in footer_keys])


async def test_a_groups_detail_follows_its_alarms() -> None:
    """The group under the cursor said 'worst open alarm: critical' after the alarm was
    closed, until the cursor moved away and back (QA)."""
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        for _ in range(100):
            groups = [r for r, n in app.fleet.nodes.items() if n.kind == "group" and app.fleet.worst_open(r)]
            if groups:
                break
            await pilot.pause(0.05)
        app.finder.reveal(groups[0])
        await pilot.pause(0.1)
        assert "worst open alarm" in str(app.query_one("#detail").render())
        app.lists.took_alarms("TeamViewer", [])  # every alarm closed
        await pilot.pause(0.1)
        assert "worst open alarm" not in str(app.query_one("#detail").render())
        assert not str(app.devices.tree().lines[groups[0]].label).endswith("CRIT")


async def test_right_opens_a_tree_node_and_steps_in_left_closes_and_steps_out() -> None:
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        tree = app.devices.tree()
        group = next(line for line in tree.root.children[0].children if line.allow_expand)
        tree.move_cursor(group)
        await pilot.pause()
        assert not group.is_expanded
        await pilot.press("right")
        await pilot.pause(0.2)
        assert group.is_expanded
        await pilot.press("right")
        assert tree.cursor_node is group.children[0]
        await pilot.press("left")  # a device that is not open: out to its group
        assert tree.cursor_node is group
        await pilot.press("left")
        assert not group.is_expanded and tree.cursor_node is group


def test_the_breadcrumbs_give_up_their_oldest_steps_first() -> None:
    from tuiot.ui.chrome import crumb_trail

    trail = ["devices", "identities", "alarms", "rules", "metrics"]
    assert crumb_trail(trail, 80) == "Devices › Identities › Alarms › Rules › Metrics"
    assert crumb_trail(trail, 36) == "… › Alarms › Rules › Metrics"  # 120 columns
    assert crumb_trail(trail, 3) == ""


async def test_the_breadcrumbs_follow_the_terminal_width() -> None:
    app = make_app(vendors=("murano",))
    async with app.run_test(size=(120, 40)) as pilot:
        for key in "6452":
            await pilot.press(key)
            await pilot.pause(0.1)
        assert str(app.query_one("#titlebar").render()).endswith("… › Alarms › Rules › Metrics")
        await pilot.resize_terminal(150, 40)
        await pilot.pause(0.2)
        assert str(app.query_one("#titlebar").render()).endswith("Devices › Identities › Alarms › Rules › Metrics")


def _cursor_row_on_screen(tree) -> bool:
    top = int(tree.scroll_offset.y)
    return top <= tree.cursor_line < top + tree.scrollable_content_region.height


async def test_the_devices_cursor_stays_on_screen_when_the_terminal_shrinks() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        tree = app.devices.tree()
        for ref, line in list(tree.lines.items()):  # every group open: a tree taller than the screen
            if "/group/" in ref:
                line.expand()
        await pilot.pause()
        await pilot.press("end")  # the last line, at the bottom of a 40-row terminal
        await pilot.pause()
        assert tree.cursor_line > 30 and _cursor_row_on_screen(tree)
        await pilot.resize_terminal(70, 20)
        await pilot.pause()
        assert _cursor_row_on_screen(tree), (tree.cursor_line, tree.scroll_offset.y)


async def test_the_status_bar_counts_the_marks_of_the_screen_shown() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        status = app.query_one("#statusbar")
        await pilot.press("6")
        view = app.query_one("#identities")
        for _ in range(100):  # identities load once the trees are in
            await pilot.pause(0.05)
            if len(view.list.keys) >= 2:
                break
        await pilot.press("m", "m")
        await pilot.pause()
        assert "2 marked" in str(view.summary()) and "2 marked" in str(status.render())
        await pilot.press("1")  # Devices has marks of its own: none yet
        assert "marked" not in str(status.render())
        app.finder.reveal(next(n.ref for n in app.fleet.nodes.values() if n.kind == "device"))
        await pilot.press("m")
        assert "1 marked" in str(status.render())
        await pilot.press("6")
        assert "2 marked" in str(status.render())


async def test_a_screen_key_and_a_command_in_one_burst_all_reach_the_command_box() -> None:
    """`6:identities @thingsee` pasted at once: the `6` went the long way (through the focused
    row) and arrived after `:` had opened the box, and the screen it opened then took the keys
    back from the box (QA: 'no command :dentities', the rest went to the list)."""
    from textual import events

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        def typed(text: str) -> None:
            for ch in text:
                app.post_message(events.Key({":": "colon", " ": "space", "@": "at"}.get(ch, ch), ch))

        typed("6:")  # the link delivers these first, and the app handles them before the rest arrives
        await pilot.pause(0.1)
        typed("live @Thingsee")
        app.post_message(events.Key("enter", "\r"))
        await pilot.pause(0.5)
        assert app.crumbs[-2:] == ["identities", "live"]  # the 6 was not lost, nor taken after the box
        assert app.screen is app.screen_stack[0] and "Thingsee" in app.query_one("#live").heading


async def test_a_polled_newer_alarm_leaves_the_cursor_on_the_alarm_being_read() -> None:
    """QA: with the cursor on the first (newest) alarm, the next poll's newer alarm took it."""
    from datetime import timedelta

    app = make_app(vendors=("teamviewer", "murano"))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("4")
        for _ in range(100):  # every profile's first sweep in: the inbox is whole
            await pilot.pause(0.05)
            if not app.lists.alarms_loading():
                break
        view = app.query_one("#alarms")
        assert view.list.cursor == 0 and view.list.highlighted
        reading = view.list.highlighted
        old = app.fleet.alarms["TeamViewer"]
        newest = max(a.opened_at for a in app.fleet.all_alarms())
        newer = old[0].model_copy(update={"id": "polled-just-now", "opened_at": newest + timedelta(seconds=5)})
        app.lists.took_alarms("TeamViewer", [*old, newer])  # what the next poll round delivers
        await pilot.pause()
        assert view.list.keys[0] == newer.ref
        assert view.list.highlighted == reading


async def test_a_vendor_alarm_opened_since_the_last_sweep_toasts_and_the_first_sweep_does_not() -> None:
    """QA: only local rules' alarms toasted; a vendor's new critical alarm arrived silently."""
    from datetime import timedelta

    from tuiot.domain import AlarmStatus, Severity

    app = make_app(vendors=("teamviewer", "murano"))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        for _ in range(100):
            await pilot.pause(0.05)
            if not app.lists.alarms_loading():
                break
        sweeps = [n for n in app._notifications if n.title.startswith(("new alarm", "1 new", "2 new"))]
        assert sweeps == []  # the inbox as it stood at start is not news
        old = app.fleet.alarms["TeamViewer"]
        assert old
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device" and n.profile == "TeamViewer")
        new = old[0].model_copy(update={"id": "opened-just-now", "severity": Severity.critical,
                                        "status": AlarmStatus.open, "device": device.ref,
                                        "description": "Voltage above 240 V",
                                        "opened_at": app.clock() + timedelta(seconds=1)})
        before = len(app._notifications)
        app.lists.took_alarms("TeamViewer", [*old, new])  # the next poll round
        await pilot.pause()
        [toast] = list(app._notifications)[before:]
        assert toast.title == "new alarm · TeamViewer"
        assert toast.message.startswith(f"CRITICAL {device.name}") and "Voltage above 240 V" in toast.message
        assert toast.severity == "error"
        app.lists.took_alarms("TeamViewer", [*old, new])  # the same again: nothing new to say
        await pilot.pause()
        assert len(app._notifications) == before + 1


async def test_a_raised_local_alarm_toast_names_its_device_and_rule_once() -> None:
    """QA: the toast of rule 'hot' read 'MAJOR Murano: hot hot: metric > 8 …'; later, that it
    named no device."""
    from tuiot.domain import Origin, Rule, Severity, Threshold
    from tuiot.fleet.engine import AlarmEvent, RuleEngine

    app = make_app(vendors=("murano",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device")
        t = Threshold(condition="metric > 8", severity=Severity.major)
        rule = Rule(id="hot", profile="Murano", name="hot", thresholds=[t], origin=Origin.local,
                    sources=["Murano/metric/x:temp"])
        alarm = RuleEngine._new_alarm(rule, "Murano/metric/x:temp", 0, t, 9.5, app.clock(), device=device.ref)
        before = len(app._notifications)
        app.lists.alarm_events([AlarmEvent("raised", alarm, app.clock())])
        await pilot.pause()
        [toast] = list(app._notifications)[before:]
        assert toast.message == f"MAJOR {device.name}: hot: metric > 8 (value 9.5)"  # the name the Alarms list shows
        assert toast.title == "new alarm · Murano"
        # a vendor alarm whose text does not name its rule still says which rule it was
        other = alarm.model_copy(update={"rule": "overheat", "description": "temperature high", "origin": Origin.vendor})
        app.lists.alarm_events([AlarmEvent("raised", other, app.clock())])
        await pilot.pause()
        assert list(app._notifications)[-1].message == f"MAJOR {device.name}: overheat: temperature high"
        # an alarm on no device is named by its metric
        bare = alarm.model_copy(update={"device": None})
        app.lists.alarm_events([AlarmEvent("raised", bare, app.clock())])
        await pilot.pause()
        assert list(app._notifications)[-1].message == "MAJOR temp: hot: metric > 8 (value 9.5)"


async def test_alarms_raised_together_make_one_summary_toast() -> None:
    """QA: a rule that matched many devices at once flooded the screen with a toast each."""
    from textual.widgets._toast import Toast

    from tuiot.domain import Origin, Rule, Severity, Threshold
    from tuiot.fleet.engine import AlarmEvent, RuleEngine

    app = make_app(vendors=("murano",))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(app, pilot)
        devices = [n for n in app.fleet.nodes.values() if n.kind == "device"][:5]
        assert len(devices) == 5
        crit = Threshold(condition="metric > 80", severity=Severity.critical)
        major = Threshold(condition="metric > 8", severity=Severity.major)
        rule = Rule(id="hot", profile="Murano", name="hot", thresholds=[major, crit], origin=Origin.local,
                    sources=["Murano/metric/x:temp"])
        # raised in device order, majors first: the toast names the critical ones first
        events = [AlarmEvent("raised", RuleEngine._new_alarm(rule, f"Murano/metric/{d.id}:temp", 0,
                                                             crit if i >= 3 else major, 90 if i >= 3 else 9,
                                                             app.clock(), device=d.ref), app.clock())
                  for i, d in enumerate(devices)]
        before = len(app._notifications)
        app.lists.alarm_events(events)
        await pilot.pause()
        [toast] = list(app._notifications)[before:]
        assert toast.title == "5 new alarms (2 CRIT, 3 MAJ)"
        assert toast.message.splitlines() == [f"CRIT {devices[3].name}: hot", f"CRIT {devices[4].name}: hot",
                                              f"MAJ {devices[0].name}: hot", "+2 more on 4 Alarms"]
        await pilot.pause(0.2)
        shown = list(app.screen.query(Toast))
        assert len(shown) == 1  # on screen too: one toast, not five
        # cleared alarms are not news
        app.lists.alarm_events([AlarmEvent("cleared", events[0].alarm, app.clock())])
        await pilot.pause()
        assert len(app._notifications) == before + 1


async def test_every_screens_heading_starts_with_its_key_and_name() -> None:
    """QA: Live's heading said '3 Live', Identities' and Rules' had no number. Each view's
    heading says what its title-bar tab says, a metric's name after it on Metrics."""
    from tuiot.ui.keys import SCREENS, TITLES

    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        for n, screen in enumerate(SCREENS, 1):
            if screen == "devices":  # the tree, under the title bar's tab: no heading of its own
                continue
            await pilot.press(str(n))
            await pilot.pause(0.1)
            heading = str(app.query_one(f"#{screen} #title").render())
            assert heading.split(" · ")[0].split(" — ")[0] == TITLES[screen], (screen, heading)
