"""Exosite Murano Device2 through the business API (bizapi), fed by the shared world.

Routes (VENDORS.md §3 and §6):

- `POST /api:1/token/` `{email, password}` → `{"token": …}` (401 on a wrong pair; 409
  `{"message": "twofactor"}` when the app is built with `twofactor=True`);
  `GET /api:1/token/{token}` → `{email, ttl}`. Every other call needs
  `Authorization: token <token>` (the literal word `token`, not `Bearer`): 401 otherwise.
- `GET /api:1/solution/{sid}/serviceconfig/` → `{items, total}`;
  `GET /api:1/solution/{sid}/serviceconfig/device2` → `{id, service, parameters}`.
- `POST /api:1/solution/{sid}/serviceconfig/{id}/call/{operation}` with the operation's
  parameters as a JSON body (a GET with a query string works too): see `OPERATIONS`.

Identities are the world's murano devices (identity = device id), tagged `site`,
`city`, `model` and `name` from the world (about 5% carry no site/city tags); status
mostly provisioned, some locked, whitelisted or expired (the last two never connected:
no lastseen, no state, no signals; a locked one keeps its data but is offline). `lastseen` and state timestamps are epoch microseconds.
Resources are the metrics of the murano models (`format` float/integer/boolean/string,
`unit`, `settable` = the metric is writable). Signal values come from the world, so the
same seed gives the same answers; writes (identities, locks, tags, set state) live in
the app until it is dropped.

Errors: bizapi-level `{"statusCode": n, "message": …}`; operation-level
`{"code": n, "message": …}` with the documented codes (204/205 on writes, 400, 404, 409).

Speed: identities are ordered once per minute of simulated time (lastseen only moves
on the device's reading grid) and after an add or remove; a page walks only its slice.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import hmac
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tuiot.simulators.faults import Faults, with_faults
from tuiot.simulators.fleet import MODELS, Device, MetricSpec, World, mix, sim_clock, unit

DEMO_SECRET = "murano-demo-pass"
DEMO_EMAIL = "ops@example.com"
DEMO_SOLUTION = "demosolution01"
SERVICE_ID = "device2-7c1f"
TOKEN_TTL_S = 172_800
SNAPSHOT_S = 60  # identities are re-ordered at most this often (lastseen moves on a ≥60 s grid)

LIST_DEFAULT, LIST_MAX = 50, 2000
SIGNAL_DEFAULT, SIGNAL_MAX = 1000, 10_000
LATEST_DEFAULT, LATEST_MAX = 100, 2000
BUCKETS = {"1m": 60, "5m": 300, "1h": 3600}
AGG_FIELDS = ("count", "max", "min", "sum")
EPOCHS = {"s": 1, "ms": 1_000, "us": 1_000_000}
STATUSES = ("provisioned", "whitelisted", "locked", "expired", "reprovision")
TAG_OPS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}
_IDENTITY_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class ApiError(Exception):
    """An operation's documented failure: becomes `{"code": status, "message": …}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# ---- resources --------------------------------------------------------------------------


def _format(metric: MetricSpec) -> str:
    return {"int": "integer", "bool": "boolean", "float": "float", "counter": "float"}.get(metric.type, "string")


def _resources() -> dict[str, MetricSpec]:
    out: dict[str, MetricSpec] = {}
    for model in MODELS:
        if "murano" not in model.vendors:
            continue
        for sensor in model.sensors:
            for m in sensor.metrics:
                out.setdefault(m.key, m)
    return out


RESOURCES = _resources()


class _Metric:
    """A MetricSpec with its hash computed once: `World.value` reads only attributes, and
    `MetricSpec.hash` re-hashes the key on every call, which dominated a page of 2,000 states."""

    __slots__ = ("amplitude", "base", "data_type", "digits", "drift", "hash", "hi", "key", "lo", "name", "noise", "spread", "type", "unit", "writable")

    def __init__(self, m: MetricSpec) -> None:
        for name in self.__slots__:
            # `hash` is a property on MetricSpec: read once here, a plain attribute from now on
            setattr(self, name, getattr(m, name))


_FAST = {k: _Metric(m) for k, m in RESOURCES.items()}
_MODEL_METRICS = {
    model.key: tuple(_FAST[m.key] for s in model.sensors for m in s.metrics) for model in MODELS if "murano" in model.vendors
}


def resource_definition(metric: MetricSpec) -> dict[str, Any]:
    return {
        "format": _format(metric),
        "unit": metric.unit,
        "settable": metric.writable,
        "sync": True,
        "allowed": [],
        "retention": "12",
        "timeout": 300,
        "script": {"enabled": False, "qos": 0},
    }


def _check_value(alias: str, value: Any) -> Any:
    fmt = _format(RESOURCES[alias]) if alias in RESOURCES else "string"
    if fmt == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif fmt == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif fmt == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return value
    elif isinstance(value, (str, int, float, bool)):
        return value if isinstance(value, str) else json.dumps(value)
    raise ApiError(400, f"value {value!r} does not match the {fmt} format of resource '{alias}'")


# ---- identities ---------------------------------------------------------------------------

_js = json.encoder.encode_basestring  # type: ignore[attr-defined]  # a JSON string literal, as json.dumps writes it


def _dumps(value: Any) -> str:
    """Compact JSON, as Starlette's JSONResponse renders it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


def _jv(v: Any) -> str:
    """A reported value (bool, int or finite float) as JSON."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"reported value {v!r} is not JSON")
        return float.__repr__(v)
    if isinstance(v, int):
        return int.__repr__(v)
    return _dumps(v)


