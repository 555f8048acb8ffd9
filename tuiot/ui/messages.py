"""What the views ask the shell for: every view Message, in one light module.

The shell's `@on` handlers need these classes when `tuiot.ui.app` is imported, but the
views that post them are mounted on first visit only. Kept here, with no widget code, the
start-up imports none of the five views (DESIGN §7: start-up imports only what the first
screen needs). The view modules re-export their own messages, so
`from tuiot.ui.views.alarms import CloseRequested` still works.

Each message is the same class wherever it is imported from: Textual matches `@on`
handlers by class, and its handler name comes from the class name, not the module.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from textual.message import Message

from tuiot.domain import Aggregate, Alarm, Identity, Rule

# ---- any view (tuiot.ui.views) ------------------------------------------------------------


class CopyRequested(Message):
    """Put `text` on the clipboard (the shell writes OSC 52 via tuiot.fleet.export.osc52)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class NamesWanted(Message):
    """A detail pane shows these metric refs: the shell loads what names them (their
    device's metrics), once, and repaints."""

    def __init__(self, refs: Sequence[str]) -> None:
        super().__init__()
        self.refs = list(refs)


class JumpToDevice(Message):
    """Show this device on the Devices screen (from an alarm or an identity)."""

    def __init__(self, device_ref: str) -> None:
        super().__init__()
        self.device_ref = device_ref


class Exported(Message):
    """A view wrote what it shows to `path` (`count` rows); already told to the user."""

    def __init__(self, path: Path, count: int) -> None:
        super().__init__()
        self.path = path
        self.count = count


# ---- Metrics (2) ----------------------------------------------------------------------------


class HistoryRequested(Message):
    """Fetch a metric's history; answer with `view.set_series(series, request=message)`."""

    def __init__(self, metric_ref: str, start: datetime, end: datetime, aggregate: Aggregate | None,
                 bucket: timedelta | None) -> None:
        super().__init__()
        self.metric_ref = metric_ref
        self.start = start
        self.end = end
        self.aggregate = aggregate
        self.bucket = bucket

    def __repr__(self) -> str:
        return (f"HistoryRequested({self.metric_ref!r}, {self.start.isoformat()}, {self.end.isoformat()}, "
                f"{self.aggregate}, {self.bucket})")


# ---- Live (3) -------------------------------------------------------------------------------


class OpenMetric(Message):
    """Show this metric's history on the Metrics screen."""

    def __init__(self, metric_ref: str) -> None:
        super().__init__()
        self.metric_ref = metric_ref


# ---- Alarms (4) -----------------------------------------------------------------------------


class OpenRule(Message):
    """Open the rule that raised an alarm (in the editor; the shell finds it)."""

    def __init__(self, alarm: Alarm) -> None:
        super().__init__()
        self.alarm = alarm


class CloseRequested(Message):
    """Close these alarms (all closable; confirmation and the write are the shell's)."""

    def __init__(self, alarms: list[Alarm]) -> None:
        super().__init__()
        self.alarms = alarms


# ---- Rules (5) ------------------------------------------------------------------------------


class _RuleMessage(Message):
    def __init__(self, rule: Rule | None) -> None:
        super().__init__()
        self.rule = rule


class RuleEditRequested(_RuleMessage):
    """`n` (rule None: a new one) or enter (the highlighted rule)."""


class RuleToggleRequested(_RuleMessage):
    rule: Rule


class RuleDeleteRequested(_RuleMessage):
    rule: Rule


# ---- Identities (6) -------------------------------------------------------------------------


class _ItemsMessage(Message):
    def __init__(self, items: list[Identity]) -> None:
        super().__init__()
        self.items = items


class LockRequested(_ItemsMessage):
    def __init__(self, items: list[Identity], lock: bool) -> None:
        super().__init__(items)
        self.lock = lock


class TagAddRequested(_ItemsMessage):
    """`replace`: the tag's other values go (a site moves), rather than one more value."""

    def __init__(self, items: list[Identity], name: str, value: str, replace: bool = False) -> None:
        super().__init__(items)
        self.replace = replace
        self.name = name
        self.value = value


class TagRemoveRequested(_ItemsMessage):
    """`value` None: every value of the tag goes."""

    def __init__(self, items: list[Identity], name: str, value: str | None) -> None:
        super().__init__(items)
        self.name = name
        self.value = value


class InstallationStatusRequested(_ItemsMessage):
    def __init__(self, items: list[Identity], status: str) -> None:
        super().__init__(items)
        self.status = status


class GroupRequested(_ItemsMessage):
    def __init__(self, items: list[Identity], group: str) -> None:
        super().__init__(items)
        self.group = group


__all__ = ["CloseRequested", "CopyRequested", "Exported", "GroupRequested", "HistoryRequested",
           "InstallationStatusRequested", "JumpToDevice", "LockRequested", "NamesWanted", "OpenMetric",
           "OpenRule", "RuleDeleteRequested", "RuleEditRequested", "RuleToggleRequested", "TagAddRequested",
           "TagRemoveRequested"]
