"""Metrics, Alarms and Identities views: keys, filters, marks, requested messages, export.

Each view is mounted alone in a tiny host app that records every message the view posts
and every toast it raises; the data is built by hand with fixed timestamps.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from styled import StyledApp
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, Label, Static

from tuiot.domain import (
    Aggregate,
    Alarm,
    AlarmStatus,
    Identity,
    Node,
    Origin,
    Point,
    Reading,
    Series,
    Severity,
)
from tuiot.fleet.export import to_csv
from tuiot.ui.screens.prompts import Prompt
from tuiot.ui.views import CopyRequested, Exported, JumpToDevice, NamesWanted
from tuiot.ui.views import alarms as alarms_mod
from tuiot.ui.views import identities as ids_mod
from tuiot.ui.views import live as live_mod
from tuiot.ui.views import metrics as metrics_mod
from tuiot.ui.views.alarms import AlarmsView, CloseRequested
from tuiot.ui.views.identities import (
    GroupRequested,
    IdentitiesView,
    InstallationStatusRequested,
    LockRequested,
    TagAddRequested,
    TagRemoveRequested,
)
from tuiot.ui.views.live import LiveView
from tuiot.ui.views.metrics import HistoryRequested, MetricsView, bucket_for
from tuiot.ui.widgets.chart import downsample, time_ticks

NOW = datetime(2026, 5, 28, 12, 0, tzinfo=UTC)
PROFILES = ("TeamViewer", "Thingsee", "Murano")
SEVERITIES = list(Severity)


# ---- fixture data -----------------------------------------------------------------------


def make_alarms(n: int = 40) -> list[Alarm]:
    out = []
    for i in range(n):
        p = PROFILES[i % 3]
        out.append(Alarm(
            id=f"a{i:03d}", profile=p, severity=SEVERITIES[i % 4],
            status=AlarmStatus.closed if i % 5 == 0 else AlarmStatus.open,
            device=f"{p}/device/dev-{i:03d}", metric=f"{p}/metric/dev-{i:03d}:temp",
            description=f"temperature above {20 + i} °C" if i % 7 else "device offline",
            opened_at=NOW - timedelta(minutes=7 * i + 1),
            closed_at=NOW - timedelta(minutes=i) if i % 5 == 0 else None,
            origin=Origin.local if p == "Murano" else Origin.vendor,
            rule=f"rule-{i % 4}" if p == "Murano" else None, value=20 + i,
            closable=p in ("TeamViewer", "Murano"),
        ))
    # given in scrambled order: the view sorts newest first
    return out[::2] + out[1::2]


STATUSES = ["provisioned", "whitelisted", "locked", "expired", "reprovision"]


def make_identities(n: int = 30) -> list[Identity]:
    out = []
    for i in range(n):
        p = ("Murano", "Thingsee")[i % 2]
        out.append(Identity(
            identity=f"{'gw' if p == 'Murano' else 'th'}-{i:04d}", profile=p, status=STATUSES[i % 5],
            online=None if i % 7 == 0 else bool(i % 3), lastseen=NOW - timedelta(minutes=13 * i),
            lastip=f"10.0.{i % 4}.{i}", group=f"site-{i % 4}",
            tags={"site": ["oslo" if i % 3 else "bergen"], "floor": [str(i % 3)]}, locked=i % 5 == 2,
        ))
    return out


CAPS = {"Murano": {"identities", "identity_write", "tag_write"}, "Thingsee": {"identities", "installation", "group_write"}}

METRIC = Node(kind="metric", id="dev-001:temp", name="temperature", profile="TeamViewer", unit="°C",
              parent="TeamViewer/sensor/s1")
DEVICE = Node(kind="device", id="dev-001", name="Boiler room", profile="TeamViewer")


def wave(req: HistoryRequested, step: timedelta = timedelta(minutes=5)) -> Series:
    n = int((req.end - req.start) / step)
    pts = [Point(ts=req.start + step * (i + 1), value=round(20 + 5 * math.sin(i / 10), 3)) for i in range(n)]
    return Series(metric=req.metric_ref, points=pts, unit="°C", aggregate=req.aggregate, bucket=req.bucket)


# ---- host app ---------------------------------------------------------------------------


class Host(StyledApp):
    """Mounts one view; records what it posts and tells; Esc that the view passes on is 'back'."""

    BINDINGS: ClassVar = [Binding("escape", "back", "back")]

    def __init__(self, view, setup=None, answer: bool = False) -> None:
        super().__init__()
        self.view = view
        self.setup = setup
        self.answer = answer
        self.posted: list[Message] = []
        self.toasts: list[tuple[str, str]] = []
        self.backs = 0

    def compose(self) -> ComposeResult:
        yield self.view

    def on_mount(self) -> None:
        if self.setup:
            self.setup(self.view)
        self.view.focus()

    def notify(self, message, *, title="", severity="information", timeout=None, markup=True):
        self.toasts.append((severity, f"{title}: {message}" if title else message))

    def action_back(self) -> None:
        self.backs += 1

    def on_history_requested(self, m: HistoryRequested) -> None:
        if self.answer:
            self.view.set_series(wave(m), request=m)

    def record(self, m: Message) -> None:
        types = (CopyRequested, Exported, JumpToDevice, CloseRequested, HistoryRequested, LockRequested,
                 TagAddRequested, TagRemoveRequested, InstallationStatusRequested, GroupRequested, NamesWanted)
        if isinstance(m, types) and not any(m is x for x in self.posted):
            self.posted.append(m)

    def of(self, kind: type) -> list:
        return [m for m in self.posted if isinstance(m, kind)]


def run(app: Host, size=(80, 24)):
    return app.run_test(size=size, message_hook=app.record)


def alarms_host(tmp_path: Path | None = None, **kw) -> Host:
    view = AlarmsView(export_dir=tmp_path, **kw)
    return Host(view, lambda v: v.set_alarms(make_alarms(), now=NOW))


def ids_host(tmp_path: Path | None = None, read_only=()) -> Host:
    view = IdentitiesView(export_dir=tmp_path)
    return Host(view, lambda v: v.set_identities(make_identities(), capabilities=CAPS, now=NOW,
                                                 read_only=read_only))


def metrics_host(tmp_path: Path | None = None, can_aggregate=True, answer=True, range="24h") -> Host:
    view = MetricsView(clock=lambda: NOW, export_dir=tmp_path, range=range)
    return Host(view, lambda v: v.show(METRIC, device=DEVICE, can_aggregate=can_aggregate), answer=answer)


# ---- declared actions -------------------------------------------------------------------


@pytest.mark.parametrize("mod, view", [(alarms_mod, AlarmsView), (ids_mod, IdentitiesView),
                                       (metrics_mod, MetricsView)])
def test_actions_are_the_bindings_and_every_action_exists(mod, view):
    keys = [a.key for a in mod.ACTIONS]
    assert len(keys) == len(set(keys))
    assert [(b.key, b.action) for b in view.BINDINGS] == [(a.key, a.id) for a in mod.ACTIONS]
    for a in mod.ACTIONS:
        name = a.id.split("(")[0]
        assert callable(getattr(view, f"action_{name}", None)), a.id
    # 1..6 switch screens in the shell: no view may take them
    assert not {k for a in mod.ACTIONS for k in a.key.split(",")} & set("123456")


# ---- alarms -----------------------------------------------------------------------------


async def test_alarms_newest_first_open_by_default_and_filters_cycle():
    app = alarms_host()
    async with run(app) as pilot:
        v: AlarmsView = app.view
        shown = v.shown_alarms()
        assert all(a.status is AlarmStatus.open for a in shown) and len(shown) == 32
        assert [a.opened_at for a in shown] == sorted((a.opened_at for a in shown), reverse=True)
        await pilot.press("s")
        assert v.severity is Severity.critical
        assert {a.severity for a in v.shown_alarms()} == {Severity.critical}
        await pilot.press("o")  # open → closed
        assert all(a.status is AlarmStatus.closed for a in v.shown_alarms())
        await pilot.press("o", "s", "s", "s", "s")  # status all; severity back to all
        assert v.severity is None and v.status is None and len(v.list.keys) == 40
        await pilot.press("p")
        assert v.profile == "Murano" and {a.profile for a in v.shown_alarms()} == {"Murano"}
        summary = str(app.view.query_one("#summary", Static).content)
        assert summary.startswith(f"{len(v.list.keys)}/40")


async def test_alarms_cursor_goes_to_the_top_when_a_filter_hides_its_row_and_stays_on_a_refresh():
    app = alarms_host()
    async with run(app) as pilot:
        v: AlarmsView = app.view
        await pilot.press("down")
        second = v.list.highlighted
        assert second == v.list.keys[1]
        await pilot.press("p")  # the profile of row 2 is not the first profile shown
        assert v.list.highlighted == v.list.keys[0]
        await pilot.press("p", "p", "p")  # all profiles again
        await pilot.press("down", "down")
        third = v.list.highlighted
        v.set_alarms([a for a in make_alarms() if a.id != third], now=NOW)  # its alarm closed elsewhere
        assert v.list.keys.index(v.list.highlighted) == 2  # the next one moved up under the cursor


async def test_alarms_say_open_or_closed_at_80_columns_when_both_are_shown():
    app = alarms_host()
    async with run(app) as pilot:
        v: AlarmsView = app.view
        assert "STATUS" not in [c.title for c in v.list._columns]  # open only: no need
        await pilot.press("o", "o")  # open → closed → both
        assert v.status is None and "STATUS" in [c.title for c in v.list._columns]


async def test_alarms_narrower_than_their_columns_scroll_a_column_sideways():
    app = alarms_host()
    async with run(app, size=(50, 24)) as pilot:
        v: AlarmsView = app.view
        header = v.list.render_line(0).text
        assert "SEV" in header and "DESCRIPTION" not in header  # the view is narrower than the columns
        await pilot.press("right", "right")
        assert v.list.scroll_offset.x > 0
        assert "DESCRIPTION" in v.list.render_line(0).text and "SEV" not in v.list.render_line(0).text
        assert v.list.render_line(1).text.strip()  # rows scroll with their header
        await pilot.press("left", "left", "left", "left")
        assert v.list.scroll_offset.x == 0 and v.list.render_line(0).text == header


async def test_alarms_apply_filter_presets_and_rejects_unknown():
    app = alarms_host()
    async with run(app) as pilot:
        v: AlarmsView = app.view
        v.apply_filter(severity="critical", profile="Thingsee")
        await pilot.pause()
        assert {(a.severity, a.profile) for a in v.shown_alarms()} == {(Severity.critical, "Thingsee")}
        assert v.filters == {"severity": "critical", "status": "open", "profile": "Thingsee", "text": None}
        with pytest.raises(ValueError, match="unknown severity 'urgent'"):
            v.apply_filter(severity="urgent")
        assert v.severity is Severity.critical
        v.apply_filter(severity="all", profile=None, status="all", text="offline")
        await pilot.pause()
        assert v.shown_alarms() and all(a.description == "device offline" for a in v.shown_alarms())


async def test_alarms_text_filter_marks_and_escape_order():
    app = alarms_host()
    async with run(app) as pilot:
        v: AlarmsView = app.view
        await pilot.press("slash", *"thingsee")
        assert v.text_filter == "thingsee" and {a.profile for a in v.shown_alarms()} == {"Thingsee"}
        await pilot.press("enter")  # keeps the filter, back to the list
        assert v.list.has_focus and v.text_filter == "thingsee"
        await pilot.press("space", "m")  # m marks too, as on Devices
        assert len(v.list.marked) == 2 and v.list.cursor == 2
        await pilot.press("asterisk")
        assert v.list.marked == set(v.list.keys)
        await pilot.press("escape")  # marks first
        assert not v.list.marked and v.text_filter == "thingsee"
        await pilot.press("escape")  # then the filter
        assert v.text_filter == "" and len(v.list.keys) == 32
        assert app.backs == 0
        await pilot.press("escape")  # nothing left: the shell's Esc (back) runs
        assert app.backs == 1


async def test_alarms_close_posts_only_closable_and_says_why():
    app = alarms_host()
    async with run(app) as pilot:
        v: AlarmsView = app.view
        await pilot.press("asterisk", "c")
        [req] = app.of(CloseRequested)
        shown = v.shown_alarms()
        assert [a.ref for a in req.alarms] == [a.ref for a in shown if a.closable]
        thingsee = sum(1 for a in shown if not a.closable)
        assert thingsee > 0
        severity, text = app.toasts[-1]
        assert severity == "warning"
        assert f"{thingsee} of {len(shown)} left out: Thingsee does not allow closing its alarms ({thingsee})" in text


async def test_alarms_close_refuses_read_only_profile_and_closed_alarms():
    app = alarms_host(read_only=("TeamViewer", "Murano"))
    async with run(app) as pilot:
        await pilot.press("c")
        assert app.of(CloseRequested) == []
        assert app.toasts[-1][0] == "error"
        assert "not closable" in app.toasts[-1][1]
        app.view.apply_filter(status="closed")
        await pilot.press("c")
        assert "already closed" in app.toasts[-1][1]


async def test_alarms_a_thingsee_alarm_says_the_vendor_refuses_and_read_only_only_where_it_is():
    """QA: closing a Thingsee alarm said 'read-only'; Thingsee itself does not let alarms be closed."""
    for read_only in ((), ("TeamViewer", "Thingsee", "Murano")):  # a plain console, then --read-only
        app = alarms_host(read_only=read_only)
        async with run(app) as pilot:
            v: AlarmsView = app.view
            v.apply_filter(profile="Thingsee")
            await pilot.press("c")
            assert app.of(CloseRequested) == []
            severity, text = app.toasts[-1]
            assert text == "close: not closable: Thingsee does not allow closing its alarms", read_only
            assert "read-only" not in text
            assert "Thingsee does not allow closing its alarms" in str(v.query_one("#detail", Static).content)
            v.apply_filter(profile="TeamViewer")
            await pilot.press("c")
            if read_only:  # a closable alarm under read-only: that is the reason then
                assert app.toasts[-1][1] == "close: not closable: TeamViewer is read-only"
            else:
                assert len(app.of(CloseRequested)) == 1


async def test_alarms_detail_names_the_profile_once():
    """QA: the detail of a read-only profile's alarm read 'TeamViewer is read-only · TeamViewer'."""
    app = alarms_host(read_only=("TeamViewer",))
    async with run(app) as pilot:
        v: AlarmsView = app.view
        for profile, said in (("TeamViewer", "TeamViewer is read-only · vendor alarm"),
                              ("Thingsee", "Thingsee does not allow closing its alarms · vendor alarm"),
                              ("Murano", "closable: c · Murano · local alarm")):  # no reason: the profile said here
            v.apply_filter(profile=profile)
            await pilot.pause()
            assert said in str(v.query_one("#detail", Static).content).splitlines()