@dataclass(slots=True)
class Ident:
    identity: str
    device: Device | None  # None: added through the API, never connected
    base: str  # provisioned | whitelisted | expired | reprovision
    locked: bool
    tags: list[tuple[str, str]]
    auth_type: str = "token"
    expire: int | None = None
    sets: dict[str, tuple[Any, float]] = field(default_factory=dict)  # cloud-set values and when

    @property
    def connected_ever(self) -> bool:
        return self.device is not None and self.base in ("provisioned", "reprovision")

    @property
    def status(self) -> str:
        return "locked" if self.locked else self.base


def _seed_ident(world: World, dev: Device, k: int) -> Ident:
    """The k-th murano device as an identity. Statuses and missing site tags go by position,
    so even a small test world has some of each (about 3% locked, 2.5% whitelisted, 1.5%
    expired, 5% without a site tag)."""
    h = mix(world.seed, 97, dev.index)
    base, locked = "provisioned", False
    if k % 41 == 5:
        base = "whitelisted"
    elif k % 67 == 8:
        base = "expired"
    elif k % 29 == 3:
        locked = True
    site = world.sites[dev.site]
    tags: list[tuple[str, str]] = []
    if k % 19 != 11:  # a few devices were never tagged with their site
        tags += [("site", site.id), ("city", site.city)]
    tags += [("model", dev.model), ("name", dev.name)]
    return Ident(dev.id, dev, base, locked, tags, auth_type="certificate" if unit(mix(h, 2)) < 0.3 else "token")


class MuranoSim:
    """The gateway's identities and their mutable state over the world's devices."""

    def __init__(self, world: World, clock: Callable[[], float]) -> None:
        self.world = world
        self.clock = clock
        self.idents: dict[str, Ident] = {}
        for k, dev in enumerate(world.devices_of("murano")):
            self.idents[dev.id] = _seed_ident(world, dev, k)
        self.tag_names: Counter[str] = Counter(n for i in self.idents.values() for n, _ in i.tags)
        self._order: list[Ident] = []
        self._keys: list[int] = []  # -lastseen (µs) per entry of _order, ascending
        self._order_at: float | None = None
        self._rows: dict[str, list[tuple[Ident, str]]] = {}
        self._reported: dict[str, tuple[int, list[tuple[str, Any]]]] = {}

    # ---- time ----------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock()

    def snapshot_time(self) -> float:
        return math.floor(self.now() / SNAPSHOT_S) * SNAPSHOT_S

    def lastseen(self, ident: Ident, t: float) -> int | None:
        """Microseconds of the newest reading, or None for an identity that never connected."""
        if not ident.connected_ever or ident.device is None:
            return None
        return int(self.world.last_time(ident.device, t)) * 1_000_000

    def online(self, ident: Ident) -> bool:
        dev = ident.device
        return bool(dev is not None and dev.online and ident.connected_ever and not ident.locked)

    def dirty(self) -> None:
        self._order_at = None
        self._rows.clear()

    def order(self) -> tuple[list[Ident], list[int], float]:
        """Identities by lastseen descending (ties by identity), with the sort keys."""
        t = self.snapshot_time()
        if self._order_at != t:
            keyed = sorted(((-(self.lastseen(i, t) or 0), i.identity, i) for i in self.idents.values()), key=lambda x: (x[0], x[1]))
            self._order = [x[2] for x in keyed]
            self._keys = [x[0] for x in keyed]
            self._order_at = t
        return self._order, self._keys, t

    def get(self, identity: Any) -> Ident:
        if not isinstance(identity, str) or not identity:
            raise ApiError(400, "identity is required")
        found = self.idents.get(identity)
        if found is None:
            raise ApiError(404, f"identity '{identity}' does not exist")
        return found

    # ---- views -----------------------------------------------------------------------------

    def state(self, ident: Ident, t: float) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        ls = self.lastseen(ident, t)
        if ls is not None and ident.device is not None:
            for key, v in self.reported(ident, ls):
                out[key] = {"reported": v, "set": v, "timestamp": ls}
        for alias, (v, when) in ident.sets.items():
            entry = out.setdefault(alias, {})
            entry["set"] = v
            entry["timestamp"] = int(when * 1_000_000)
        return out

    def view(self, ident: Ident, t: float) -> dict[str, Any]:
        ls = self.lastseen(ident, t)
        auth: dict[str, Any] = {"type": ident.auth_type}
        if ident.expire is not None:
            auth["expire"] = ident.expire
        d: dict[str, Any] = {
            "identity": ident.identity,
            "auth": auth,
            "locked": ident.locked,
            "status": ident.status,
            "online": self.online(ident),
            "tags": [{"name": n, "value": v} for n, v in ident.tags],
            "state": self.state(ident, t),
        }
        if ls is not None and ident.device is not None:
            d["lastseen"] = ls
            d["lastip"] = ident.device.ip
        return d

    def view_json(self, ident: Ident, t: float) -> str:
        """`view()` as compact JSON, the very text JSONResponse would send for it.

        A page of `listIdentities` is 2,000 of these: building each as nested dicts and
        encoding them took most of the gateway's time on a 30,000-identity listing. The
        common identity (no cloud-set values, no expiry) is written straight as text;
        any other goes through `view()`.
        """
        if ident.sets or ident.expire is not None:
            return _dumps(self.view(ident, t))
        ls = self.lastseen(ident, t)
        dev = ident.device
        tags = ",".join(f'{{"name":{_js(n)},"value":{_js(v)}}}' for n, v in ident.tags)
        head = (
            f'{{"identity":{_js(ident.identity)},"auth":{{"type":{_js(ident.auth_type)}}},'
            f'"locked":{"true" if ident.locked else "false"},"status":{_js(ident.status)},'
            f'"online":{"true" if self.online(ident) else "false"},"tags":[{tags}],"state":{{'
        )
        if ls is None or dev is None:
            return head + "}}"
        stamp = f',"timestamp":{ls}}}'
        state = ",".join(
            f'{_js(key)}:{{"reported":{j},"set":{j}{stamp}' for key, j in ((k, _jv(v)) for k, v in self.reported(ident, ls))
        )
        return f'{head}{state}}},"lastseen":{ls},"lastip":{_js(dev.ip)}}}'

    def reported(self, ident: Ident, ls: int) -> list[tuple[str, Any]]:
        """The device's values at lastseen `ls` (µs), by resource alias."""
        cached = self._reported.get(ident.identity)
        if cached is None or cached[0] != ls:
            # reported values depend only on (device, lastseen): computed once per new reading
            dev = ident.device
            assert dev is not None
            at = ls / 1_000_000
            cached = (ls, [(m.key, self.world.value(dev, m, at)) for m in _MODEL_METRICS[dev.model]])  # type: ignore[arg-type]
            self._reported[ident.identity] = cached
        return cached[1]

    # ---- filters ---------------------------------------------------------------------------

    def matcher(self, p: dict[str, Any], t: float) -> Callable[[Ident], bool] | None:
        """A predicate for the documented identity filters, or None when there is none."""
        tests: list[Callable[[Ident], bool]] = []
        status = p.get("status")
        if status not in (None, "", []):
            wanted = {s.strip() for s in (status.split(",") if isinstance(status, str) else status) if str(s).strip()}
            bad = wanted - set(STATUSES) - {"online", "offline"}
            if bad:
                raise ApiError(400, f"unknown status {', '.join(sorted(bad))}")
            tests.append(
                lambda i: i.status in wanted
                or ("online" in wanted and self.online(i))
                or ("offline" in wanted and not self.online(i))
            )
        pattern = p.get("identity")
        if pattern not in (None, ""):
            try:
                rx = re.compile(str(pattern))
            except re.error as e:
                raise ApiError(400, f"identity is not a valid regular expression: {e}") from None
            tests.append(lambda i: rx.search(i.identity) is not None)
        ip = p.get("ipaddress")
        if ip not in (None, ""):
            tests.append(lambda i: i.device is not None and i.connected_ever and i.device.ip == ip)
        tag = p.get("tag") if isinstance(p.get("tag"), dict) else {}
        tag_name = p.get("tag.name", tag.get("name"))
        tag_value = p.get("tag.value", tag.get("value"))
        criteria = p.get("tags")
        if tag_value is not None and not tag_name:
            raise ApiError(400, "tag.value needs tag.name")
        if criteria not in (None, "", []) and tag_name:
            raise ApiError(400, "use either tags or tag.name/tag.value, not both")
        if tag_name:
            if tag_value is None:
                tests.append(lambda i: any(n == tag_name for n, _ in i.tags))
            else:
                tests.append(lambda i: (tag_name, str(tag_value)) in i.tags)
        if criteria not in (None, "", []):
            for name, op, value in _criteria(criteria):
                tests.append(_tag_test(name, op, value))
        before, after = _micro(p, "before"), _micro(p, "after")
        if before is not None:
            tests.append(lambda i: (self.lastseen(i, t) or 0) < before)
        if after is not None:
            tests.append(lambda i: (self.lastseen(i, t) or 0) > after)
        if not tests:
            return None
        return lambda i: all(f(i) for f in tests)


