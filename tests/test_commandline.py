"""The `:` command line: what each command means, and one clear line for what it refuses."""

from __future__ import annotations

import pytest

from test_console_app import loaded, make_app
from tuiot.ui.commandline import Command, CommandError, parse

PROFILES = ["TeamViewer", "Thingsee", "Murano", "ThingsPro"]


@pytest.mark.parametrize(("line", "command"), [
    (":devices @thingsee", Command("devices", "Thingsee")),
    ("dev pump-12", Command("devices", text="pump-12")),
    (":alarms critical", Command("alarms", severity="critical")),
    (":alarms closed @MURANO major", Command("alarms", "Murano", severity="major", status="closed")),
    (":alarms all", Command("alarms", severity="all", status="all")),
    (":identities locked ^pump-", Command("identities", status="locked", text="^pump-")),
    (":ids @murano", Command("identities", "Murano")),
    (":rules hot", Command("rules", text="hot")),
    (":live @murano", Command("live", "Murano")),
    (":live thingsee", Command("live", "Thingsee")),
    (":alarms critical murano", Command("alarms", "Murano", severity="critical")),
    (":q", Command("quit")),
])
def test_commands_read_as_meant(line: str, command: Command) -> None:
    assert parse(line, PROFILES) == command


def test_an_empty_line_is_no_command() -> None:
    assert parse(" : ", PROFILES) is None


@pytest.mark.parametrize(("line", "says"), [
    (":bogus", "no command ':bogus'"),
    (":devices @nope", "no profile 'nope' (known: TeamViewer, Thingsee, Murano, ThingsPro)"),
    (":alarms urgent", "':alarms urgent': not a severity"),
    (":live pump-1", "no profile 'pump-1'"),
    (":live thingsee now", ":live takes a profile only"),
    (":metrics x", ":metrics takes no arguments"),
    (":q now", ":q takes no arguments"),
])
def test_a_bad_command_is_one_line_that_says_what_is_wrong(line: str, says: str) -> None:
    with pytest.raises(CommandError) as e:
        parse(line, PROFILES)
    assert says in str(e.value) and "\n" not in str(e.value)


async def test_commands_set_the_filters_of_the_screen_they_open() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        await pilot.press("colon", *"alarms major closed @murano", "enter")
        await pilot.pause(0.2)
        assert app.current == "alarms"
        filters = app.query_one("#alarms").filters
        assert (filters["severity"], filters["status"], filters["profile"]) == ("major", "closed", "Murano")
        await pilot.press("colon", *"identities locked", "enter")
        await pilot.pause(0.2)
        view = app.query_one("#identities")
        assert app.current == "identities" and view.status_filter == "locked"
        await pilot.press("colon", *"alarms critical", "enter")
        await pilot.pause(0.2)
        filters = app.query_one("#alarms").filters  # words left out are back to their defaults
        assert (filters["severity"], filters["status"], filters["profile"]) == ("critical", "open", None)
        await pilot.press("colon", *"identities", "enter")
        await pilot.pause(0.2)
        assert view.status_filter is None
        await pilot.press("colon", *"alarms urgent", "enter")
        await pilot.pause(0.1)
        assert app.current == "identities"  # a refused command moves nothing
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device" and n.profile == "Thingsee")
        await pilot.press("colon", *f"devices {device.id}", "enter")
        await pilot.pause(0.2)
        assert app.current == "devices" and app._tree_cursor() == device.ref
