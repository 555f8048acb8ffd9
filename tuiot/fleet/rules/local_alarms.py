"""Local alarms on disk (data dir, JSON), so they survive a restart and the console's
inbox and `tuiot watch` see the same ones.

Writes replace the file in one rename. A file that cannot be read is moved aside (kept
for a look, never silently lost) and `notice` says so in one line.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from tuiot.config import data_dir
from tuiot.domain import Alarm, AlarmStatus, Origin
from tuiot.fleet.rules.engine import AlarmEvent

FILE_NAME = "local_alarms.json"
KEEP_CLOSED = 1000  # closed alarms kept for the inbox's history; older ones are dropped


def default_path() -> Path:
    return data_dir() / FILE_NAME


class LocalAlarmStore:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.notice: str | None = None
        self._alarms: dict[str, Alarm] = {}
        self.load()

    def load(self) -> list[Alarm]:
        self._alarms = {}
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as e:
            self.notice = f"local alarms not readable ({e.strerror}); starting empty"
            return []
        try:
            data = json.loads(raw)
            items = data["alarms"] if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise ValueError("no 'alarms' list")  # noqa: TRY004 - a bad file, not a caller's type error
            alarms = [Alarm.model_validate(a) for a in items]
        except (ValueError, KeyError, TypeError, ValidationError):
            aside = self.path.with_name(f"{self.path.name}.corrupt-{datetime.now():%Y%m%d%H%M%S%f}")
            try:
                os.replace(self.path, aside)
                self.notice = f"local alarms file was unreadable; moved aside to {aside}"
            except OSError:
                self.notice = f"local alarms file {self.path} is unreadable; starting empty"
            return []
        self._alarms = {a.id: a for a in alarms if a.origin is Origin.local}
        return self.all()

    def all(self) -> list[Alarm]:
        return sorted(self._alarms.values(), key=lambda a: a.opened_at, reverse=True)

    def open_alarms(self, profile: str | None = None) -> list[Alarm]:
        return [a for a in self.all() if a.status is AlarmStatus.open and (profile is None or a.profile == profile)]

    def get(self, alarm_id: str) -> Alarm | None:
        return self._alarms.get(alarm_id)

    def apply(self, events: Iterable[AlarmEvent]) -> None:
        """Record raised/cleared events and write the file once."""
        changed = False
        for ev in events:
            self._alarms[ev.alarm.id] = ev.alarm
            changed = True
        if changed:
            self.save()

    def close(self, alarm_id: str, at: datetime) -> Alarm | None:
        """Close by hand (for an alarm the engine no longer tracks, e.g. its rule is gone)."""
        a = self._alarms.get(alarm_id)
        if a is None or a.status is AlarmStatus.closed:
            return None
        closed = a.model_copy(update={"status": AlarmStatus.closed, "closed_at": max(at, a.opened_at)})
        self._alarms[alarm_id] = closed
        self.save()
        return closed

    def save(self) -> None:
        alarms = self.all()
        open_ = [a for a in alarms if a.status is AlarmStatus.open]
        closed = [a for a in alarms if a.status is AlarmStatus.closed][:KEEP_CLOSED]
        self._alarms = {a.id: a for a in open_ + closed}
        payload = {"version": 1, "alarms": [a.model_dump(mode="json") for a in open_ + closed]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(payload, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