async def test_marks_hidden_by_the_filter_are_counted_in_the_singular_and_the_plural():
    """QA: '1 marked rows are hidden'."""
    for marks, said in ((1, "the 1 marked row is hidden by the filter: change the filter, or esc to clear it"),
                        (2, "the 2 marked rows are hidden by the filter: change the filter, or esc to clear them")):
        app = alarms_host()
        async with run(app) as pilot:
            v: AlarmsView = app.view
            hidden = {a.profile for a in v.shown_alarms()[:marks]}
            await pilot.press(*["space"] * marks)
            assert "TeamViewer" not in hidden
            v.apply_filter(profile="TeamViewer")
            before = len(app.toasts)
            await pilot.press("c")
            assert app.toasts[before:] == [("warning", said)]  # one toast, not a second 'no alarm selected'
            assert f"{marks} marked (0 shown)" in str(v.query_one("#summary", Static).content)


async def test_alarms_enter_and_g_jump_to_device_and_y_copies():
    app = alarms_host()
    async with run(app) as pilot:
        v: AlarmsView = app.view
        first = v.shown_alarms()[0]
        await pilot.press("enter", "down", "g", "y", "Y")
        jumps = app.of(JumpToDevice)
        assert [j.device_ref for j in jumps] == [first.device, v.shown_alarms()[1].device]
        copies = app.of(CopyRequested)
        assert [c.text for c in copies] == [v.shown_alarms()[1].ref, v.shown_alarms()[1].device]


