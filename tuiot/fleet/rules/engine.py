"""The local rule engine: readings in, local alarms raised and cleared out.

Pure Python, no I/O and no clock of its own: every time comes from a reading or from
the caller, so the same readings always give the same alarms (and the same alarm ids).

A threshold rule counts consecutive *new* readings (a poll that returns the same reading
again does not count twice) whose value satisfies the condition; at `checks` in a row an
alarm opens, and the first new reading that does not satisfy it closes the alarm. An
offline rule is fed a device's newest reading time: silence of `minutes` or more opens
the alarm, a fresh reading closes it. An alarm closed by hand stays closed until the
condition has stopped holding once, so it does not reopen at the very next poll.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from tuiot.domain import Alarm, AlarmStatus, Origin, Reading, Rule, Threshold, Value
from tuiot.fleet.rules.condition import Condition, ConditionError, parse

EventKind = Literal["raised", "cleared"]


@dataclass(frozen=True)
class AlarmEvent:
    kind: EventKind
    alarm: Alarm
    by_hand: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The JSON object `tuiot watch` prints for this event."""
        a = self.alarm
        return {
            "event": self.kind,
            "id": a.id,
            "profile": a.profile,
            "rule": a.rule,
            "severity": a.severity.value,
            "device": a.device,
            "metric": a.metric,
            "value": a.value,
            "time": (a.closed_at if self.kind == "cleared" and a.closed_at else a.opened_at).isoformat(),
            "opened_at": a.opened_at.isoformat(),
            "closed_at": a.closed_at.isoformat() if a.closed_at else None,
            "origin": a.origin.value,
            "description": a.description,
            "by_hand": self.by_hand,
        }


@dataclass
class _Track:
    count: int = 0
    last_ts: datetime | None = None
    alarm: Alarm | None = None
    muted: bool = False  # closed by hand while the condition still held


@dataclass
class _Check:
    rule: Rule
    source: str
    index: int
    threshold: Threshold
    condition: Condition | None
    track: _Track = field(default_factory=_Track)


def alarm_id(rule: Rule, source: str, index: int, opened_at: datetime) -> str:
    key = f"{rule.profile}|{rule.id}|{source}|{index}|{opened_at.isoformat()}"
    return "L" + hashlib.sha1(key.encode()).hexdigest()[:15]


def _silence_minutes(last_seen: datetime, now: datetime) -> float:
    return max(0.0, (now - last_seen).total_seconds() / 60.0)


