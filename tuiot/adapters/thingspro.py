"""Moxa ThingsPro Edge (TPE 2.x): a fleet of gateways, each reached on its own URL.

A profile lists one or more gateways (`gateways = [...]`, or `base_url` for one) that
share one credential: the profile's username and password log in to each gateway
separately (`POST /api/v1/auth` → JWT, renewed once on a 401). A secret that is itself
a JWT is taken for the gateway's long-lived `mx-api-token` and sent as that header.

Tree: gateway (group; device info and cloud connectivity as attrs) → provider (group)
→ source (device) → tag (metric). Ids carry what is needed to find a tag again:
`<host:port>|<provider>/<source>/<tag>` (a '/', '|' or '%' inside a name is
percent-encoded). One unreachable gateway is shown offline; the others carry on.

TLS is verified by default. `verify` is true, false (with a warning in `warnings`) or a
CA bundle path; a self-signed gateway under `verify = true` fails with the message
that says how to trust it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

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
    _connect_message,
    as_list,
    from_epoch,
    gather_limited,
    number,
    pick,
)
from tuiot.adapters.series import bucketize
from tuiot.domain import Aggregate, Node, Point, Reading, Series, now_utc, split_ref
from tuiot.httpx_lean import httpx

if TYPE_CHECKING:
    from tuiot.config import Profile
    from tuiot.credentials import SecretSource

API = "/api/v1"
PER_GATEWAY_CONCURRENCY = 4  # gateways are small devices (VENDORS §4.4)
STREAMS_PER_GATEWAY = 8  # live streams hold a connection each; beyond this, sources are polled
BUFFER_POINTS = 5_000  # readings kept per tag for history
INT_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
_TRUE = {"true", "1", "on", "yes"}
_FALSE = {"false", "0", "off", "no"}


# ---- ids -------------------------------------------------------------------------------


def _enc(name: str) -> str:
    return name.replace("%", "%25").replace("/", "%2F").replace("|", "%7C")


def gateway_key(url: str) -> str:
    """`https://10.0.0.5:8443/` → `10.0.0.5:8443`: the gateway's part of every node id."""
    u = url.strip()
    if "://" not in u:
        u = "https://" + u
    return urlsplit(u).netloc


def gateway_url(url: str) -> str:
    u = url.strip().rstrip("/")
    return u if "://" in u else "https://" + u


def tag_path(provider: str, source: str, tag: str) -> str:
    return f"{_enc(provider)}/{_enc(source)}/{_enc(tag)}"


def parse_tag_path(path: str) -> tuple[str, str, str]:
    """`provider/source/tag` (names percent-encoded where they contain '/') → the three names."""
    parts = path.strip().split("/")
    if len(parts) != 3 or not all(parts):
        raise InvalidRequest(f"'{path}' is not PROVIDER/SOURCE/TAG")
    return unquote(parts[0]), unquote(parts[1]), unquote(parts[2])


def value_type(data_type: str) -> str:
    dt = data_type.lower()
    if dt in INT_RANGES:
        return "int"
    if dt in ("float", "double"):
        return "float"
    if dt == "boolean":
        return "bool"
    if dt == "string":
        return "str"
    return dt or "raw"


def coerce(data_type: str, value: Any) -> Any:
    """`value` (typed, or text from a command line) as the tag's dataType wants it."""
    dt = data_type.lower()
    if dt in INT_RANGES:
        n: Any = value
        if isinstance(n, str):
            n = number(n)
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        if isinstance(n, bool) or not isinstance(n, int):
            raise InvalidRequest(f"{data_type} needs a whole number, got {value!r}")
        lo, hi = INT_RANGES[dt]
        if not lo <= n <= hi:
            raise InvalidRequest(f"{n} is out of range for {data_type} ({lo}..{hi})")
        return n
    if dt in ("float", "double"):
        f: Any = number(value) if isinstance(value, str) else value
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not math.isfinite(f):
            raise InvalidRequest(f"{data_type} needs a finite number, got {value!r}")
        return float(f)
    if dt == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise InvalidRequest(f"boolean needs true or false, got {value!r}")
    if dt == "string":
        return value if isinstance(value, str) else json.dumps(value) if not isinstance(value, (int, float)) else str(value)
    raise InvalidRequest(f"{data_type or 'untyped'} tags cannot be written from tuiot")


def _value(raw: Any, data_type: str) -> Any:
    """A tag value as sent (numbers may arrive as strings) → the domain's value."""
    dt = (data_type or "").lower()
    if dt == "string":
        return raw if isinstance(raw, str) else json.dumps(raw)
    v = number(raw)
    if dt == "boolean" and isinstance(v, (int, float)) and not isinstance(v, bool):
        return bool(v)
    if dt in INT_RANGES and isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, (bool, int, float, str)):
        return v
    return json.dumps(v)


# ---- per gateway state ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TagInfo:
    provider: str
    source: str
    name: str
    data_type: str
    unit: str | None
    access: str