def _micro(p: dict[str, Any], key: str) -> int | None:
    v = p.get(key)
    if v in (None, ""):
        return None
    try:
        return int(float(v))
    except (TypeError, ValueError):
        raise ApiError(400, f"{key} must be a number (epoch microseconds)") from None


def _criteria(raw: Any) -> list[tuple[str, str, str]]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ApiError(400, "tags must be a JSON array of {name, operator, value}") from None
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ApiError(400, "tags must be a JSON array of {name, operator, value}")
    out = []
    for c in raw:
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) or "value" not in c:
            raise ApiError(400, "each tags criterion needs name, operator and value")
        op = str(c.get("operator", "eq")).lower()
        if op not in TAG_OPS:
            raise ApiError(400, f"unknown tag operator '{op}' (known: {', '.join(TAG_OPS)})")
        out.append((c["name"], op, str(c["value"])))
    return out


def _tag_test(name: str, op: str, value: str) -> Callable[[Ident], bool]:
    cmp = TAG_OPS[op]
    # Strings compare alphabetically, as documented; an identity matches when one of its values does.
    return lambda i: any(n == name and cmp(v, value) for n, v in i.tags)


def _int_arg(p: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    v = p.get(key)
    if v in (None, ""):
        return default
    try:
        n = int(v)
    except (TypeError, ValueError):
        raise ApiError(400, f"{key} must be an integer") from None
    if isinstance(v, float) and not v.is_integer():
        raise ApiError(400, f"{key} must be an integer")
    if not lo <= n <= hi:
        raise ApiError(400, f"{key} must be between {lo} and {hi}")
    return n


def _bool_arg(p: dict[str, Any], key: str, default: bool = False) -> bool:
    v = p.get(key, default)
    if isinstance(v, str):
        return v.lower() == "true"
    return bool(v)


def _list_arg(p: dict[str, Any], key: str) -> list[str] | None:
    v = p.get(key)
    if v in (None, "", []):
        return None
    if isinstance(v, str):
        return [x.strip() for x in v.split(",") if x.strip()]
    if isinstance(v, list):
        return [str(x) for x in v]
    raise ApiError(400, f"{key} must be a list")


# ---- operations ---------------------------------------------------------------------------


def op_list_identities(sim: MuranoSim, p: dict[str, Any]) -> Response:
    limit = _int_arg(p, "limit", LIST_DEFAULT, 1, LIST_MAX)
    offset = _int_arg(p, "offset", 0, 0, 10**12)
    for o in p.get("order") or []:
        if str(o) not in ("lastseen", "lastseen.desc"):
            raise ApiError(400, f"order '{o}' is not supported by this gateway (lastseen.desc only)")
    order, keys, t = sim.order()
    before, after = _micro(p, "before"), _micro(p, "after")
    # keys are -lastseen ascending: "lastseen < before" starts after -before, "> after" ends before -after
    lo = bisect.bisect_right(keys, -before) if before is not None else 0
    hi = bisect.bisect_left(keys, -after) if after is not None else len(keys)
    test = sim.matcher({k: v for k, v in p.items() if k not in ("before", "after")}, t)
    picked: list[Ident] = []
    skipped = 0
    more = False
    for k in range(lo, hi):
        ident = order[k]
        if test is not None and not test(ident):
            continue
        if skipped < offset:
            skipped += 1
            continue
        if len(picked) == limit:
            more = True
            break
        picked.append(ident)
    devices = ",".join([sim.view_json(i, t) for i in picked])
    body = f'{{"devices":[{devices}],"mayLoadMore":{"true" if more else "false"}}}'
    return Response(body.encode(), media_type="application/json")


def op_count_identities(sim: MuranoSim, p: dict[str, Any]) -> dict[str, Any]:
    order, _, t = sim.order()
    test = sim.matcher(p, t)
    return {"count": len(order) if test is None else sum(1 for i in order if test(i))}


def op_get_identity(sim: MuranoSim, p: dict[str, Any]) -> dict[str, Any]:
    return sim.view(sim.get(p.get("identity")), sim.snapshot_time())


def op_get_identity_state(sim: MuranoSim, p: dict[str, Any]) -> dict[str, Any]:
    return sim.state(sim.get(p.get("identity")), sim.snapshot_time())


def op_add_identity(sim: MuranoSim, p: dict[str, Any]) -> None:
    identity = p.get("identity")
    if not isinstance(identity, str) or not _IDENTITY_RE.match(identity):
        raise ApiError(400, "identity must be 1-128 characters of letters, digits, '_', '-', '.', ':'")
    if identity in sim.idents:
        raise ApiError(409, f"identity '{identity}' already exists")
    auth = p.get("auth") or {}
    if not isinstance(auth, dict):
        raise ApiError(400, "auth must be an object")
    atype = auth.get("type", "token")
    if atype not in ("certificate", "password", "token"):
        raise ApiError(400, "auth.type must be certificate, password or token")
    locked = p.get("locked", False)
    if not isinstance(locked, bool):
        raise ApiError(400, "locked must be a boolean")
    base = "provisioned" if auth.get("key") else "whitelisted"
    sim.idents[identity] = Ident(identity, None, base, locked, [], auth_type=atype, expire=auth.get("expire"))
    sim.dirty()


def _remove(sim: MuranoSim, ident: Ident) -> None:
    for n, _ in ident.tags:
        sim.tag_names[n] -= 1
    del sim.idents[ident.identity]


def op_remove_identity(sim: MuranoSim, p: dict[str, Any]) -> Response:
    _remove(sim, sim.get(p.get("identity")))
    sim.dirty()
    return Response(status_code=205)


def op_remove_identities(sim: MuranoSim, p: dict[str, Any]) -> None:
    names = _list_arg(p, "identities")
    if not names:
        raise ApiError(400, "identities is required (a ',' separated list)")
    for n in names:
        found = sim.idents.get(n)
        if found is not None:
            _remove(sim, found)
    sim.dirty()


def op_update_identity(sim: MuranoSim, p: dict[str, Any]) -> None:
    ident = sim.get(p.get("identity"))
    if "locked" in p and not isinstance(p["locked"], bool):
        raise ApiError(400, "locked must be a boolean")
    auth = p.get("auth")
    if auth is not None and not isinstance(auth, dict):
        raise ApiError(400, "auth must be an object")
    if "locked" in p:
        ident.locked = p["locked"]
    if auth:
        if "expire" in auth:
            ident.expire = auth["expire"]
            if auth["expire"] == 0:  # revoked: a provisioned identity must provision again
                ident.base = "reprovision" if ident.base == "provisioned" else "expired"
        if auth.get("type") in ("certificate", "password", "token"):
            ident.auth_type = auth["type"]


def _set_state(sim: MuranoSim, ident: Ident, values: dict[str, Any]) -> None:
    checked = {}
    for alias, value in values.items():
        if alias not in RESOURCES:
            raise ApiError(400, f"no resource '{alias}' is defined")
        if not RESOURCES[alias].writable:
            raise ApiError(409, f"resource '{alias}' is not settable")
        checked[alias] = _check_value(alias, value)
    when = sim.now()
    for alias, value in checked.items():
        ident.sets[alias] = (value, when)


def op_set_identity_state(sim: MuranoSim, p: dict[str, Any]) -> None:
    ident = sim.get(p.get("identity"))
    values = {k: v for k, v in p.items() if k not in ("identity", "simulate")}
    if not values:
        raise ApiError(400, "nothing to set: give resource=value pairs")
    _set_state(sim, ident, values)


def _tags_arg(p: dict[str, Any], key: str = "tags") -> list[tuple[str, str]]:
    tags = p.get(key)
    if isinstance(tags, dict):
        tags = [tags]
    if not isinstance(tags, list) or not tags:
        raise ApiError(400, f"{key} must be a non-empty array of {{name, value}}")
    out = []
    for t in tags:
        if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not t["name"]:
            raise ApiError(400, "each tag needs a name")
        value = t.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ApiError(400, f"tag '{t['name']}' needs a string value")
        if len(t["name"].encode()) > 128 or len(value.encode()) > 4096:
            raise ApiError(400, "tag names are at most 128 bytes and values at most 4096 bytes")
        out.append((t["name"], value))
    return out


def _add_tags(sim: MuranoSim, ident: Ident, tags: list[tuple[str, str]], replace: bool) -> None:
    if replace:
        names = {n for n, _ in tags}
        for n, _ in ident.tags:
            if n in names:
                sim.tag_names[n] -= 1
        ident.tags = [(n, v) for n, v in ident.tags if n not in names]
    for pair in tags:
        if pair not in ident.tags:
            ident.tags.append(pair)
            sim.tag_names[pair[0]] += 1


def _remove_tags(sim: MuranoSim, ident: Ident, name: str, values: list[str] | None) -> None:
    kept = []
    for n, v in ident.tags:
        if n == name and (values is None or v in values):
            sim.tag_names[n] -= 1
        else:
            kept.append((n, v))
    ident.tags = kept


def op_add_identity_tag(sim: MuranoSim, p: dict[str, Any]) -> None:
    ident = sim.get(p.get("identity"))
    _add_tags(sim, ident, _tags_arg(p), _bool_arg(p, "replace"))


def op_remove_identity_tag(sim: MuranoSim, p: dict[str, Any]) -> None:
    ident = sim.get(p.get("identity"))
    name = p.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "name is required")
    _remove_tags(sim, ident, name, _list_arg(p, "value"))