class RuleEngine:
    def __init__(self, rules: Iterable[Rule] = (), *, alarms: Iterable[Alarm] = ()) -> None:
        self._checks: list[_Check] = []
        self._by_source: dict[str, list[_Check]] = {}
        self.set_rules(rules)
        self.restore(alarms)

    # -- rules -----------------------------------------------------------------
    def set_rules(self, rules: Iterable[Rule], *, now: datetime | None = None) -> list[AlarmEvent]:
        """Replace the rule set, keeping the state of checks that stay; alarms of rules
        that went away (or were disabled) are cleared at `now`."""
        old = {(c.rule.id, c.source, c.index): c for c in self._checks}
        checks: list[_Check] = []
        for rule in rules:
            if not rule.enabled:
                continue
            for source in rule.sources:
                for i, t in enumerate(rule.thresholds):
                    try:
                        cond = None if rule.kind == "offline" else parse(t.condition)
                    except ConditionError:
                        continue  # a vendor rule with a condition we cannot read never fires
                    prev = old.pop((rule.id, source, i), None)
                    checks.append(_Check(rule, source, i, t, cond, prev.track if prev else _Track()))
        events = []
        for gone in old.values():
            if gone.track.alarm is not None:
                at = now or gone.track.last_ts or gone.track.alarm.opened_at
                events.append(self._clear(gone, at))
        self._checks = checks
        self._by_source = {}
        for c in checks:
            self._by_source.setdefault(c.source, []).append(c)
        return events

    @property
    def rules(self) -> list[Rule]:
        seen: dict[str, Rule] = {}
        for c in self._checks:
            seen.setdefault(c.rule.id, c.rule)
        return list(seen.values())

    def restore(self, alarms: Iterable[Alarm]) -> None:
        """Pick up open local alarms saved before a restart, so they can clear later."""
        for a in alarms:
            if a.status is not AlarmStatus.open or a.origin is not Origin.local:
                continue
            source = a.device if a.metric is None else a.metric
            for c in self._by_source.get(source or "", []):
                if c.rule.name == a.rule and c.rule.profile == a.profile and c.track.alarm is None \
                        and c.threshold.severity == a.severity:
                    c.track.alarm, c.track.count = a, c.threshold.checks
                    break

    def watched_metrics(self) -> list[str]:
        return sorted({c.source for c in self._checks if c.rule.kind == "threshold"})

    def offline_devices(self) -> list[str]:
        return sorted({c.source for c in self._checks if c.rule.kind == "offline"})

    def open_alarms(self) -> list[Alarm]:
        return [c.track.alarm for c in self._checks if c.track.alarm is not None]

    # -- input -----------------------------------------------------------------
    def feed(self, readings: Iterable[Reading]) -> list[AlarmEvent]:
        events: list[AlarmEvent] = []
        for r in sorted(readings, key=lambda r: r.ts):
            for c in self._by_source.get(r.metric, []):
                if c.rule.kind != "threshold" or c.condition is None:
                    continue
                if c.track.last_ts is not None and r.ts <= c.track.last_ts:
                    continue  # the same reading again from the next poll
                c.track.last_ts = r.ts
                events.extend(self._step(c, c.condition.evaluate(r.value), r.value, r.ts))
        return events

    def seen(self, device: str, last_seen: datetime | None, now: datetime) -> list[AlarmEvent]:
        """Offline rules: `device` (a device ref) last reported at `last_seen`. None means
        no answer about it, which is not evidence of silence: nothing changes."""
        if last_seen is None:
            return []
        events: list[AlarmEvent] = []
        silent = _silence_minutes(last_seen, now)
        for c in self._by_source.get(device, []):
            if c.rule.kind != "offline":
                continue
            c.track.last_ts = now
            matched = silent >= float(c.rule.minutes or 0)
            events.extend(self._step(c, matched, round(silent, 1), now if matched else last_seen))
        return events

    def close(self, alarm_id: str, at: datetime) -> AlarmEvent | None:
        """Close a local alarm by hand; None when no open alarm has that id."""
        for c in self._checks:
            if c.track.alarm is not None and c.track.alarm.id == alarm_id:
                c.track.muted = True
                return self._clear(c, at, by_hand=True)
        return None

    # -- internals -------------------------------------------------------------
    def _step(self, c: _Check, matched: bool, value: Value | None, at: datetime) -> list[AlarmEvent]:
        t = c.track
        if not matched:
            t.count, t.muted = 0, False
            return [self._clear(c, at)] if t.alarm is not None else []
        t.count += 1
        if t.alarm is None and not t.muted and t.count >= max(1, c.threshold.checks):
            t.alarm = self._new_alarm(c, value, at)
            return [AlarmEvent("raised", t.alarm)]
        return []

    def _clear(self, c: _Check, at: datetime, *, by_hand: bool = False) -> AlarmEvent:
        alarm = c.track.alarm
        assert alarm is not None
        closed = alarm.model_copy(update={"status": AlarmStatus.closed, "closed_at": max(at, alarm.opened_at)})
        c.track.alarm = None
        c.track.count = 0 if not by_hand else c.track.count
        return AlarmEvent("cleared", closed, by_hand=by_hand)

    @staticmethod
    def _new_alarm(c: _Check, value: Value | None, at: datetime) -> Alarm:
        rule, t = c.rule, c.threshold
        if rule.kind == "offline":
            text = f"{rule.name}: no reading for {value} min (limit {rule.minutes})"
            device, metric = c.source, None
        else:
            text = f"{rule.name}: {t.condition} (value {value!r})"
            device, metric = None, c.source
        return Alarm(
            id=alarm_id(rule, c.source, c.index, at), profile=rule.profile, severity=t.severity,
            status=AlarmStatus.open, device=device, metric=metric, description=text, opened_at=at,
            origin=Origin.local, rule=rule.name, value=value, closable=True,
        )
