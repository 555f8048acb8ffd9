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
    (":alarms critical all", Command("alarms", severity="critical", status="all")),  # help: `all` is a status
    (":alarms all critical", Command("alarms", severity="critical", status="all")),
    (":identities locked ^pump-", Command("identities", status="locked", text="^pump-")),
    (":ids @murano", Command("identities", "Murano")),
    (":identities bogus", Command("identities", text="bogus")),  # help: any other word is an id pattern
    (":identities ALL", Command("identities", status="all")),
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
    (":identities locked expired", "':identities locked expired': one status at a time"),
    (":identities (", "':identities (': bad id pattern"),
    (":live pump-1", "no profile 'pump-1'"),
    (":live thingsee now", ":live takes a profile only"),
    (":metrics x", ":metrics takes no arguments"),
    (":q now", ":q takes no arguments"),
])
def test_a_bad_command_is_one_line_that_says_what_is_wrong(line: str, says: str) -> None:
    with pytest.raises(CommandError) as e:
        parse(line, PROFILES)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_an_unknown_word_lists_the_words_help_lists_in_its_order() -> None:
    """QA: `:alarms bogus` answered '(closed, open)' where help says `[open|closed|all]`."""
    from tuiot.ui.keys import help_lines

    help_text = "\n".join(help_lines("alarms", width=200)).replace("\\[", "[")
    with pytest.raises(CommandError) as e:
        parse(":alarms bogus", PROFILES)
    assert str(e.value) == ("':alarms bogus': not a severity (critical|major|minor|warning) "
                            "or status (open|closed|all)")
    assert "[open|closed|all]" in help_text and "severity: critical|major|minor|warning" in help_text
    with pytest.raises(CommandError) as e:
        parse(":identities all locked", PROFILES)
    listed = "provisioned|whitelisted|locked|expired|reprovision|all"
    assert f"({listed})" in str(e.value) and f" {listed}" in help_text  # help lists them under :identities
    for word in listed.split("|"):  # every word listed is taken
        assert parse(f":identities {word}", PROFILES) == Command("identities", status=word)
    for word in ("critical", "major", "minor", "warning", "open", "closed", "all"):
        assert parse(f":alarms {word}", PROFILES) is not None


async def test_a_bad_id_pattern_is_a_toast_not_a_crash() -> None:
    app = make_app(vendors=("murano",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("colon", *"identities (", "enter")
        await pilot.pause(0.2)
        assert app.current == "devices"  # refused before the screen moved
        assert "bad id pattern" in list(app._notifications)[-1].message


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
        assert app.current == "devices" and app.devices.cursor() == device.ref
