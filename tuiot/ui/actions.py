"""Each view's keys, as data: the tables tuiot.ui.keys (the one action registry) reads for
`?` help, the ctrl+p palette and the app's checks, and each view turns into its BINDINGS.

Here rather than in the view modules so the registry needs no view: start-up imports
only what the first screen (Devices) needs, and the other five are mounted, and imported,
on first visit (DESIGN §7). Each view module keeps its table as `ACTIONS`.

A list view's own keys come first: the footer shows them before the shared ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from tuiot.ui.views import ViewAction


def footer_without(actions: Iterable[ViewAction], *ids: str) -> list[ViewAction]:
    """`actions`, with these left out of the footer (still keys, in help and the palette):
    at 80 columns a busy screen's footer must end with `? help`, not be cut before it."""
    return [replace(a, show_in_footer=False) if a.id in ids else a for a in actions]


# the keys every list view shares (tuiot.ui.views.base.ListBody)
LIST_ACTIONS: list[ViewAction] = [
    ViewAction("filter", "slash", "filter"),
    ViewAction("mark", "space,m", "mark", show_in_footer=False),  # m as on Devices
    ViewAction("mark_all", "asterisk,ctrl+space", "mark all shown", show_in_footer=False),  # ctrl+space rarely survives tmux
    ViewAction("clear", "escape", "clear marks/filter", show_in_footer=False),
    ViewAction("export_csv", "e", "export CSV", footer="export"),
    ViewAction("export_json", "E", "export JSON", show_in_footer=False),
    ViewAction("copy", "y", "copy id", footer="copy"),
]

# ---- Metrics (2) ----------------------------------------------------------------------------

METRIC_ACTIONS: list[ViewAction] = [
    ViewAction("range('1h')", "h", "1 hour", show_in_footer=False),
    ViewAction("range('6h')", "H", "6 hours", show_in_footer=False),
    ViewAction("range('24h')", "d", "24 hours", show_in_footer=False),
    ViewAction("range('7d')", "w", "7 days", show_in_footer=False),
    ViewAction("step_range(-1)", "left_square_bracket", "shorter range", show_in_footer=False),
    ViewAction("step_range(1)", "right_square_bracket", "longer range", show_in_footer=False),
    ViewAction("cycle_aggregate", "a", "aggregate"),
    ViewAction("reload", "r", "reload"),
    ViewAction("export_csv", "e", "export CSV", footer="export"),
    ViewAction("export_json", "E", "export JSON", show_in_footer=False),
    ViewAction("copy", "y", "copy last value", footer="copy"),
    ViewAction("copy_ref", "Y", "copy metric ref", show_in_footer=False),
]

# ---- Live (3) -------------------------------------------------------------------------------

LIVE_ACTIONS: list[ViewAction] = [
    ViewAction("open", "enter", "history of the metric", footer="history"),
    ViewAction("pause", "p", "pause / resume", footer="pause"),
    ViewAction("sort", "s", "sort name/value/age", footer="sort"),
    *(ViewAction("copy", "y", "copy name and value", footer="copy") if a.id == "copy" else a for a in LIST_ACTIONS),
]

# ---- Alarms (4) -----------------------------------------------------------------------------

ALARM_ACTIONS: list[ViewAction] = [
    ViewAction("jump", "enter,g", "go to device", footer="device"),
    ViewAction("close_alarms", "c", "close alarm (cursor or marked)", writes=True, footer="close"),
    ViewAction("open_rule", "r", "open the rule that raised it", footer="rule"),
    ViewAction("cycle_severity", "s", "severity", footer="sev"),
    ViewAction("cycle_status", "o", "open/closed/all", footer="status"),
    ViewAction("cycle_profile", "p", "profile"),
    ViewAction("copy_device", "Y", "copy device ref", show_in_footer=False),
    ViewAction("toggle_detail", "v", "detail pane", show_in_footer=False),
    *footer_without(LIST_ACTIONS, "copy"),
]

# ---- Rules (5) ------------------------------------------------------------------------------

# `y` copies an id on every screen; a vendor rule's is the one the vendor's API and an alarm's
# detail ("rule id …") name it by, and is shown nowhere else here. A local rule's id is its name.
RULE_COPY = ViewAction("copy", "y", "copy rule id (a local rule's id is its name)",
                       footer="copy")
RULE_ACTIONS: list[ViewAction] = [
    ViewAction("new_rule", "n", "new rule", writes=True, footer="new"),
    ViewAction("edit_rule", "enter", "edit rule (view if read-only), 24 h backtest", writes=True, footer="edit"),
    ViewAction("toggle_rule", "space", "enable / disable", writes=True, footer="on/off"),
    ViewAction("delete_rule", "d", "delete rule", writes=True, footer="delete"),
    # space is enable/disable here, so a rule list has no marks
    *(RULE_COPY if a.id == "copy" else a
      for a in LIST_ACTIONS if a.id not in ("mark", "mark_all")),
]

# ---- Identities (6) -------------------------------------------------------------------------

IDENTITY_ACTIONS: list[ViewAction] = [
    ViewAction("jump", "enter,g", "go to device", footer="device"),
    ViewAction("cycle_status", "s", "status filter", footer="status"),
    ViewAction("cycle_profile", "p", "profile", show_in_footer=False),
    ViewAction("lock", "l", "lock", writes=True),
    ViewAction("unlock", "u", "unlock", writes=True, show_in_footer=False),
    ViewAction("tag_add", "t", "add tag", writes=True, footer="tag"),
    ViewAction("tag_remove", "T", "remove tag", writes=True, show_in_footer=False),
    ViewAction("installation", "i", "installation status", writes=True, footer="install"),
    ViewAction("group", "G", "set group", writes=True, footer="group"),
    ViewAction("toggle_detail", "v", "detail pane", show_in_footer=False),
    *footer_without(LIST_ACTIONS, "export_csv", "copy"),
]

__all__ = ["ALARM_ACTIONS", "IDENTITY_ACTIONS", "LIST_ACTIONS", "LIVE_ACTIONS", "METRIC_ACTIONS", "RULE_ACTIONS",
           "footer_without"]
