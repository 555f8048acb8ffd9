"""Writes from the console: each asks first naming what it changes, and leaves an audit line."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from textual.widgets import Static

from styled import StyledApp
from test_console_app import FIXED, loaded, make_app, open_alarms_of
from tuiot.ui.screens.confirm import Confirm
from tuiot.ui.writes import named


# one local rule on Murano, as rules.toml holds it
HOT_RULE = ('[[rules]]\nname = "hot"\nprofile = "Murano"\nmetric = "x:temp"\ncondition = "metric > 8"\n'
            'severity = "major"\n')


def _hot_rule_app(tmp_path: Path, **kw):
    """A Murano console whose rules.toml holds HOT_RULE; (app, the file)."""
    rules = tmp_path / "rules.toml"
    rules.write_text(HOT_RULE, encoding="utf-8")
    return make_app(vendors=("murano",), rules_path=str(rules), **kw), rules


async def _edit_first_rule(app, pilot):
    """Screen 5 once its rules are in, enter on the first: the editor."""
    from test_console_keys import _rules_screen

    view = await _rules_screen(app, pilot, lambda v: bool(v.rules))
    view.list.focus()
    await pilot.press("enter")
    await pilot.pause(0.2)
    return app.screen


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
        view = await open_alarms_of(app, pilot, "TeamViewer")
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


async def _identities_screen(app, pilot):
    """Screen 6 once the fleet is in and its identities are listed."""
    await loaded(app, pilot)
    await pilot.press("6")
    view = app.query_one("#identities")
    for _ in range(100):
        await pilot.pause(0.05)
        if view.shown_identities():
            break
    return view


async def test_locking_an_identity_asks_by_its_id_then_leaves_an_audit_line() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _identities_screen(app, pilot)
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
        for _ in range(40):
            if any("lock: done for 1 of 1" in str(n.message) for n in app._notifications):
                break
            await pilot.pause(0.05)
        assert any(str(n.message) == f"lock: done for 1 of 1 (identity {ident.identity})" for n in app._notifications)


async def test_a_question_shows_brackets_as_text() -> None:
    class Host(StyledApp):
        def on_mount(self) -> None:
            self.push_screen(Confirm("Close alarm Temp [C] above [/b] 30?"))

    async with Host().run_test() as pilot:
        await pilot.pause()
        text = str(pilot.app.screen.query(Static).first().render())
        assert "Temp [C] above [/b] 30?" in text


async def test_a_rule_named_like_markup_is_shown_and_deleted_as_text(tmp_path) -> None:
    from test_console_keys import _rules_screen

    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nname = "Tank [/] level [red]"\nprofile = "Murano"\nmetric = "x:temp"\n'
                     'condition = "metric > 8"\nseverity = "major"\n', encoding="utf-8")
    app = make_app(vendors=("murano",), rules_path=str(rules))
    async with app.run_test(size=(80, 24)) as pilot:
        view = await _rules_screen(app, pilot, lambda v: bool(v.rules))
        assert [r.name for r in view.shown_rules()] == ["Tank [/] level [red]"]
        await pilot.press("d")
        await pilot.pause(0.1)
        assert _question(app) == "Delete the local rule 'Tank [/] level [red]' of Murano?"
        await pilot.press("y")
        for _ in range(60):
            await pilot.pause(0.05)
            if "Tank" not in rules.read_text():
                break
        assert "Tank" not in rules.read_text()
        assert app.is_running  # the toast "deleted rule 'Tank [/] level [red]'" did not crash it
        assert any("Tank [/] level [red]" in str(n.message) for n in app._notifications)


async def test_a_new_rule_never_replaces_one_of_the_same_name_and_the_form_keeps_it(tmp_path) -> None:
    from test_console_keys import _rules_screen

    app, rules = _hot_rule_app(tmp_path)
    before = HOT_RULE
    async with app.run_test(size=(80, 24)) as pilot:
        await _rules_screen(app, pilot, lambda v: bool(v.rules))
        editor = await _save_new_rule(app, pilot, "hot", "y:pressure", "metric < 2", until="already exists")
        assert app.screen is editor  # still open, with what was typed
        assert "a rule named 'hot' already exists" in str(editor.query_one("#form-error").render())
        assert editor.query_one("#metric").value == "y:pressure"
        assert rules.read_text() == before


async def test_read_only_refuses_a_new_rule_before_the_form_opens() -> None:
    from test_console_keys import _rules_screen

    app = make_app(vendors=("murano",), read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _rules_screen(app, pilot, lambda v: True)
        await pilot.press("n")
        await pilot.pause(0.2)
        assert app.screen.__class__.__name__ != "RuleEditor"
        assert any("read-only: --read-only is set" in str(n.message) for n in app._notifications)


async def test_a_profile_without_a_secret_is_asked_for_one_kept_in_memory(monkeypatch) -> None:
    """No keyring on a jump host: the console asks (a password box), uses the answer for
    the session only, and esc skips the profile until ctrl+r."""
    from simproc import simulate
    from tuiot.config import parse_config
    from tuiot.simulators.teamviewer import DEMO_SECRET
    from tuiot.ui.app import ConsoleApp
    from tuiot.ui.screens.secret import SecretPrompt

    monkeypatch.delenv("TUIOT_SECRET_PLANT", raising=False)
    monkeypatch.setattr("tuiot.credentials.keyring_get", lambda name: None)
    with simulate("--vendor", "teamviewer", "--devices", "20") as port:
        config = parse_config(f'[profiles.plant]\nvendor = "teamviewer"\nbase_url = "http://127.0.0.1:{port}"\n')
        app = ConsoleApp(config=config, use_snapshot=False)
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(100):
                await pilot.pause(0.05)
                if isinstance(app.screen, SecretPrompt):
                    break
            assert isinstance(app.screen, SecretPrompt)
            assert app.screen.query_one("#secret").password  # typed without echo
            await pilot.press("escape")  # skipped: not asked again every round
            await pilot.pause(0.3)
            assert not isinstance(app.screen, SecretPrompt) and app.fleet.profiles["plant"].error
            await pilot.press("ctrl+r")  # asks again
            for _ in range(100):
                await pilot.pause(0.05)
                if isinstance(app.screen, SecretPrompt):
                    break
            await pilot.press(*DEMO_SECRET, "enter")
            await loaded(app, pilot)
            assert app.fleet.device_count("plant") > 0 and app.loader.secrets.where("plant") == "session"


async def test_a_new_rule_starts_on_the_metric_last_looked_at() -> None:
    """Triage: a value in Live → 5 → n, and the form has that metric (no id copied by hand)."""
    from test_console_keys import _rules_screen
    from tuiot.ui.screens.rule_editor import RuleEditor

    app = make_app(vendors=("murano",))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("colon", *"live murano", "enter")
        view = app.query_one("#live")
        for _ in range(100):
            await pilot.pause(0.05)
            if view.list.keys:
                break
        await pilot.press("down")
        looked_at = view.list.highlighted
        await _rules_screen(app, pilot, lambda v: True)
        await pilot.press("n")
        await pilot.pause(0.2)
        assert isinstance(app.screen, RuleEditor)
        assert app.screen.query_one("#metric").value == looked_at.split("/", 2)[2]
        assert app.screen.query_one("#profile").value == "Murano"


async def test_a_tag_can_replace_its_other_values_after_asking_so() -> None:
    app = make_app(vendors=("murano",))
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _identities_screen(app, pilot)
        ident = next(i for i in view.shown_identities() if i.tags.get("site"))
        app.writes.tag_add([ident], "site", "elsewhere", True)
        await pilot.pause(0.1)
        assert _question(app) == f"Set tag site=elsewhere (replacing its other values) on identity {ident.identity}?"
        await pilot.press("y")
        for _ in range(100):
            await pilot.pause(0.05)
            now = next((i for lst in app.fleet.identities.values() for i in lst if i.identity == ident.identity), None)
            if now is not None and now.tags.get("site") == ["elsewhere"]:
                break
        assert now is not None and now.tags.get("site") == ["elsewhere"]


async def test_a_rule_on_a_metric_the_vendor_does_not_have_is_not_saved(tmp_path) -> None:
    """A typo in the metric id saved a rule that could never fire (QA)."""
    from test_console_keys import _rules_screen

    rules = tmp_path / "rules.toml"
    app = make_app(vendors=("thingsee",), rules_path=str(rules))
    async with app.run_test(size=(80, 24)) as pilot:
        await _rules_screen(app, pilot, lambda v: True)
        editor = await _save_new_rule(app, pilot, "typo", "NOPE:zz", "metric > 2", until="not in Thingsee")
        assert app.screen is editor
        assert "NOPE:zz: not in Thingsee" in str(editor.query_one("#form-error").render())
        assert not rules.exists() or "typo" not in rules.read_text()


async def test_read_only_opens_a_rule_as_a_viewer_with_nothing_to_save(tmp_path) -> None:
    from tuiot.ui.screens.rule_editor import RuleEditor

    app, rules = _hot_rule_app(tmp_path, read_only=True)
    before = HOT_RULE
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _edit_first_rule(app, pilot)
        assert isinstance(editor, RuleEditor) and editor.read_only
        assert str(editor.query_one("#title").render()) == "Local rule 'hot' (read-only)"
        assert str(editor.query_one("#status").render()) == "read-only (--read-only is set)"
        assert "save" not in [k.description for k in editor.query("FooterKey")]  # type: ignore[attr-defined]
        assert editor.query_one("#condition").disabled and editor.query_one("#name").disabled
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert app.screen is editor and rules.read_text() == before
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.screen is not editor


async def _save_new_rule(app, pilot, name: str, metric: str, condition: str, *, until: str):
    """`n`, the form filled in, ctrl+s; the editor, once its error says `until` (or 3 s)."""
    from tuiot.ui.screens.rule_editor import RuleEditor

    await pilot.press("n")
    await pilot.pause(0.2)
    editor = app.screen
    assert isinstance(editor, RuleEditor)
    editor.query_one("#name").value = name
    editor.query_one("#metric").value = metric
    editor.query_one("#condition").value = condition
    await pilot.press("ctrl+s")
    for _ in range(60):
        await pilot.pause(0.05)
        if until in str(editor.query_one("#form-error").render()):
            break
    return editor


def test_an_edit_is_described_field_by_field() -> None:
    from tuiot.domain import Rule, Severity, Threshold
    from tuiot.ui.writes import rule_changes

    old = Rule(id="r", profile="P", name="hot", sources=["P/metric/a"],
               thresholds=[Threshold(condition="value > 30", severity=Severity.major)])
    new = old.model_copy(update={"enabled": False, "thresholds": [
        Threshold(condition="value > 35", severity=Severity.critical),
        Threshold(condition="value > 50", severity=Severity.critical)]})
    assert rule_changes(old, new, lambda ref: ref.rsplit("/", 1)[1]) == [
        "disabled", "condition 'value > 30' → 'value > 35'", "severity major → critical",
        "added 'value > 50' (critical)"]
    assert rule_changes(old, old, str) == []


async def test_saving_an_edited_rule_asks_first_naming_the_change(tmp_path) -> None:
    """An edit replaces the rule: a slip of the keyboard must not rewrite it unasked (QA)."""
    from tuiot.ui.screens.rule_editor import RuleEditor

    app, rules = _hot_rule_app(tmp_path)
    before = HOT_RULE
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _edit_first_rule(app, pilot)
        assert isinstance(editor, RuleEditor)
        await pilot.press("ctrl+s")  # nothing changed: nothing written, nothing asked
        await pilot.pause(0.2)
        assert not isinstance(app.screen, Confirm) and rules.read_text() == before
        await pilot.press("enter")
        await pilot.pause(0.2)
        editor = app.screen
        editor.query_one("#condition").value = "metric > 9"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert _question(app) == "Save the local rule 'hot' of Murano: condition 'metric > 8' → 'metric > 9'?"
        assert "saving" not in str(editor.query_one("#status").render())  # not while the question is open
        await pilot.press("n")
        await pilot.pause(0.2)
        assert app.screen is editor and "not saved" in str(editor.query_one("#form-error").render())
        assert editor.query_one("#condition").value == "metric > 9"  # what was typed is kept
        assert rules.read_text() == before
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        await pilot.press("y")
        for _ in range(40):
            await pilot.pause(0.05)
            if app.screen is not editor:
                break
        assert "metric > 9" in rules.read_text()
        # the audit line says what the save changed, as the question did
        line = json.loads((Path(os.environ["TUIOT_DATA_DIR"]) / "audit.log").read_text(encoding="utf-8").splitlines()[-1])
        assert (line["action"], line["profile"], line["target"]) == ("rule.save", "Murano", "hot")
        assert line["changes"] == ["condition 'metric > 8' → 'metric > 9'"]


async def _picker_over_a_new_rule(app, pilot):
    """Rules, n, ctrl+o: the source picker open over a new rule's editor, which is returned."""
    from test_console_keys import _rules_screen
    from tuiot.ui.screens.source_picker import SourcePicker

    await _rules_screen(app, pilot, lambda v: True)
    await pilot.press("n")
    await pilot.pause(0.2)
    editor = app.screen
    await pilot.press("ctrl+o")
    await pilot.pause(0.2)
    assert isinstance(app.screen, SourcePicker)
    return editor


