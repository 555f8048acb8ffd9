"""Haltian Thingsee Open Services API: deployment groups → things → message fields.

Auth is a client id (profile `client_id`) and secret exchanged at `POST
/auth/client-token` for a 15-minute bearer token. `ThingseeAuth` renews it before it
expires (after 12 minutes, counted from just before the request: the token is never
decoded) and once on a 401, single-flight behind an asyncio.Lock, so concurrent
requests share one renewal and a refused renewal never loops.

Tree: groups (`GET /groups/`) → things (`GET /groups/{id}/things`, fetched with bounded
concurrency) → the fields of the thing's newest messages as metrics, named and given
units from the tsmId catalogue (VENDORS.md §2.3). A metric id is `<tuid>:<field>`.

Messages come in no promised order: everything here sorts by `tsmTs`. `latest` reads
a recent window and widens it when it is empty (a thing that last spoke weeks ago still
has a last value); `history` pages back by time (`limit` + `to` = oldest seen) and
aggregates client-side. Alerts are read-only: an ended window is a closed alarm, an
open one an open alarm.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import SecretStr

from tuiot.adapters.base import (
    Adapter,
    AdapterError,
    AuthError,
    Capability,
    Health,
    HttpClient,
    HttpSettings,
    InvalidRequest,
    NotFound,
    NotSupported,
    Unavailable,
    VendorError,
    as_list,
    from_epoch,
    gather_limited,
    gc_paused,
    number,
    off_loop,
    parse_time,
    pick,
    to_epoch,
)
from tuiot.adapters.series import bucketize
from tuiot.domain import (
    Aggregate,
    Alarm,
    AlarmStatus,
    Identity,
    Node,
    Point,
    Reading,
    Series,
    Severity,
    now_utc,
    split_ref,
)
from tuiot.httpx_lean import httpx

if TYPE_CHECKING:
    from tuiot.config import Profile
    from tuiot.credentials import SecretSource

TOKEN_LIFETIME_S = 15 * 60
RENEW_AFTER_S = 12 * 60  # renew with three minutes to spare
ALLOWED_COMMANDS = frozenset({1500, 1501, 12200, 13200})
INSTALLATION_STATUSES = ("new", "installed", "uninstalled", "quarantine", "retired")
UNASSIGNED = "unassigned"
HEADER_FIELDS = frozenset({"tsmId", "tsmEv", "tsmTs", "tsmTuid", "tsmGw", "tsmDstTuid", "deploymentGroupId"})
PAGE = 1_000  # messages per request when paging history
RECENT_LIMIT = 500  # messages per request when looking for the newest values
RECENT_WINDOWS = (timedelta(minutes=30), timedelta(hours=6), timedelta(days=3), timedelta(days=60), None)
MAX_PAGES = 500  # history: stop paging after this many requests
GROUP_CONCURRENCY = 5  # API Gateway throttling is unpublished: stay polite (VENDORS.md §2.4)
# TUID prefixes → product family (Haltian's Thingsee-Toolbox installer constants).
FAMILIES = {
    "TSPD": "environment",
    "TSPR": "presence",
    "TSAR": "air quality",
    "TSLK": "leakage",
    "TSGW": "gateway",
    "TSHA": "hall",
    "TSDI": "distance",
    "TSAN": "angle",
}


@dataclass(frozen=True, slots=True)
class FieldInfo:
    name: str
    unit: str | None
    value_type: str  # float | int | str


def _f(name: str, unit: str | None = None, vt: str = "float") -> FieldInfo:
    return FieldInfo(name, unit, vt)


# tsmId → field → (name, unit, type): the ids a live-values console meets (VENDORS.md §2.3).
CATALOGUE: dict[int, dict[str, FieldInfo]] = {
    1100: {"swVersion": _f("Software version", None, "str"), "modelCode": _f("Model code", None, "str"), "psn": _f("Product serial", None, "str")},
    1110: {"batl": _f("Battery level", "%", "int"), "chrg": _f("Charging", None, "int")},
    1111: {"accx": _f("Acceleration X"), "accy": _f("Acceleration Y"), "accz": _f("Acceleration Z")},
    2100: {"state": _f("Occupancy state", None, "int")},
    3100: {"state": _f("Edge core state", None, "int")},
    12100: {"temp": _f("Temperature", "°C"), "humd": _f("Humidity", "%RH"), "airp": _f("Air pressure", "Pa"), "lght": _f("Light", "lux")},
    13100: {"moveCount": _f("Movement count", "count", "int")},
    13101: {"temp": _f("Presence temperature", "°C")},
    13102: {"count": _f("Occupants", "count", "int"), "duration": _f("Occupancy duration", "s", "int")},
    16100: {"activityLevel": _f("Vibration activity"), "energyLevel": _f("Vibration energy")},
    18100: {"angle": _f("Angle", "°")},
    18101: {"temp": _f("Temperature", "°C")},
    24100: {"carbonDioxide": _f("CO2", "ppm", "int"), "status": _f("CO2 sensor status", None, "int")},
    24101: {"tvoc": _f("TVOC", "ppb", "int"), "status": _f("TVOC sensor status", None, "int")},
}
# The first profile that carries a field names it when the message's own tsmId is unknown.
_BY_FIELD: dict[str, FieldInfo] = {}
_TSM_OF: dict[str, list[int]] = {}
for _tsm, _fields in CATALOGUE.items():
    for _key, _info in _fields.items():
        _BY_FIELD.setdefault(_key, _info)
        _TSM_OF.setdefault(_key, []).append(_tsm)


def field_info(tsm_id: int | None, field: str, value: Any = None) -> FieldInfo:
    info = CATALOGUE.get(tsm_id or -1, {}).get(field) or _BY_FIELD.get(field)
    if info is not None:
        return info
    vt = "int" if isinstance(value, int) and not isinstance(value, bool) else "float" if isinstance(value, float) else "str"
    return FieldInfo(field, None, vt)


def family(tuid: str) -> str | None:
    return FAMILIES.get(tuid[:4].upper())


def check_group_id(group_id: str) -> str:
    """A group id the API accepts, or InvalidRequest saying why not (before any request)."""
    if not isinstance(group_id, str) or not group_id:
        raise InvalidRequest("a group id is required")
    if re.search(r"\s", group_id):
        raise InvalidRequest(f"group id {group_id!r} contains whitespace; Thingsee group ids must not")
    if group_id.lower() == UNASSIGNED:
        raise InvalidRequest('"unassigned" is reserved by Thingsee; choose another group id')
    return group_id


def check_command(cmd: Any) -> dict[str, Any]:
    if not isinstance(cmd, Mapping):
        raise InvalidRequest("a command is a JSON object with tsmId and tsmEv")
    tsm = cmd.get("tsmId")
    ev = cmd.get("tsmEv")
    if isinstance(tsm, bool) or not isinstance(tsm, int):
        raise InvalidRequest("a command needs a numeric tsmId")
    if tsm not in ALLOWED_COMMANDS:
        allowed = ", ".join(str(x) for x in sorted(ALLOWED_COMMANDS))
        raise InvalidRequest(f"tsmId {tsm} cannot be sent: Thingsee accepts commands with tsmId {allowed} only")
    if isinstance(ev, bool) or not isinstance(ev, int):
        raise InvalidRequest("a command needs a numeric tsmEv (e.g. 30, a config request)")
    return dict(cmd)


def _ts(msg: Mapping[str, Any]) -> float:
    n = number(pick(msg, "tsmTs"))
    return float(n) if isinstance(n, (int, float)) and not isinstance(n, bool) else float("-inf")


def _tsm(msg: Mapping[str, Any]) -> int | None:
    n = number(pick(msg, "tsmId"))
    return int(n) if isinstance(n, (int, float)) and not isinstance(n, bool) else None


def _fields(msg: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    for k, v in msg.items():
        if k in HEADER_FIELDS or not isinstance(k, str) or isinstance(v, (dict, list)) or v is None:
            continue
        yield k, v


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "alert"


# ---- auth -----------------------------------------------------------------------------


class ThingseeAuth(httpx.Auth):
    """Bearer token from `/auth/client-token`: proactive renewal and one retry on 401."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        secret: Callable[[], Awaitable[SecretStr]],
        *,
        label: str,
        on_refused: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        renew_after: float = RENEW_AFTER_S,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = secret
        self._label = label
        self._on_refused = on_refused
        self.clock = clock
        self.renew_after = renew_after
        self._token: str | None = None
        self._issued = 0.0
        self._lock = asyncio.Lock()
        self.renewals = 0  # tokens obtained (tests, diagnostics)

    def __repr__(self) -> str:  # never show the token
        return f"ThingseeAuth(client_id={self.client_id!r})"

    def _fresh(self) -> bool:
        return self._token is not None and self.clock() - self._issued < self.renew_after

    async def _token_request(self) -> httpx.Request:
        secret = await self._secret()
        body = json.dumps({"client_id": self.client_id, "client_secret": secret.get_secret_value()}).encode()
        return httpx.Request(
            "POST",
            self.token_url,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            content=body,
        )

    def _accept(self, resp: httpx.Response, issued: float) -> None:
        status = resp.status_code
        if status in (400, 401, 403):
            if self._on_refused is not None:
                self._on_refused()
            raise AuthError(f"{self._label}: client id or secret refused (HTTP {status} from /auth/client-token)")
        if status == 429:  # transient, like a 5xx: the client's retry loop backs off and tries again
            raise Unavailable(f"{self._label}: token request throttled (HTTP 429)")
        if status >= 500:
            raise Unavailable(f"{self._label}: token service failed (HTTP {status})")
        if status >= 300:
            raise VendorError(status, "unexpected answer from /auth/client-token", status)
        try:
            body = json.loads(resp.content)
        except (ValueError, UnicodeDecodeError):
            raise VendorError(None, "malformed token answer from /auth/client-token", status) from None
        data = pick(body, "data") if isinstance(body, dict) else None
        token = pick(data, "token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise VendorError(None, "token answer without data.token", status)
        self._token = token
        self._issued = issued
        self.renewals += 1

    async def _renew(self, stale: str | None) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Yield one token request unless another flow already replaced `stale`."""
        async with self._lock:
            if self._token is not None and self._token != stale and self._fresh():
                return
            issued = self.clock()
            resp = yield await self._token_request()
            await resp.aread()  # an overridden async_auth_flow reads bodies itself
            self._accept(resp, issued)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = self._token
        for replay in (False, True):
            if replay or not self._fresh():
                # Before the first send when the token is old; after a 401 (expired early or
                # revoked) once, then replay once: a second 401 is the answer, never a loop.
                renew = self._renew(token)
                try:  # drive the renewal; closing it in every case releases the lock it may hold
                    sent = await renew.__anext__()
                    while True:
                        sent = await renew.asend((yield sent))
                except StopAsyncIteration:
                    pass
                finally:
                    await renew.aclose()
            token = self._token
            request.headers["Authorization"] = f"Bearer {token}"
            response = yield request
            if response.status_code != 401:
                return

    def sync_auth_flow(self, request: httpx.Request) -> Any:
        raise RuntimeError("ThingseeAuth works with httpx.AsyncClient only")


# ---- the adapter ------------------------------------------------------------------------


def _error_parser(resp: httpx.Response, body: Any) -> AdapterError | None:
    """API Gateway and app errors: `{"message": ...}` or `{"error": ...}` (VENDORS.md §6)."""
    status = resp.status_code
    if not isinstance(body, dict):
        return None
    err = pick(body, "error")
    if status < 400 and (not err or "data" in body):
        return None
    if isinstance(err, dict):
        text = pick(err, "message", "desc", "description", default="") or json.dumps(err)[:200]
        code = pick(err, "code", default=status)
    else:
        text = err if isinstance(err, str) and err else pick(body, "message", default="")
        code = status
    text = " ".join(str(text).split()) or resp.reason_phrase
    if status in (401, 403):
        return AuthError(text)  # the client words it as "credential refused (HTTP 401: …)"
    if status == 404:
        return NotFound(f"thingsee: {text}")
    if status < 400 and not text:
        return None
    return VendorError(code, text, status)


class ThingseeAdapter(Adapter):
    vendor = "thingsee"
    capabilities = frozenset(
        {
            Capability.tree,
            Capability.latest,
            Capability.history,
            Capability.alarms,
            Capability.identities,
            Capability.group_write,
            Capability.commands,
            Capability.installation,
        }
    )

    def __init__(self, profile: Profile, secrets: SecretSource, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(profile, secrets, transport=transport)
        if not profile.base_url:
            raise InvalidRequest(f"profile '{profile.name}': a thingsee profile needs base_url (the API Gateway URL of your deployment)")
        if not profile.client_id:
            raise InvalidRequest(f"profile '{profile.name}': a thingsee profile needs client_id")
        label = f"thingsee '{profile.name}'"
        self.auth = ThingseeAuth(
            f"{profile.base_url.rstrip('/')}/auth/client-token",
            profile.client_id,
            lambda: secrets.get(profile.name),
            label=label,
            on_refused=lambda: secrets.forget(profile.name),
        )
        self.http = HttpClient(
            profile.base_url,
            settings=HttpSettings(timeout=profile.timeout, max_concurrency=profile.max_concurrency),
            auth=self.auth,
            transport=self.transport,
            error_parser=_error_parser,
            label=label,
        )
        self._concurrency = max(1, min(GROUP_CONCURRENCY, profile.max_concurrency))
        self._group_of: dict[str, str] = {}

    @property
    def health(self) -> Health:
        return self.http.health

    async def aclose(self) -> None:
        await self.http.aclose()

    # ---- raw calls --------------------------------------------------------------------

    async def _data(self, method: str, path: str, **kw: Any) -> Any:
        body = await self.http.request(method, path, **kw)
        if isinstance(body, dict) and "data" in body:
            return body["data"]
        if body is None:
            return None
        raise VendorError(None, f"answer from {path} has no data")

    async def _groups(self) -> list[dict[str, Any]]:
        out = []
        for g in as_list(await self._data("GET", "/groups/")):
            if isinstance(g, dict) and pick(g, "group_id", "groupId"):
                out.append(g)
            elif isinstance(g, str) and g:
                out.append({"group_id": g})
        return out

    async def _group_things(self, group_id: str) -> list[dict[str, Any]]:
        out = []
        for t in as_list(await self._data("GET", f"/groups/{quote(group_id, safe='')}/things")):
            if isinstance(t, dict) and pick(t, "tuid"):
                out.append(t)
            elif isinstance(t, str) and t:
                out.append({"tuid": t})
        return out

    async def _alerting(self) -> set[str]:
        data = await self._data("GET", "/things/alerts")
        tuids = pick(data, "alerting_tuids", default=[]) if isinstance(data, dict) else data
        return {str(t) for t in as_list(tuids) if t}

    async def _messages(
        self, tuid: str, *, start: float | None = None, end: float | None = None, limit: int, message_ids: Sequence[int] = ()
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if start is not None:
            params["from"] = int(start)
        if end is not None:
            params["to"] = _epoch_text(end)
        if message_ids:
            params["messageid"] = ",".join(str(m) for m in message_ids)
        data = await self._data("GET", f"/things/{quote(tuid, safe='')}/messages", params=params)
        return [m for m in as_list(data) if isinstance(m, dict)]

    async def _recent(self, tuid: str) -> list[dict[str, Any]]:
        """The thing's newest messages, newest first; the window widens until something is found."""
        now = now_utc().timestamp()
        for window in RECENT_WINDOWS:
            start = None if window is None else now - window.total_seconds()
            msgs = await self._messages(tuid, start=start, limit=RECENT_LIMIT)
            if not msgs:
                continue
            if len(msgs) >= RECENT_LIMIT:
                # A full page may not hold the newest (order and choice are not promised): look after it.
                newest = max(_ts(m) for m in msgs)
                msgs += await self._messages(tuid, start=newest, limit=RECENT_LIMIT)
            msgs.sort(key=_ts, reverse=True)
            return msgs
        return []

    # ---- ids ---------------------------------------------------------------------------

    def tuid_of(self, ref_or_id: str) -> str:
        return ref_or_id.removeprefix(f"{self.name}/device/")

    def split_metric(self, metric: str) -> tuple[str, str]:
        mid = self.metric_id(metric)
        tuid, sep, field = mid.rpartition(":")
        if not sep or not tuid or not field:
            raise InvalidRequest(f"'{metric}' is not a Thingsee metric id (<tuid>:<field>, as `tuiot tree` prints)")
        return tuid, field

    # ---- tree ----------------------------------------------------------------------------

    def _group_node(self, g: Mapping[str, Any]) -> Node:
        gid = str(pick(g, "group_id", "groupId"))
        desc = pick(g, "group_description", "groupDescription", default="") or ""
        return Node(kind="group", id=gid, name=gid, profile=self.name, attrs={"description": desc} if desc else {}, has_children=None)

    def _thing_node(self, t: Mapping[str, Any], group_id: str, alerting: set[str]) -> Node:
        # Keys already lower-case (as the API sends them) are read as they are; anything
        # else through one lower-cased copy. 30,000 things per tree.
        lowered: Mapping[str, Any] = t if t.keys() <= _THING_KEYS else {k.lower(): v for k, v in t.items() if isinstance(k, str)}
        tuid = str(lowered.get("tuid"))
        attrs: dict[str, Any] = {"group": group_id}
        fam = family(tuid)
        if fam:
            attrs["family"] = fam
        for key, name in _THING_ATTRS:
            v = lowered.get(key)
            if v is not None:
                attrs[name] = v
        bad = tuid in alerting
        return Node(
            kind="device",
            id=tuid,
            name=tuid,
            profile=self.name,
            parent=self.ref("group", group_id),
            online=not bad,
            severity=Severity.major if bad else None,
            attrs=attrs,
            has_children=True,
        )

    async def _fleet(self) -> tuple[list[dict[str, Any]], list[tuple[str, list[dict[str, Any]]]], set[str]]:
        """Groups, the things of each (the unassigned ones last), and the alerting TUIDs."""
        # One after the other: a refused credential then fails once, with no sibling left mid-request.
        groups = await self._groups()
        alerting = await self._alerting()
        ids = [str(pick(g, "group_id", "groupId")) for g in groups]
        if UNASSIGNED not in ids:
            ids.append(UNASSIGNED)
        results = await gather_limited((self._group_things(g) for g in ids), self._concurrency)
        members: list[tuple[str, list[dict[str, Any]]]] = []
        for gid, res in zip(ids, results):
            if gid == UNASSIGNED and isinstance(res, (NotFound, VendorError)):
                continue  # not every deployment lists the unassigned things
            if isinstance(res, AdapterError):
                raise res
            members.append((gid, res))
            for t in res:
                self._group_of[str(pick(t, "tuid"))] = gid
        return groups, members, alerting

    def _tree_nodes(self, members: Sequence[tuple[str, Sequence[Any]]], described: Mapping[str, Any],
                    alerting: Any) -> tuple[list[Node], list[Node]]:
        """Group and thing nodes; one synchronous stretch of 30,000 nodes."""
        nodes: list[Node] = []
        things: list[Node] = []
        with gc_paused():
            for gid, items in members:
                if gid == UNASSIGNED and not items:
                    continue
                g = self._group_node(described.get(gid, {"group_id": gid}))
                nodes.append(g.model_copy(update={"has_children": bool(items)}))
                for t in items:
                    node = self._thing_node(t, gid, alerting)
                    nodes.append(node)
                    things.append(node)
        return nodes, things

    async def tree(self, *, depth: str = "metric") -> list[Node]:
        groups, members, alerting = await self._fleet()
        described = {str(pick(g, "group_id", "groupId")): g for g in groups}
        size = sum(len(items) for _, items in members)
        nodes, things = await off_loop(size, self._tree_nodes, members, described, alerting)
        if depth != "metric":
            return nodes
        below = await gather_limited((self._thing_metrics(n.id) for n in things), self._concurrency)
        out: list[Node] = []
        by_thing = {n.ref: res for n, res in zip(things, below)}
        for n in nodes:
            res = by_thing.get(n.ref)
            if res is None:
                out.append(n)
                continue
            if isinstance(res, AdapterError):
                out.append(n.model_copy(update={"attrs": {**n.attrs, "error": str(res)}, "has_children": None}))
                continue
            metrics, extra = res
            out.append(n.model_copy(update={"attrs": {**n.attrs, **extra}, "has_children": bool(metrics)}))
            out.extend(metrics)
        return out

    async def _thing_metrics(self, tuid: str) -> tuple[list[Node], dict[str, Any]]:
        msgs = await self._recent(tuid)
        parent = self.ref("device", tuid)
        seen: dict[str, Node] = {}
        for m in msgs:
            tsm = _tsm(m)
            for key, value in _fields(m):
                if key in seen:
                    continue
                info = field_info(tsm, key, value)
                seen[key] = Node(
                    kind="metric",
                    id=f"{tuid}:{key}",
                    name=info.name,
                    profile=self.name,
                    parent=parent,
                    unit=info.unit,
                    value_type=info.value_type,
                    attrs={"tsmId": tsm, "field": key},
                    has_children=False,
                )
        extra: dict[str, Any] = {}
        if msgs:
            newest = msgs[0]
            extra["lastseen"] = from_epoch(_ts(newest), "s").isoformat()
            gw = pick(newest, "tsmGw")
            if gw:
                extra["gateway"] = gw
        metrics = sorted(seen.values(), key=_display_order)
        return metrics, extra

    async def children(self, ref: str) -> list[Node]:
        profile, kind, id = split_ref(ref)
        if profile != self.name:
            raise InvalidRequest(f"'{ref}' is not a node of profile '{self.name}'")
        if kind == "device":
            metrics, _ = await self._thing_metrics(id)
            return metrics
        if kind == "group":
            alerting = await self._alerting()
            return [self._thing_node(t, id, alerting) for t in await self._group_things(id)]
        return []

    async def thing(self, tuid: str) -> dict[str, Any]:
        """General information of one thing (battery, last event, location, gateway, version)."""
        data = await self._data("GET", f"/things/{quote(self.tuid_of(tuid), safe='')}")
        return data if isinstance(data, dict) else {}

    # ---- latest -----------------------------------------------------------------------------

    async def _tuids_for(self, refs: Sequence[str] | None) -> list[tuple[str, set[str] | None]]:
        """(tuid, only these fields or None for all) for every thing below `refs`."""
        if refs is None:
            _, members, _ = await self._fleet()
            return [(str(pick(t, "tuid")), None) for _, items in members for t in items]
        out: dict[str, set[str] | None] = {}
        for ref in refs:
            if ref.count("/") >= 2 and ref.startswith(f"{self.name}/"):
                _, kind, id = split_ref(ref)
            else:
                kind, id = "device", ref
            if kind == "group":
                for t in await self._group_things(id):
                    out[str(pick(t, "tuid"))] = None
            elif kind == "device":
                out[id] = None
            elif kind == "metric":
                tuid, field = self.split_metric(id)
                if tuid in out and out[tuid] is None:
                    continue
                out.setdefault(tuid, set()).add(field)  # type: ignore[union-attr]
            else:
                raise InvalidRequest(f"'{ref}' is not a group, thing or metric of profile '{self.name}'")
        return list(out.items())

    async def latest(self, refs: Sequence[str] | None = None) -> list[Reading]:
        targets = await self._tuids_for(refs)
        results = await gather_limited((self._recent(t) for t, _ in targets), self._concurrency)
        readings: list[Reading] = []
        failures = []
        for (tuid, only), res in zip(targets, results):
            if isinstance(res, AdapterError):
                failures.append(res)
                continue
            readings.extend(self._newest(tuid, res, only))
        if failures and not readings:
            raise failures[0]
        return readings

    def _newest(self, tuid: str, msgs: list[dict[str, Any]], only: set[str] | None) -> list[Reading]:
        best: dict[str, tuple[float, Any, int | None]] = {}
        for m in msgs:
            ts = _ts(m)
            if ts == float("-inf"):
                continue
            tsm = _tsm(m)
            for key, value in _fields(m):
                if only is not None and key not in only:
                    continue
                if key not in best or ts > best[key][0]:
                    best[key] = (ts, value, tsm)
        out = []
        for key, (ts, value, tsm) in best.items():
            info = field_info(tsm, key, value)
            v = number(value)
            if isinstance(v, (dict, list)) or v is None:
                continue
            out.append(Reading(metric=self.ref("metric", f"{tuid}:{key}"), value=v, ts=from_epoch(ts, "s"), unit=info.unit,
                               device=self.ref("device", tuid)))
        return out

    # ---- history -----------------------------------------------------------------------------

    async def history(
        self,
        metric: str,
        start: datetime,
        end: datetime,
        *,
        aggregate: Aggregate | None = None,
        bucket: timedelta | None = None,
    ) -> Series:
        tuid, field = self.split_metric(metric)
        if end <= start:
            raise InvalidRequest("the window is empty: start must be before end")
        t0, t1 = start.timestamp(), end.timestamp()
        ids = _TSM_OF.get(field, [])
        seen: dict[tuple[Any, float, Any], dict[str, Any]] = {}
        to = t1
        for _ in range(MAX_PAGES):
            page = await self._messages(tuid, start=t0, end=to, limit=PAGE, message_ids=ids)
            fresh = 0
            for m in page:
                key = (_tsm(m), _ts(m), pick(m, "tsmEv"))
                if key not in seen:
                    seen[key] = m
                    fresh += 1
            if len(page) < PAGE or fresh == 0:
                break
            oldest = min(_ts(m) for m in page)
            if oldest <= t0:
                break
            to = oldest  # inclusive: messages sharing the boundary second come again and are de-duplicated
        unit: str | None = None
        points: list[Point] = []
        for m in sorted(seen.values(), key=_ts):
            ts = _ts(m)
            if field not in m or not t0 <= ts <= t1:
                continue
            value = number(m[field])
            if isinstance(value, (dict, list)) or value is None:
                continue
            unit = unit or field_info(_tsm(m), field, value).unit
            points.append(Point(ts=from_epoch(ts, "s"), value=value))
        if unit is None:
            unit = field_info(ids[0] if ids else None, field).unit if field in _BY_FIELD else None
        if aggregate is not None:
            size = bucket or max(timedelta(minutes=1), (end - start) / 60)
            return Series(metric=self.ref("metric", f"{tuid}:{field}"), points=bucketize(points, aggregate, size), aggregate=aggregate, bucket=size, unit=unit)
        return Series(metric=self.ref("metric", f"{tuid}:{field}"), points=points, unit=unit)

    # ---- alarms --------------------------------------------------------------------------------

    async def alarms(self, *, status: AlarmStatus | None = None, since: datetime | None = None) -> list[Alarm]:
        alerting = sorted(await self._alerting())
        params: dict[str, Any] = {}
        if since is not None:
            params["from"] = to_epoch(since, "s")
        results = await gather_limited(
            (self._data("GET", f"/things/{quote(t, safe='')}/alerts", params=params) for t in alerting), self._concurrency
        )
        out: list[Alarm] = []
        for tuid, res in zip(alerting, results):
            if isinstance(res, AdapterError):
                raise res
            out.extend(self._alarms_of(tuid, res))
        if status is not None:
            out = [a for a in out if a.status is status]
        if since is not None:
            out = [a for a in out if a.status is AlarmStatus.open or a.opened_at >= since]
        return out

    def _alarms_of(self, tuid: str, data: Any) -> list[Alarm]:
        out = []
        for entry in as_list(data):
            if not isinstance(entry, dict):
                continue
            kind = str(pick(entry, "alert_type", "alertType", default="alert") or "alert")
            owner = str(pick(entry, "tuid", default=tuid) or tuid)
            for w in as_list(pick(entry, "alerts", default=[])):
                if not isinstance(w, dict):
                    continue
                try:
                    opened = parse_time(pick(w, "from"))
                except (TypeError, ValueError):
                    continue
                end = pick(w, "to")
                closed = None
                if end not in (None, ""):
                    try:
                        closed = parse_time(end)
                    except (TypeError, ValueError):
                        closed = None
                if closed is not None and closed > now_utc():
                    closed = None  # a window whose end lies ahead is still open
                out.append(
                    Alarm(
                        id=f"{owner}:{_slug(kind)}:{int(opened.timestamp())}",
                        profile=self.name,
                        severity=_severity(kind),
                        status=AlarmStatus.closed if closed is not None else AlarmStatus.open,
                        device=self.ref("device", owner),
                        description=kind[:1].upper() + kind[1:],
                        opened_at=opened,
                        closed_at=closed,
                        closable=False,
                    )
                )
        return out

    async def close_alarm(self, alarm_id: str) -> None:
        raise NotSupported("Thingsee does not allow closing alerts: they close when the thing or its gateway reconnects")

    # ---- identities ----------------------------------------------------------------------------

    async def identities(
        self,
        *,
        status: Iterable[str] | None = None,
        match: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> list[Identity]:
        _, members, alerting = await self._fleet()
        rx = re.compile(match) if match else None
        rows = [(gid, t) for gid, items in members for t in items if rx is None or rx.search(str(pick(t, "tuid")))]
        missing = [str(pick(t, "tuid")) for _, t in rows if not pick(t, "installation_status")]
        known: dict[str, str] = {}
        if missing:
            found = await gather_limited((self.installation_status(t) for t in missing), self._concurrency)
            for tuid, res in zip(missing, found):
                if isinstance(res, str):
                    known[tuid] = res
        wanted = {s.lower() for s in status} if status else None
        return await off_loop(len(rows), self._identities_of, rows, known, wanted, tags, alerting)

    def _identities_of(self, rows: list[tuple[str, Any]], known: Mapping[str, str], wanted: set[str] | None,
                       tags: Mapping[str, str] | None, alerting: Any) -> list[Identity]:
        """One Identity per thing that passes the filters; one synchronous stretch of 30,000."""
        out = []
        for gid, t in rows:
            tuid = str(pick(t, "tuid"))
            inst = str(pick(t, "installation_status") or known.get(tuid) or "unknown")
            if wanted is not None and inst.lower() not in wanted:
                continue
            tag_map = {"group": [gid]}
            fam = family(tuid)
            if fam:
                tag_map["family"] = [fam]
            if tags and any(v not in tag_map.get(k, []) for k, v in tags.items()):
                continue
            out.append(
                Identity(
                    identity=tuid,
                    profile=self.name,
                    status=inst,
                    online=tuid not in alerting,
                    group=gid,
                    tags=tag_map,
                    attrs={"installation_status": inst},
                )
            )
        return out

    async def installation_status(self, tuid: str) -> str:
        """The thing's current installation status (the newest entry of its history)."""
        data = await self._data("GET", f"/things/{quote(self.tuid_of(tuid), safe='')}/installations", params={"limit": 10})
        entries = [e for e in as_list(data) if isinstance(e, dict) and pick(e, "installation_status")]
        if not entries:
            return "unknown"
        newest = max(entries, key=lambda e: number(pick(e, "timestamp", default=0)) or 0)
        return str(pick(newest, "installation_status"))

    async def installation_history(self, tuid: str, limit: int = 20) -> list[dict[str, Any]]:
        data = await self._data("GET", f"/things/{quote(self.tuid_of(tuid), safe='')}/installations", params={"limit": limit})
        entries = [e for e in as_list(data) if isinstance(e, dict)]
        return sorted(entries, key=lambda e: number(pick(e, "timestamp", default=0)) or 0, reverse=True)

    async def group_of(self, tuid: str) -> str:
        data = await self._data("GET", f"/things/{quote(self.tuid_of(tuid), safe='')}/group")
        return str(pick(data, "group_id", default=UNASSIGNED) if isinstance(data, dict) else UNASSIGNED)

    async def commands(self, tuid: str, limit: int = 50) -> list[dict[str, Any]]:
        data = await self._data("GET", f"/things/{quote(self.tuid_of(tuid), safe='')}/commands", params={"limit": limit})
        return [c for c in as_list(data) if isinstance(c, dict)]

    # ---- writes ------------------------------------------------------------------------------

    async def set_installation_status(self, tuid: str, status: str) -> str:
        s = status.strip().lower() if isinstance(status, str) else ""
        if s not in INSTALLATION_STATUSES:
            raise InvalidRequest(f"installation status must be one of {', '.join(INSTALLATION_STATUSES)}; got {status!r}")
        t = self.tuid_of(tuid)
        data = await self._data("POST", f"/things/{quote(t, safe='')}/installations", json_body={"installation_status": s})
        return str(pick(data, "installation_status", default=s)) if isinstance(data, dict) else s

    def group_problem(self, group_id: str) -> str | None:
        try:
            check_group_id(group_id)
        except InvalidRequest as e:
            return str(e)
        return None

    async def set_group(self, tuid: str, group_id: str) -> str:
        gid = check_group_id(group_id)
        t = self.tuid_of(tuid)
        data = await self._data("POST", f"/things/{quote(t, safe='')}/group", json_body={"group_id": gid})
        got = str(pick(data, "group_id", default=gid)) if isinstance(data, dict) else gid
        self._group_of[t] = got
        return got

    async def create_group(self, group_id: str, description: str = "") -> str:
        gid = check_group_id(group_id)
        data = await self._data("POST", "/groups", json_body={"group_id": gid, "group_description": description})
        return str(pick(data, "group_id", default=gid)) if isinstance(data, dict) else gid

    async def rename_group(self, group_id: str, new_id: str) -> str:
        new = check_group_id(new_id)
        data = await self._data("POST", f"/groups/{quote(group_id, safe='')}/rename", json_body={"group_id": new})
        if isinstance(data, dict) and pick(data, "renamed") is False:
            raise VendorError(None, f"group {group_id} was not renamed")
        return new

    async def delete_group(self, group_id: str) -> None:
        data = await self._data("DELETE", f"/groups/{quote(group_id, safe='')}")
        if isinstance(data, dict) and pick(data, "deleted") is False:
            raise VendorError(None, f"group {group_id} was not deleted")

    async def send_command(self, tuid: str, payload: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Send commands (one object or a list); a tsmId outside the allowed list is refused here."""
        items = [payload] if isinstance(payload, Mapping) else list(payload)
        if not items:
            raise InvalidRequest("no command to send")
        body = [check_command(c) for c in items]
        t = self.tuid_of(tuid)
        data = await self._data("POST", f"/things/{quote(t, safe='')}/commands", json_body=body)
        sent = pick(data, "commands", default=[]) if isinstance(data, dict) else []
        return [c for c in as_list(sent) if isinstance(c, dict)]


_THING_ATTRS = (
    ("installation_status", "installation_status"),
    ("gateway_tuid", "gateway"),
    ("version", "version"),
    ("battery_level", "battery_level"),
)
# A thing with only these keys needs no lower-cased copy (all of them lower-case already).
_THING_KEYS = frozenset({"tuid", "timestamp", "responsible", *(key for key, _ in _THING_ATTRS)})


def _severity(alert_type: str) -> Severity:
    t = alert_type.lower()
    if "gateway" in t or "heartbeat" in t or "connection" in t:
        return Severity.major
    return Severity.minor


def _epoch_text(t: float) -> str:
    return str(int(t)) if float(t).is_integer() else f"{t:.3f}"


_FIELD_ORDER = {k: i for i, k in enumerate(_BY_FIELD)}


def _display_order(n: Node) -> tuple[bool, int, str]:
    """Measurements first in catalogue order; common-profile fields (battery, system) after them."""
    tsm = n.attrs.get("tsmId") or 0
    return (tsm < 2000, _FIELD_ORDER.get(n.attrs.get("field", ""), len(_FIELD_ORDER)), n.id)