async def test_alarms_detail_pane_shows_every_field_with_ages():
    app = alarms_host()
    async with run(app, size=(120, 40)) as pilot:
        v: AlarmsView = app.view
        await pilot.press("down")
        a = v.shown_alarms()[1]
        text = str(v.detail(v.list.highlighted))
        for part in (a.id, a.profile, a.description, a.origin.value, "ago", f"on {a.device.split('/')[-1]} · temp"):
            assert part in text
        assert "opened 2026-05-28" in text


async def test_alarms_detail_names_device_metric_and_rule_and_asks_for_unknown_names():
    names = {"TeamViewer/device/dev-001": "Boiler room", "TeamViewer/metric/dev-001:temp": "Temperature"}
    view = AlarmsView(device_name=names.get, metric_name=names.get,
                      rule_name=lambda profile, rid: "Too hot" if rid == "rule-1" else None)
    app = Host(view, lambda v: v.set_alarms(make_alarms(), now=NOW))
    async with run(app, size=(120, 40)) as pilot:
        a = next(x for x in make_alarms() if x.id == "a001")
        a = a.model_copy(update={"profile": "TeamViewer", "device": "TeamViewer/device/dev-001",
                                 "metric": "TeamViewer/metric/dev-001:temp", "rule": "rule-1"})
        view.set_alarms([a], now=NOW)
        await pilot.pause()
        text = str(view.detail(a.ref))
        assert "on Boiler room · Temperature" in text and "rule Too hot" in text and "rule id rule-1" in text
        assert any(isinstance(m, NamesWanted) and m.refs == [a.metric] for m in app.posted)


async def test_alarms_refresh_keeps_marks_and_cursor():
    app = alarms_host()
    async with run(app) as pilot:
        v: AlarmsView = app.view
        await pilot.press("down", "down", "space")
        marked = set(v.list.marked)
        cursor_key = v.list.highlighted
        v.set_alarms(make_alarms(), now=NOW + timedelta(minutes=1))
        await pilot.pause()
        assert v.list.marked == marked and v.list.highlighted == cursor_key


def _newer_alarm(profile: str = "TeamViewer", seconds: int = 0) -> Alarm:
    return Alarm(id="new", profile=profile, severity=Severity.critical, status=AlarmStatus.open,
                 device=f"{profile}/device/dev-new", description="just now",
                 opened_at=NOW + timedelta(seconds=seconds), closable=True)


async def test_alarms_a_newer_alarm_does_not_take_the_cursor_from_the_one_being_read():
    """QA: on row 0, reading the newest alarm, the next poll's newer alarm took the cursor."""
    app = alarms_host()
    async with run(app) as pilot:
        v: AlarmsView = app.view
        reading = v.list.highlighted
        assert reading == v.list.keys[0]
        v.set_alarms([*make_alarms(), _newer_alarm()], now=NOW)
        await pilot.pause()
        assert v.list.keys[0] == "TeamViewer/alarm/new"  # the new one is shown above it
        assert v.list.highlighted == reading
        assert str(v.query_one("#detail", Static).content).count("just now") == 0  # the detail stays too


async def test_alarms_the_cursor_keeps_to_the_newest_while_profiles_still_load():
    app = AlarmsView()
    host = Host(app, lambda v: v.set_alarms([a for a in make_alarms() if a.profile == "Murano"], now=NOW,
                                            loading=True))
    async with run(host) as pilot:
        v: AlarmsView = host.view
        v.set_alarms([*make_alarms(), _newer_alarm()], now=NOW, loading=True)
        await pilot.pause()
        assert v.list.highlighted == v.list.keys[0] == "TeamViewer/alarm/new"  # the newest of all
        v.set_alarms([*make_alarms(), _newer_alarm(), _newer_alarm("Thingsee", 1)], now=NOW)  # the last profile
        assert v.list.highlighted == v.list.keys[0]
        newest = v.list.highlighted
        v.set_alarms([*make_alarms(), _newer_alarm(), _newer_alarm("Thingsee", 1), _newer_alarm("Murano", 2)],
                     now=NOW)
        assert v.list.highlighted == newest and v.list.keys.index(newest) == 1  # all in: it follows its row


async def test_identities_the_cursor_follows_its_row_once_every_profile_is_in():
    app = ids_host()
    async with run(app) as pilot:
        v: IdentitiesView = app.view
        first = v.list.highlighted
        assert first == v.list.keys[0]
        extra = Identity(identity="aa-0000", profile="Murano", status="provisioned", lastseen=NOW)
        v.set_identities([*make_identities(), extra], capabilities=CAPS, now=NOW)
        await pilot.pause()
        assert v.list.keys[0] == extra.ref and v.list.highlighted == first


async def test_alarms_export_csv_equals_what_is_shown(tmp_path):
    app = alarms_host(tmp_path)
    async with run(app) as pilot:
        v: AlarmsView = app.view
        await pilot.press("s", "s")  # major only
        await pilot.press("e")
        [done] = app.of(Exported)
        rows = list(csv.DictReader(io.StringIO(done.path.read_text())))
        assert [r["id"] for r in rows] == [a.id for a in v.shown_alarms()]
        assert {r["severity"] for r in rows} == {"major"} and done.count == len(rows) > 0
        assert done.path.read_text() == to_csv(v.export_rows_shown(), v.export_columns())


async def test_alarms_large_inbox_paints_only_visible_lines():
    many = [a.model_copy(update={"id": f"x{i}"}) for i, a in enumerate(make_alarms() * 100)]
    view = AlarmsView()
    app = Host(view, lambda v: v.set_alarms(many, now=NOW))
    async with run(app) as pilot:
        await pilot.press("end")
        assert view.list.cursor == len(view.list.keys) - 1
        assert len(view.list._cache) <= 40  # rendered lines are bounded by the screen


# ---- identities -------------------------------------------------------------------------