def op_get_identity_tag(sim: MuranoSim, p: dict[str, Any]) -> list[str]:
    ident = sim.get(p.get("identity"))
    name = p.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "name is required")
    return [v for n, v in ident.tags if n == name]


def op_list_tag_names(sim: MuranoSim, p: dict[str, Any]) -> list[str]:
    return sorted(n for n, c in sim.tag_names.items() if c > 0)


def op_update_identities(sim: MuranoSim, p: dict[str, Any]) -> None:
    order, _, t = sim.order()
    test = sim.matcher({k: v for k, v in p.items() if k not in ("add", "remove", "update")}, t)
    add = (p.get("add") or {}).get("tags") if isinstance(p.get("add"), dict) else None
    remove = (p.get("remove") or {}).get("tags") if isinstance(p.get("remove"), dict) else None
    state = (p.get("update") or {}).get("state") if isinstance(p.get("update"), dict) else None
    if add is None and remove is None and state is None:
        raise ApiError(400, "give add.tags, remove.tags or update.state")
    add_tags = _tags_arg({"tags": add}) if add is not None else []
    remove_tags: list[tuple[str, str | None]] = []
    for r in as_items(remove):
        if not isinstance(r, dict) or not isinstance(r.get("name"), str):
            raise ApiError(400, "remove.tags needs objects with a name")
        remove_tags.append((r["name"], None if r.get("value") is None else str(r["value"])))
    if state is not None and not isinstance(state, dict):
        raise ApiError(400, "update.state must be an object")
    targets = [i for i in order if test is None or test(i)]
    if state:
        for alias in state:  # refuse the whole update before changing anything
            if alias not in RESOURCES:
                raise ApiError(400, f"no resource '{alias}' is defined")
            if not RESOURCES[alias].writable:
                raise ApiError(409, f"resource '{alias}' is not settable")
    for ident in targets:
        if add_tags:
            _add_tags(sim, ident, add_tags, False)
        for name, value in remove_tags:
            _remove_tags(sim, ident, name, None if value is None else [value])
        if state:
            _set_state(sim, ident, state)


