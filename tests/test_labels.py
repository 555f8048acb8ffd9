"""What the console writes about nodes and profiles (tuiot.ui.labels), without an app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tuiot.domain import Node, Severity
from tuiot.fleet.state import ProfileState
from tuiot.ui import labels

NOW = datetime(2026, 5, 28, 12, 0, tzinfo=UTC)


def test_node_label_mark_online_name_unit_then_badge() -> None:
    node = Node(kind="device", id="d1", name="Pump [1]", profile="p", online=False, unit="V")
    text = labels.node_label(node, worst=Severity.major, marked=True)
    assert text == "[reverse]*[/] [$error]○[/] Pump \\[1] [dim]V[/] [$warning][b]MAJ[/b][/]"
    assert labels.node_label(node, worst=None, marked=False) == "[$error]○[/] Pump \\[1] [dim]V[/]"


def test_status_line_puts_flags_first_so_they_show_at_80_columns() -> None:
    profiles = {"TeamViewer": ProfileState("TeamViewer", "teamviewer", state="ok", last_ok=NOW - timedelta(seconds=3)),
                "Thingsee": ProfileState("Thingsee", "thingsee", state="snapshot", snapshot_at=NOW - timedelta(hours=2))}
    line = labels.status_line(profiles, NOW, marked=2, read_only=True, offline=False)
    assert line.startswith("[reverse] READ-ONLY [/]  [reverse] 2 marked [/]  [$success]TeamViewer: ok 3s[/]")
    assert line.endswith("[$warning]Thingsee: snapshot offline since 2h[/]")
    assert labels.status_line({}, NOW, marked=0, read_only=False, offline=False) == "no profiles"


def test_counts_and_clips() -> None:
    assert [labels.count(n, "round") for n in (1, 2, 1200)] == ["1 round", "2 rounds", "1,200 rounds"]
    assert labels.clip("abcdef", 4) == "abc…" and labels.clip("abc", 4) == "abc"
