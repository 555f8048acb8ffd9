"""Exosite Murano Device2, reached as an external client through the business API.

Login `POST /api:1/token/` with the profile's username (e-mail) and password; every
call sends `Authorization: token <t>` (the word `token`, not Bearer) and a refused
token is renewed once (VENDORS.md §3). The Device2 service config id is discovered
once per session; every operation is `POST …/serviceconfig/{id}/call/{operation}`.

Tree: one group per value of the tag `profile.group_by_tag` (default `site`; devices
without it in a group of their own) → identities (devices) → resources (metrics, id
`<identity>:<resource>`). Identity lists are read to their end through lastseen
pagination (`before` = lastseen of the last item, `offset` for ties). Lastseen and
state timestamps are epoch microseconds; signal queries say their unit in `epoch`.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

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
    VendorError,
    as_list,
    built,
    from_epoch,
    gather_limited,
    gc_paused,
    number,
    off_loop,
    parse_time,
    pick,
)
from tuiot.adapters.series import bucketize
from tuiot.domain import (
    Aggregate,
    Identity,
    IdentityStatus,
    Node,
    Point,
    Reading,
    Series,
    StateValue,
    split_ref,
)
from tuiot.httpx_lean import httpx

if TYPE_CHECKING:
    from tuiot.config import Profile
    from tuiot.credentials import SecretSource

DEFAULT_HOST = "https://bizapi.hosted.exosite.io"
API = "/api:1"
LIST_PAGE = 2000  # listIdentities maximum
LATEST_PAGE = 2000  # latestSignalsSearch maximum
SIGNAL_PAGE = 10_000  # querySignal / aggrquerySignal maximum
# How long the full identity listing read by tree() answers the next identities() (and the
# other way round). The console asks for both right after start-up, seconds apart; at 30,000
# identities each listing is 15 pages and ~1 s of parsing, so the second one is pure waste.
SHARED_LISTING_S = 30.0
LATEST_IDENTITIES_PER_CALL = 200
SERVER_BUCKETS = ((3600, "1h"), (300, "5m"), (60, "1m"))
MIN_TIME, MAX_TIME = 1_000_000_000, 9_999_999_999  # signal queries take seconds in this range
_READ_OPS = frozenset(
    {
        "listIdentities", "countIdentities", "getIdentity", "getIdentityState", "getIdentityTag", "listTagNames",
        "latestSignalsSearch", "querySignal", "querySignals", "aggrquerySignal", "getGatewayResourceList",
        "getGatewayResource", "getDeviceMetrics",
    }
)
_FORMATS = {"float": "float", "number": "float", "integer": "int", "boolean": "bool", "string": "str"}
_STATUSES = {s.value for s in IdentityStatus}
_SCALARS = (bool, int, float, str)
# the fields a device node was validated from (unit and value_type left at their defaults)
_DEVICE_NODE_GIVEN = frozenset({"kind", "id", "name", "profile", "parent", "online", "severity", "attrs", "has_children"})
_MISSING = object()


# ---- auth -----------------------------------------------------------------------------------


class TokenAuth(httpx.Auth):
    """`Authorization: token <t>`; logs in on first use and once more after a 401.

    The token is a credential: kept as a SecretStr until the header is built."""

    def __init__(self, adapter: MuranoAdapter) -> None:
        self._adapter = adapter
        self._lock = asyncio.Lock()
        self._token: SecretStr | None = None

    def forget(self) -> None:
        self._token = None

    async def _current(self) -> SecretStr:
        async with self._lock:
            if self._token is None:
                self._token = SecretStr(await self._adapter._login())
            return self._token

    async def _renew(self, refused: SecretStr) -> SecretStr:
        async with self._lock:
            if self._token is None or self._token is refused:  # another request may have renewed it already
                self._token = SecretStr(await self._adapter._login())
            return self._token

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._current()
        request.headers["Authorization"] = f"token {token.get_secret_value()}"
        response = yield request
        if response.status_code == 401:
            renewed = await self._renew(token)
            request.headers["Authorization"] = f"token {renewed.get_secret_value()}"
            yield request

    def sync_auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        raise RuntimeError("the Murano adapter is async only")


def _error_message(body: Any) -> tuple[Any, str] | None:
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, dict):
        return pick(err, "code", "statusCode"), str(pick(err, "message", default="") or json.dumps(err))
    if isinstance(err, str) and err:
        return pick(body, "code", "statusCode"), err
    msg = pick(body, "message")
    if msg is None:
        return None
    return pick(body, "code", "statusCode", "status"), str(msg)


def _error_parser(label: str):  # type: ignore[no-untyped-def]
    def parse(resp: httpx.Response, body: Any) -> AdapterError | None:
        status = resp.status_code
        if status < 400:
            # a Lua-level failure can come back as a 200 carrying only {"error": …}
            if isinstance(body, dict) and set(body) == {"error"}:
                found = _error_message(body)
                return VendorError(found[0] if found else None, found[1] if found else "error", status)
            return None
        found = _error_message(body)
        if found is None:
            return None
        code, message = found
        if status == 404:
            return NotFound(f"{label}: {message}")
        return VendorError(code if code is not None else status, message, status)

    return parse


# ---- value helpers ---------------------------------------------------------------------------


def value_type(fmt: str | None) -> str | None:
    return _FORMATS.get((fmt or "").lower(), fmt or None)


def typed(raw: Any, fmt: str | None) -> Any:
    """A value as sent (latestSignalsSearch sends text) → the resource's type."""
    vt = value_type(fmt)
    if vt == "str":
        return raw if isinstance(raw, str) else json.dumps(raw)
    v = number(raw)
    if vt == "bool" and isinstance(v, (int, float)) and not isinstance(v, bool):
        return bool(v)
    if vt == "int" and isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, (bool, int, float, str)):
        return v
    return json.dumps(v)