async def test_identities_filters_status_regex_tag_and_bad_regex_inline():
    app = ids_host()
    async with run(app) as pilot:
        v: IdentitiesView = app.view
        assert len(v.list.keys) == 30
        await pilot.press("s", "s", "s")  # all → provisioned → whitelisted → locked
        assert v.status == "locked" and all(i.status == "locked" for i in v.shown_identities())
        await pilot.press("s", "s", "s")  # … expired, reprovision, all
        assert v.status is None
        await pilot.press("slash", *"^gw-00[0-1]")
        assert [i.identity for i in v.shown_identities()] == ["gw-0000", "gw-0002", "gw-0004", "gw-0006",
                                                              "gw-0008", "gw-0010", "gw-0012", "gw-0014",
                                                              "gw-0016", "gw-0018"]
        before = list(v.list.keys)
        await pilot.press("left_square_bracket")  # "^gw-00[0-1][": unterminated set
        assert "bad id pattern" in v.message_text and v.list.keys == before
        await pilot.press("backspace", "space", *"site=oslo")
        assert v.message_text == ""
        assert v.shown_identities() and all(i.tags["site"] == ["oslo"] for i in v.shown_identities())
        await pilot.press("escape")
        assert len(v.list.keys) == 30 and v.pattern is None and v.tags == []
        await pilot.press("slash", *"status:expired floor=2")
        assert v.shown_identities()
        assert all(i.status == "expired" and "2" in i.tags["floor"] for i in v.shown_identities())
        await pilot.press(*["backspace"] * len("status:expired floor=2"))
        assert v.status_filter is None and len(v.list.keys) == 30


async def test_identities_status_key_cycles_the_statuses_present_including_thingsees():
    items = [*make_identities(5), Identity(identity="TSAR000000001", profile="Thingsee", status="installed"),
             Identity(identity="TSAR000000002", profile="Thingsee", status="new")]
    app = Host(IdentitiesView(), lambda v: v.set_identities(items, capabilities=CAPS, now=NOW))
    async with run(app) as pilot:
        v: IdentitiesView = app.view
        seen = []
        for _ in range(8):
            await pilot.press("s")
            seen.append(v.status)
        assert seen == ["provisioned", "whitelisted", "locked", "expired", "reprovision", "installed", "new", None]
        await pilot.press(*["s"] * 6)
        assert [i.identity for i in v.shown_identities()] == ["TSAR000000001"]


async def test_identities_apply_filter():
    app = ids_host()
    async with run(app) as pilot:
        v: IdentitiesView = app.view
        v.apply_filter(status="provisioned", tag="site=bergen", profile="Murano")
        await pilot.pause()
        got = v.shown_identities()
        assert got and all(i.status == "provisioned" and i.profile == "Murano" and i.tags["site"] == ["bergen"]
                           for i in got)
        with pytest.raises(ValueError, match="bad id pattern"):
            v.apply_filter(pattern="(")


async def test_identities_lock_only_where_capable_with_reason():
    app = ids_host()
    async with run(app) as pilot:
        await pilot.press("space", "space", "space", "l")  # gw-0000, gw-0002, gw-0004 (Murano)
        [req] = app.of(LockRequested)
        assert req.lock is True and [i.identity for i in req.items] == ["gw-0000", "gw-0002", "gw-0004"]
        await pilot.press("asterisk", "u")  # all 30: Thingsee ones cannot lock
        unlock = app.of(LockRequested)[-1]
        assert unlock.lock is False and {i.profile for i in unlock.items} == {"Murano"}
        assert "15 of 30 left out" in app.toasts[-1][1] and "Thingsee does not support locking" in app.toasts[-1][1]


async def test_identities_unavailable_action_says_why_and_posts_nothing():
    app = ids_host()
    async with run(app) as pilot:
        await pilot.press("i")  # gw-0000 is Murano: no installation status there
        assert app.of(InstallationStatusRequested) == []
        assert app.toasts[-1] == ("error", "installation status: unavailable: Murano does not support installation status")
        await pilot.press("G")
        assert "Murano does not support group changes" in app.toasts[-1][1]


async def test_identities_read_only_profile_refuses_writes():
    app = ids_host(read_only=("Murano",))
    async with run(app) as pilot:
        await pilot.press("l", "t")
        assert app.of(LockRequested) == [] and "writes to Murano are off (read-only)" in app.toasts[-1][1]
        assert len(app.screen_stack) == 1


async def test_identities_tag_add_dialog_validates_and_posts():
    app = ids_host()
    async with run(app) as pilot:
        await pilot.press("t")
        assert app.screen.__class__.__name__ == "TagDialog"
        await pilot.press(*"bad name", "enter", *"x", "enter")
        assert "tag name" in str(app.screen.query_one(".dialog-error").content)
        assert app.of(TagAddRequested) == []
        name = app.screen.query_one("#tag-name", Input)
        name.value = "zone"
        name.focus()
        await pilot.press("enter")
        [req] = app.of(TagAddRequested)
        assert (req.name, req.value, req.replace, [i.identity for i in req.items]) == ("zone", "x", False, ["gw-0000"])
        assert len(app.screen_stack) == 1
        await pilot.press("t", *"zone", "escape")  # Esc cancels
        assert len(app.of(TagAddRequested)) == 1 and len(app.screen_stack) == 1
        await pilot.press("t", *"site", "tab", *"oslo", "tab", "space")  # replace the other values
        app.screen.query_one("#tag-value", Input).focus()
        await pilot.press("enter")
        req = app.of(TagAddRequested)[-1]
        assert (req.name, req.value, req.replace) == ("site", "oslo", True)


async def test_identities_enter_on_the_replace_box_ticks_it_and_asks_nothing():
    """Enter on the 'replace' box applied the whole dialog: a user who tabbed to it and pressed
    enter to tick it had the write asked by surprise. There enter toggles it, as space does,
    and the footer stops offering 'enter apply'; back in a field enter applies."""
    from textual.widgets import Checkbox

    app = ids_host()
    async with run(app) as pilot:
        await pilot.press("t", *"site", "tab", *"oslo", "tab", "enter")
        box = app.screen.query_one("#replace", Checkbox)
        assert app.screen.focused is box and box.value is True
        assert app.of(TagAddRequested) == [] and isinstance(app.screen, Prompt)
        assert ("enter", "apply") not in [(k.key, k.description) for k in app.screen.query("FooterKey")]
        await pilot.press("enter")
        assert box.value is False and app.of(TagAddRequested) == []
        await pilot.press("space", "shift+tab")  # ticked again, then back to the value
        assert ("enter", "apply") in [(k.key, k.description) for k in app.screen.query("FooterKey")]
        await pilot.press("enter")
        [req] = app.of(TagAddRequested)
        assert (req.name, req.value, req.replace) == ("site", "oslo", True)
        assert len(app.screen_stack) == 1


IDENTITY_DIALOGS = {"t": ["t"], "T": ["T"], "i": ["end", "i"], "G": ["end", "G"]}  # i, G: th-0029 (Thingsee)


@pytest.mark.parametrize("key", IDENTITY_DIALOGS)
async def test_identities_dialogs_list_their_keys_and_esc_leaves_everything_as_it_was(key):
    app = ids_host()
    async with run(app) as pilot:
        before = [(i.identity, i.status, i.tags, i.group, dict(i.attrs)) for i in app.view.shown_identities()]
        await pilot.press(*IDENTITY_DIALOGS[key])
        dialog = app.screen
        assert isinstance(dialog, Prompt)
        assert [(k.key, k.description) for k in dialog.query("FooterKey")] == [("enter", "apply"), ("escape", "cancel")]
        await pilot.press(*"zone", "down", "escape")
        assert len(app.screen_stack) == 1
        asked = (TagAddRequested, TagRemoveRequested, InstallationStatusRequested, GroupRequested, LockRequested)
        assert [m for m in app.posted if isinstance(m, asked)] == []
        after = [(i.identity, i.status, i.tags, i.group, dict(i.attrs)) for i in app.view.shown_identities()]
        assert after == before