Catalog = dict[tuple[str, str], dict[str, TagInfo]]


@dataclass
class _Gateway:
    url: str
    key: str
    http: HttpClient
    label: str
    token: str | None = field(default=None, repr=False)  # a JWT: never in a repr or log
    static_token: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    catalog: Catalog | None = None
    info: dict[str, Any] = field(default_factory=dict)
    online: bool | None = None
    error: str | None = None
    streams: HttpClient | None = None

    def failed(self, err: AdapterError) -> None:
        if isinstance(err, (Unavailable, AuthError)):
            self.online = False
        self.error = str(err)


@dataclass(frozen=True, slots=True)
class _Target:
    gw: _Gateway
    provider: str
    source: str
    tags: tuple[str, ...]


class ThingsProAdapter(Adapter):
    vendor = "thingspro"
    capabilities = frozenset(
        {Capability.tree, Capability.latest, Capability.history, Capability.tag_write, Capability.live_stream}
    )

    def __init__(self, profile: Profile, secrets: SecretSource, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(profile, secrets, transport=transport)
        self.warnings: list[str] = []
        self.reconnect_delay = min(1.0, profile.poll_interval)
        self.rejoin_interval = max(profile.poll_interval, 1.0) * 3  # retry a gateway that was away
        self._verify_problem: str | None = None
        self._verify = self._verify_setting()
        self._gws: dict[str, _Gateway] = {}
        for url in profile.urls:
            full = gateway_url(url)
            key = gateway_key(full)
            if key and key not in self._gws:
                label = f"{profile.name} gateway {key}"
                self._gws[key] = _Gateway(full, key, self._client(full, label, PER_GATEWAY_CONCURRENCY), label)
        self._buffer: dict[str, dict[int, Any]] = {}
        self._secret: SecretStr | None = None

    # ---- set-up ----------------------------------------------------------------------------

    def _verify_setting(self) -> bool | ssl.SSLContext:
        v: Any = self.profile.verify
        if isinstance(v, str) and v.strip().lower() in ("true", "false"):
            v = v.strip().lower() == "true"
        if v is False:
            if any(gateway_url(u).startswith("https://") for u in self.profile.urls):
                self.warnings.append(
                    f"profile '{self.profile.name}': TLS verification is off (verify = false); the gateways' "
                    "identity is not checked. Set verify to the gateway CA bundle path instead."
                )
            return False
        if v is True:
            return True
        path = os.path.expanduser(str(v))
        if not os.path.isfile(path):
            self._verify_problem = f"profile '{self.profile.name}': verify names a CA bundle that does not exist: {path}"
            return True
        try:
            return ssl.create_default_context(cafile=path)
        except (ssl.SSLError, OSError, ValueError) as e:
            self._verify_problem = f"profile '{self.profile.name}': cannot load CA bundle {path}: {e}"
            return True

    def _client(self, url: str, label: str, concurrency: int) -> HttpClient:
        p = self.profile
        settings = HttpSettings(
            timeout=p.timeout,
            # a dead gateway must not hold the whole fleet's refresh for long
            deadline=p.timeout * 2 + 1,
            max_concurrency=max(1, min(p.max_concurrency, concurrency)),
            retries=1,
            backoff=0.25,
            verify=self._verify,  # type: ignore[arg-type]  # an SSLContext for a CA bundle path
        )
        return HttpClient(url, settings=settings, transport=self.transport, error_parser=_error_parser(label), label=label)

    def _check_ready(self) -> None:
        if self._verify_problem:
            raise InvalidRequest(self._verify_problem)
        if not self._gws:
            raise InvalidRequest(f"profile '{self.profile.name}' lists no gateway: set `gateways` or `base_url`")

    @property
    def gateways(self) -> list[str]:
        return list(self._gws)

    @property
    def health(self) -> Health:
        parts = [g.http.health for g in self._gws.values()]
        if not parts:
            return Health()
        h = Health(
            requests=sum(p.requests for p in parts),
            failures=sum(p.failures for p in parts),
            retries=sum(p.retries for p in parts),
        )
        states = [p.state for p in parts]
        oks = [p.last_ok for p in parts if p.last_ok]
        h.last_ok = max(oks) if oks else None
        errors = [p.last_error for p in parts if p.last_error]
        h.last_error = errors[0] if errors else None
        if all(s == "ok" for s in states):
            h.state = "ok"
        elif all(s == "offline" for s in states):
            h.state = "offline"
        elif all(s == "unknown" for s in states):
            h.state = "unknown"
        else:
            h.state = "degraded" if any(s in ("ok", "degraded") for s in states) else "unknown"
        return h

    async def aclose(self) -> None:
        for g in self._gws.values():
            await g.http.aclose()
            if g.streams is not None:
                await g.streams.aclose()

    # ---- auth ------------------------------------------------------------------------------

    async def _headers(self, gw: _Gateway) -> dict[str, str]:
        if gw.token is None:
            async with gw.lock:
                if gw.token is None:
                    await self._login(gw)
        assert gw.token is not None
        return {"mx-api-token": gw.token} if gw.static_token else {"Authorization": f"Bearer {gw.token}"}

    async def _login(self, gw: _Gateway) -> None:
        # Fetched once and shared: every gateway logs in with the same credential, even
        # after a refusal made the secret source forget it (so the next session asks again).
        if self._secret is None:
            self._secret = await self.secrets.get(self.name)
        raw = self._secret.get_secret_value()
        if raw.startswith("eyJ") and raw.count(".") == 2:
            gw.token, gw.static_token = raw, True  # an on-device mx-api-token: no login
            return
        body = {"name": self.profile.username or "admin", "password": raw}
        try:
            answer = await gw.http.post(f"{API}/auth", json_body=body, retry=True)
        except AuthError:
            self.secrets.forget(self.name)
            raise
        data = pick(answer, "data") if isinstance(answer, dict) else None
        token = pick(data, "token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise VendorError(None, f"{gw.label}: login answer carries no token")
        gw.token, gw.static_token = token, False

    async def _call(self, gw: _Gateway, method: str, path: str, **kw: Any) -> Any:
        self._check_ready()
        for attempt in (1, 2):
            headers = await self._headers(gw)
            try:
                answer = await gw.http.request(method, path, headers=headers, **kw)
            except AuthError:
                if attempt == 2 or gw.static_token:
                    if gw.static_token:
                        self.secrets.forget(self.name)
                    raise
                gw.token = None  # expired JWT: log in again, once
                continue
            except AdapterError as e:
                gw.failed(e)
                raise
            gw.online, gw.error = True, None
            return answer
        raise AssertionError("unreachable")

    # ---- catalogue --------------------------------------------------------------------------

    async def _catalog(self, gw: _Gateway, *, refresh: bool = False) -> Catalog:
        if gw.catalog is not None and not refresh:
            return gw.catalog
        try:
            answer = await self._call(gw, "GET", f"{API}/tags/list")
        except AdapterError as e:
            gw.failed(e)
            raise
        catalog: Catalog = {}
        for item in as_list(_data(answer)):
            if not isinstance(item, dict):
                continue
            prov, src, name = pick(item, "prvdName"), pick(item, "srcName"), pick(item, "tagName")
            if not (prov and src and name):
                continue
            info = TagInfo(
                str(prov),
                str(src),
                str(name),
                str(pick(item, "dataType", default="") or ""),
                pick(item, "dataUnit") or None,
                str(pick(item, "access", default="r") or "r").lower(),
            )
            catalog.setdefault((info.provider, info.source), {})[info.name] = info
        gw.catalog = catalog
        return catalog

    def _gateway(self, key_or_url: str) -> _Gateway:
        key = key_or_url if key_or_url in self._gws else gateway_key(key_or_url)
        gw = self._gws.get(key)
        if gw is None:
            raise NotFound(f"profile '{self.name}' has no gateway {key_or_url} (gateways: {', '.join(self._gws)})")
        return gw

    async def _info(self, gw: _Gateway, *, cloud: bool = True) -> dict[str, Any]:
        """Device information and (with `cloud`) cloud connectivity; each part is optional
        (older firmware). Without `cloud` one request instead of five: the console's first
        tree (619 gateways at 100k devices) asks only for names, and a gateway's cloud
        status when its detail is looked at (`node`); what was known of it is kept."""
        paths = {"general": f"{API}/device/general"}
        if cloud:
            paths |= {
                "mqtt": f"{API}/mqtt/clients",
                "azure": f"{API}/azure-iotdevice",
                "aws": f"{API}/aws-iotdevice",
                "sparkplug": f"{API}/sparkplug",
            }
        answers = await asyncio.gather(*(self._call(gw, "GET", p) for p in paths.values()), return_exceptions=True)
        got = {k: _data(a) for k, a in zip(paths, answers) if not isinstance(a, BaseException)}
        info: dict[str, Any] = {"url": gw.url}
        general = got.get("general")
        if isinstance(general, dict):
            for k in ("description", "hostName", "serialNumber", "modelName", "firmware", "thingsproVersion", "ipAddress"):
                v = pick(general, k)
                if v not in (None, ""):
                    info[k] = v
        if cloud:
            info.update(cloud_status(got))
        else:
            info.update({k: v for k, v in gw.info.items() if k in CLOUD_KEYS})
        gw.info = info
        return info

    # ---- nodes ----------------------------------------------------------------------------------

    def _gateway_node(self, gw: _Gateway) -> Node:
        attrs = dict(gw.info) or {"url": gw.url}
        if gw.error:
            attrs["error"] = gw.error
        name = attrs.get("description") or attrs.get("hostName") or gw.key
        return Node(
            kind="group", id=gw.key, name=str(name), profile=self.name, online=gw.online, attrs=attrs, has_children=True
        )

    def _provider_nodes(self, gw: _Gateway, catalog: Catalog) -> list[Node]:
        counts: dict[str, int] = {}
        for prov, _ in catalog:
            counts[prov] = counts.get(prov, 0) + 1
        parent = self.ref("group", gw.key)
        return [
            Node(
                kind="group",
                id=f"{gw.key}|{_enc(prov)}",
                name=prov,
                profile=self.name,
                parent=parent,
                attrs={"gateway": gw.key, "sources": n},
                has_children=True,
            )
            for prov, n in counts.items()
        ]

    def _source_nodes(self, gw: _Gateway, catalog: Catalog, provider: str | None = None) -> list[Node]:
        out = []
        for (prov, src), tags in catalog.items():
            if provider is not None and prov != provider:
                continue
            out.append(
                Node(
                    kind="device",
                    id=f"{gw.key}|{_enc(prov)}/{_enc(src)}",
                    name=src,
                    profile=self.name,
                    parent=self.ref("group", f"{gw.key}|{_enc(prov)}"),
                    attrs={"gateway": gw.key, "provider": prov, "tags": len(tags)},
                    has_children=bool(tags),
                )
            )
        return out

    def _tag_nodes(self, gw: _Gateway, tags: dict[str, TagInfo]) -> list[Node]:
        out = []
        for t in tags.values():
            out.append(
                Node(
                    kind="metric",
                    id=f"{gw.key}|{tag_path(t.provider, t.source, t.name)}",
                    name=t.name,
                    profile=self.name,
                    parent=self.ref("device", f"{gw.key}|{_enc(t.provider)}/{_enc(t.source)}"),
                    unit=t.unit,
                    value_type=value_type(t.data_type),
                    attrs={"access": t.access, "dataType": t.data_type},
                    has_children=False,
                )
            )
        return out

    async def _gateway_tree(self, gw: _Gateway, depth: str) -> tuple[list[Node], AdapterError | None]:
        problem: AdapterError | None = None
        try:
            catalog = await self._catalog(gw, refresh=True)
        except AdapterError as e:
            problem = e
            catalog = gw.catalog or {}  # keep showing what it had, marked offline
        if problem is None:
            await self._info(gw, cloud=depth == "metric")
        nodes = [self._gateway_node(gw)]
        providers = self._provider_nodes(gw, catalog)
        for pnode in providers:
            nodes.append(pnode)
            prov = pnode.name
            for snode in self._source_nodes(gw, catalog, prov):
                nodes.append(snode)
                if depth == "metric":
                    nodes.extend(self._tag_nodes(gw, catalog[(prov, snode.name)]))
        return nodes, problem

    async def tree(self, *, depth: str = "metric") -> list[Node]:
        self._check_ready()
        # gateways are separate hosts, so several load at once, but a bounded few: hundreds of
        # trees decoded at once would crowd out everything else the process does
        results = await gather_limited((self._gateway_tree(g, depth) for g in self._gws.values()),
                                       limit=4 * self.profile.max_concurrency)
        for r in results:
            if isinstance(r, BaseException):  # gather_limited hands adapter errors back; raise as before
                raise r
        problems = [p for _, p in results if p is not None]
        if len(problems) == len(results):
            raise problems[0]
        return [n for nodes, _ in results for n in nodes]

    async def node(self, ref: str) -> Node | None:
        """A gateway afresh, with its cloud connectivity (the console's tree leaves it out)."""
        kind, id = self._split(ref)
        if kind != "group" or "|" in id:
            return None
        gw = self._gateway(id)
        await self._info(gw)
        return self._gateway_node(gw)

    async def children(self, ref: str) -> list[Node]:
        kind, id = self._split(ref)
        gkey, _, rest = id.partition("|")
        gw = self._gateway(gkey)
        catalog = await self._catalog(gw)
        if kind == "group" and not rest:
            return self._provider_nodes(gw, catalog)
        if kind == "group":
            return self._source_nodes(gw, catalog, unquote(rest))
        if kind == "device":
            prov, _, src = rest.partition("/")
            tags = catalog.get((unquote(prov), unquote(src)))
            if tags is None:
                raise NotFound(f"{gw.label}: no source {unquote(prov)}/{unquote(src)}")
            return self._tag_nodes(gw, tags)
        return []

    def _split(self, ref: str) -> tuple[str, str]:
        try:
            profile, kind, id = split_ref(ref)
        except ValueError:
            raise InvalidRequest(f"'{ref}' is not a node reference (profile/kind/id)") from None
        if profile != self.name:
            raise InvalidRequest(f"'{ref}' belongs to profile '{profile}', not '{self.name}'")
        return kind, id

    # ---- latest -----------------------------------------------------------------------------------

    async def _targets(self, refs: Sequence[str] | None) -> tuple[list[_Target], dict[str, AdapterError]]:
        """Sources to read (with the tags wanted from each) for node refs; None = everything."""
        wanted: dict[tuple[str, str, str], set[str] | None] = {}
        if refs is None:
            for key in self._gws:
                wanted[(key, "", "")] = None
        else:
            for ref in refs:
                kind, id = self._split(ref)
                gkey, _, rest = id.partition("|")
                self._gateway(gkey)
                if kind == "metric":
                    prov, src, tag = parse_tag_path(rest)
                    slot = wanted.setdefault((gkey, prov, src), set())
                    if slot is not None:
                        slot.add(tag)
                elif kind == "device":
                    prov, _, src = rest.partition("/")
                    wanted[(gkey, unquote(prov), unquote(src))] = None
                elif rest:
                    wanted[(gkey, unquote(rest), "")] = None
                else:
                    wanted[(gkey, "", "")] = None
        errors: dict[str, AdapterError] = {}
        catalogs: dict[str, Catalog] = {}
        for key in {k for k, _, _ in wanted}:
            gw = self._gws[key]
            try:
                catalogs[key] = await self._catalog(gw)
            except AdapterError as e:
                errors[key] = e
        targets: dict[tuple[str, str, str], set[str]] = {}
        for (key, prov, src), tags in wanted.items():
            catalog = catalogs.get(key)
            if catalog is None:
                continue
            for (p, s), known in catalog.items():
                if (prov and p != prov) or (src and s != src):
                    continue
                names = set(known) if tags is None else {t for t in tags if t in known}
                if names:
                    targets.setdefault((key, p, s), set()).update(names)
        by_gw: dict[str, list[_Target]] = {}
        for (k, p, s), names in targets.items():
            order = list(catalogs[k][(p, s)])
            by_gw.setdefault(k, []).append(_Target(self._gws[k], p, s, tuple(sorted(names, key=order.index))))
        # round-robin over gateways, so a bounded gather keeps every gateway busy at once
        out = [t for group in itertools.zip_longest(*by_gw.values()) for t in group if t is not None]
        return out, errors

    def _monitor_path(self, t: _Target) -> str:
        return f"{API}/tags/monitor/{quote(t.provider, safe='')}/{quote(t.source, safe='')}"

    def _reading(self, gw: _Gateway, item: Any, provider: str, source: str) -> Reading | None:
        if not isinstance(item, dict):
            return None
        tag = pick(item, "tagName")
        ts = pick(item, "ts", "timestamp")
        raw = pick(item, "dataValue")
        if tag is None or ts is None or raw is None:
            return None
        prov = str(pick(item, "prvdName", default=provider) or provider)
        src = str(pick(item, "srcName", default=source) or source)
        info = (gw.catalog or {}).get((prov, src), {}).get(str(tag))
        data_type = str(pick(item, "dataType", default="") or (info.data_type if info else ""))
        try:
            when = from_epoch(ts, "ms")
        except (ValueError, OverflowError, OSError):
            return None
        unit = pick(item, "dataUnit") or (info.unit if info else None) or None
        mid = f"{gw.key}|{tag_path(prov, src, str(tag))}"
        return Reading(metric=self.ref("metric", mid), value=_value(raw, data_type), ts=when, unit=unit,
                       device=self.ref("device", f"{gw.key}|{_enc(prov)}/{_enc(src)}"))

    async def _read_source(self, t: _Target) -> list[Reading]:
        answer = await self._call(t.gw, "GET", self._monitor_path(t), params={"tags": ",".join(t.tags)})
        out = []
        for item in as_list(_data(answer)):
            r = self._reading(t.gw, item, t.provider, t.source)
            if r is not None:
                self._remember(r)
                out.append(r)
        return out

    async def latest(self, refs: Sequence[str] | None = None) -> list[Reading]:
        self._check_ready()
        targets, errors = await self._targets(refs)
        if not targets and errors:
            raise next(iter(errors.values()))
        limit = PER_GATEWAY_CONCURRENCY * max(1, len(self._gws))
        results = await gather_limited((self._read_source(t) for t in targets), limit=limit)
        readings = [r for res in results if not isinstance(res, AdapterError) for r in res]
        failed = [res for res in results if isinstance(res, AdapterError)]
        if targets and len(failed) == len(targets):
            raise failed[0]
        return readings

    # ---- local buffer ---------------------------------------------------------------------------------

    def _remember(self, r: Reading) -> None:
        mid = self.metric_id(r.metric)
        buf = self._buffer.setdefault(mid, {})
        buf[round(r.ts.timestamp() * 1000)] = r.value
        if len(buf) > BUFFER_POINTS * 1.2:
            for ts in sorted(buf)[: len(buf) - BUFFER_POINTS]:
                del buf[ts]

    # ---- history -------------------------------------------------------------------------------------

    def _locate(self, metric: str) -> tuple[_Gateway, str, str, str]:
        mid = self.metric_id(metric)
        gkey, sep, path = mid.partition("|")
        if not sep:
            raise InvalidRequest(f"'{metric}' is not a ThingsPro metric id (<gateway>|<provider>/<source>/<tag>)")
        prov, src, tag = parse_tag_path(path)
        return self._gateway(gkey), prov, src, tag

    async def history(
        self,
        metric: str,
        start: datetime,
        end: datetime,
        *,
        aggregate: Aggregate | None = None,
        bucket: timedelta | None = None,
    ) -> Series:
        self._check_ready()
        gw, prov, src, tag = self._locate(metric)
        mid = f"{gw.key}|{tag_path(prov, src, tag)}"
        ref = self.ref("metric", mid)
        lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
        merged: dict[int, Any] = {}
        now = now_utc()
        unit = None
        if start < now:
            window_ms = max(1, math.ceil((now - start).total_seconds() * 1000))
            target = _Target(gw, prov, src, (tag,))
            try:
                answer = await self._call(gw, "GET", self._monitor_path(target), params={"tags": tag, "ms": window_ms})
            except AdapterError:
                if not any(lo <= ts <= hi for ts in self._buffer.get(mid, {})):
                    raise
                answer = None  # the gateway is away: what was buffered is all there is
            for item in as_list(_data(answer)) if answer is not None else []:
                if isinstance(item, dict) and str(pick(item, "tagName", default=tag)) != tag:
                    continue
                r = self._reading(gw, {"tagName": tag, **item} if isinstance(item, dict) else item, prov, src)
                if r is not None:
                    unit = unit or r.unit
                    merged[round(r.ts.timestamp() * 1000)] = r.value
        for ts, v in self._buffer.get(mid, {}).items():
            merged.setdefault(ts, v)
        info = (gw.catalog or {}).get((prov, src), {}).get(tag)
        unit = unit or (info.unit if info else None)
        points = [Point(ts=from_epoch(ts, "ms"), value=merged[ts]) for ts in sorted(merged) if lo <= ts <= hi]
        if aggregate is not None:
            size = bucket or timedelta(seconds=max(60, (end - start).total_seconds() / 60))
            return Series(metric=ref, points=bucketize(points, aggregate, size), aggregate=aggregate, bucket=size, unit=unit)
        return Series(metric=ref, points=points, unit=unit)

    # ---- tag writes ----------------------------------------------------------------------------------

    async def find_tag(self, target: str, *, gateway: str | None = None) -> tuple[_Gateway, TagInfo]:
        """A tag by metric ref/id (`gw|p/s/t`) or by `PROVIDER/SOURCE/TAG` (searched on every gateway)."""
        self._check_ready()
        mid = self.metric_id(target)
        gkey, sep, path = mid.partition("|")
        if not sep:
            gkey, path = "", mid
        prov, src, tag = parse_tag_path(path)
        if gateway:
            gws = [self._gateway(gateway)]
        elif gkey:
            gws = [self._gateway(gkey)]
        else:
            gws = list(self._gws.values())
        found: list[tuple[_Gateway, TagInfo]] = []
        errors: list[AdapterError] = []
        for gw in gws:
            try:
                catalog = await self._catalog(gw)
            except AdapterError as e:
                errors.append(e)
                continue
            info = catalog.get((prov, src), {}).get(tag)
            if info is not None:
                found.append((gw, info))
        if not found:
            if errors and len(errors) == len(gws):
                raise errors[0]
            raise NotFound(f"no tag {prov}/{src}/{tag} on {', '.join(g.key for g in gws)}")
        if len(found) > 1:
            keys = ", ".join(g.key for g, _ in found)
            raise InvalidRequest(f"tag {prov}/{src}/{tag} exists on {len(found)} gateways ({keys}): name one with --gateway")
        return found[0]

    async def write_tag(self, target: str, value: Any, *, gateway: str | None = None) -> Reading:
        """Write one tag (checked: writable, value converted to the tag's dataType); returns what the gateway stored."""
        if self.profile.read_only:
            raise NotSupported(f"profile '{self.name}' is read-only; no change was made")
        gw, info = await self.find_tag(target, gateway=gateway)
        where = f"{info.provider}/{info.source}/{info.name} on {gw.key}"
        if "w" not in info.access:
            raise InvalidRequest(f"{where} is read-only (access '{info.access}'); no change was made")
        if not info.data_type:
            raise InvalidRequest(f"{where} has no dataType; refusing to guess one")
        converted = coerce(info.data_type, value)
        path = f"{API}/tags/access/{quote(info.provider, safe='')}/{quote(info.source, safe='')}/{quote(info.name, safe='')}"
        answer = await self._call(gw, "PUT", path, json_body={"dataType": info.data_type, "dataValue": converted})
        data = _data(answer)
        item = {"tagName": info.name, "dataType": info.data_type, "dataValue": converted, "ts": now_utc().timestamp() * 1000}
        if isinstance(data, dict):
            item.update({k: v for k, v in data.items() if v is not None})
        r = self._reading(gw, item, info.provider, info.source)
        if r is None:
            r = Reading(
                metric=self.ref("metric", f"{gw.key}|{tag_path(info.provider, info.source, info.name)}"),
                value=converted,
                ts=now_utc(),
                unit=info.unit,
            )
        self._remember(r)
        return r

    # ---- live ---------------------------------------------------------------------------------------

    async def stream(self, refs: Sequence[str] | None = None) -> AsyncIterator[Reading]:
        """Readings as they change: the gateways' streaming monitor when the profile is `live`,
        else (and for sources beyond the per-gateway stream budget) polling every poll_interval.

        Transient failures are retried quietly (the gateway node shows them); a refused
        credential ends the stream with `AuthError` rather than retrying a bad password.
        """
        self._check_ready()
        targets, errors = await self._targets(refs)
        if not targets and errors:
            raise next(iter(errors.values()))
        queue: asyncio.Queue[Reading | Exception] = asyncio.Queue(maxsize=10_000)
        seen: dict[str, tuple[datetime, Any]] = {}
        tasks: list[asyncio.Task[None]] = []
        self._start_pumps(targets, queue, seen, tasks)
        for key in errors:  # unreachable now: join the stream when the gateway is back
            tasks.append(asyncio.create_task(_guard(self._join_later(key, refs, queue, seen, tasks), queue)))
        try:
            while True:
                item = await queue.get()
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _start_pumps(self, targets: list[_Target], queue: asyncio.Queue[Any], seen: dict[str, Any], tasks: list[asyncio.Task[None]]) -> None:
        streamed: list[_Target] = []
        polled: list[_Target] = []
        per_gw: dict[str, int] = {}
        for t in targets:
            n = per_gw.get(t.gw.key, 0)
            if self.profile.live and n < STREAMS_PER_GATEWAY:
                streamed.append(t)
                per_gw[t.gw.key] = n + 1
            else:
                polled.append(t)
        tasks.extend(asyncio.create_task(_guard(self._pump_stream(t, queue, seen), queue)) for t in streamed)
        if polled:
            tasks.append(asyncio.create_task(_guard(self._pump_poll(polled, queue, seen), queue)))

    async def _join_later(
        self, key: str, refs: Sequence[str] | None, queue: asyncio.Queue[Any], seen: dict[str, Any], tasks: list[asyncio.Task[None]]
    ) -> None:
        mine = [self.ref("group", key)] if refs is None else [r for r in refs if self._split(r)[1].partition("|")[0] == key]
        while True:
            await asyncio.sleep(self.rejoin_interval)
            targets, errors = await self._targets(mine)
            if targets:
                self._start_pumps(targets, queue, seen, tasks)
                return
            if errors and all(isinstance(e, AuthError) for e in errors.values()):
                raise next(iter(errors.values()))

    async def _offer(self, r: Reading, queue: asyncio.Queue[Any], seen: dict[str, tuple[datetime, Any]]) -> None:
        if seen.get(r.metric) == (r.ts, r.value):
            return  # a stream repeats unchanged values every interval
        seen[r.metric] = (r.ts, r.value)
        self._remember(r)
        await queue.put(r)

    async def _pump_poll(self, targets: list[_Target], queue: asyncio.Queue[Any], seen: dict[str, Any]) -> None:
        while True:
            results = await gather_limited((self._read_source(t) for t in targets), limit=PER_GATEWAY_CONCURRENCY * len(self._gws))
            if results and all(isinstance(res, AuthError) for res in results):
                raise results[0]
            for res in results:
                if isinstance(res, AdapterError):
                    continue
                for r in res:
                    await self._offer(r, queue, seen)
            await asyncio.sleep(self.profile.poll_interval)

    async def _pump_stream(self, t: _Target, queue: asyncio.Queue[Any], seen: dict[str, Any]) -> None:
        delay = self.reconnect_delay
        while True:
            try:
                got = await self._stream_once(t, queue, seen)
                delay = self.reconnect_delay if got else min(delay * 2, max(self.profile.poll_interval, 1.0))
            except (NotFound, VendorError, InvalidRequest):
                # this gateway has no streaming monitor (or refuses the parameters): poll instead
                await self._pump_poll([t], queue, seen)
                return
            except AuthError:
                raise
            except AdapterError as e:
                t.gw.failed(e)
                delay = min(max(delay * 2, self.reconnect_delay), max(self.profile.poll_interval, 1.0) * 3)
            await asyncio.sleep(delay)

    async def _stream_once(self, t: _Target, queue: asyncio.Queue[Any], seen: dict[str, Any]) -> int:
        """One streaming request, read until the gateway ends it; returns how many readings arrived."""
        gw = t.gw
        if gw.streams is None:
            gw.streams = self._client(gw.url, gw.label, STREAMS_PER_GATEWAY)
        interval_ms = int(self.profile.poll_interval * 1000)
        params = {"tags": ",".join(t.tags), "streamInterval": interval_ms}
        timeout = httpx.Timeout(self.profile.timeout, read=self.profile.poll_interval + self.profile.timeout)
        got = 0
        for attempt in (1, 2):
            headers = await self._headers(gw)
            try:
                async with gw.streams.stream("GET", self._monitor_path(t), params=params, headers=headers, timeout=timeout) as resp:
                    if resp.status_code >= 400:
                        await resp.aread()
                        err = _status_error(gw.label, resp)
                        if isinstance(err, AuthError) and attempt == 1 and not gw.static_token:
                            gw.token = None
                            continue
                        raise err
                    gw.online, gw.error = True, None
                    async for line in resp.aiter_lines():
                        line = line.strip()
                        if not line:
                            continue
                        try:
                            item = json.loads(line)
                        except ValueError:
                            continue  # a torn line; the next tick repeats the value
                        for one in as_list(_data(item) if isinstance(item, dict) and "data" in item else item):
                            r = self._reading(gw, one, t.provider, t.source)
                            if r is not None:
                                got += 1
                                await self._offer(r, queue, seen)
                    return got
            except httpx.TimeoutException:
                raise Unavailable(f"{gw.label}: live stream stalled") from None
            except httpx.ConnectError as e:
                raise Unavailable(_connect_message(gw.label, e)) from None
            except httpx.TransportError as e:
                raise Unavailable(f"{gw.label}: live stream dropped ({type(e).__name__})") from None
        return got


async def _guard(pump: Any, queue: asyncio.Queue[Any]) -> None:
    """Run a pump; a failure it cannot handle is handed to the consumer instead of vanishing."""
    try:
        await pump
    except Exception as e:  # noqa: BLE001  (raised again in the consumer)
        await queue.put(e)


# ---- vendor JSON helpers -------------------------------------------------------------------------


def _data(answer: Any) -> Any:
    if isinstance(answer, dict) and "data" in answer:
        return answer["data"]
    return answer


def _error_message(body: Any) -> tuple[Any, str] | None:
    if not isinstance(body, dict) or body.get("error") in (None, "", {}):
        return None
    err = body["error"]
    if isinstance(err, dict):
        code = pick(err, "code")
        msg = pick(err, "message", "desc", "detail")
        return code, str(msg) if msg not in (None, "") else json.dumps(err)
    return None, str(err)


def _error_parser(label: str):  # type: ignore[no-untyped-def]
    def parse(resp: httpx.Response, body: Any) -> AdapterError | None:
        found = _error_message(body)
        if found is None:
            return None
        code, msg = found
        if resp.status_code == 404:
            return NotFound(f"{label}: {msg}")
        return VendorError(code, f"{label}: {msg}", resp.status_code)

    return parse


def _status_error(label: str, resp: httpx.Response) -> AdapterError:
    try:
        body = json.loads(resp.content) if resp.content else None
    except ValueError:
        body = None
    found = _error_message(body)
    msg = found[1] if found else (resp.reason_phrase or f"HTTP {resp.status_code}")
    if resp.status_code in (401, 403):
        return AuthError(f"{label}: credential refused (HTTP {resp.status_code}: {msg})")
    if resp.status_code == 404:
        return NotFound(f"{label}: {msg}")
    if resp.status_code == 429 or resp.status_code >= 500:
        return Unavailable(f"{label}: HTTP {resp.status_code} ({msg})")
    return VendorError(found[0] if found else resp.status_code, f"{label}: {msg}", resp.status_code)


def _summary(enabled: bool, statuses: list[str]) -> str:
    if not enabled:
        return "disabled"
    if not statuses:
        return "enabled"
    connected = sum(1 for s in statuses if s.lower() == "connected")
    if len(statuses) == 1:
        return statuses[0]
    return f"{connected}/{len(statuses)} connected"


CLOUD_KEYS = ("mqtt", "azure", "aws", "sparkplug")


def cloud_status(got: dict[str, Any]) -> dict[str, str]:
    """Cloud connectivity of one gateway as short attrs (`mqtt`, `azure`, `aws`, `sparkplug`).

    Only enable flags and connection status are kept: configurations carry passwords
    and connection strings that have no place in a console.
    """
    out: dict[str, str] = {}
    if "mqtt" in got:
        clients = [c for c in as_list(got["mqtt"]) if isinstance(c, dict)]
        on = [c for c in clients if bool(pick(c, "enable", default=False))]
        out["mqtt"] = _summary(bool(on), [str(pick(c, "status", default="") or "") for c in on if pick(c, "status")]) if clients else "none"
    for key in ("azure", "aws"):
        d = got.get(key)
        if isinstance(d, dict):
            prov = pick(d, "provisioning")
            enabled = bool(pick(prov, "enable", default=False)) if isinstance(prov, dict) else bool(pick(d, "enable", default=False))
            status = pick(d, "status")
            out[key] = _summary(enabled, [str(status)] if status else [])
    d = got.get("sparkplug")
    if isinstance(d, dict):
        brokers = [b for b in as_list(pick(d, "brokerList")) if isinstance(b, dict)]
        enabled = bool(pick(d, "enable", default=bool(brokers)))
        out["sparkplug"] = _summary(enabled, [str(pick(b, "status")) for b in brokers if pick(b, "status")])
    return out