def as_items(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def op_resource_list(sim: MuranoSim, p: dict[str, Any]) -> dict[str, Any]:
    return {alias: resource_definition(m) for alias, m in RESOURCES.items()}


def op_resource(sim: MuranoSim, p: dict[str, Any]) -> dict[str, Any]:
    alias = p.get("alias")
    if not isinstance(alias, str) or not alias:
        raise ApiError(400, "alias is required")
    if alias not in RESOURCES:
        raise ApiError(404, f"resource '{alias}' does not exist")
    return resource_definition(RESOURCES[alias])


# ---- signals --------------------------------------------------------------------------------


def _window(sim: MuranoSim, p: dict[str, Any]) -> tuple[float, float, str]:
    epoch = p.get("epoch", "us")
    if epoch not in EPOCHS:
        raise ApiError(400, "epoch must be s, ms or us")
    now = sim.now()
    out = []
    for key, default in (("start_time", now - 7 * 86400), ("end_time", now)):
        v = p.get(key)
        if v in (None, ""):
            out.append(default)
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ApiError(400, f"{key} must be a UNIX time in seconds") from None
        if not 1_000_000_000 <= f <= 9_999_999_999:
            raise ApiError(400, f"{key} must be a UNIX time in seconds (1000000000..9999999999)")
        out.append(f)
    start, end = out
    return start, min(end, now + 1e-6), epoch


def _times(sim: MuranoSim, dev: Device, start: float, end: float) -> tuple[int, int, int]:
    """(first, count, interval) of the device's reading grid in [start, end)."""
    w = sim.world
    first = math.ceil((max(start, dev.created) - dev.phase) / dev.interval) * dev.interval + dev.phase
    last = w.last_time(dev, end)
    if last >= end:
        last -= dev.interval
    count = 0 if last < first else int((last - first) // dev.interval) + 1
    return int(first), count, dev.interval


def _signal_target(sim: MuranoSim, p: dict[str, Any], key: str = "signal") -> tuple[Ident, str]:
    ident_name = p.get("identity")
    if not isinstance(ident_name, str) or not ident_name:
        raise ApiError(400, "identity is required")
    signal = p.get(key)
    if not isinstance(signal, str) or not signal:
        raise ApiError(400, f"{key} is required")
    ident = sim.idents.get(ident_name)
    if ident is None:
        raise ApiError(404, f"identity '{ident_name}' does not exist")
    return ident, signal


def _metric_of(ident: Ident, signal: str) -> MetricSpec | None:
    if ident.device is None or not ident.connected_ever:
        return None
    for m in _MODEL_METRICS[ident.device.model]:
        if m.key == signal:
            return m  # type: ignore[return-value]
    return None


def _ts(t: float, epoch: str) -> int:
    return int(t * EPOCHS[epoch])


def _q(p: dict[str, Any], epoch: str, limit: int, page: int, **extra: Any) -> dict[str, Any]:
    q = {"epoch": epoch, "limit": limit, "page": page, "sort": p.get("sort", "report"), "order": p.get("order", "desc")}
    for k in ("start_time", "end_time"):
        if p.get(k) not in (None, ""):
            q[k] = p[k]
    q.update(extra)
    return q


def _page(p: dict[str, Any], default: int, maximum: int) -> tuple[int, int, bool]:
    limit = _int_arg(p, "limit", default, 1, maximum)
    page = _int_arg(p, "page", 1, 1, 999_999_999_999_999)
    order = p.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ApiError(400, "order must be asc or desc")
    return limit, page, order == "desc"


def _slice(count: int, limit: int, page: int, desc: bool) -> range:
    lo = (page - 1) * limit
    hi = min(count, lo + limit)
    if lo >= count:
        return range(0)
    return range(count - 1 - lo, count - 1 - hi, -1) if desc else range(lo, hi)


def op_query_signal(sim: MuranoSim, p: dict[str, Any]) -> dict[str, Any]:
    ident, signal = _signal_target(sim, p)
    start, end, epoch = _window(sim, p)
    limit, page, desc = _page(p, SIGNAL_DEFAULT, SIGNAL_MAX)
    metric = _metric_of(ident, signal)
    data: list[dict[str, Any]] = []
    total = 0
    if metric is not None and ident.device is not None:
        first, total, step = _times(sim, ident.device, start, end)
        for k in _slice(total, limit, page, desc):
            t = first + k * step
            data.append({"timestamp": _ts(t, epoch), "value": sim.world.value(ident.device, metric, t)})
    q = _q(p, epoch, limit, page, signals=[signal], identities=[ident.identity])
    return {"q": q, "data": data, "total": total}


def op_query_signals(sim: MuranoSim, p: dict[str, Any]) -> dict[str, Any]:
    ident_name = p.get("identity")
    if not isinstance(ident_name, str) or not ident_name:
        raise ApiError(400, "identity is required")
    ident = sim.idents.get(ident_name)
    if ident is None:
        raise ApiError(404, f"identity '{ident_name}' does not exist")
    signals = _list_arg(p, "signals")
    if not signals:
        raise ApiError(400, "signals is required")
    start, end, epoch = _window(sim, p)
    limit, page, desc = _page(p, SIGNAL_DEFAULT, SIGNAL_MAX)
    metrics = [m for m in (_metric_of(ident, s) for s in signals) if m is not None]
    data: list[dict[str, Any]] = []
    total = 0
    if metrics and ident.device is not None:
        # every resource of a device reports on the same grid: one merged row per time
        first, total, step = _times(sim, ident.device, start, end)
        for k in _slice(total, limit, page, desc):
            t = first + k * step
            values = {m.key: sim.world.value(ident.device, m, t) for m in metrics}
            data.append({"timestamp": _ts(t, epoch), "values": values})
    q = _q(p, epoch, limit, page, signals=signals, identities=[ident.identity])
    return {"q": q, "data": data, "total": total}


def op_aggrquery_signal(sim: MuranoSim, p: dict[str, Any]) -> dict[str, Any]:
    ident, signal = _signal_target(sim, p)
    bucket = p.get("bucket")
    if bucket not in BUCKETS:
        raise ApiError(400, "bucket must be 1m, 5m or 1h")
    fields = _list_arg(p, "fields") or list(AGG_FIELDS)
    bad = [f for f in fields if f not in AGG_FIELDS]
    if bad:
        raise ApiError(400, f"unknown fields {', '.join(bad)} (known: {', '.join(AGG_FIELDS)})")
    start, end, epoch = _window(sim, p)
    limit, page, desc = _page(p, SIGNAL_DEFAULT, SIGNAL_MAX)
    size = BUCKETS[bucket]
    metric = _metric_of(ident, signal)
    groups: dict[int, list[float]] = {}
    if metric is not None and ident.device is not None:
        first, total, step = _times(sim, ident.device, start, end)
        for k in range(total):
            t = first + k * step
            v = sim.world.value(ident.device, metric, t)
            groups.setdefault(int(t // size) * size, []).append(float(v))
    keys = sorted(groups)
    data = []
    for k in _slice(len(keys), limit, page, desc):
        vals = groups[keys[k]]
        figures = {"count": len(vals), "max": max(vals), "min": min(vals), "sum": round(sum(vals), 6)}
        data.append({"timestamp": _ts(keys[k], epoch), **{f: figures[f] for f in fields}})
    q = _q(p, epoch, limit, page, bucket=bucket, fields=fields, signals=[signal], identities=[ident.identity])
    return {"q": q, "data": data, "total": len(keys)}


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def op_latest_signals(sim: MuranoSim, p: dict[str, Any]) -> dict[str, Any]:
    limit = _int_arg(p, "limit", LATEST_DEFAULT, 1, LATEST_MAX)
    page = _int_arg(p, "page", 1, 1, 999_999_999_999_999)
    sort_key = p.get("sort_key", "identity")
    if sort_key not in ("identity", "signal"):
        raise ApiError(400, "sort_key must be identity or signal")
    reverse = _bool_arg(p, "reverse")
    identities = _list_arg(p, "identities")
    signals = _list_arg(p, "signals")
    _, _, t = sim.order()
    if identities is not None:
        named = sorted((sim.idents[n] for n in set(identities) if n in sim.idents), key=lambda i: i.identity)
        rows = [(i, m.key) for i in named if i.connected_ever and i.device is not None for m in _MODEL_METRICS[i.device.model]]
        if sort_key == "signal":
            rows.sort(key=lambda r: r[1])
    else:
        rows = _all_rows(sim, sort_key)
    if signals is not None:
        wanted = set(signals)
        rows = [r for r in rows if r[1] in wanted]
    total = len(rows)
    lo = (page - 1) * limit
    idx = range(total - 1 - lo, max(-1, total - 1 - lo - limit), -1) if reverse else range(lo, min(total, lo + limit))
    data = []
    for k in idx:
        ident, alias = rows[k]
        dev = ident.device
        assert dev is not None
        at = sim.world.last_time(dev, t)
        value = sim.world.value(dev, _FAST[alias], at)  # type: ignore[arg-type]
        data.append(
            {
                "identity": ident.identity,
                "resource": alias,
                "signal_id": f"{ident.identity}.{alias}",
                "signal_name": alias,
                "last_value": json.dumps(value) if isinstance(value, bool) else str(value),
                "last_update": _iso(at),
                "last_insert": _iso(at + 1.5),
            }
        )
    q = {"page": page, "limit": limit, "reverse": reverse, "sort_key": sort_key, "signals": signals or [], "identities": identities or []}
    return {"q": q, "data": data, "total": total}


def _all_rows(sim: MuranoSim, sort_key: str) -> list[tuple[Ident, str]]:
    rows = sim._rows.get(sort_key)
    if rows is None:
        ids = sorted((i for i in sim.idents.values() if i.connected_ever and i.device is not None), key=lambda i: i.identity)
        rows = [(i, m.key) for i in ids for m in _MODEL_METRICS[i.device.model]]  # type: ignore[union-attr]
        if sort_key == "signal":
            rows.sort(key=lambda r: r[1])  # stable: identities stay in order within a signal
        sim._rows[sort_key] = rows
    return rows


_METRIC_NAMES = (
    "connected", "connection", "disconnection", "deleted", "whitelisted", "provisioned", "expired",
    "locked", "reprovision", "publish_count", "publish_size", "publish_resource_count", "connection_error",
)


def op_device_metrics(sim: MuranoSim, p: dict[str, Any]) -> list[dict[str, Any]]:
    window = p.get("aggregate_window", "1h")
    if window not in BUCKETS:
        raise ApiError(400, "aggregate_window must be 1m, 5m or 1h")
    fn = p.get("aggregate_fn", "count")
    if fn not in ("count", "max", "min", "sum", "avg"):
        raise ApiError(400, "aggregate_fn must be count, max, min, sum or avg")
    name = p.get("metric_name", "connected")
    if name not in _METRIC_NAMES:
        raise ApiError(400, f"unknown metric_name '{name}'")
    limit = _int_arg(p, "limit", 200, 1, 2000)
    offset = _int_arg(p, "offset", 0, 0, 10**12)
    now = sim.now()
    end = _int_arg(p, "end_time", int(now), 1_000_000_000, 9_999_999_999)
    start = _int_arg(p, "start_time", end - 3600, 1_000_000_000, 9_999_999_999)
    size = BUCKETS[window]
    idents = list(sim.idents.values())
    offline_at = sorted(i.device.offline_since for i in idents if i.device is not None and i.device.offline_since is not None)  # type: ignore[misc]
    connected = [i for i in idents if i.connected_ever and not i.locked]
    rate = sum(len(_MODEL_METRICS[i.device.model]) / i.device.interval for i in connected if i.device is not None)
    counts = Counter(i.status for i in idents)
    out = []
    b = (start // size) * size
    while b < end:
        online = len(connected) - bisect.bisect_right(offline_at, b)
        if name == "connected":
            v: float = online
        elif name in counts or name in STATUSES:
            v = counts.get(name, 0)
        elif name in ("publish_count", "publish_resource_count"):
            v = round(rate * size) if name == "publish_resource_count" else round(rate * size / 4)
        elif name == "publish_size":
            v = round(rate * size * 24)
        else:  # connection, disconnection, connection_error, deleted: a few per window, seeded
            v = mix(sim.world.seed, 131, b, len(name)) % (3 + online // 500)
        out.append({"time": _iso(b), "value": v})
        b += size
    return out[offset: offset + limit]


# Read-only operations whose answer for a big fleet is long to write: run off the event loop.
LONG_READS = frozenset({"listIdentities"})
OPERATIONS: dict[str, Callable[[MuranoSim, dict[str, Any]], Any]] = {
    "listIdentities": op_list_identities,
    "countIdentities": op_count_identities,
    "getIdentity": op_get_identity,
    "addIdentity": op_add_identity,
    "removeIdentity": op_remove_identity,
    "removeIdentities": op_remove_identities,
    "updateIdentity": op_update_identity,
    "updateIdentities": op_update_identities,
    "getIdentityState": op_get_identity_state,
    "setIdentityState": op_set_identity_state,
    "addIdentityTag": op_add_identity_tag,
    "removeIdentityTag": op_remove_identity_tag,
    "getIdentityTag": op_get_identity_tag,
    "listTagNames": op_list_tag_names,
    "latestSignalsSearch": op_latest_signals,
    "querySignal": op_query_signal,
    "querySignals": op_query_signals,
    "aggrquerySignal": op_aggrquery_signal,
    "getGatewayResourceList": op_resource_list,
    "getGatewayResource": op_resource,
    "getDeviceMetrics": op_device_metrics,
}


# ---- the app --------------------------------------------------------------------------------


def _bizerror(status: int, message: str) -> JSONResponse:
    return JSONResponse({"statusCode": status, "message": message}, status_code=status)


def create_app(
    world: World,
    *,
    faults: Faults | None = None,
    secret: str = DEMO_SECRET,
    email: str = DEMO_EMAIL,
    solution_id: str = DEMO_SOLUTION,
    now: Callable[[], float] | float | None = None,
    twofactor: bool = False,
    token_ttl: float = TOKEN_TTL_S,
) -> Any:
    """The business API of one solution whose Device2 gateway holds the world's murano devices.

    `app.state.sim` is the gateway (tests inspect it); `app.state.revoke_tokens()` forgets
    every issued token, as an expiry would; `app.state.logins` counts successful logins.
    """
    sim = MuranoSim(world, sim_clock(now))
    tokens: dict[str, float] = {}
    counter = [0]
    key = hashlib.sha256(f"murano:{secret}:{world.seed}".encode()).digest()

    async def body_of(request: Request) -> dict[str, Any] | None:
        raw = await request.body()
        if not raw:
            return {}
        try:
            parsed = json.loads(raw)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def authorized(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme != "token" or not token:
            return False
        expiry = tokens.get(token.strip())
        return expiry is not None and expiry > time.time()

    async def login(request: Request) -> Response:
        body = await body_of(request)
        if body is None:
            return _bizerror(400, "body must be a JSON object {email, password}")
        given_email, given_pw = body.get("email"), body.get("password")
        if not isinstance(given_email, str) or not isinstance(given_pw, str):
            return _bizerror(400, "email and password are required")
        ok = hmac.compare_digest(given_email.lower(), email.lower()) & hmac.compare_digest(given_pw.encode(), secret.encode())
        if not ok:
            return _bizerror(401, "invalid email or password")
        if twofactor:
            return JSONResponse({"message": "twofactor"}, status_code=409)
        counter[0] += 1
        token = hmac.new(key, str(counter[0]).encode(), hashlib.sha256).hexdigest()[:40]
        tokens[token] = time.time() + token_ttl
        app.state.logins += 1
        return JSONResponse({"token": token})

    async def token_info(request: Request) -> Response:
        expiry = tokens.get(request.path_params["token"])
        if expiry is None or expiry <= time.time():
            return _bizerror(404, "token not found")
        return JSONResponse({"email": email, "ttl": int(expiry - time.time())})

    def guard(request: Request) -> Response | None:
        if not authorized(request):
            return _bizerror(401, "a valid 'Authorization: token <token>' header is required")
        if request.path_params["sid"] != solution_id:
            return _bizerror(404, f"solution '{request.path_params['sid']}' not found")
        return None

    def service_config() -> dict[str, Any]:
        return {
            "id": SERVICE_ID,
            "solution_id": solution_id,
            "service": "device2",
            "script_key": "device2",
            "parameters": {
                "fqdn": f"{solution_id}.m2.exosite.io",
                "identity_format": {"type": "opaque"},
                "provisioning": {"enabled": True, "auth_type": "token", "presenter_identity": True},
            },
        }

    async def configs(request: Request) -> Response:
        denied = guard(request)
        if denied is not None:
            return denied
        return JSONResponse({"items": [service_config()], "total": 1})

    async def config(request: Request) -> Response:
        denied = guard(request)
        if denied is not None:
            return denied
        name = request.path_params["name"]
        if name not in ("device2", SERVICE_ID):
            return _bizerror(404, f"service config '{name}' not found")
        return JSONResponse(service_config())

    async def call(request: Request) -> Response:
        denied = guard(request)
        if denied is not None:
            return denied
        if request.path_params["cid"] != SERVICE_ID:
            return _bizerror(404, f"service config '{request.path_params['cid']}' not found")
        operation = OPERATIONS.get(request.path_params["op"])
        if operation is None:
            return JSONResponse({"code": 404, "message": f"unknown operation '{request.path_params['op']}'"}, status_code=404)
        if request.method == "GET":
            params: dict[str, Any] | None = dict(request.query_params)
        else:
            params = await body_of(request)
        if params is None:
            return JSONResponse({"code": 400, "message": "parameters must be a JSON object"}, status_code=400)
        try:
            if request.path_params["op"] in LONG_READS and len(sim.idents) > 2_000:
                # a page of a big fleet is a long synchronous stretch; in process (the demo) it
                # would hold up the event loop the console draws with
                result = await asyncio.to_thread(operation, sim, params)
            else:
                result = operation(sim, params)
        except ApiError as e:
            return JSONResponse({"code": e.status, "message": e.message}, status_code=e.status)
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status_code=204)
        return JSONResponse(result)

    prefix = "/api:1"
    routes = [
        Route(f"{prefix}/token/", login, methods=["POST"]),
        Route(f"{prefix}/token", login, methods=["POST"]),
        Route(f"{prefix}/token/{{token}}", token_info, methods=["GET"]),
        Route(f"{prefix}/solution/{{sid}}/serviceconfig/", configs, methods=["GET"]),
        Route(f"{prefix}/solution/{{sid}}/serviceconfig/{{name}}", config, methods=["GET"]),
        Route(f"{prefix}/solution/{{sid}}/serviceconfig/{{cid}}/call/{{op}}", call, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.sim = sim
    app.state.logins = 0
    app.state.revoke_tokens = tokens.clear
    wrapped = with_faults(app, faults)
    if wrapped is not app:
        wrapped.state = app.state  # type: ignore[attr-defined]  # tests reach the gateway either way
    return wrapped


def demo_profile(name: str, world: World) -> dict[str, Any]:
    return {
        "vendor": "murano",
        "base_url": "http://murano.demo",
        "username": DEMO_EMAIL,
        "solution_id": DEMO_SOLUTION,
        "group_by_tag": "site",
    }


__all__ = ("DEMO_EMAIL", "DEMO_SECRET", "DEMO_SOLUTION", "SERVICE_ID", "create_app", "demo_profile")