async def test_identities_tag_remove_starts_empty_and_removes_only_what_is_typed():
    """QA: the dialog came filled with the first tag, so Enter and y removed a tag nobody chose."""
    app = ids_host()
    async with run(app) as pilot:
        await pilot.press("T")  # gw-0000: site=bergen floor=0
        dialog = app.screen
        assert dialog.query_one("#tag-name", Input).value == dialog.query_one("#tag-value", Input).value == ""
        shown = [str(label.content) for label in dialog.query(Label)]
        assert "tags here: floor=0, site=bergen" in shown and {"name", "value"} <= set(shown)
        await pilot.press("enter", "enter")
        assert "tag name" in str(dialog.query_one(".dialog-error").content)
        assert app.of(TagRemoveRequested) == [] and app.screen is dialog
        await pilot.press(*"floor", "enter", *"9", "enter")
        assert "no selected identity has the tag floor=9" in str(dialog.query_one(".dialog-error").content)
        await pilot.press("backspace", "enter")  # an empty value: every value of the tag
        [req] = app.of(TagRemoveRequested)
        assert (req.name, req.value, [i.identity for i in req.items]) == ("floor", None, ["gw-0000"])
        await pilot.press("T", *"site", "tab", *"bergen", "enter")
        req = app.of(TagRemoveRequested)[-1]
        assert (req.name, req.value) == ("site", "bergen")
        await pilot.press("T", *"zone", "tab", "enter")
        assert "no selected identity has a tag zone" in str(app.screen.query_one(".dialog-error").content)


async def test_identities_installation_status_and_group_dialogs():
    app = ids_host()
    async with run(app) as pilot:
        await pilot.press("end", "i")  # th-0029 (Thingsee; Murano sorts first)
        await pilot.press("down", "enter")  # new → installed
        [inst] = app.of(InstallationStatusRequested)
        assert inst.status == "installed" and [i.identity for i in inst.items] == ["th-0029"]
        await pilot.press("G")
        field = app.screen.query_one("#text", Input)
        assert field.value == "site-1"
        field.value = "two words"
        await pilot.press("enter")
        assert "no spaces" in str(app.screen.query_one(".dialog-error").content)
        field.value = "site-9"
        await pilot.press("enter")
        [grp] = app.of(GroupRequested)
        assert grp.group == "site-9" and [i.identity for i in grp.items] == ["th-0029"]


async def test_identities_group_dialog_says_a_vendor_refusal_before_any_question():
    """QA: Thingsee's reserved "unassigned" was refused only after the confirmation."""
    def thingsee(group: str) -> str | None:
        return '"unassigned" is reserved by Thingsee' if group == "unassigned" else None

    view = IdentitiesView()
    app = Host(view, lambda v: v.set_identities(make_identities(), capabilities=CAPS, now=NOW,
                                                group_checks={"Thingsee": thingsee}))
    async with run(app) as pilot:
        await pilot.press("end", "G")  # th-0029
        dialog = app.screen
        dialog.query_one("#text", Input).value = "unassigned"
        await pilot.press("enter")
        assert app.screen is dialog and app.of(GroupRequested) == []
        assert '"unassigned" is reserved by Thingsee' in str(dialog.query_one(".dialog-error").content)
        dialog.query_one("#text", Input).value = "site-9"
        await pilot.press("enter")
        [grp] = app.of(GroupRequested)
        assert grp.group == "site-9"


def _header(view: IdentitiesView) -> str:
    return "".join(seg.text for seg in view.list.render_line(0))


async def test_identities_right_scrolls_to_the_columns_80_columns_leave_out():
    """QA: LAST IP and GROUP showed at 120 columns only; at 80 Right had nothing to reach."""
    app = ids_host()
    async with run(app) as pilot:
        v: IdentitiesView = app.view
        first = _header(v)
        assert "TAGS" in first and "LAST IP" not in first
        await pilot.press("right", "right", "right", "right", "right", "right")
        await pilot.pause()
        header = _header(v)
        assert "LAST IP" in header and "GROUP" in header
        row = "".join(seg.text for seg in v.list.render_line(1))
        assert "10.0.0.0" in row and "site-0" in row  # gw-0000's ip and group
        await pilot.press(*["left"] * 8)
        await pilot.pause()
        assert _header(v) == first
    wide = ids_host()
    async with run(wide, size=(120, 40)) as pilot:
        header = _header(wide.view)
        assert header.index("LAST IP") < header.index("GROUP") < header.index("TAGS")


@pytest.mark.parametrize("rows", [6, 30])  # without and with a vertical scrollbar
async def test_identities_sideways_scroll_stops_only_at_column_starts_at_80_columns(rows):
    """QA: at 80 columns the last Right stopped two cells into a column, its start cut off."""
    items = make_identities(rows)
    app = Host(IdentitiesView(), lambda v: v.set_identities(items, capabilities=CAPS, now=NOW))
    async with run(app, size=(80, 24)) as pilot:
        v: IdentitiesView = app.view
        titles = tuple(c.title for c in v.list._columns)
        stops = []
        for _ in range(6):
            await pilot.press("right")
            await pilot.pause()
            stops.append(int(v.list.scroll_offset.x))
            header = _header(v)
            # the left edge is a column's lead space, then its title: no column shown in part
            assert header[0] == " " and header[1:].startswith(titles), (stops, header)
            row = "".join(seg.text for seg in v.list.render_line(1))
            assert len(row) == len(header) == v.list.scrollable_content_region.width
        assert stops[-1] > 0 and "GROUP" in _header(v)  # the last column is reached, whole
        assert "site-0" in "".join(seg.text for seg in v.list.render_line(1))
        for _ in range(6):
            await pilot.press("left")
            await pilot.pause()
            x = int(v.list.scroll_offset.x)
            assert x == 0 or _header(v)[1:].startswith(titles)
        assert v.list.scroll_offset.x == 0


async def test_identities_without_a_vendor_last_seen_show_the_newest_reading_and_say_so():
    """QA: every Thingsee identity read 'last seen —' although Live held values seconds old."""
    items = [Identity(identity="TSPR1", profile="Thingsee", status="installed"),
             Identity(identity="TSPR2", profile="Thingsee", status="installed"),
             Identity(identity="gw-1", profile="Murano", status="provisioned", lastseen=NOW - timedelta(minutes=5))]
    read = {"Thingsee/device/TSPR1": NOW - timedelta(seconds=4)}
    view = IdentitiesView()
    app = Host(view, lambda v: v.set_identities(items, capabilities=CAPS, now=NOW, reading_time=read.get))
    async with run(app) as pilot:
        await pilot.pause()
        seen = {i.identity: view.cells(i.ref)[4][0] for i in items}  # PROFILE, IDENTITY, STATUS, ON, SEEN
        assert seen == {"TSPR1": "4s", "TSPR2": "—", "gw-1": "5m"}
        text = {i.identity: str(view.detail(i.ref)) for i in items}
        assert "newest reading 11:59:56 (4s ago), no last-seen from Thingsee" in text["TSPR1"]
        assert "last seen: not given by Thingsee" in text["TSPR2"]
        assert "last seen 2026-" in text["gw-1"] and "(5m ago)" in text["gw-1"]


async def test_identities_export_json_equals_shown_and_copy_ids(tmp_path):
    app = ids_host(tmp_path)
    async with run(app) as pilot:
        v: IdentitiesView = app.view
        await pilot.press("slash", *"site=bergen", "enter", "E")
        [done] = app.of(Exported)
        data = json.loads(done.path.read_text())
        assert [d["identity"] for d in data] == [i.identity for i in v.shown_identities()]
        assert all(d["tags"]["site"] == ["bergen"] for d in data) and done.path.suffix == ".json"
        await pilot.press("space", "space", "y")
        assert app.of(CopyRequested)[-1].text == "\n".join(i.identity for i in v.shown_identities()[:2])


