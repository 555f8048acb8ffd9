"""Screen bodies the console shell mounts: Metrics (2), Alarms (4), Identities (6).

Each view is a self-contained Textual widget. It takes domain objects through a narrow
method API and asks for anything that needs I/O by posting a Message; the shell's
handlers own the state and call the adapters through the session service. Views never
import adapters or build URLs.

Every view's keys are declared once, as data (`list[ViewAction]`, in tuiot.ui.actions, which
each view module names `ACTIONS`); the view derives its Textual BINDINGS from that list and
the shell's single action registry (tuiot.ui.keys) reads the same list for `?` help and the
ctrl+p palette, without importing the view.

This module holds what the views share: `ViewAction`, `bindings` and small formatting
helpers. Their messages (`CopyRequested`, `NamesWanted`, `JumpToDevice`, `Exported` and each
view's own) live in tuiot.ui.messages, so the shell handles them without importing a view;
the shared ones are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.widget import Widget

from tuiot.domain import value_text  # noqa: F401  one value format on every screen (and the CLI's tables)
from tuiot.ui.messages import CopyRequested, Exported, JumpToDevice, NamesWanted


# each screen's name after the key that shows it: the title bar's tabs, help, the palette and
# each view's own heading say it alike (keys.TITLES; here, so the views need not import keys)
TITLES = {
    "devices": "1 Devices",
    "metrics": "2 Metrics",
    "live": "3 Live",
    "alarms": "4 Alarms",
    "rules": "5 Rules",
    "identities": "6 Identities",
}


@dataclass(frozen=True)
class ViewAction:
    """One key of a view: `id` is the Textual action name (`action_<id>` on the view)."""

    id: str
    key: str  # Textual key spec; several keys comma-separated ("ctrl+space,asterisk")
    description: str
    show_in_footer: bool = True
    writes: bool = False  # changes something in a vendor cloud (disabled when read-only)
    footer: str | None = None  # a shorter label for the footer (80 columns); help and palette say `description`

    @property
    def display_key(self) -> str:
        return self.key.split(",")[0]

    @property
    def priority(self) -> bool:
        """Taken by the app as the key arrives (see TYPING_ACTIONS)."""
        return self.id.split("(", 1)[0] in TYPING_ACTIONS


# Keys that open a text box or switch screens are taken as they arrive (priority bindings),
# not after the key has bubbled up from the focused row: keys typed in the same burst (a
# paste, a slow SSH link) then keep their order. As plain bindings `:live` on Identities
# locked an identity, and in `6:live` the `6` reached the app after `:` had opened the box,
# and was lost. In a box, a form or a dialog they are text (ConsoleApp.check_action).
TYPING_ACTIONS = ("command_line", "filter", "show")


def bindings(actions: Iterable[ViewAction]) -> list[Binding]:
    """Textual bindings for `actions` (the one place keys are declared)."""
    return [Binding(a.key, a.id, a.footer or a.description, show=a.show_in_footer, priority=a.priority)
            for a in actions]


def export_rows(
    widget: Widget,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: str,
    *,
    directory: Path | None,
    stem: str,
) -> Path | None:
    """Write rows with tuiot.fleet.export, tell the user, post `Exported`; None on failure.

    A few thousand rows write in milliseconds, so this runs inline rather than in a worker.
    """
    from tuiot.fleet.export import ExportError, export_file

    if not rows:
        widget.notify("nothing to export: no rows are shown", severity="warning")
        return None
    try:
        path = export_file(rows, columns, fmt, directory, stem)
    except (ExportError, ValueError) as e:
        widget.notify(str(e), title="export failed", severity="error")
        return None
    widget.notify(f"{len(rows):,} row{'' if len(rows) == 1 else 's'} → {path}", title=f"exported {fmt.upper()}")
    widget.post_message(Exported(path, len(rows)))
    return path


def age(delta: timedelta) -> str:
    """A compact age: 45s, 12m, 3h, 2d (negative ages, i.e. clock skew, read as 0s)."""
    s = max(0, int(delta.total_seconds()))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def ago(ts: datetime | None, now: datetime) -> str:
    return "—" if ts is None else age(now - ts)


def stamp(ts: datetime | None) -> str:
    """An absolute UTC time for detail panes."""
    return "—" if ts is None else ts.strftime("%Y-%m-%d %H:%M:%S UTC")


__all__ = ["TITLES", "CopyRequested", "Exported", "JumpToDevice", "NamesWanted", "ViewAction", "age", "ago", "bindings", "export_rows", "stamp"]
