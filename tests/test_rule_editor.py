"""The rule editor modal, driven with Pilot in a tiny host app."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from styled import StyledApp
from textual.app import App
from textual.geometry import Region
from textual.widgets import Input, Select, Static, Switch

from tuiot.domain import Origin, Point, Rule, Severity, Threshold
from tuiot.fleet.backtest import BacktestResult, replay
from tuiot.ui.screens.rule_editor import RuleEditor

T0 = datetime(2026, 5, 1, tzinfo=UTC)
NOT_YET = object()


class Host(StyledApp):
    def __init__(self, editor: RuleEditor) -> None:
        super().__init__()
        self.editor = editor
        self.result: object = NOT_YET

    def on_mount(self) -> None:
        self.push_screen(self.editor, self._done)

    def _done(self, rule: Rule | None) -> None:
        self.result = rule


async def fake_backtest(rule: Rule) -> BacktestResult:
    pts = [Point(ts=T0 + timedelta(minutes=10 * i), value=v) for i, v in enumerate([10, 40, 50, 20, 60, 70, 80])]
    return replay(rule, pts, start=T0, end=T0 + timedelta(hours=24))


def text(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def put(app: App, selector: str, value: str) -> None:
    """Fill a field at once (typing is for the tests about typing: Pilot takes ~60 ms a key)."""
    app.screen.query_one(selector, Input).value = value


async def type_into(pilot, app: App, selector: str, value: str) -> None:
    box = app.screen.query_one(selector, Input)
    box.focus()
    box.value = ""
    await pilot.press(*value)


async def test_invalid_condition_is_shown_inline_then_fixed_and_saved() -> None:
    app = Host(RuleEditor(None, profiles=["tv", "site"], backtest=fake_backtest))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RuleEditor)
        await pilot.press(*"too warm")  # the name field has focus
        # profile through the keyboard: open the select, pick the first option
        app.screen.query_one("#profile", Select).focus()
        await pilot.press("enter", "down", "enter")
        await pilot.pause()
        assert app.screen.query_one("#profile", Select).value == "tv"
        put(app, "#metric", "811617:temp")
        await type_into(pilot, app, "#condition", "metric > && 5")
        await pilot.pause()
        message = text(app, "#condition-message")
        assert "unexpected '&&' at column 10" in message
        assert app.screen.query_one("#condition", Input).has_class("-invalid")
        await pilot.press("enter")  # refused while invalid
        await pilot.pause()
        assert isinstance(app.screen, RuleEditor) and app.result is NOT_YET
        assert "condition: unexpected '&&' at column 10" in text(app, "#form-error")
        for _ in range(4):  # "&& 5" goes, "metric > " stays
            await pilot.press("backspace")
        await pilot.press(*"30")
        await pilot.pause()
        assert "valid condition" in text(app, "#condition-message")
        assert not app.screen.query_one("#condition", Input).has_class("-invalid")
        await pilot.pause(1.2)  # the backtest reruns after typing stops
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        panel = text(app, "#backtest")
        assert "2 episodes in the last 24 h" in panel and "first" in panel and "last" in panel
        await type_into(pilot, app, "#checks", "2")
        await pilot.press("enter")
        await pilot.pause()
    rule = app.result
    assert isinstance(rule, Rule)
    assert rule.name == rule.id == "too warm" and rule.profile == "tv" and rule.origin == Origin.local
    assert rule.kind == "threshold" and rule.sources == ["tv/metric/811617:temp"] and rule.enabled
    assert rule.thresholds == [Threshold(condition="metric > 30", severity=Severity.major, checks=2)]


async def test_escape_cancels() -> None:
    app = Host(RuleEditor(None, profiles=["tv"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "not available" in text(app, "#backtest")
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


async def test_missing_fields_are_named_and_focused() -> None:
    app = Host(RuleEditor(None, profiles=["tv", "site"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "needs a name" in text(app, "#form-error") and app.focused is app.screen.query_one("#name")
        await pilot.press(*"x")
        await pilot.press("ctrl+s")
        await pilot.pause()
        # Select.NULL: nothing chosen yet among several profiles
        assert app.screen.query_one("#profile", Select).value is Select.NULL
        assert "choose a profile" in text(app, "#form-error")
        app.screen.query_one("#profile", Select).value = "site"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "needs a metric id" in text(app, "#form-error") and app.focused is app.screen.query_one("#metric")
        await type_into(pilot, app, "#metric", "m")
        await type_into(pilot, app, "#checks", "0")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "checks must be a whole number" in text(app, "#form-error")
        assert isinstance(app.screen, RuleEditor)


async def test_edit_offline_rule_and_switch_kinds() -> None:
    rule = Rule(id="silent", profile="site", name="silent", kind="offline", sources=["site/device/gw-1"], minutes=15,
                origin=Origin.local, thresholds=[Threshold(condition="15", severity=Severity.critical, checks=1)])
    app = Host(RuleEditor(rule, profiles=["tv", "site"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        s = app.screen
        assert s.query_one("#device", Input).value == "gw-1" and s.query_one("#minutes", Input).value == "15"
        assert s.query_one("#condition", Input).display is False or s.query_one("#condition").parent.has_class("hidden")
        await type_into(pilot, app, "#minutes", "30")
        s.query_one("#enabled", Switch).value = False
        await pilot.press("ctrl+s")
        await pilot.pause()
    out = app.result
    assert isinstance(out, Rule)
    assert out.id == "silent" and out.kind == "offline" and out.minutes == 30 and not out.enabled
    assert out.sources == ["site/device/gw-1"] and out.thresholds[0] == Threshold(condition="30", severity=Severity.critical)


async def test_teamviewer_rule_round_trips_with_its_other_sources_and_thresholds() -> None:
    rule = Rule(id="5d52a6e5", profile="tv", name="Detect Machine Overheating", origin=Origin.vendor,
                sources=["tv/metric/82331:38ac", "tv/metric/54126:ca2d"],
                thresholds=[Threshold(condition="metric>=60", severity=Severity.critical, checks=1),
                            Threshold(condition="metric>=50", severity=Severity.minor, checks=3)],
                attrs={"topicIds": ["331c"]})
    seen: list[Rule] = []

    async def backtest(r: Rule) -> BacktestResult:
        seen.append(r)
        raise RuntimeError("vendor said no")

    app = Host(RuleEditor(rule, profiles=["tv"], backtest=backtest))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert "backtest failed: vendor said no" in text(app, "#backtest")
        assert seen and seen[0] == rule  # the form rebuilds the rule unchanged
        s = app.screen
        assert s.query_one("#profile", Select).disabled
        assert s.query_one("#metric", Input).value == "82331:38ac, 54126:ca2d"
        put(app, "#condition", "metric >= 65")
        s.query_one("#severity", Select).value = "major"
        put(app, "#name", "CNC overheating")
        await pilot.press("enter")
        await pilot.pause()
    out = app.result
    assert isinstance(out, Rule)
    assert out.id == "5d52a6e5" and out.origin == Origin.vendor and out.name == "CNC overheating"
    assert out.sources == rule.sources and out.attrs == rule.attrs
    assert out.thresholds == [Threshold(condition="metric >= 65", severity=Severity.major, checks=1), rule.thresholds[1]]


async def test_new_native_rule_on_a_teamviewer_profile() -> None:
    app = Host(RuleEditor(None, profiles=["site", "tv"], native_profiles=["tv"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        s = app.screen
        assert s.query_one("#store-row").has_class("hidden")  # no profile chosen yet
        s.query_one("#profile", Select).value = "tv"
        await pilot.pause()
        assert not s.query_one("#store-row").has_class("hidden")
        s.query_one("#store", Select).value = "vendor"
        put(app, "#name", "overheat")
        put(app, "#metric", "82331:38ac, 54126:ca2d")
        await type_into(pilot, app, "#condition", "metric >= 60")
        await pilot.press("enter")
        await pilot.pause()
    out = app.result
    assert isinstance(out, Rule) and out.origin == Origin.vendor and out.id == ""
    assert out.sources == ["tv/metric/82331:38ac", "tv/metric/54126:ca2d"]


async def test_enter_on_the_enabled_switch_saves_and_leaves_it_on() -> None:
    rule = Rule(id="r", profile="site", name="hot", kind="threshold", sources=["site/metric/d:t"],
                thresholds=[Threshold(condition="metric > 1", severity=Severity.major)], origin=Origin.local)
    app = Host(RuleEditor(rule, profiles=["site"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#enabled", Switch).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.result, Rule) and app.result.enabled


async def test_the_focused_enabled_switch_stays_one_row_with_its_slider_in_sight() -> None:
    """Textual's own `Switch:focus` gave it a tall border, which outranked the form's
    `border: none` while that was DEFAULT_CSS: focused, the switch grew to two rows and its
    slider was drawn over by the border's ▔▔▔."""
    app = Host(RuleEditor(None, profiles=["site"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        switch = app.screen.query_one("#enabled", Switch)
        blurred = switch.region
        switch.focus()
        await pilot.pause()
        assert switch.region == blurred and blurred.height == 1
        drawn = switch.render_lines(Region(0, 0, switch.size.width, 1))[0].text
        assert drawn.strip(" ") == "" and "▔" not in drawn, drawn  # the slider's cells, not a border's


async def test_the_form_names_what_an_id_points_at_and_flags_an_unseen_one() -> None:
    """A metric id is 32 hex digits: the operator must see it is the pump they mean."""
    names = {"tv/metric/811617:temp": "Pump 7 · Temperature"}
    app = Host(RuleEditor(None, profiles=["tv"], name_of=names.get))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        put(app, "#metric", "811617:temp")
        await pilot.pause()
        assert text(app, "#metric-name") == "Pump 7 · Temperature"
        put(app, "#metric", "811617:tmep")
        await pilot.pause()
        assert text(app, "#metric-name") == "811617:tmep: not seen in tv yet"



async def test_changing_the_profile_clears_a_source_of_the_old_one_and_says_so() -> None:
    """A metric picked in one profile is not that metric in another: it must not be saved there."""
    names = {"tv/metric/811617:temp": "Pump 7 · Temperature", "tv/device/811617": "Pump 7",
             "tv/metric/both": "Shared · Voltage", "site/metric/both": "Site · Voltage"}
    app = Host(RuleEditor(None, profiles=["tv", "site"], name_of=names.get, metric="tv/metric/811617:temp"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        s = app.screen
        assert s.query_one("#profile", Select).value == "tv" and s.query_one("#metric", Input).value == "811617:temp"
        put(app, "#device", "811617")  # the hidden offline field holds a tv device too
        s.query_one("#profile", Select).value = "site"
        await pilot.pause()
        assert s.query_one("#metric", Input).value == ""
        assert s.query_one("#device", Input).value == ""
        said = s.query_one("#metric-name", Static)
        assert text(app, "#metric-name") == "cleared Pump 7 · Temperature: it is in tv"
        assert said.has_class("-cleared")
        assert text(app, "#device-name") == "cleared Pump 7: it is in tv"
        # typing a new id: the note goes, the new id is named as ever
        put(app, "#metric", "both")
        await pilot.pause()
        assert text(app, "#metric-name") == "Site · Voltage" and not said.has_class("-cleared")
        # an id the new profile knows too stays; one the fleet knows in neither stays, flagged
        s.query_one("#profile", Select).value = "tv"
        await pilot.pause()
        assert s.query_one("#metric", Input).value == "both" and text(app, "#metric-name") == "Shared · Voltage"
        put(app, "#metric", "typed:id")
        s.query_one("#profile", Select).value = "site"
        await pilot.pause()
        assert s.query_one("#metric", Input).value == "typed:id"
        assert text(app, "#metric-name") == "typed:id: not seen in site yet"
        # saving after the clear asks for a metric in the new profile, not the old one's
        put(app, "#name", "hot")
        put(app, "#condition", "metric > 1")
        s.query_one("#profile", Select).value = "tv"
        await pilot.pause()
        put(app, "#metric", "811617:temp")
        s.query_one("#profile", Select).value = "site"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is NOT_YET and text(app, "#form-error") == "✗ a threshold rule needs a metric id"


async def test_a_native_rule_keeps_the_sources_the_new_profile_has_too() -> None:
    names = {"tv/metric/a": "A", "tv/metric/b": "B", "tv/metric/c": "C", "tv2/metric/c": "C2"}
    app = Host(RuleEditor(None, profiles=["tv", "tv2"], native_profiles=["tv", "tv2"], name_of=names.get))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        s = app.screen
        s.query_one("#profile", Select).value = "tv"
        s.query_one("#store", Select).value = "vendor"
        await pilot.pause()
        put(app, "#metric", "a, b, c")
        s.query_one("#profile", Select).value = "tv2"
        await pilot.pause()
        assert s.query_one("#metric", Input).value == "c"
        assert text(app, "#metric-name") == "cleared 2 metrics: they are in tv"

def _two_source_rule() -> RuleEditor:
    rule = Rule(id="5d52a6e5", profile="tv", name="Overheating", origin=Origin.vendor,
                sources=["tv/metric/82331:38ac", "tv/metric/54126:ca2d"],
                thresholds=[Threshold(condition="metric > 45", severity=Severity.critical, checks=1)])
    names = {"tv/metric/82331:38ac": "Press 1 · Temperature", "tv/metric/54126:ca2d": "Press 2 · Temperature"}
    return RuleEditor(rule, profiles=["tv"], backtest=fake_backtest, name_of=names.get)


async def test_backtest_episodes_name_their_source_only_when_there_are_several() -> None:
    app = Host(_two_source_rule())
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(40):
            await pilot.pause(0.05)
            if "first" in text(app, "#backtest"):
                break
        panel = text(app, "#backtest")
        assert "Press 1 · Temperature" in panel and "82331" not in panel
        assert all(len(line) <= 74 for line in panel.splitlines())  # inside the 80-column form
        assert text(app, "#metric-name") == "Press 1 · Temperature; Press 2 · Temperature"


def test_snapshot_rule_editor_at_80x24(snap_compare) -> None:
    async def backtested(pilot) -> None:
        for _ in range(40):
            await pilot.pause(0.05)
            if "first" in text(pilot.app, "#backtest"):
                break

    assert snap_compare(Host(_two_source_rule()), terminal_size=(80, 24), run_before=backtested)


async def test_escape_after_typing_asks_before_throwing_the_form_away() -> None:
    from tuiot.ui.screens.confirm import Confirm

    app = Host(RuleEditor(None, profiles=["tv"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"too warm", "escape")
        await pilot.pause()
        assert isinstance(app.screen, Confirm) and app.screen.question == "Discard this new rule?"
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, RuleEditor) and app.screen.query_one("#name", Input).value == "too warm"
        await pilot.press("escape", "y")
        await pilot.pause()
    assert app.result is None


async def test_read_only_opens_as_a_viewer_that_offers_no_save() -> None:
    rule = Rule(id="r", profile="site", name="hot", kind="threshold", sources=["site/metric/d:t"],
                thresholds=[Threshold(condition="metric > 1", severity=Severity.major)], origin=Origin.local)
    saved: list[Rule] = []

    async def save(r: Rule, saving) -> str | None:
        saved.append(r)
        return None

    editor = RuleEditor(rule, profiles=["site"], backtest=fake_backtest, save=save, read_only=True,
                        read_only_why="--read-only is set", find=lambda text, profile: [])
    app = Host(editor)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        s = app.screen
        fields = list(s.query("Input, Select, Switch"))
        assert fields and all(f.disabled for f in fields)
        assert text(app, "#title") == "Local rule 'hot' (read-only)"
        assert text(app, "#status") == "read-only (--read-only is set)"  # the keys are the footer's
        assert [k.description for k in s.query("FooterKey")] == ["close", "backtest"]  # type: ignore[attr-defined]
        body = " ".join(str(w.render()) for w in s.query(Static))
        assert "save" not in body
        assert not {b.binding.action for b in s.active_bindings.values()} & {"save", "pick"}
        await pilot.press("ctrl+s", "enter", "ctrl+o")
        await pilot.pause()
        assert app.screen is s and not saved and app.result is NOT_YET
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None and not saved


async def _pick_first_metric(pilot, app: App) -> tuple[str, str]:
    """ctrl+o, a device found by 'p', enter, its metrics: (the picker's title, its hint); enter takes the first."""
    from tuiot.ui.screens.source_picker import SourcePicker

    await pilot.press("ctrl+o")
    await pilot.pause()
    assert isinstance(app.screen, SourcePicker)
    title = text(app, "#pick-title")
    await pilot.press("p", "enter")
    for _ in range(40):
        await pilot.pause(0.05)
        if re.search(r"\d metrics? ·", text(app, "#pick-hint")):
            break
    hint = text(app, "#pick-hint")
    await pilot.press("enter")
    await pilot.pause()
    return title, hint


def _picking(rule: Rule) -> RuleEditor:
    async def metrics(device: str) -> list[tuple[str, str]]:
        return [(f"{rule.profile}/metric/99:new", "Temperature (°C)")]

    return RuleEditor(rule, profiles=[rule.profile], find=lambda text, profile: [(f"{rule.profile}/device/99", "Pump 9")],
                      metrics=metrics)


async def test_ctrl_o_on_a_vendor_rule_says_it_adds_a_source_and_adds_it() -> None:
    rule = _two_source_rule().rule
    assert rule is not None
    app = Host(_picking(rule))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        title, hint = await _pick_first_metric(pilot, app)
        assert title == "Add another metric for this rule to watch in tv"
        assert "enter: add it" in hint
        assert app.screen.query_one("#metric", Input).value == "82331:38ac, 54126:ca2d, 99:new"


async def test_ctrl_o_on_a_local_rule_picks_its_one_source() -> None:
    rule = Rule(id="r", profile="site", name="hot", sources=["site/metric/d:t"], origin=Origin.local,
                thresholds=[Threshold(condition="metric > 1", severity=Severity.major)])
    app = Host(_picking(rule))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        title, hint = await _pick_first_metric(pilot, app)
        assert title == "The metric this rule watches in site"
        assert "enter: take it" in hint
        assert app.screen.query_one("#metric", Input).value == "99:new"


async def test_saving_shows_only_once_the_save_fn_says_the_write_started() -> None:
    """The save fn may ask first (an edit names its change): 'saving…' under the question misled."""
    import asyncio

    answered, written = asyncio.Event(), asyncio.Event()

    async def save(r: Rule, saving) -> str | None:
        await answered.wait()  # the question is up
        saving()
        await written.wait()
        return None

    rule = Rule(id="r", profile="site", name="hot", sources=["site/metric/d:t"], origin=Origin.local,
                thresholds=[Threshold(condition="metric > 1", severity=Severity.major)])
    app = Host(RuleEditor(rule, profiles=["site"], save=save))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert text(app, "#status") == "" and not app.screen.query_one("#status").display
        answered.set()
        await pilot.pause()
        assert text(app, "#status") == "saving…" and app.screen.query_one("#status").display
        written.set()
        await pilot.pause()
    assert isinstance(app.result, Rule)


def test_backtest_peaks_carry_their_unit_and_an_offline_rule_says_its_silence_in_minutes() -> None:
    from tuiot.ui.screens.rule_editor import _backtest_lines

    hot = Rule(id="r", profile="tv", name="hot", sources=["tv/metric/d:t"], origin=Origin.local,
               thresholds=[Threshold(condition="metric > 30", severity=Severity.major)])
    pts = [Point(ts=T0 + timedelta(minutes=10 * i), value=v) for i, v in enumerate([10, 40.25, 50.5, 20])]
    lines = _backtest_lines(replay(hot, pts, start=T0, end=T0 + timedelta(hours=24)), lambda ref: "",
                            {"tv/metric/d:t": "°C"}.get)
    assert "peak 50.5 °C  2 readings" in lines[1]
    silent = Rule(id="s", profile="tv", name="silent", kind="offline", sources=["tv/device/d"], minutes=15,
                  origin=Origin.local, thresholds=[Threshold(condition="15", severity=Severity.major)])
    pts = [Point(ts=T0 + timedelta(minutes=m), value=1) for m in (0, 5, 50, 55)]
    lines = _backtest_lines(replay(silent, pts, start=T0, end=T0 + timedelta(minutes=60)), lambda ref: "", lambda ref: "°C")
    assert lines[1].endswith("05-01 00:20 → 00:50  silent 45 min")


async def test_the_source_picker_lists_in_natural_order() -> None:
    from tuiot.ui.screens.source_picker import SourcePicker

    devices = [(f"p/device/{n}", f"sensor-{n} · p") for n in (10, 2, 1, 100, 20)]

    async def metrics(device: str) -> list[tuple[str, str]]:
        return [("p/metric/b", "Probe 10 · Temperature"), ("p/metric/a", "probe 9 · Temperature")]

    class Picking(StyledApp):
        def on_mount(self) -> None:
            self.push_screen(SourcePicker("pick", lambda t: devices, metrics))

    app = Picking()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        box = app.screen.query_one("OptionList")
        shown = [str(box.get_option_at_index(i).prompt) for i in range(box.option_count)]
        assert shown == ["sensor-1 · p", "sensor-2 · p", "sensor-10 · p", "sensor-20 · p", "sensor-100 · p"]
        await pilot.press("enter")
        for _ in range(20):
            await pilot.pause(0.05)
            if re.search(r"\d metrics? ·", text(app, "#pick-hint")):
                break
        shown = [str(box.get_option_at_index(i).prompt) for i in range(box.option_count)]
        assert shown == ["probe 9 · Temperature", "Probe 10 · Temperature"]


async def test_the_source_picker_shows_the_first_devices_in_that_order() -> None:
    from tuiot.ui.screens.source_picker import LIMIT, SourcePicker

    devices = [(f"p/device/{n}", f"pump {n}") for n in range(LIMIT + 10, 0, -1)]  # the index holds them backwards

    class Picking(StyledApp):
        def on_mount(self) -> None:
            self.push_screen(SourcePicker("pick", lambda t: devices))

    app = Picking()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        box = app.screen.query_one("OptionList")
        assert box.option_count == LIMIT and str(box.get_option_at_index(0).prompt) == "pump 1"
        assert f"(the first {LIMIT})" in text(app, "#pick-hint")


async def test_the_source_picker_clips_a_long_name_to_one_row() -> None:
    """QA: a name longer than the box wrapped onto a second row, which read as another choice.
    Each choice is one row, a long one cut with '…'."""
    from tuiot.ui.screens.source_picker import SourcePicker

    long = "Tartu Warehouse 7 gateway 1 modbus_tcp_master power meter of the north hall, by the loading bay · ThingsPro"
    devices = [("p/device/1", long), ("p/device/2", "pump 2 · p")]

    class Picking(StyledApp):
        def on_mount(self) -> None:
            self.push_screen(SourcePicker("pick", lambda t: devices))

    for size in [(80, 24), (120, 40)]:
        app = Picking()
        async with app.run_test(size=size) as pilot:
            await pilot.press("p")
            await pilot.pause()
            box = app.screen.query_one("OptionList")
            assert box.region.height == 2
            shown = [strip.text.strip(" │") for strip in app.screen._compositor.render_strips()]
            rows = shown[shown.index("p") + 1:][:2]
            assert rows[0] == "pump 2 · p"
            assert rows[1].startswith("Tartu Warehouse 7 gateway 1 ") and rows[1].endswith("…"), rows
            assert "ThingsPro" not in "".join(shown)  # the rest of it is not on a row of its own