# ---- metrics ----------------------------------------------------------------------------


async def test_metrics_show_requests_24h_and_draws_summary():
    app = metrics_host()
    async with run(app) as pilot:
        v: MetricsView = app.view
        [req] = app.of(HistoryRequested)
        assert (req.metric_ref, req.start, req.end, req.aggregate, req.bucket) == (
            METRIC.ref, NOW - timedelta(hours=24), NOW, None, None)
        await pilot.pause()
        assert v.pending is None and len(v.shown_points()) == 288
        summary = str(v.query_one("#summary", Static).content)
        values = [p.value for p in v.shown_points()]
        assert f"min {min(values):.4g}" in summary and f"max {max(values):.4g}" in summary
        assert f"last {values[-1]:.4g} °C at 12:00:00" in summary


async def test_metrics_range_keys_and_steps():
    app = metrics_host()
    async with run(app) as pilot:
        spans = []
        for key in ("h", "H", "d", "w", "left_square_bracket", "right_square_bracket", "right_square_bracket"):
            await pilot.press(key)
            spans.append(app.of(HistoryRequested)[-1])
        got = [(r.end - r.start) for r in spans]
        h = timedelta(hours=1)
        # `]` at 7d stays: no new request
        assert got == [h, 6 * h, 24 * h, 168 * h, 24 * h, 168 * h, 168 * h]
        assert len(app.of(HistoryRequested)) == 7  # the first show + 6 changes
        assert app.view.range_name == "7d"


async def test_metrics_aggregate_cycles_with_bucket_for_about_100_points():
    app = metrics_host()
    async with run(app) as pilot:
        await pilot.press("a")
        req = app.of(HistoryRequested)[-1]
        assert (req.aggregate, req.bucket) == (Aggregate.avg, timedelta(minutes=15))
        await pilot.press("w", "a")
        req = app.of(HistoryRequested)[-1]
        assert (req.aggregate, req.bucket) == (Aggregate.min, timedelta(hours=2))
        await pilot.press("a", "a")
        assert app.of(HistoryRequested)[-1].aggregate is None
    for span, bucket in [(1, 1), (6, 5), (24, 15), (168, 120)]:
        assert bucket_for(timedelta(hours=span)) == timedelta(minutes=bucket)


async def test_metrics_aggregate_unavailable_says_why():
    app = metrics_host(can_aggregate=False)
    async with run(app) as pilot:
        await pilot.press("a")
        assert len(app.of(HistoryRequested)) == 1
        assert app.toasts[-1] == ("warning", "TeamViewer does not aggregate history on the server: raw points only")


async def test_metrics_loading_stale_answer_and_error_keeps_chart():
    app = metrics_host(answer=False)
    async with run(app) as pilot:
        v: MetricsView = app.view
        first = app.of(HistoryRequested)[0]
        assert "loading 24h" in str(v.query_one("#status", Static).content)
        assert v.set_series(wave(first), request=first)
        await pilot.press("h")
        older = app.of(HistoryRequested)[-1]
        await pilot.press("H")
        newest = app.of(HistoryRequested)[-1]
        assert not v.set_series(wave(older), request=older)  # an answer to a superseded request
        assert len(v.shown_points()) == 288
        v.set_error("TeamViewer: 503 service unavailable")
        await pilot.pause()
        status = v.query_one("#status", Static)
        assert "503 service unavailable" in str(status.content) and status.has_class("-error")
        assert len(v.shown_points()) == 288 and v.chart._message is None
        assert not v.set_series(wave(newest), request=newest)  # the error ended that request
        v.reload()
        latest = v.pending
        assert latest is not None and v.set_series(wave(latest), request=latest) and len(v.shown_points()) == 72
        assert v.error is None and not status.has_class("-error")


async def test_metrics_export_csv_is_the_shown_points_and_copy_last(tmp_path):
    app = metrics_host(tmp_path)
    async with run(app) as pilot:
        v: MetricsView = app.view
        await pilot.press("h", "e", "y", "Y")
        [done] = app.of(Exported)
        rows = list(csv.DictReader(io.StringIO(done.path.read_text())))
        assert len(rows) == len(v.shown_points()) == 12
        assert [float(r["value"]) for r in rows] == [p.value for p in v.shown_points()]
        assert rows[-1]["ts"] == "2026-05-28T12:00:00Z"
        assert [c.text for c in app.of(CopyRequested)] == [str(v.shown_points()[-1].value), METRIC.ref]


async def test_metrics_text_values_and_empty_range_do_not_chart():
    app = metrics_host(answer=False)
    async with run(app) as pilot:
        v: MetricsView = app.view
        req = app.of(HistoryRequested)[0]
        v.set_series(Series(metric=METRIC.ref, points=[Point(ts=NOW, value="door open")]), request=req)
        await pilot.pause()
        assert "text values" in (v.chart._message or "")
        assert "last door open" in str(v.query_one("#summary", Static).content)
        v.reload()
        v.set_series(Series(metric=METRIC.ref, points=[]), request=v.pending)
        await pilot.pause()
        # an empty range names itself and the keys to a longer one
        assert v.chart._message == "no points in the last 24h · ] longer range, w 7d"
        assert "no points in the last 24h" in str(v.query_one("#summary", Static).content)
        v.action_range("7d")
        v.set_series(Series(metric=METRIC.ref, points=[]), request=v.pending)
        await pilot.pause()
        assert v.chart._message == "no points in the last 7d"


async def test_chart_downsamples_to_about_two_points_per_column():
    app = metrics_host(answer=False)
    async with run(app, size=(80, 24)) as pilot:
        v: MetricsView = app.view
        req = app.of(HistoryRequested)[0]
        v.set_series(wave(req, step=timedelta(seconds=10)), request=req)  # 8,640 points
        await pilot.pause()
        assert len(v.shown_points()) == 8640
        assert 0 < v.chart.plotted_points <= 2 * v.chart.size.width


def test_downsample_keeps_extremes_and_order():
    xs = list(range(10_000))
    ys = [float((i * 37) % 101) for i in xs]
    ys[5_000] = 1e6
    dx, dy = downsample(xs, ys, 0, 10_000, 50)
    assert len(dx) <= 100 and dx == sorted(dx) and max(dy) == 1e6 and min(dy) == 0


def test_time_ticks_hours_then_dates():
    start = NOW - timedelta(hours=6)
    _, labels = time_ticks(start.timestamp(), NOW.timestamp(), 6)
    assert labels == ["07:00", "08:00", "09:00", "10:00", "11:00", "12:00"]
    _, labels = time_ticks((NOW - timedelta(days=7)).timestamp(), NOW.timestamp(), 8)
    assert labels[0] == "May 22" and labels[-1] == "May 28"


# ---- snapshots (80×24 unless said) --------------------------------------------------------


class SnapHost(StyledApp):
    def __init__(self, view, setup) -> None:
        super().__init__()
        self.view = view
        self.setup = setup

    def compose(self) -> ComposeResult:
        yield self.view

    def on_mount(self) -> None:
        self.setup(self.view)
        self.view.focus()

    def on_history_requested(self, m: HistoryRequested) -> None:
        self.view.set_series(wave(m), request=m)


def _alarms_snap() -> SnapHost:
    return SnapHost(AlarmsView(), lambda v: v.set_alarms(make_alarms(), now=NOW))


