"""Local alarms kept in the data dir, so they survive a restart of the console or `watch`.

One small JSON file (`local_alarms.json`), rewritten atomically. Open alarms are kept
whatever their age; closed ones for `KEEP_CLOSED` and at most `MAX_CLOSED` of them, so
the file stays small on a console that runs for months. A file that cannot be read is
moved aside (`local_alarms.json.corrupt-<time>`) and the store starts empty: losing a
history of local alarms is better than a console that will not start.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from tuiot.config import data_dir
from tuiot.domain import Alarm, AlarmStatus, Reading, Rule, now_utc, utc
from tuiot.fleet.engine import AlarmEvent, RuleEngine

FILE_NAME = "local_alarms.json"
VERSION = 1
KEEP_CLOSED = timedelta(days=7)
MAX_CLOSED = 2000


class LocalAlarmStore:
    def __init__(self, path: Path | str | None = None, *, clock: Callable[[], datetime] = now_utc) -> None:
        self.path = Path(path) if path else data_dir() / FILE_NAME
        self.clock = clock
        self.warning: str | None = None  # set when a corrupt file was moved aside
        self._alarms: dict[str, Alarm] = {}
        self._load()

    # ---- reading -----------------------------------------------------------------------

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict) or not isinstance(raw.get("alarms"), list):
                raise TypeError("not a local alarm file")
            alarms = [Alarm.model_validate(a) for a in raw["alarms"]]
        except (OSError, UnicodeDecodeError, ValueError, TypeError, ValidationError) as e:
            self._move_aside(e)
            return
        self._alarms = {a.id: a for a in alarms}

    def _move_aside(self, why: Exception) -> None:
        stamp = self.clock().strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        reason = str(why).splitlines()[0] if str(why) else type(why).__name__
        try:
            os.replace(self.path, target)
            self.warning = f"local alarms file was unreadable ({reason[:120]}); moved to {target.name}, starting empty"
        except OSError as e:
            self.warning = f"local alarms file was unreadable ({reason[:120]}) and could not be moved aside: {e}"

    def alarms(self, *, status: AlarmStatus | None = None, profile: str | None = None) -> list[Alarm]:
        items = [a for a in self._alarms.values() if (status is None or a.status == status) and (profile is None or a.profile == profile)]
        return sorted(items, key=lambda a: a.opened_at, reverse=True)

    def open_alarms(self, profile: str | None = None) -> list[Alarm]:
        return self.alarms(status=AlarmStatus.open, profile=profile)

    def get(self, alarm_id: str) -> Alarm | None:
        return self._alarms.get(alarm_id)

    # ---- writing -----------------------------------------------------------------------

    def apply(self, events: Iterable[AlarmEvent]) -> bool:
        """Record engine events; saves once if anything changed. Returns whether it did."""
        changed = False
        for ev in events:
            if self._alarms.get(ev.alarm.id) != ev.alarm:
                self._alarms[ev.alarm.id] = ev.alarm
                changed = True
        if changed:
            self.save()
        return changed

    def put(self, alarm: Alarm) -> None:
        self._alarms[alarm.id] = alarm
        self.save()

    def close(self, alarm_id: str, at: datetime | None = None) -> Alarm | None:
        """Close an alarm by hand (the engine must be told too: `engine.close`)."""
        alarm = self._alarms.get(alarm_id)
        if alarm is None:
            return None
        if alarm.status == AlarmStatus.open:
            alarm = alarm.model_copy(update={"status": AlarmStatus.closed, "closed_at": utc(at) if at else self.clock()})
            self._alarms[alarm_id] = alarm
            self.save()
        return alarm

    def save(self) -> None:
        self._prune()
        body = {"version": VERSION, "alarms": [a.model_dump(mode="json") for a in self.alarms()]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(body, f, separators=(",", ":"))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _prune(self) -> None:
        cutoff = self.clock() - KEEP_CLOSED
        closed = sorted(
            (a for a in self._alarms.values() if a.status == AlarmStatus.closed),
            key=lambda a: a.closed_at or a.opened_at, reverse=True,
        )
        for i, a in enumerate(closed):
            if i >= MAX_CLOSED or (a.closed_at or a.opened_at) < cutoff:
                del self._alarms[a.id]




class LocalRules:
    """The engine and the store together: what the console and `watch` run.

    Every event is saved before it is returned, and closing by hand reaches both the
    engine (so the alarm does not reopen at once) and the file.
    """

    def __init__(self, rules: Iterable[Rule], store: LocalAlarmStore | None = None) -> None:
        self.store = store or LocalAlarmStore()
        self.engine = RuleEngine(rules, alarms=self.store.open_alarms())

    @property
    def errors(self) -> dict[str, str]:
        return self.engine.errors

    def set_rules(self, rules: Iterable[Rule], now: datetime | None = None) -> list[AlarmEvent]:
        events = self.engine.set_rules(rules, now=now or self.store.clock())
        self.store.apply(events)
        return events

    def feed(self, readings: Iterable[Reading]) -> list[AlarmEvent]:
        events = self.engine.feed(readings)
        self.store.apply(events)
        return events

    def seen(self, device: str, last_seen: datetime | None, now: datetime | None = None) -> list[AlarmEvent]:
        events = self.engine.seen(device, last_seen, now or self.store.clock())
        self.store.apply(events)
        return events

    def close(self, alarm_id: str, at: datetime | None = None) -> Alarm | None:
        """Close a local alarm by hand; None when there is no such alarm."""
        when = utc(at) if at else self.store.clock()
        event = self.engine.close(alarm_id, when)
        if event is not None:
            self.store.apply([event])
            return event.alarm
        return self.store.close(alarm_id, when)

    def alarms(self, *, status: AlarmStatus | None = None, profile: str | None = None) -> list[Alarm]:
        return self.store.alarms(status=status, profile=profile)


__all__ = ["LocalAlarmStore", "LocalRules"]
