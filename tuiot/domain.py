"""Vendor-neutral model of a fleet: what every adapter returns and every screen shows.

Nothing here does I/O or imports other tuiot modules. Every time is an aware UTC
datetime: vendor units (s, ms, µs, naive ISO strings) are converted at the adapter edge.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

NodeKind = Literal["group", "device", "sensor", "metric"]
Value = float | int | str | bool

VENDORS: tuple[str, ...] = ("teamviewer", "thingsee", "murano", "thingspro")


def value_text(value: Any, digits: int = 6) -> str:
    """A reading's value as every screen and the CLI's tables print it: `digits` significant
    digits, but the whole part always in full and never in e-notation (15460.2, not
    1.546e+04; 101156, not 101156.0; 0.000012). Only the extremes (1e15 and up, below 1e-6)
    keep it."""
    if not isinstance(value, float):
        return "—" if value is None else str(value)
    if value == 0:
        return "0"  # -0.0 too
    size = abs(value)
    if not math.isfinite(value) or not 1e-6 <= size < 1e15:
        return f"{value:.{digits}g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(size)))
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class Severity(str, Enum):
    """Alarm severity, most severe first (the order is used for "worst of")."""

    critical = "critical"
    major = "major"
    minor = "minor"
    warning = "warning"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @classmethod
    def worst(cls, *items: Severity | None) -> Severity | None:
        present = [s for s in items if s is not None]
        return min(present, key=lambda s: s.rank) if present else None


_SEVERITY_RANK = {Severity.critical: 0, Severity.major: 1, Severity.minor: 2, Severity.warning: 3}


class AlarmStatus(str, Enum):
    open = "open"
    closed = "closed"


class Origin(str, Enum):
    vendor = "vendor"
    local = "local"


class Aggregate(str, Enum):
    min = "min"
    max = "max"
    avg = "avg"
    sum = "sum"
    count = "count"
    stdev = "stdev"


class IdentityStatus(str, Enum):
    provisioned = "provisioned"
    whitelisted = "whitelisted"
    locked = "locked"
    expired = "expired"
    reprovision = "reprovision"


def utc(dt: datetime) -> datetime:
    """Return `dt` as an aware UTC datetime; a naive one is taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


class Model(BaseModel):
    # defer_build: each model's validator is built on its first use, not at import; the
    # console's first screen needs Node only, and building all ten cost its start ~25 ms
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False, defer_build=True)


def make_ref(profile: str, kind: str, id: str) -> str:
    """A node's stable reference, `profile/kind/id` (the id may itself contain '/')."""
    return f"{profile}/{kind}/{id}"


def split_ref(ref: str) -> tuple[str, str, str]:
    profile, kind, id = ref.split("/", 2)
    return profile, kind, id


class Node(Model):
    kind: NodeKind
    id: str
    name: str
    profile: str
    parent: str | None = None  # ref of the parent node; None for a top-level node
    online: bool | None = None
    severity: Severity | None = None
    unit: str | None = None
    value_type: str | None = None
    attrs: dict[str, Any] = Field(default_factory=dict)
    has_children: bool | None = None  # None: unknown until loaded (lazy trees)

    @property
    def ref(self) -> str:
        return make_ref(self.profile, self.kind, self.id)


class Reading(Model):
    metric: str  # metric ref
    value: Value
    ts: datetime
    unit: str | None = None
    device: str | None = None  # device ref, where the vendor's answer names it (metric ids need not)

    @field_validator("ts")
    @classmethod
    def _ts_utc(cls, v: datetime) -> datetime:
        return utc(v)


class Point(Model):
    ts: datetime
    value: float | int | str | bool | None = None
    min: float | None = None
    max: float | None = None
    avg: float | None = None
    count: int | None = None

    @field_validator("ts")
    @classmethod
    def _ts_utc(cls, v: datetime) -> datetime:
        return utc(v)


class Series(Model):
    metric: str
    points: list[Point] = Field(default_factory=list)
    aggregate: Aggregate | None = None
    bucket: timedelta | None = None
    unit: str | None = None


class Alarm(Model):
    id: str
    profile: str
    severity: Severity
    status: AlarmStatus
    device: str | None = None  # device ref
    metric: str | None = None  # metric ref
    description: str = ""
    opened_at: datetime
    closed_at: datetime | None = None
    origin: Origin = Origin.vendor
    rule: str | None = None
    value: Value | None = None
    closable: bool = False

    @property
    def ref(self) -> str:
        return make_ref(self.profile, "alarm", self.id)


class Threshold(Model):
    condition: str
    severity: Severity
    checks: int = 1


class Rule(Model):
    id: str
    profile: str
    name: str
    enabled: bool = True
    kind: Literal["threshold", "offline"] = "threshold"
    sources: list[str] = Field(default_factory=list)  # metric or device refs
    thresholds: list[Threshold] = Field(default_factory=list)
    origin: Origin = Origin.vendor
    minutes: int | None = None  # offline rules: silence that counts as offline
    attrs: dict[str, Any] = Field(default_factory=dict)


class StateValue(Model):
    set: Value | None = None
    reported: Value | None = None
    ts: datetime | None = None


class Identity(Model):
    identity: str
    profile: str
    status: IdentityStatus | str
    online: bool | None = None
    lastseen: datetime | None = None
    lastip: str | None = None
    tags: dict[str, list[str]] = Field(default_factory=dict)
    state: dict[str, StateValue] = Field(default_factory=dict)
    group: str | None = None
    locked: bool = False
    attrs: dict[str, Any] = Field(default_factory=dict)

    @property
    def ref(self) -> str:
        return make_ref(self.profile, "device", self.identity)