def _ids_snap() -> SnapHost:
    return SnapHost(IdentitiesView(), lambda v: v.set_identities(make_identities(), capabilities=CAPS, now=NOW))


def _metrics_snap() -> SnapHost:
    return SnapHost(MetricsView(clock=lambda: NOW),
                    lambda v: v.show(METRIC, device=DEVICE, can_aggregate=True))


def test_snapshot_alarms_marked(snap_compare):
    assert snap_compare(_alarms_snap(), press=["down", "space", "space", "up"])


def test_snapshot_alarms_wide_all_statuses(snap_compare):
    assert snap_compare(_alarms_snap(), press=["o", "o"], terminal_size=(120, 40))


def test_snapshot_identities_filtered(snap_compare):
    assert snap_compare(_ids_snap(), press=["slash", *"site=oslo", "enter"])


def test_snapshot_identities_tag_dialog(snap_compare):
    assert snap_compare(_ids_snap(), press=["t", *"zone"])


def test_snapshot_metrics_24h(snap_compare):
    assert snap_compare(_metrics_snap())


def test_snapshot_metrics_7d_avg(snap_compare):
    assert snap_compare(_metrics_snap(), press=["w", "a"])


async def test_alarms_click_moves_the_cursor_and_detail_follows():
    app = alarms_host()
    async with run(app) as pilot:
        v: AlarmsView = app.view
        await pilot.click(v.list, offset=(5, 3))  # line 0 is the header: third row
        assert v.list.cursor == 2
        assert v.shown_alarms()[2].id in str(v.query_one("#detail", Static).content)


async def test_metrics_refreshes_quietly_while_shown_and_ages_move_on():
    clock = [NOW]
    view = MetricsView(clock=lambda: clock[0])
    app = Host(view, lambda v: v.show(METRIC, device=DEVICE, can_aggregate=True), answer=True)
    async with run(app) as pilot:
        await pilot.pause()
        v: MetricsView = app.view
        assert "(0s ago)" in str(v.query_one("#summary", Static).content)
        clock[0] = NOW + timedelta(minutes=3)
        v.tick()  # no refresh_every: only the ages move
        assert len(app.of(HistoryRequested)) == 1
        assert "(3m ago)" in str(v.query_one("#summary", Static).content)
        v.refresh_every = 0.0
        v.tick()
        assert "loading" not in str(v.query_one("#status", Static).content)  # quiet: the chart stays
        await pilot.pause()
        assert len(app.of(HistoryRequested)) == 2
        assert app.of(HistoryRequested)[-1].end == clock[0]


async def test_metrics_aggregated_stats_say_they_are_of_buckets():
    app = metrics_host()
    async with run(app) as pilot:
        await pilot.press("a")
        await pilot.pause()
        summary = str(app.view.query_one("#summary", Static).content)
        assert summary.startswith("15m avgs: min") and "last bucket" in summary and " from " in summary


async def test_a_lists_cursor_stays_on_the_first_row_as_rows_arrive_until_it_is_moved() -> None:
    """Alarms came in profile by profile and the cursor, left on the first alarm of the first
    profile, opened on the 10th row instead of the newest (QA)."""
    from tuiot.ui.widgets.marks import Column, MarkList

    class One(StyledApp):
        def compose(self):  # type: ignore[no-untyped-def]
            yield MarkList([Column("k", 10)], lambda k: [(k, None)])

    async with One().run_test(size=(40, 10)) as pilot:
        lst = pilot.app.query_one(MarkList)
        lst.set_rows(["c", "d"])
        lst.set_rows(["a", "b", "c", "d"])  # newer rows sort first
        assert lst.highlighted == "a"
        lst.focus()
        await pilot.press("down")
        lst.set_rows(["0", "a", "b", "c", "d"])
        assert lst.highlighted == "b"  # moved by hand: it stays on its row


# ---- live -------------------------------------------------------------------------------


def live_host(names: list[str], values: list[float], *, loading: bool = False) -> Host:
    """Live over one metric per name; `host.keys`, `host.readings` and `host.names` (by ref)
    are what it was shown."""
    keys = [f"TeamViewer/metric/dev-{i:03d}:temp" for i in range(len(names))]
    readings = {k: Reading(metric=k, value=v, ts=NOW - timedelta(seconds=i)) for i, (k, v) in enumerate(zip(keys, values))}
    by_ref = dict(zip(keys, names))
    view = LiveView(name_of=by_ref.__getitem__, clock=lambda: NOW, stale_after=3600)
    host = Host(view, lambda v: v.show(keys, readings, title="TeamViewer", loading=loading))
    host.keys, host.readings, host.names = keys, readings, by_ref  # type: ignore[attr-defined]
    return host


def shown_names(view: LiveView) -> list[str]:
    return [view.cells(k)[0][0] for k in view.list.keys]


def live_summary(view: LiveView) -> str:
    return str(view.query_one("#summary", Static).content)


async def test_live_sorts_names_as_a_person_reads_them_numbers_by_value_any_case():
    """'edge 298' came before 'edge 31': the names sorted as plain strings."""
    app = live_host(["edge 298", "Edge 31", "edge 2", "edge 10b", "Edge 10a", "edge 007"], [1, 2, 3, 4, 5, 6])
    async with run(app, size=(100, 24)) as pilot:
        v: LiveView = app.view
        assert shown_names(v) == ["edge 2", "edge 007", "Edge 10a", "edge 10b", "Edge 31", "edge 298"]
        await pilot.press("s", "s", "s")  # value, age, back to name
        assert "sort name" in live_summary(v)
        assert shown_names(v) == ["edge 2", "edge 007", "Edge 10a", "edge 10b", "Edge 31", "edge 298"]


async def test_a_paused_live_says_paused_and_no_longer_loading():
    """Paused while its profile was loading, Live said 'loading… 3 values so far' for ever."""
    app = live_host(["a", "b", "c"], [1, 2, 3], loading=True)
    async with run(app, size=(100, 24)) as pilot:
        v: LiveView = app.view
        assert "loading… 3 values so far" in live_summary(v)
        await pilot.press("p")
        assert "loading" not in live_summary(v)
        assert live_summary(v) == "PAUSED · TeamViewer · 3 values so far · sort name"
        await pilot.press("p")
        assert "loading… 3 values so far" in live_summary(v) and "PAUSED" not in live_summary(v)


async def test_live_sorted_by_value_again_shows_the_values_of_now(monkeypatch):
    """`s` keeps each sort's order while nothing moves; a value that moved since re-sorts it."""
    monkeypatch.setattr(live_mod, "RESORT_MAX", 1)  # a big list: a refresh repaints in place, `s` re-sorts
    app = live_host(["low", "mid", "high"], [1, 2, 3])
    async with run(app, size=(100, 24)) as pilot:
        v: LiveView = app.view
        await pilot.press("s")
        assert shown_names(v) == ["low", "mid", "high"]
        await pilot.press("s", "s", "s")  # age, name, value again: nothing moved
        assert shown_names(v) == ["low", "mid", "high"]
        low = app.keys[0]
        app.readings[low] = app.readings[low].model_copy(update={"value": 10})
        v.show(app.keys, app.readings, title="TeamViewer")
        assert shown_names(v) == ["low", "mid", "high"]  # a refresh of a big list keeps its order
        await pilot.press("s", "s", "s")
        assert "sort value" in live_summary(v) and shown_names(v) == ["mid", "high", "low"]
        await pilot.press("slash", *"HI", "enter")  # the filter matches names in any case
        assert shown_names(v) == ["high"]
        await pilot.press("s")  # another order, the same filter
        assert "sort age" in live_summary(v) and shown_names(v) == ["high"]
        app.names[app.keys[1]] = "mid, now high too"
        v.show(app.keys, app.readings, title="TeamViewer", names_version=1)
        assert shown_names(v) == ["mid, now high too", "high"]


