"""The collector hold: off while the first trees load, always back on, nothing left frozen on exit."""

from __future__ import annotations

import gc

import pytest

from test_console_app import loaded, make_app
from tuiot.fleet.collector import CollectorHold


def test_hold_release_and_thaw() -> None:
    frozen = gc.get_freeze_count()
    hold = CollectorHold()
    hold.start()
    assert not gc.isenabled() and hold.held
    hold.release()
    assert gc.isenabled() and not hold.held and gc.get_freeze_count() >= frozen
    hold.thaw()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_hold_leaves_a_collector_someone_else_turned_off_alone() -> None:
    gc.disable()
    try:
        hold = CollectorHold()
        hold.start()
        assert not hold.held
        hold.thaw()
        assert not gc.isenabled()  # not ours to turn back on
    finally:
        gc.enable()


def test_hold_runs_out() -> None:
    hold = CollectorHold(limit_s=0)
    hold.start()
    try:
        assert hold.overdue()
    finally:
        hold.thaw()
    assert gc.isenabled()


async def test_console_turns_the_collector_back_on_when_every_tree_is_in_and_thaws_on_exit() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.pause(0.1)
        assert gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_tuiot_gives_the_collector_back_when_the_console_does_not_open(capsys: pytest.CaptureFixture[str]) -> None:
    from tuiot.cli import main

    assert main(["--demo"]) == 2  # no terminal: the console refuses, after `tuiot` took the hold
    assert "needs a terminal" in capsys.readouterr().err
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_pauses_overlap_in_any_order_and_the_last_one_out_turns_the_collector_on() -> None:
    from tuiot import gcpause

    hold = CollectorHold()
    with gcpause.paused():  # a stretch (a big answer decoded in a thread) is under way …
        hold.start()  # … when the console's hold begins: it must not see "someone else's" pause
        assert hold.held
    assert not gc.isenabled()  # the stretch ended, the hold goes on
    with gcpause.paused():
        hold.release()  # the hold ends while another stretch runs
        assert not gc.isenabled()
    assert gc.isenabled()
    hold.thaw()
    assert gc.get_freeze_count() == 0
