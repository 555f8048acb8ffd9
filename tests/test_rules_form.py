"""Rule form (Pilot): live condition check with its column, save only when valid, backtest panel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App
from textual.widgets import Input, Select, Static

from tuiot.domain import Origin, Rule, Severity, Threshold
from tuiot.fleet.rules.backtest import BacktestResult, Episode
from tuiot.ui.screens.rule_form import RuleForm

END = datetime(2026, 1, 2, tzinfo=UTC)


class Host(App[None]):
    def __init__(self, form: RuleForm) -> None:
        super().__init__()
        self.form = form
        self.result: Rule | None | str = "pending"

    def on_mount(self) -> None:
        self.push_screen(self.form, callback=self._done)

    def _done(self, rule: Rule | None) -> None:
        self.result = rule


def _text(form: RuleForm, id: str) -> str:
    return str(form.query_one(f"#{id}", Static).render())


async def test_invalid_condition_shows_column_and_fix_saves() -> None:
    form = RuleForm(None, profiles=["Thingsee"])
    app = Host(form)
    async with app.run_test(size=(100, 40)) as pilot:
        form.query_one("#name", Input).value = "hot"
        form.query_one("#metric", Input).value = "TS1:temp"
        cond = form.query_one("#condition", Input)
        cond.focus()
        await pilot.press(*"metric > 1 &&")
        await pilot.pause()
        assert "at column 14" in _text(form, "condition-msg")
        assert form.query_one("#condition-msg").has_class("-error")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == "pending"  # not saved while invalid
        await pilot.press("space", "2")
        await pilot.pause()
        assert _text(form, "condition-msg") == "condition ok"
        await pilot.press("ctrl+s")
        await pilot.pause()
    rule = app.result
    assert isinstance(rule, Rule)
    assert rule.origin is Origin.local and rule.profile == "Thingsee" and rule.name == "hot"
    assert rule.sources == ["Thingsee/metric/TS1:temp"]
    assert rule.thresholds == [Threshold(condition="metric > 1 && 2", severity=Severity.major, checks=1)]


async def test_escape_cancels_and_profile_must_be_chosen() -> None:
    form = RuleForm(None, profiles=["A", "B"])
    app = Host(form)
    async with app.run_test(size=(100, 40)) as pilot:
        assert form.query_one("#profile", Select).value is Select.NULL
        form.query_one("#name", Input).value = "x"
        form.query_one("#metric", Input).value = "m"
        form.query_one("#condition", Input).value = "metric > 1"
        await pilot.pause()
        assert form.build() == (None, "choose a profile")
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


async def test_offline_rule_and_backtest_panel() -> None:
    asked: list[Rule] = []

    async def backtest(rule: Rule) -> BacktestResult:
        asked.append(rule)
        ep = Episode(rule.sources[0], Severity.critical, END - timedelta(hours=3), None, 95.0, 4)
        return BacktestResult(rule, END - timedelta(hours=24), END, [ep], 120)

    old = Rule(id="local:P:quiet", profile="P", name="quiet", kind="offline", sources=["P/device/d1"], minutes=15,
               origin=Origin.local, thresholds=[Threshold(condition="metric >= 15", severity=Severity.critical)])
    form = RuleForm(old, profiles=["P"], backtest=backtest)
    app = Host(form)
    async with app.run_test(size=(100, 40)) as pilot:
        assert form.query_one("#metric").display is False or form.query_one("#metric").parent.has_class("-hidden")
        form.query_one("#minutes", Input).value = "30"
        await pilot.pause(0.6)
        await app.workers.wait_for_complete()
        await pilot.pause()
        body = _text(form, "backtest-body")
        assert "1 episode in 120 readings" in body and "still open" in body and "peak 95.0" in body
        await pilot.press("ctrl+s")
        await pilot.pause()
    rule = app.result
    assert isinstance(rule, Rule) and rule.kind == "offline" and rule.minutes == 30 and rule.sources == ["P/device/d1"]
    assert asked and asked[-1].minutes == 30


async def test_vendor_rule_keeps_id_and_other_thresholds() -> None:
    tv = Rule(id="tv-42", profile="TV", name="temp", sources=["TV/metric/s1", "TV/metric/s2"], origin=Origin.vendor,
              thresholds=[Threshold(condition="metric > 30", severity=Severity.minor),
                          Threshold(condition="metric > 50", severity=Severity.critical, checks=2)])
    form = RuleForm(tv, profiles=["TV"])
    app = Host(form)
    async with app.run_test(size=(100, 40)) as pilot:
        form.query_one("#condition", Input).value = "metric > 35"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
    rule = app.result
    assert isinstance(rule, Rule) and rule.id == "tv-42" and rule.origin is Origin.vendor
    assert rule.sources == tv.sources and [t.condition for t in rule.thresholds] == ["metric > 35", "metric > 50"]