async def test_a_new_rule_picks_its_metric_by_device_name(tmp_path) -> None:
    """ctrl+o in the editor: find a device by name, enter, its metrics, enter: the id is filled in."""
    from tuiot.ui.screens.rule_editor import RuleEditor

    app = make_app(vendors=("teamviewer",), rules_path=str(tmp_path / "rules.toml"))
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _picker_over_a_new_rule(app, pilot)
        assert isinstance(editor, RuleEditor)
        device = next(n for n in app.fleet.search("pump", limit=50) if n.kind == "device")
        await pilot.press(*device.name)
        await pilot.pause(0.1)
        await pilot.press("enter")
        for _ in range(40):
            await pilot.pause(0.05)
            if "metrics ·" in str(app.screen.query_one("#pick-hint").render()):
                break
        assert device.name in str(app.screen.query_one("#pick-title").render())
        await pilot.press("enter")  # the first metric
        await pilot.pause(0.2)
        assert app.screen is editor
        metric_id = editor.query_one("#metric").value
        ref = f"TeamViewer/metric/{metric_id}"
        assert app.fleet.nodes[ref].kind == "metric"
        assert editor.query_one("#profile").value == "TeamViewer"
        assert str(editor.query_one("#metric-name").render()).startswith(device.name)


async def test_the_picker_names_each_thingspro_status_device_with_its_gateway(tmp_path) -> None:
    """QA: ctrl+o, 'status': 'status · ThingsPro' once per gateway, which to pick a guess."""

    app = make_app(vendors=("thingspro",), rules_path=str(tmp_path / "rules.toml"))
    async with app.run_test(size=(80, 24)) as pilot:
        await _picker_over_a_new_rule(app, pilot)
        await pilot.press(*"status")
        await pilot.pause(0.1)
        box = app.screen.query_one("#pick-list")
        said = [str(box.get_option_at_index(i).prompt) for i in range(box.option_count)]
        gateways = [n for n in app.fleet.nodes.values() if n.kind == "group" and n.parent is None]
        assert len(gateways) >= 2 and len(said) == len(gateways), said
        assert sorted(said) == sorted(f"status ({g.name}) · ThingsPro" for g in gateways)


