"""The console's modals: each covers the screen behind cleanly and its footer lists its own keys."""

from __future__ import annotations

import pytest
from test_console_app import loaded, make_app
from styled import StyledApp
from test_rule_editor import Host, fake_backtest
from textual.app import App
from textual.screen import Screen

from tuiot.domain import Origin, Rule, Severity, Threshold
from tuiot.ui.screens.help import HelpScreen
from tuiot.ui.screens.confirm import Confirm
from tuiot.ui.screens.prompts import ChoiceDialog, TagDialog, TextDialog
from tuiot.ui.screens.rule_editor import RuleEditor
from tuiot.ui.screens.secret import SecretPrompt
from tuiot.ui.screens.source_picker import SourcePicker

SIZES = [(80, 24), (120, 40)]
EDITOR_KEYS = [("ctrl+s", "save"), ("escape", "cancel"), ("ctrl+t", "backtest"), ("ctrl+o", "pick by name")]


def footer_keys(screen: Screen) -> list[tuple[str, str]]:
    return [(k.key, k.description) for k in screen.query("FooterKey")]  # type: ignore[attr-defined]


def assert_covers(app: App, box: str) -> None:
    """At 80 columns the box spans the width: no sliver of the screen behind at its sides
    ('│l'); wider, it is centred on the dimmed screen behind. Either way it stays clear of the
    footer, on the bottom row."""
    width, height = app.size
    region = app.screen.query_one(box).region
    if width < 100:
        assert (region.x, region.width) == (0, width), region
    else:
        assert region.x > 10 and region.right < width - 10, region
        assert app.screen.styles.background.a < 1  # the screen behind shows, dimmed
    assert region.y >= 0 and region.bottom <= height - 1, region
    footer = app.screen.query_one("Footer").region
    assert (footer.y, footer.width) == (height - 1, width)


def _editor(**kw) -> RuleEditor:
    async def metrics(device: str) -> list[tuple[str, str]]:
        return [("tv/metric/99:new", "Temperature (°C)")]

    return RuleEditor(None, profiles=["tv"], backtest=fake_backtest, metrics=metrics,
                      find=lambda text, profile: [("tv/device/99", "Pump 9")], **kw)


@pytest.mark.parametrize("size", SIZES)
async def test_the_editor_its_picker_and_its_question_cover_cleanly_with_their_own_keys(size) -> None:
    app = Host(_editor())
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RuleEditor)
        assert footer_keys(app.screen) == EDITOR_KEYS
        assert_covers(app, "#editor")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, SourcePicker)
        assert footer_keys(app.screen) == [("escape", "back")]
        assert_covers(app, "SourcePicker > Vertical")
        await pilot.press("escape", *"hot", "escape")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert footer_keys(app.screen) == [("y", "yes"), ("n", "no")]
        assert_covers(app, "Confirm > Vertical")


async def test_a_viewer_footer_offers_only_what_it_does() -> None:
    rule = Rule(id="r", profile="tv", name="hot", sources=["tv/metric/d:t"], origin=Origin.local,
                thresholds=[Threshold(condition="metric > 1", severity=Severity.major)])
    app = Host(RuleEditor(rule, profiles=["tv"], read_only=True, find=lambda text, profile: []))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert footer_keys(app.screen) == [("escape", "close")]  # no backtest given: no ctrl+t
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


@pytest.mark.parametrize("size", SIZES)
async def test_secret_and_help_cover_cleanly_with_their_own_keys(size) -> None:
    app = StyledApp()
    async with app.run_test(size=size) as pilot:
        app.push_screen(SecretPrompt("tv", "teamviewer", env_name="TUIOT_SECRET_TV"))
        await pilot.pause()
        assert footer_keys(app.screen) == [("escape", "cancel")]
        assert_covers(app, "SecretPrompt > Vertical")
        app.pop_screen()
        app.push_screen(HelpScreen("rules"))
        await pilot.pause()
        assert ("escape", "close") in footer_keys(app.screen)
        assert_covers(app, "HelpScreen > VerticalScroll")


PROMPTS = {
    "tag": lambda: TagDialog("Add a tag to gw-0000", offer_replace=True),
    "untag": lambda: TagDialog("Remove a tag from gw-0000", existing=[("site", "bergen")]),
    "choice": lambda: ChoiceDialog("Installation status of th-0029", ["new", "installed", "retired"]),
    "text": lambda: TextDialog("Move th-0029 to group", value="site-1"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", PROMPTS)
async def test_identities_prompts_cover_cleanly_with_their_own_keys(size, kind) -> None:
    """They were plain ModalScreens: no footer of their keys, a 60-column box at 80."""
    app = StyledApp()
    async with app.run_test(size=size) as pilot:
        app.push_screen(PROMPTS[kind]())
        await pilot.pause()
        assert footer_keys(app.screen) == [("enter", "apply"), ("escape", "cancel")]
        assert_covers(app, "Prompt > Vertical")


async def test_the_console_footer_shows_the_editor_keys_while_it_is_open() -> None:
    """The app's footer belongs to the screen below: it listed Rules' n/d/e/y under the form."""
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("5")
        await pilot.pause(0.2)
        rules_keys = [d for _, d in footer_keys(app.screen)]
        assert "new" in rules_keys and "delete" in rules_keys
        await pilot.press("n")
        await pilot.pause(0.2)
        assert isinstance(app.screen, RuleEditor)
        assert footer_keys(app.screen) == EDITOR_KEYS
        assert_covers(app, "#editor")
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert [d for _, d in footer_keys(app.screen)] == rules_keys


@pytest.mark.parametrize("size", SIZES)
async def test_the_choice_dialog_list_is_flat_as_the_other_fields(size) -> None:
    """QA: the installation status list had Textual's tall focus border, two rows of ▔/▁ and
    side bars no other field of the dialogs has. Its choices are one row each, nothing
    around them, the current one under the cursor."""
    app = StyledApp()
    async with app.run_test(size=size) as pilot:
        app.push_screen(ChoiceDialog("Installation status of th-0029", ["new", "installed", "retired"],
                                     current="installed"))
        await pilot.pause()
        options = app.screen.query_one("#choices")
        assert options.region.height == 3
        shown = [strip.text for strip in app.screen._compositor.render_strips()]
        row = next(i for i, line in enumerate(shown) if "Installation status of th-0029" in line)
        assert [line.strip(" │") for line in shown[row + 2:row + 5]] == ["new", "installed", "retired"]
        assert not any(ch in "".join(shown) for ch in "▔▁▊▎")
        assert options.highlighted == 1