def coerce(fmt: str | None, text: Any, resource: str = "value") -> Any:
    """A command-line value → what the resource's format wants; refuses a mismatch."""
    vt = value_type(fmt)
    if vt == "bool":
        if isinstance(text, bool):
            return text
        t = str(text).strip().lower()
        if t in ("true", "1", "on", "yes"):
            return True
        if t in ("false", "0", "off", "no"):
            return False
        raise InvalidRequest(f"{resource} is boolean: give true or false, not {text!r}")
    if vt in ("int", "float"):
        n = number(text) if isinstance(text, str) else text
        if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n):
            raise InvalidRequest(f"{resource} is a number ({fmt}): {text!r} is not one")
        if vt == "int":
            if isinstance(n, float) and not n.is_integer():
                raise InvalidRequest(f"{resource} is an integer: {text!r} has a fraction")
            return int(n)
        return float(n)
    return text if isinstance(text, str) else json.dumps(text)


def _epoch(v: Any, unit: str) -> datetime | None:
    if v in (None, "", 0):
        return None
    try:
        return from_epoch(v, unit)
    except (ValueError, OverflowError, OSError):
        return None


def _us(v: Any) -> datetime | None:
    """Device2 identity times (lastseen, state timestamps) are epoch microseconds."""
    return _epoch(v, "us")


def split_metric(mid: str) -> tuple[str, str]:
    identity, sep, resource = mid.rpartition(":")
    if not sep or not identity or not resource:
        raise InvalidRequest(f"'{mid}' is not a Murano metric id (IDENTITY:RESOURCE, as `tuiot tree` prints)")
    return identity, resource


