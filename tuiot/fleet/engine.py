"""The local rule engine: readings in, alarm events out. Pure Python, no I/O, no clock.

For every enabled rule, each of its thresholds is tracked per source:

- threshold rules: every *new* reading of the source metric is checked (a reading with
  the same or an older timestamp than the last one checked is the same sample polled
  again, and is not counted twice). After `checks` consecutive matches an alarm opens
  at the time of the reading that completed the streak; the first reading that does
  not match closes it.
- offline rules: each observation of a device's last-seen time is a check; the device
  is silent when it was never seen or was last seen more than `minutes` ago.

An alarm closed by hand stays closed until the condition has stopped holding once, so
closing it is not undone by the next reading. Alarm ids are deterministic (rule,
source, threshold, open time), so replaying the same history gives the same ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from tuiot.domain import Alarm, AlarmStatus, Origin, Reading, Rule, Threshold, Value, split_ref, utc
from tuiot.fleet.condition import Condition, ConditionError, parse

EventKind = Literal["raised", "cleared"]


@dataclass(frozen=True)
class AlarmEvent:
    kind: EventKind
    alarm: Alarm
    at: datetime
    by_hand: bool = False

    def as_dict(self) -> dict[str, object]:
        """The JSON line `tuiot watch` prints for this event."""
        return {"event": self.kind, "at": _iso(self.at), "by_hand": self.by_hand, **self.alarm.model_dump(mode="json")}


@dataclass
class _Track:
    """One (rule, source, threshold): the current streak and the alarm it opened."""

    streak: int = 0
    last_ts: datetime | None = None
    alarm: Alarm | None = None
    suppressed: bool = False  # closed by hand while the condition still held


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    conditions: tuple[Condition | None, ...]  # None for offline thresholds
    minutes: int | None


def offline_minutes(rule: Rule) -> int | None:
    """Silence that counts as offline: `minutes`, or (TeamViewer's way) the threshold's condition."""
    if rule.minutes is not None:
        return rule.minutes
    for t in rule.thresholds:
        try:
            return int(float(t.condition.strip()))
        except ValueError:
            continue
    return None


def compile_rule(rule: Rule) -> _Compiled:
    """Parse a rule's conditions once; ConditionError for a rule that cannot run."""
    if rule.kind == "offline":
        minutes = offline_minutes(rule)
        if minutes is None or minutes < 1:
            raise ConditionError(f"offline rule '{rule.name}' needs minutes", 1)
        return _Compiled(rule, tuple(None for _ in rule.thresholds), minutes)
    return _Compiled(rule, tuple(parse(t.condition) for t in rule.thresholds), None)


def alarm_id(rule: Rule, source: str, index: int, opened_at: datetime) -> str:
    key = f"{rule.profile}|{rule.id}|{source}|{index}|{_iso(opened_at)}"
    return "local-" + hashlib.sha1(key.encode()).hexdigest()[:16]


class RuleEngine:
    """Feed it readings (and device last-seen times); it returns raised/cleared events."""

    def __init__(self, rules: Iterable[Rule] = (), *, alarms: Iterable[Alarm] = ()) -> None:
        self._compiled: dict[str, _Compiled] = {}
        self._by_source: dict[str, list[str]] = {}
        self._tracks: dict[tuple[str, str, int], _Track] = {}
        self.errors: dict[str, str] = {}  # rule id -> why it cannot run
        self.set_rules(rules, now=None)
        self.restore(alarms)

    # ---- rules ------------------------------------------------------------------------

    @property
    def rules(self) -> list[Rule]:
        return [c.rule for c in self._compiled.values()]

    def set_rules(self, rules: Iterable[Rule], *, now: datetime | None = None) -> list[AlarmEvent]:
        """Replace the rule set. Open alarms of rules that went away, were disabled or
        changed are cleared at `now` (if given) so nothing stays open with no rule behind it."""
        compiled: dict[str, _Compiled] = {}
        self.errors = {}
        for rule in rules:
            if not rule.enabled:
                continue
            try:
                compiled[rule.id] = compile_rule(rule)
            except ConditionError as e:
                self.errors[rule.id] = f"rule '{rule.name}': {e}"
        events: list[AlarmEvent] = []
        for key in list(self._tracks):
            rule_id = key[0]
            old = self._compiled.get(rule_id)
            new = compiled.get(rule_id)
            if new is None or old is None or new.rule != old.rule:
                track = self._tracks.pop(key)
                if track.alarm is not None and now is not None:
                    events.append(self._clear(track, utc(now), by_hand=False))
        self._compiled = compiled
        self._by_source = {}
        for rid, c in compiled.items():
            for src in c.rule.sources:
                self._by_source.setdefault(src, []).append(rid)
        return events

    def restore(self, alarms: Iterable[Alarm]) -> None:
        """Re-attach open local alarms saved before a restart to their rules."""
        for alarm in alarms:
            if alarm.status != AlarmStatus.open or alarm.origin != Origin.local:
                continue
            source = alarm.metric or alarm.device
            for c in self._compiled.values():
                if c.rule.name != alarm.rule or c.rule.profile != alarm.profile or source not in c.rule.sources:
                    continue
                for i, t in enumerate(c.rule.thresholds):
                    if t.severity == alarm.severity:
                        track = self._tracks.setdefault((c.rule.id, source, i), _Track())
                        track.alarm = alarm
                        track.streak = t.checks
                        break

    # ---- input --------------------------------------------------------------------------

    def feed(self, readings: Iterable[Reading]) -> list[AlarmEvent]:
        events: list[AlarmEvent] = []
        for r in readings:
            events.extend(self.observe(r))
        return events

    def observe(self, reading: Reading) -> list[AlarmEvent]:
        events: list[AlarmEvent] = []
        for rid in self._by_source.get(reading.metric, ()):
            c = self._compiled[rid]
            if c.rule.kind != "threshold":
                continue
            for i, (t, cond) in enumerate(zip(c.rule.thresholds, c.conditions)):
                assert cond is not None
                track = self._tracks.setdefault((rid, reading.metric, i), _Track())
                if track.last_ts is not None and reading.ts <= track.last_ts:
                    continue  # the same sample polled again
                track.last_ts = reading.ts
                event = self._step(c.rule, reading.metric, i, t, track, cond.evaluate(reading.value), reading.value,
                                   reading.ts, device=reading.device)
                if event is not None:
                    events.append(event)
        return events

    def seen(self, device: str, last_seen: datetime | None, now: datetime) -> list[AlarmEvent]:
        """One check of every offline rule on `device` (a device ref) at `now`."""
        now = utc(now)
        events: list[AlarmEvent] = []
        for rid in self._by_source.get(device, ()):
            c = self._compiled[rid]
            if c.rule.kind != "offline" or c.minutes is None:
                continue
            silent_for = None if last_seen is None else now - utc(last_seen)
            offline = silent_for is None or silent_for > timedelta(minutes=c.minutes)
            value: Value | None = None if silent_for is None else round(silent_for.total_seconds() / 60, 1)
            for i, t in enumerate(c.rule.thresholds):
                track = self._tracks.setdefault((rid, device, i), _Track())
                if track.last_ts is not None and now <= track.last_ts:
                    continue
                track.last_ts = now
                event = self._step(c.rule, device, i, t, track, offline, value, now)
                if event is not None:
                    events.append(event)
        return events

    def offline_devices(self) -> list[str]:
        """Device refs that offline rules watch (what a poller must report on)."""
        return sorted(src for src, rids in self._by_source.items() if any(self._compiled[r].rule.kind == "offline" for r in rids))

    def watched_metrics(self) -> list[str]:
        return sorted(src for src, rids in self._by_source.items() if any(self._compiled[r].rule.kind == "threshold" for r in rids))

    # ---- alarms -----------------------------------------------------------------------------

    def open_alarms(self) -> list[Alarm]:
        return [t.alarm for t in self._tracks.values() if t.alarm is not None]

    def close(self, alarm_id: str, at: datetime) -> AlarmEvent | None:
        """Close an alarm by hand; it will not reopen until its condition has cleared once."""
        for track in self._tracks.values():
            if track.alarm is not None and track.alarm.id == alarm_id:
                event = self._clear(track, utc(at), by_hand=True)
                track.suppressed = True
                return event
        return None

    # ---- the state machine --------------------------------------------------------------------

    def _step(self, rule: Rule, source: str, index: int, t: Threshold, track: _Track,
              match: bool, value: Value | None, at: datetime, *, device: str | None = None) -> AlarmEvent | None:
        if not match:
            track.streak = 0
            track.suppressed = False
            if track.alarm is not None:
                return self._clear(track, at, by_hand=False)
            return None
        track.streak += 1
        if track.alarm is not None or track.suppressed or track.streak < t.checks:
            return None
        track.alarm = self._new_alarm(rule, source, index, t, value, at, device)
        return AlarmEvent("raised", track.alarm, at)

    def _clear(self, track: _Track, at: datetime, *, by_hand: bool) -> AlarmEvent:
        assert track.alarm is not None
        closed = track.alarm.model_copy(update={"status": AlarmStatus.closed, "closed_at": max(at, track.alarm.opened_at)})
        track.alarm = None
        track.streak = 0
        return AlarmEvent("cleared", closed, at, by_hand=by_hand)

    @staticmethod
    def _new_alarm(rule: Rule, source: str, index: int, t: Threshold, value: Value | None, at: datetime,
                   device: str | None = None) -> Alarm:
        """`device`: the metric's device, as its reading names it (the alarm jumps there)."""
        kind = split_ref(source)[1] if source.count("/") >= 2 else ""
        if rule.kind == "offline":
            what = f"silent for {value} min" if value is not None else "never seen"
            description = f"{rule.name}: offline (no data for over {offline_minutes(rule)} min; {what})"
        else:
            description = f"{rule.name}: {t.condition} (value {value!r})"
        return Alarm(
            id=alarm_id(rule, source, index, at),
            profile=rule.profile,
            severity=t.severity,
            status=AlarmStatus.open,
            device=source if kind == "device" else device,
            metric=source if kind != "device" else None,
            description=description,
            opened_at=at,
            origin=Origin.local,
            rule=rule.name,
            value=value,
            closable=True,
        )


def _iso(dt: datetime) -> str:
    return utc(dt).isoformat().replace("+00:00", "Z")


__all__ = ["AlarmEvent", "RuleEngine", "alarm_id", "compile_rule", "offline_minutes"]