async def test_live_sorted_by_name_follows_a_renamed_row():
    app = live_host(["edge 1", "edge 2", "edge 3"], [1, 2, 3])
    async with run(app, size=(100, 24)):
        v: LiveView = app.view
        app.names[app.keys[0]] = "edge 40"
        v.show(app.keys, app.readings, title="TeamViewer", names_version=1)
        assert shown_names(v) == ["edge 2", "edge 3", "edge 40"]


def _drawn(lst) -> list[tuple[str, bool]]:
    """What the list's lines show now (its rendered lines, as the terminal got them): each
    row's text and whether it is drawn as the cursor row."""
    cursor = lst.get_component_rich_style("marklist--cursor").bgcolor
    out = []
    for _, strip in sorted(lst._styles_cache._cache.items())[1:]:
        text = "".join(s.text for s in strip).strip()
        out.append((text, any(s.style is not None and s.style.bgcolor == cursor for s in strip if s.text.strip())))
    return out


async def test_a_scrolled_list_draws_its_cursor_where_it_moved() -> None:
    """Scrolled down, up/down moved the cursor but the old row stayed drawn as the cursor:
    the lines repainted were counted from the top of the list, not of the view."""
    from tuiot.ui.widgets.marks import Column, MarkList

    class One(StyledApp):
        def compose(self):  # type: ignore[no-untyped-def]
            yield MarkList([Column("k", 10)], lambda k: [(k, None)])

    async with One().run_test(size=(30, 12)) as pilot:
        lst = pilot.app.query_one(MarkList)
        lst.set_rows([f"row{i:03d}" for i in range(200)])
        lst.focus()
        await pilot.press("pagedown", "pagedown", "pagedown")
        await pilot.pause()
        assert lst.scroll_offset.y > 0
        await pilot.press("up")
        await pilot.pause()
        assert [t for t, cur in _drawn(lst) if cur] == [lst.highlighted]


async def test_an_identities_refresh_repaints_only_the_rows_that_changed():
    """A poll round's list with one identity locked repaints that line, not the screen, and
    leaves the cursor, marks and filter where they were."""
    items = make_identities(30)
    app = Host(IdentitiesView(), lambda v: v.set_identities(items, capabilities=CAPS, now=NOW))
    async with run(app, size=(120, 30)) as pilot:
        v: IdentitiesView = app.view
        v.apply_filter(profile="Murano")
        await pilot.press("space", "down", "down")
        await pilot.pause()
        at, marked = v.list.highlighted, set(v.list.marked)
        lines: list[int] = []
        real = v.list.refresh_line
        v.list.refresh_line = lambda y: (lines.append(y), real(y))  # type: ignore[method-assign]
        target = v.shown_identities()[5]
        changed = [i.model_copy(update={"status": "locked", "locked": True}) if i.identity == target.identity else i
                   for i in items]
        v.set_identities(changed, capabilities=CAPS, now=NOW)
        assert lines == [v.list.keys.index(target.ref) + 1]  # that one line
        await pilot.pause()
        assert (v.list.highlighted, v.list.marked, v.profile) == (at, marked, "Murano")
        assert v.cells(target.ref)[2][0] == "locked"
        assert any(f"{target.identity}" in t and "locked" in t for t, _ in _drawn(v.list))
        lines.clear()
        v.set_identities(changed, capabilities=CAPS, now=NOW + timedelta(days=1))  # every age moves (to 1d)
        assert len(lines) == len(v.list.keys)


async def test_dragging_the_sideways_scrollbar_stops_where_a_column_starts() -> None:
    """left/right scroll by whole columns; a drag of the scrollbar stopped anywhere, with the
    first column shown cut (QA). A click on its track goes a column, not a page of cells."""
    from textual.scrollbar import ScrollRight, ScrollTo

    from tuiot.ui.widgets.marks import Column, MarkList

    class Wide(StyledApp):
        def compose(self):  # type: ignore[no-untyped-def]
            yield MarkList([Column(c, 20) for c in "abcd"], lambda k: [(k, None)] * 4)

    async with Wide().run_test(size=(40, 10)) as pilot:
        lst = pilot.app.query_one(MarkList)
        lst.set_rows(["r1", "r2"])
        await pilot.pause()
        starts = lst._starts(lst.scrollable_content_region.width)
        assert starts == [0, 22, 43, 64]
        lst.post_message(ScrollTo(x=30, animate=False))  # as the scrollbar does mid-drag
        await pilot.pause(0.2)
        assert lst.scroll_offset.x == 22
        lst.post_message(ScrollTo(x=40, animate=False))
        await pilot.pause(0.2)
        assert lst.scroll_offset.x == 43
        lst.post_message(ScrollTo(x=0, animate=False))
        await pilot.pause(0.2)
        bar, seen = lst.horizontal_scrollbar, set()
        await pilot.mouse_down(bar, offset=(1, 0))  # a real drag, the thumb along the bar
        for x in range(2, 30, 3):
            await pilot.hover(bar, offset=(x, 0))
            await pilot.pause(0.1)
            seen.add(lst.scroll_offset.x)
        await pilot.mouse_up(bar, offset=(29, 0))
        assert seen <= set(starts) and len(seen) > 2
        lst.post_message(ScrollTo(x=0, animate=False))
        await pilot.pause(0.2)
        lst.post_message(ScrollRight())  # a click on the track, right of the thumb
        await pilot.pause(0.2)
        assert lst.scroll_offset.x == 22


async def test_alarms_and_rules_detail_break_ids_only_between_their_parts_at_80x24():
    """The list views' detail panes fold as the Devices detail does: a ThingsPro ref whose
    names are not known yet is whole on its line or broken after a separator, never inside
    a part; a resize writes the pane again at its new width."""
    from test_console_app import _pane_lines, _shows_whole
    from tuiot.domain import Rule, Threshold
    from tuiot.ui.views.rules import RulesView

    gw = "gw-0004-1.thingspro.demo|modbus_tcp_master/meter-000004"
    alarm = make_alarms(1)[0].model_copy(update={
        "profile": "ThingsPro", "device": f"ThingsPro/device/{gw}", "metric": f"ThingsPro/metric/{gw}/current",
        "id": f"{gw}/current:overcurrent-2026-05-28T11:59:00Z", "rule": "local:overcurrent",
        "status": AlarmStatus.open, "closed_at": None})
    rule = Rule(id="r1", profile="ThingsPro", name="overcurrent", origin=Origin.local,
                sources=[f"ThingsPro/metric/{gw}/current", f"ThingsPro/metric/{gw}/voltage"],
                thresholds=[Threshold(severity=Severity.major, condition="metric > 16")])
    for view, setup, ids in (
        (AlarmsView(), lambda v: v.set_alarms([alarm], now=NOW), [gw]),  # (the id, last, is below the fold)
        (RulesView(), lambda v: v.set_rules([rule]), [f"{gw}/current"]),
    ):
        app = Host(view, setup)
        async with run(app, size=(80, 24)) as pilot:
            await pilot.pause()
            for size in ((80, 24), (50, 24)):
                await pilot.resize_terminal(*size)
                await pilot.pause(0.1)
                pane = view.query_one("#detail")
                width = pane.content_size.width
                shown = str(pane.render()).split("\n")
                assert all(len(line) <= width for line in shown), shown
                for ident in ids:
                    assert _shows_whole(_pane_lines(pane), ident), (ident, _pane_lines(pane))