class MuranoAdapter(Adapter):
    vendor = "murano"
    capabilities = frozenset(
        {
            Capability.tree,
            Capability.latest,
            Capability.history,
            Capability.aggregate,
            Capability.identities,
            Capability.identity_write,
            Capability.tag_write,
        }
    )

    def __init__(self, profile: Profile, secrets: SecretSource, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(profile, secrets, transport=transport)
        base = (profile.base_url or DEFAULT_HOST).rstrip("/")
        base = base.removesuffix(API)
        self.base = base
        self.page_size = LIST_PAGE
        self.latest_page = LATEST_PAGE
        self.signal_page = SIGNAL_PAGE
        settings = HttpSettings(timeout=profile.timeout, max_concurrency=profile.max_concurrency)
        label = f"murano '{profile.name}'"
        self._auth = TokenAuth(self)
        parser = _error_parser(label)
        self.http = HttpClient(base, settings=settings, auth=self._auth, transport=transport, error_parser=parser, label=label)
        self._login_http = HttpClient(base, settings=settings, transport=transport, error_parser=parser, label=label)
        self._config_id: str | None = None
        self._config_lock = asyncio.Lock()
        self._resources: dict[str, dict[str, Any]] | None = None
        self._groups: dict[str, list[str]] | None = None  # group id → identities (from the last tree)
        # (read at, the caller it is kept for: "tree" | "identities", the unfiltered listing)
        self._shared: tuple[float, str, list[Identity]] | None = None

    @property
    def health(self) -> Health:
        return self.http.health

    async def aclose(self) -> None:
        await self.http.aclose()
        await self._login_http.aclose()

    # ---- plumbing -------------------------------------------------------------------------

    async def _login(self) -> str:
        if not self.profile.username:
            raise AuthError(f"murano profile '{self.name}' has no username (the account e-mail)")
        secret = await self.secrets.get(self.name)
        body = {"email": self.profile.username, "password": secret.get_secret_value()}
        try:
            answer = await self._login_http.post(f"{API}/token/", json_body=body, retry=True)
        except AuthError:
            self.secrets.forget(self.name)
            raise AuthError(
                f"murano '{self.name}': login refused for {self.profile.username} (check the password: tuiot auth set {self.name})"
            ) from None
        except VendorError as e:
            if e.status == 409 and "twofactor" in e.vendor_message.lower():
                raise AuthError(
                    f"murano '{self.name}': the account needs two-factor authentication, which tuiot cannot answer; "
                    "use an account without 2FA for the console"
                ) from None
            raise
        token = pick(answer, "token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise VendorError(None, f"murano '{self.name}': login answered without a token")
        return token

    async def _config(self) -> str:
        async with self._config_lock:
            if self._config_id is None:
                sid = self.profile.solution_id
                if not sid:
                    raise InvalidRequest(f"murano profile '{self.name}' needs solution_id")
                try:
                    answer = await self.http.get(f"{API}/solution/{sid}/serviceconfig/device2")
                except NotFound:
                    raise NotFound(f"murano '{self.name}': solution '{sid}' has no Device2 service (check solution_id)") from None
                cid = pick(answer, "id") if isinstance(answer, dict) else None
                if not cid:
                    raise VendorError(None, f"murano '{self.name}': the device2 service config has no id")
                self._config_id = str(cid)
            return self._config_id

    async def call(self, operation: str, params: Mapping[str, Any] | None = None) -> Any:
        """One Device2 operation; read-only ones are retried on 429/5xx, writes are not."""
        cid = await self._config()
        path = f"{API}/solution/{self.profile.solution_id}/serviceconfig/{cid}/call/{operation}"
        read = operation in _READ_OPS
        if not read:
            self._shared = None  # any write may change what a listing says
        return await self.http.post(path, json_body=dict(params or {}), retry=read)

    async def resources(self) -> dict[str, dict[str, Any]]:
        """Resource definitions (format, unit, settable) by alias; read once per session."""
        if self._resources is None:
            answer = await self.call("getGatewayResourceList")
            self._resources = {str(k): v for k, v in answer.items() if isinstance(v, dict)} if isinstance(answer, dict) else {}
        return self._resources

    # ---- identities -------------------------------------------------------------------------

    async def _list(self, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every identity the filters match, newest lastseen first, read through all pages."""
        out: dict[str, dict[str, Any]] = {}
        ties: dict[int, int] = {}  # lastseen → identities already read with it
        before: int | None = None
        for _ in range(1_000_000):
            params: dict[str, Any] = {**filters, "limit": self.page_size}
            if before is not None:
                # lastseen < before+1 keeps the ties of the last item; offset skips those read
                params["before"] = before + 1
                params["offset"] = ties.get(before, 0)
            answer = await self.call("listIdentities", params)
            devices = [d for d in as_list(pick(answer, "devices") if isinstance(answer, dict) else None) if isinstance(d, dict)]
            fresh = 0
            for d in devices:
                ident = pick(d, "identity")
                if ident is None or str(ident) in out:
                    continue
                out[str(ident)] = d
                fresh += 1
                ls = _lastseen_key(d)
                ties[ls] = ties.get(ls, 0) + 1
            more = bool(pick(answer, "mayLoadMore", default=False)) if isinstance(answer, dict) else False
            if not more or not devices or not fresh:
                break
            before = _lastseen_key(devices[-1])
        return list(out.values())

    def _identity(self, d: Mapping[str, Any], times: dict[Any, datetime | None] | None = None) -> Identity:
        """One identity object → Identity. `times` memoises µs → datetime across a listing:
        a device's state timestamps mostly equal its lastseen, and 30,000 identities carry
        about 200,000 of them.

        Called 30,000 times per listing with ~35 keys read each: the keys are read with
        `dict.get` first and only fall back to the case-insensitive `_get` when absent.
        """
        memo: dict[Any, datetime | None] = {} if times is None else times

        def when(v: Any) -> datetime | None:
            if not isinstance(v, (int, float, str)):
                return None
            got = memo.get(v, _MISSING)
            if got is _MISSING:
                got = memo[v] = _us(v)
            return got  # type: ignore[return-value]

        tags: dict[str, list[str]] = {}
        raw_tags = d.get("tags")
        for t in as_list(raw_tags if raw_tags is not None or "tags" in d else _get(d, "tags")):
            if isinstance(t, dict):
                name = t.get("name")
                if name is None:
                    name = _get(t, "name")
                if name is not None:
                    value = t.get("value")
                    if value is None and "value" not in t:
                        value = _get(t, "value")
                    tags.setdefault(str(name), []).append("" if value is None else str(value))
        state: dict[str, StateValue] = {}
        raw_state = d.get("state")
        if raw_state is None and "state" not in d:
            raw_state = _get(d, "state")
        if isinstance(raw_state, dict):
            for alias, sv in raw_state.items():
                if isinstance(sv, dict):
                    if "set" in sv and "reported" in sv and "timestamp" in sv:
                        set_, rep, ts = sv["set"], sv["reported"], sv["timestamp"]
                    else:
                        set_, rep, ts = _get(sv, "set"), _get(sv, "reported"), _get(sv, "timestamp")
                    # set/reported are None or scalars, ts a datetime or None: nothing to validate
                    state[str(alias)] = built(StateValue, {
                        "set": set_ if set_ is None or isinstance(set_, _SCALARS) else _scalar(set_),
                        "reported": rep if rep is None or isinstance(rep, _SCALARS) else _scalar(rep),
                        "ts": when(ts),
                    })
        raw_status = str(_get(d, "status") or "")
        status: IdentityStatus | str = IdentityStatus(raw_status) if raw_status in _STATUSES else raw_status or "unknown"
        group_values = tags.get(self.profile.group_by_tag)
        auth = _get(d, "auth")
        attrs: dict[str, Any] = {}
        if isinstance(auth, dict) and _get(auth, "type"):
            attrs["auth"] = _get(auth, "type")
        online = _get(d, "online")
        lastip = _get(d, "lastip")
        # every field, each already of its type (30,000 per listing: validation was most of the parse)
        return built(Identity, {
            "identity": str(_get(d, "identity")),
            "profile": self.name,
            "status": status,
            "online": bool(online) if online is not None else None,
            "lastseen": when(_get(d, "lastseen")),
            "lastip": str(lastip) if lastip else None,
            "tags": tags,
            "state": state,
            "group": group_values[0] if group_values else None,
            "locked": bool(_get(d, "locked") or False),
            "attrs": attrs,
        })

    async def identities(
        self,
        *,
        status: Iterable[str] | None = None,
        match: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> list[Identity]:
        filters: dict[str, Any] = {}
        wanted = [s.strip() for item in (status or []) for s in str(item).split(",") if s.strip()]
        if wanted:
            filters["status"] = ",".join(wanted)
        if match:
            filters["identity"] = match
        if tags:
            filters["tags"] = json.dumps([{"name": k, "operator": "eq", "value": str(v)} for k, v in tags.items()])
        if filters:
            return await self._read_identities(filters)
        return await self._all_identities("identities")

    async def _read_identities(self, filters: Mapping[str, Any]) -> list[Identity]:
        raws = await self._list(filters)
        return await off_loop(len(raws), self._identities_of, raws)

    def _identities_of(self, raws: list[Any]) -> list[Identity]:
        times: dict[Any, datetime | None] = {}
        with gc_paused():
            return [self._identity(d, times) for d in raws]

    async def _all_identities(self, caller: str) -> list[Identity]:
        """Every identity; a listing the other caller (tree/identities) read moments ago is
        used once instead of a new one. Only one hand-over per listing, so repeating a call
        (a refresh) always reads the gateway again."""
        shared, self._shared = self._shared, None
        if shared is not None and shared[1] == caller and time.monotonic() - shared[0] < SHARED_LISTING_S:
            return list(shared[2])
        items = await self._read_identities({})
        self._shared = (time.monotonic(), "tree" if caller == "identities" else "identities", items)
        return list(items)

    async def identity(self, identity: str) -> Identity:
        return self._identity(await self.call("getIdentity", {"identity": identity}))

    # ---- tree ------------------------------------------------------------------------------

    def _no_group(self) -> str:
        return f"(no {self.profile.group_by_tag})"

    async def tree(self, *, depth: str = "metric") -> list[Node]:
        idents = await self._all_identities("tree")
        defs = await self.resources() if depth != "device" else {}
        groups: dict[str, list[Identity]] = {}
        for i in idents:
            groups.setdefault(i.group if i.group is not None else self._no_group(), []).append(i)
        order = sorted(groups, key=lambda g: (g == self._no_group(), g.lower()))
        return await off_loop(len(idents), self._build_paused, order, groups, depth, defs)

    def _build_paused(self, order: list[str], groups: Mapping[str, list[Identity]], depth: str,
                      defs: Mapping[str, Mapping[str, Any]]) -> list[Node]:
        nodes: list[Node] = []
        with gc_paused():
            self._build(order, groups, nodes, depth, defs)
        return nodes

    def _build(self, order: list[str], groups: Mapping[str, list[Identity]], nodes: list[Node], depth: str,
               defs: Mapping[str, Mapping[str, Any]]) -> None:
        """Groups, then each group's devices (and their metrics): one synchronous stretch."""
        groups_seen: dict[str, list[str]] = {}
        for g in order:
            members = sorted(groups[g], key=lambda i: i.identity)
            groups_seen[g] = [i.identity for i in members]
            gref = self.ref("group", g)
            nodes.append(
                Node(kind="group", id=g, name=g, profile=self.name, has_children=True,
                     attrs={"tag": self.profile.group_by_tag, "devices": len(members)})
            )
            for i in members:
                nodes.append(self._device_node(i, gref))
                if depth != "device":
                    nodes.extend(self._metric_nodes(i.identity, list(i.state), defs))
        self._groups = groups_seen

    def _device_node(self, i: Identity, parent: str | None) -> Node:
        names = i.tags.get("name")
        attrs: dict[str, Any] = {"status": str(getattr(i.status, "value", i.status)), "locked": i.locked}
        if i.lastseen is not None:
            attrs["lastseen"] = i.lastseen.isoformat()
        if i.lastip:
            attrs["ip"] = i.lastip
        for k, v in i.tags.items():
            attrs.setdefault(k, ", ".join(v))
        # every field, each already of its type: one per identity, 30,000 per tree
        return built(Node, {
            "kind": "device", "id": i.identity, "name": names[0] if names else i.identity, "profile": self.name,
            "parent": parent, "online": i.online, "severity": None, "unit": None, "value_type": None,
            "attrs": attrs, "has_children": bool(i.state),
        }, _DEVICE_NODE_GIVEN)

    def _metric_nodes(self, identity: str, aliases: Iterable[str], defs: Mapping[str, Mapping[str, Any]]) -> list[Node]:
        dref = self.ref("device", identity)
        out = []
        for alias in sorted(aliases):
            d = defs.get(alias, {})
            fmt = pick(d, "format")
            out.append(
                Node(
                    kind="metric", id=f"{identity}:{alias}", name=alias, profile=self.name, parent=dref,
                    unit=pick(d, "unit") or None, value_type=value_type(fmt), has_children=False,
                    attrs={"format": fmt, "settable": bool(pick(d, "settable", default=False))},
                )
            )
        return out

    async def children(self, ref: str) -> list[Node]:
        _, kind, id = split_ref(ref)
        if kind == "device":
            state, defs = await asyncio.gather(self.call("getIdentityState", {"identity": id}), self.resources())
            return self._metric_nodes(id, list(state) if isinstance(state, dict) else [], defs)
        if kind == "group":
            if id == self._no_group():
                found = [i for i in await self.identities() if i.group is None]
            else:
                found = await self.identities(tags={self.profile.group_by_tag: id})
            return [self._device_node(i, ref) for i in sorted(found, key=lambda i: i.identity)]
        return []

    async def _members(self, group: str) -> list[str]:
        if self._groups is None or group not in self._groups:
            if group == self._no_group():
                await self.tree(depth="device")
            else:
                found = await self.identities(tags={self.profile.group_by_tag: group})
                return [i.identity for i in found]
        return list((self._groups or {}).get(group, []))

    # ---- latest ----------------------------------------------------------------------------

    async def latest(self, refs: Sequence[str] | None = None) -> list[Reading]:
        defs = await self.resources()
        if refs is None:
            return await self._latest(None, None, defs)
        identities: list[str] = []
        whole: set[str] = set()  # identities asked for with all their resources
        signals: dict[str, set[str]] = {}  # identity → only these resources (metric refs)
        for ref in refs:
            _, kind, id = split_ref(ref) if ref.count("/") >= 2 else (self.name, "metric", ref)
            if kind == "device":
                identities.append(id)
                whole.add(id)
            elif kind == "group":
                members = await self._members(id)
                identities.extend(members)
                whole.update(members)
            elif kind == "metric":
                ident, res = split_metric(id)
                identities.append(ident)
                signals.setdefault(ident, set()).add(res)
        unique = list(dict.fromkeys(identities))
        chunks = [unique[k: k + LATEST_IDENTITIES_PER_CALL] for k in range(0, len(unique), LATEST_IDENTITIES_PER_CALL)]
        results = await gather_limited((self._latest(c, None, defs) for c in chunks), limit=self.profile.max_concurrency)
        out: list[Reading] = []
        for r in results:
            if isinstance(r, AdapterError):
                raise r
            out.extend(r)
        return [r for r in out if _reading_wanted(r, whole, signals, self.metric_id)]

    async def _latest(self, identities: list[str] | None, signals: list[str] | None, defs: Mapping[str, Any]) -> list[Reading]:
        base: dict[str, Any] = {"limit": self.latest_page, "sort_key": "identity"}
        if identities is not None:
            base["identities"] = identities
        if signals is not None:
            base["signals"] = signals
        first = await self.call("latestSignalsSearch", {**base, "page": 1})
        rows = list(as_list(pick(first, "data"))) if isinstance(first, dict) else []
        total = int(number(pick(first, "total", default=len(rows))) or 0) if isinstance(first, dict) else 0
        pages = math.ceil(total / self.latest_page) if total else 1
        if pages > 1:
            answers = await gather_limited(
                (self.call("latestSignalsSearch", {**base, "page": p}) for p in range(2, pages + 1)),
                limit=self.profile.max_concurrency,
            )
            for a in answers:
                if isinstance(a, AdapterError):
                    raise a
                rows.extend(as_list(pick(a, "data")) if isinstance(a, dict) else [])
        out = []
        with gc_paused():
            for row in rows:
                r = self._reading(row, defs) if isinstance(row, dict) else None
                if r is not None:
                    out.append(r)
        return out

    def _reading(self, row: Mapping[str, Any], defs: Mapping[str, Any]) -> Reading | None:
        ident = pick(row, "identity")
        alias = pick(row, "signal_name", "resource")
        when = pick(row, "last_update", "last_insert")
        if ident is None or alias is None or when in (None, ""):
            return None
        d = defs.get(str(alias), {})
        raw = pick(row, "last_value", "value")
        if raw is None:
            return None
        try:
            ts = parse_time(when)
        except (ValueError, OverflowError, OSError):
            return None
        return Reading(
            metric=self.ref("metric", f"{ident}:{alias}"), value=typed(raw, pick(d, "format")), ts=ts, unit=pick(d, "unit") or None,
            device=self.ref("device", str(ident)),
        )

    # ---- history ---------------------------------------------------------------------------

    async def history(
        self,
        metric: str,
        start: datetime,
        end: datetime,
        *,
        aggregate: Aggregate | None = None,
        bucket: timedelta | None = None,
    ) -> Series:
        identity, alias = split_metric(self.metric_id(metric))
        ref = self.ref("metric", f"{identity}:{alias}")
        if end <= start:
            raise InvalidRequest("history needs a start before its end")
        defs = await self.resources()
        unit = pick(defs.get(alias, {}), "unit") or None
        fmt = pick(defs.get(alias, {}), "format")
        window = {
            "identity": identity,
            "signal": alias,
            "start_time": _seconds(start.timestamp()),
            # end_time is exclusive on the server; the interface's end is inclusive
            "end_time": _seconds(end.timestamp() + 1e-6),
            "epoch": "us",
        }
        if aggregate is None:
            points = await self._raw(window, fmt)
            return Series(metric=ref, points=points, unit=unit)
        size = bucket or timedelta(seconds=max(60.0, (end - start).total_seconds() / 60))
        seconds = size.total_seconds()
        server = next((name for s, name in SERVER_BUCKETS if seconds >= s and seconds % s == 0), None)
        if aggregate is Aggregate.stdev or server is None:
            raw = await self._raw(window, fmt)  # no server figure for this: aggregate here
            return Series(metric=ref, points=bucketize(raw, aggregate, size), aggregate=aggregate, bucket=size, unit=unit)
        rows, epoch = await self._pages("aggrquerySignal", {**window, "bucket": server, "fields": ["count", "max", "min", "sum"]})
        # `epoch` is the unit of the answer's timestamps; the series keeps the metric's own unit
        return Series(metric=ref, points=_merge(rows, epoch, aggregate, seconds), aggregate=aggregate, bucket=size, unit=unit)

    async def _pages(self, operation: str, params: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str]:
        """Every row of a signal query, and the epoch unit its timestamps are in."""
        rows: list[dict[str, Any]] = []
        unit = str(params.get("epoch", "us"))
        for page in range(1, 1_000_000):
            answer = await self.call(operation, {**params, "limit": self.signal_page, "page": page, "order": "asc"})
            data = [d for d in as_list(pick(answer, "data")) if isinstance(d, dict)] if isinstance(answer, dict) else []
            q = pick(answer, "q") if isinstance(answer, dict) else None
            if isinstance(q, dict) and pick(q, "epoch") in ("s", "ms", "us"):
                unit = pick(q, "epoch")  # the answer says which unit it used; trust it over what was asked
            rows.extend(data)
            total = number(pick(answer, "total")) if isinstance(answer, dict) else None
            if len(data) < self.signal_page or (isinstance(total, int) and len(rows) >= total):
                break
        return rows, unit

    async def _raw(self, window: Mapping[str, Any], fmt: str | None) -> list[Point]:
        rows, unit = await self._pages("querySignal", window)
        points = {}
        for row in rows:
            ts = _epoch(pick(row, "timestamp"), unit)
            if ts is not None:
                points[ts] = Point(ts=ts, value=typed(pick(row, "value"), fmt))
        return [points[k] for k in sorted(points)]

    # ---- writes ----------------------------------------------------------------------------

    def _changed(self) -> None:
        self._groups = None

    async def add_identity(self, identity: str, *, locked: bool = False, auth_type: str | None = None) -> Identity:
        params: dict[str, Any] = {"identity": identity, "locked": locked}
        if auth_type:
            params["auth"] = {"type": auth_type}
        try:
            await self.call("addIdentity", params)
        except VendorError as e:
            if e.status == 409:
                raise VendorError(409, f"identity {identity} already exists", 409) from None
            raise
        self._changed()
        return await self.identity(identity)

    async def remove_identity(self, identity: str) -> None:
        await self.call("removeIdentity", {"identity": identity})
        self._changed()

    async def set_locked(self, identity: str, locked: bool) -> Identity:
        await self.call("updateIdentity", {"identity": identity, "locked": locked})
        return await self.identity(identity)

    async def lock(self, identity: str) -> Identity:
        return await self.set_locked(identity, True)

    async def unlock(self, identity: str) -> Identity:
        return await self.set_locked(identity, False)

    async def tag_add(self, identity: str, name: str, value: str, *, replace: bool = False) -> Identity:
        if not name:
            raise InvalidRequest("a tag needs a name")
        await self.call("addIdentityTag", {"identity": identity, "tags": [{"name": name, "value": value}], "replace": replace})
        self._changed()
        return await self.identity(identity)

    async def tag_remove(self, identity: str, name: str, values: Sequence[str] | None = None) -> Identity:
        params: dict[str, Any] = {"identity": identity, "name": name}
        if values:
            bad = [v for v in values if "," in v]
            if bad:
                raise InvalidRequest(f"tag value {bad[0]!r} contains ',' and cannot be removed on its own (Device2 splits values on ',')")
            params["value"] = ",".join(values)
        await self.call("removeIdentityTag", params)
        self._changed()
        return await self.identity(identity)

    async def set_state(self, identity: str, resource: str, value: Any) -> Identity:
        defs = await self.resources()
        if resource not in defs:
            known = ", ".join(sorted(defs)) or "none"
            raise InvalidRequest(f"no resource '{resource}' in this solution (known: {known})")
        checked = coerce(pick(defs[resource], "format"), value, resource)
        try:
            await self.call("setIdentityState", {"identity": identity, resource: checked})
        except VendorError as e:
            if e.status == 409:
                raise VendorError(409, f"resource {resource} is not settable", 409) from None
            raise
        return await self.identity(identity)


def _get(d: Mapping[str, Any], key: str) -> Any:
    """`d[key]`, or the same key in another casing (`pick`, which is slower, only when absent)."""
    v = d.get(key)
    return v if v is not None or key in d else pick(d, key)


def _lastseen_key(d: Mapping[str, Any]) -> int:
    v = number(pick(d, "lastseen"))
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0


def _scalar(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return json.dumps(v)


def _seconds(t: float) -> float:
    return round(min(MAX_TIME, max(MIN_TIME, t)), 6)


def _merge(rows: Iterable[Mapping[str, Any]], unit: str, aggregate: Aggregate, size: float) -> list[Point]:
    """Server buckets (1m/5m/1h) → buckets of `size` seconds (a multiple), with the asked figure."""
    acc: dict[int, list[float]] = {}  # key → [count, min, max, sum]
    for row in rows:
        ts = _epoch(pick(row, "timestamp"), unit)
        count = number(pick(row, "count"))
        if ts is None or not isinstance(count, (int, float)) or not count:
            continue
        lo, hi, total = number(pick(row, "min")), number(pick(row, "max")), number(pick(row, "sum"))
        if not all(isinstance(x, (int, float)) for x in (lo, hi, total)):
            continue
        key = math.floor(ts.timestamp() / size)
        a = acc.get(key)
        if a is None:
            acc[key] = [float(count), float(lo), float(hi), float(total)]
        else:
            a[0] += count
            a[1] = min(a[1], lo)
            a[2] = max(a[2], hi)
            a[3] += total
    out = []
    for key in sorted(acc):
        count, lo, hi, total = acc[key]
        avg = total / count
        figure = {Aggregate.min: lo, Aggregate.max: hi, Aggregate.avg: avg, Aggregate.sum: total, Aggregate.count: count}[aggregate]
        out.append(
            Point(
                ts=from_epoch(key * size, "s"),
                value=int(figure) if aggregate is Aggregate.count else round(figure, 6),
                min=lo, max=hi, avg=round(avg, 6), count=int(count),
            )
        )
    return out


def _reading_wanted(r: Reading, whole: set[str], signals: Mapping[str, set[str]], metric_id: Any) -> bool:
    ident, alias = split_metric(metric_id(r.metric))
    return ident in whole or alias in signals.get(ident, ())