async def test_esc_in_the_picker_steps_back_to_the_devices_then_out() -> None:
    from tuiot.ui.screens.source_picker import SourcePicker

    picked: list[str | None] = []

    async def metrics(device: str) -> list[tuple[str, str]]:
        return [("p/metric/m1", "Temperature (°C)")]

    class Host(StyledApp):
        def on_mount(self) -> None:
            self.push_screen(SourcePicker("pick", lambda t: [("p/device/d1", "Pump 1 · p")], metrics), picked.append)

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p", "enter")
        await pilot.pause(0.2)
        assert "Temperature" in str(app.screen.query_one("OptionList").get_option_at_index(0).prompt)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert isinstance(app.screen, SourcePicker) and app.screen.query_one("#pick-find").display
        await pilot.press("escape")
        await pilot.pause(0.1)
    assert picked == [None]


async def test_thingsees_reserved_group_is_refused_in_the_form_before_any_question() -> None:
    """QA: `G`, "unassigned", Enter asked to move the thing, and only `y` found it refused."""
    app = make_app(vendors=("thingsee",))
    async with app.run_test(size=(80, 24)) as pilot:
        view = await _identities_screen(app, pilot)
        ident = view.shown_identities()[0]
        await pilot.press("G", "ctrl+u", *"unassigned", "enter")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, Confirm)
        assert '"unassigned" is reserved by Thingsee' in str(app.screen.query_one(".dialog-error").content)
        await pilot.press("ctrl+u", *"bad group", "enter")  # the console's own rule still speaks first
        assert "no spaces" in str(app.screen.query_one(".dialog-error").content)
        await pilot.press("ctrl+u", *"prfi00elsewhere", "enter")
        await pilot.pause(0.1)
        assert _question(app) == f"Move thing {ident.identity} to group 'prfi00elsewhere'?"
        await pilot.press("n")


