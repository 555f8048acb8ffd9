"""Writes from the console: each asks first naming what it changes, and leaves an audit line."""

from __future__ import annotations

import json
import os
from pathlib import Path

from textual.app import App
from textual.widgets import Static

from test_console_app import loaded, make_app
from tuiot.ui.screens.confirm import Confirm
from tuiot.ui.writes import named


def _question(app) -> str:
    assert isinstance(app.screen, Confirm), app.screen
    return app.screen.question


def test_a_question_names_one_thing_or_the_first_three_and_counts_the_rest() -> None:
    assert named(["pump-1"], "identity", "identities") == "identity pump-1"
    assert named(["a", "b"], "alarm") == "2 alarms: a; b"
    assert named(list("abcde"), "identity", "identities") == "5 identities: a; b; c and 2 more"


async def test_closing_marked_alarms_names_them_and_no_keeps_them_open() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        await pilot.press("4")
        await pilot.pause(0.5)
        view = app.query_one("#alarms")
        view.apply_filter(profile="TeamViewer", status="open")
        await pilot.pause(0.1)
        shown = view.shown_alarms()
        assert len(shown) >= 5
        await pilot.press(*["space"] * 5, "c")
        await pilot.pause(0.1)
        question = _question(app)
        assert question.startswith("Close 5 alarms: ") and question.endswith(" and 2 more?")
        assert shown[0].description[:20] in question
        await pilot.press("n")
        await pilot.pause(0.3)
        still_open = {a.id for a in app.fleet.alarms["TeamViewer"] if a.status.value == "open"}
        assert {a.id for a in shown[:5]} <= still_open


async def test_locking_an_identity_asks_by_its_id_then_leaves_an_audit_line() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(app, pilot)
        await pilot.press("6")
        view = app.query_one("#identities")
        for _ in range(100):
            await pilot.pause(0.05)
            if view.shown_identities():
                break
        view.apply_filter(profile="Murano")
        await pilot.pause(0.1)
        ident = view.shown_identities()[0]
        assert view.list.highlighted is not None and view.list.highlighted.endswith(ident.identity)
        await pilot.press("l")
        await pilot.pause(0.1)
        assert _question(app) == f"Lock identity {ident.identity}?"
        await pilot.press("y")
        audit = Path(os.environ["TUIOT_DATA_DIR"]) / "audit.log"
        for _ in range(100):
            await pilot.pause(0.05)
            if audit.exists():
                break
        line = json.loads(audit.read_text().splitlines()[-1])
        assert (line["action"], line["profile"], line["target"]) == ("identity.write", "Murano", f"lock {ident.identity}")


async def test_a_question_shows_brackets_as_text() -> None:
    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(Confirm("Close alarm Temp [C] above [/b] 30?"))

    async with Host().run_test() as pilot:
        await pilot.pause()
        text = str(pilot.app.screen.query(Static).first().render())
        assert "Temp [C] above [/b] 30?" in text