async def test_a_thingsee_identity_is_seen_when_its_newest_reading_was_taken() -> None:
    """QA: Thingsee gives no last-seen time, and every row read '—' although values were seconds old."""
    from tuiot.domain import Reading

    app = make_app(vendors=("thingsee",))
    async with app.run_test(size=(80, 24)) as pilot:
        view = await _identities_screen(app, pilot)
        ident = view.shown_identities()[0]
        taken = app.clock() - timedelta(seconds=7)
        app.fleet.put_readings([Reading(metric=f"Thingsee/metric/{ident.identity}:temp", value=21.5, ts=taken,
                                        device=ident.ref)])
        await pilot.press("1", "6")  # screen 6 shows what the console holds when it is shown
        await pilot.pause(0.1)
        assert view.cells(ident.ref)[3][0] == "7s"  # IDENTITY, STATUS, ON, SEEN
        assert "(7s ago), no last-seen from Thingsee" in str(view.detail(ident.ref))


async def test_closing_a_thingsee_alarm_says_thingsee_does_not_allow_it_not_read_only() -> None:
    """QA: the refusal said 'read-only' of a console that was not; under --read-only too, the
    vendor's rule is the reason that holds."""
    from tuiot.domain import Alarm, AlarmStatus, Severity

    alarm = Alarm(id="TS1:heartbeat-missed:1", profile="Thingsee", severity=Severity.major, status=AlarmStatus.open,
                  device="Thingsee/device/TS1", description="Heartbeat missed", opened_at=FIXED, closable=False)
    for read_only in (False, True):
        app = make_app(vendors=("thingsee",), read_only=read_only)
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(app, pilot)
            before = len(app._notifications)
            app.writes.close_alarms([alarm])
            await pilot.pause()
            assert not isinstance(app.screen, Confirm)  # nothing is asked: nothing can be done
            [toast] = list(app._notifications)[before:]
            assert toast.message == "not closed: Thingsee does not allow closing its alarms"


async def test_closing_one_alarm_says_one_alarm_and_clearing_one_mark_one_mark() -> None:
    """QA: 'closed 1 of 1 alarms', 'cleared 1 marks'."""
    app = make_app(vendors=("teamviewer",))
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_alarms_of(app, pilot, "TeamViewer")
        assert view.shown_alarms()
        await pilot.press("c")
        await pilot.pause(0.1)
        await pilot.press("y")
        for _ in range(60):
            await pilot.pause(0.05)
            said = [n.message for n in app._notifications if n.message.startswith("closed ")]
            if said:
                break
        assert said == ["closed 1 alarm"]
        await pilot.press("1")
        await pilot.pause(0.2)
        app.marked = {next(n.ref for n in app.fleet.nodes.values() if n.kind == "device")}
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert list(app._notifications)[-1].message == "cleared 1 mark"


async def test_a_read_only_profile_opens_its_rule_as_a_viewer_too(tmp_path) -> None:
    from tuiot.ui.screens.rule_editor import RuleEditor

    app, rules = _hot_rule_app(tmp_path)
    app.config.profiles["Murano"] = app.config.profiles["Murano"].model_copy(update={"read_only": True})
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _edit_first_rule(app, pilot)
        assert isinstance(editor, RuleEditor) and editor.read_only
        assert all(f.disabled for f in editor.query("Input, Select, Switch"))
        assert str(editor.query_one("#status").render()) == "read-only (profile Murano is read-only)"


def test_a_new_rule_is_described_for_its_audit_line() -> None:
    from tuiot.domain import Origin, Rule, Severity, Threshold
    from tuiot.ui.writes import rule_created

    rule = Rule(id="hot", profile="P", name="hot", sources=["P/metric/a"], origin=Origin.local,
                thresholds=[Threshold(condition="metric > 8", severity=Severity.major)])
    assert rule_created(rule, lambda ref: ref.rsplit("/", 1)[1]) == [
        "new local threshold rule", "watches none → a", "added 'metric > 8' (major)"]
