"""One Moxa ThingsPro Edge gateway (TPE 2.x REST API), fed by the shared synthetic world.

Each app instance is ONE gateway: a site with several gateways is several apps (the
demo routes `http://<gateway-id>.thingspro.demo` to each; `tuiot simulate --vendor
thingspro --gateways N [--tls]` serves N of them on consecutive loopback ports).

Routes (every path under `/api/v1`, successes `{"data": ...}`, errors
`{"error": {"code": <http status>, "message": "..."}}`):

- `POST /auth` `{name, password}` → `{"data": {"token": <JWT>}}`; `GET /auth` checks a
  token (`{"data": "ok"}`). A request authenticates with `Authorization: Bearer <jwt>`
  or with the `mx-api-token: <jwt>` header. Tokens are HS256 JWTs signed with a key
  derived from the secret and the gateway id, so a token of one gateway is refused by
  another, as on real gateways. `app.state.mx_api_token` is this gateway's long-lived
  token (exp about 100 years out), the one an operator would copy off the device.
- `GET /tags/list[?provider=]` → the tag catalogue: provider `modbus_tcp_master`, one
  source per field device behind this gateway (source name = device id), its metrics
  as tags (writable set-points have access `rw`, the rest `r`); provider `system`,
  source `status`, the gateway's own `cpuUsage`/`memoryUsage`/`diskUsage`.
- `GET /tags/monitor/{provider}/{source}?tags=a,b` → newest value of each tag (a list,
  even for one tag; no `tags` means all of the source). `&ms=<millis>` returns every
  point of the look-back window instead (the gateway keeps `RETENTION_S`, 24 h).
  `&streamInterval=<ms>` or `&onChanged=true` answer with a streaming response of
  newline-delimited JSON objects, one per tag value, until the client goes away (or
  `stream_limit` lines were sent: an app option that keeps tests finite, because httpx's
  in-process ASGI transport buffers a whole body before returning it).
- `GET|PUT /tags/access/{provider}/{source}/{tag}`: a direct read; a write
  `{"dataType": ..., "dataValue": ...}` only to `w`/`rw` tags, with the dataType
  matching the tag's and the value checked against it. A written value persists: later
  reads, monitor answers and history from the time of the write return it.
- `GET /device/general` → `{description, hostName, serialNumber, modelName, firmware, ...}`.
- Cloud connectivity, read-only. The scraped "ThingsPro Cloud APIs" page gives the
  sections and payloads but not the paths; these are this project's choice:
  `GET /mqtt/clients` (list of generic MQTT client configurations with `status`),
  `GET /azure-iotdevice` (`{status, provisioning: {enable, authenticationType, ...}}`),
  `GET /aws-iotdevice` (`{status, provisioning: {enable, host, port, thingID, ...}}`),
  `GET /sparkplug[?event=true]` (`{enable, nodeID, groupID, brokerList: [...]}`; with
  `event=true` only the runtime status `{brokerList: [{id, status}]}`). Passwords and
  connection-string keys are never echoed back.

`down=True` makes the gateway unreachable: every request is answered 503.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tuiot.simulators.faults import Faults, with_faults
from tuiot.simulators.fleet import SYSTEM, Device, Gateway, MetricSpec, World, mix, sim_clock, str_hash, unit

DEMO_SECRET = "moxa-demo-pass"
MODBUS = "modbus_tcp_master"
SYSTEM_PROVIDER = "system"
SYSTEM_SOURCE = "status"
RETENTION_S = 86_400  # how far back the look-back window reaches
TOKEN_TTL_S = 3_600
MAX_POINTS_PER_TAG = 10_000
MODEL_NAME = "UC-8112A-ME-T-LX"
TPE_VERSION = "2.3.1"

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
DATA_TYPES = (*INT_RANGES, "float", "double", "string", "boolean", "raw")
_SYSTEM_TAGS = {"cpu": "cpuUsage", "memory": "memoryUsage", "disk": "diskUsage"}


# ---- the gateway's model of its tags ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tag:
    provider: str
    source: str
    name: str
    device: Device
    metric: MetricSpec
    data_type: str
    access: str

    @property
    def unit(self) -> str:
        return self.metric.unit

    def describe(self) -> dict[str, Any]:
        return {
            "prvdName": self.provider,
            "srcName": self.source,
            "tagName": self.name,
            "dataType": self.data_type,
            "dataSize": _data_size(self.data_type),
            "dataUnit": self.unit,
            "access": self.access,
        }


def _data_size(data_type: str) -> int:
    if data_type in INT_RANGES:
        return int(data_type.lstrip("uint")) // 8
    return {"float": 4, "double": 8, "boolean": 1}.get(data_type, 0)


def _tag_type(metric: MetricSpec) -> str:
    # The world's default dataType is "float"; an integer metric left at the default is an int32 register.
    if metric.type == "int" and metric.data_type == "float":
        return "int32"
    if metric.type == "bool":
        return "boolean"
    if metric.type == "counter" and metric.data_type == "float":
        return "double"
    return metric.data_type


def _gateway_device(world: World, gw: Gateway) -> Device:
    """The gateway itself as a world device, so its cpu/memory/disk follow the world's waveforms."""
    h = str_hash(gw.id) ^ world.seed
    return Device(
        index=-1 - gw.index,
        id=gw.id,
        name=gw.name,
        site=gw.site,
        gateway=gw.index,
        model="edge",
        vendor="thingspro",
        serial=gw.serial,
        interval=60,
        phase=int(h % 60),
        offline_since=None,
        created=world.epoch - 400 * 86_400,
        firmware=TPE_VERSION,
        ip=gw.ip,
        hash=h,
    )


class GatewayState:
    """Everything one gateway knows: its tags, written values, issued tokens."""

    def __init__(self, world: World, gw: Gateway, secret: str, username: str, clock: Callable[[], float]) -> None:
        self.world = world
        self.gw = gw
        self.username = username
        self.clock = clock
        self._secret = secret
        self._key = hashlib.sha256(f"{secret}|{gw.id}".encode()).digest()
        self.tags: dict[tuple[str, str], dict[str, Tag]] = {}
        self.writes: dict[tuple[str, str, str], tuple[float, Any]] = {}
        self._verified: dict[str, float] = {}  # token → its exp claim, once its signature checked out
        self.tag_list_bodies: dict[str | None, bytes] = {}  # provider filter → /tags/list answer (tags never change)
        for dev in world.devices_of_gateway(gw.index):
            source: dict[str, Tag] = {}
            for sensor, metric in world.metrics(dev):
                name = metric.key if metric.key not in source else f"{sensor.key}_{metric.key}"
                source[name] = Tag(MODBUS, dev.id, name, dev, metric, _tag_type(metric), "rw" if metric.writable else "r")
            self.tags[(MODBUS, dev.id)] = source
        me = _gateway_device(world, gw)
        self.tags[(SYSTEM_PROVIDER, SYSTEM_SOURCE)] = {
            _SYSTEM_TAGS[m.key]: Tag(SYSTEM_PROVIDER, SYSTEM_SOURCE, _SYSTEM_TAGS[m.key], me, m, "float", "r")
            for m in SYSTEM.metrics
        }
        self.mx_api_token = self.issue(ttl=100 * 365 * 86_400, subject="mx-api-token")

    # ---- tokens (HS256 JWT) ---------------------------------------------------------------

    def issue(self, *, ttl: float = TOKEN_TTL_S, subject: str = "admin") -> str:
        now = int(self.clock())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        payload = _b64(
            json.dumps(
                {"id": 1, "name": subject, "role": "admin", "gw": self.gw.id, "iat": now, "exp": now + int(ttl)},
                separators=(",", ":"),
            ).encode()
        )
        sig = _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{sig}"

    def check(self, token: str) -> bool:
        # A token's signature and expiry claim never change: verified once, then only the
        # expiry is compared (every request of every gateway carries one).
        exp = self._verified.get(token)
        if exp is None:
            parts = token.split(".")
            if len(parts) != 3:
                return False
            want = _b64(hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
            if not hmac.compare_digest(want, parts[2]):
                return False
            try:
                claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
            except ValueError:
                return False
            if not isinstance(claims, dict):
                return False
            exp = self._verified[token] = float(claims.get("exp", 0))
        return exp > self.clock()

    def password_ok(self, name: str, password: str) -> bool:
        return hmac.compare_digest(name.encode(), self.username.encode()) & hmac.compare_digest(
            password.encode(), self._secret.encode()
        )

    # ---- values ----------------------------------------------------------------------------

    def value_at(self, tag: Tag, t: float) -> Any:
        written = self.writes.get((tag.provider, tag.source, tag.name))
        if written is not None and written[0] <= t:
            return written[1]
        v = self.world.value(tag.device, tag.metric, t)
        return _typed(v, tag.data_type)

    def newest(self, tag: Tag, now: float) -> tuple[float, Any]:
        t = self.world.last_time(tag.device, now)
        written = self.writes.get((tag.provider, tag.source, tag.name))
        if written is not None and written[0] > t:
            t = written[0]
        return t, self.value_at(tag, t)

    def window(self, tag: Tag, start: float, end: float) -> list[tuple[float, Any]]:
        times = list(self.world.times(tag.device, start, end))[-MAX_POINTS_PER_TAG:]
        written = self.writes.get((tag.provider, tag.source, tag.name))
        if written is not None and start <= written[0] <= end and written[0] not in times:
            times.append(written[0])
            times.sort()
        return [(t, self.value_at(tag, t)) for t in times]

    def record(self, tag: Tag, t: float, value: Any) -> dict[str, Any]:
        return {
            "prvdName": tag.provider,
            "srcName": tag.source,
            "tagName": tag.name,
            "dataType": tag.data_type,
            "dataValue": value,
            "dataUnit": tag.unit,
            "ts": round(t * 1000),
        }

    # ---- device info and cloud connectivity --------------------------------------------------

    def general(self) -> dict[str, Any]:
        gw = self.gw
        return {
            "description": gw.name,
            "hostName": gw.id,
            "serialNumber": gw.serial,
            "modelName": MODEL_NAME,
            "firmware": f"1.{mix(str_hash(gw.id), 1) % 8}.0",
            "thingsproVersion": TPE_VERSION,
            "ipAddress": gw.ip,
        }

    def _flag(self, salt: int, p: float) -> bool:
        return unit(mix(str_hash(self.gw.id), self.world.seed, salt)) < p

    def _status(self, salt: int) -> str:
        return "connected" if self._flag(salt + 100, 0.85) else "disconnected"

    def mqtt_clients(self) -> list[dict[str, Any]]:
        out = []
        for k in range(1 + mix(str_hash(self.gw.id), 7) % 2):
            enabled = self._flag(10 + k, 0.8)
            out.append(
                {
                    "id": k + 1,
                    "enable": enabled,
                    "status": self._status(10 + k) if enabled else "disconnected",
                    "protocolVersion": "3.1.1",
                    "server": f"mqtt{k + 1}.plant.example",
                    "port": 8883 if k == 0 else 1883,
                    "keepAliveSec": 60,
                    "handshakeTimeout": 10,
                    "retryInterval": 60,
                    "clearSession": True,
                    "certificateOverTLS": k == 0,
                    "clientID": f"{self.gw.id}-{k + 1}",
                    "userName": "moxa",
                    "tlsVersion": "1.2",
                    "insecureSkipVerify": False,
                    "qos": 1,
                    "retain": False,
                }
            )
        return out

    def azure(self) -> dict[str, Any]:
        enabled = self._flag(20, 0.5)
        return {
            "status": self._status(20) if enabled else "disconnected",
            "provisioning": {
                "enable": enabled,
                "source": "manual",
                "authenticationType": "symmetricKey",
                "connectionString": f"HostName=plant-hub.azure-devices.net;DeviceId={self.gw.id};SharedAccessKey=***",
            },
            "keepAlive": 60,
            "supportTwin": True,
        }

    def aws(self) -> dict[str, Any]:
        enabled = self._flag(30, 0.3)
        return {
            "status": self._status(30) if enabled else "disconnected",
            "provisioning": {
                "enable": enabled,
                "host": "a1b2c3d4e5-ats.iot.eu-west-1.amazonaws.com",
                "port": 8883,
                "thingID": self.gw.id,
                "messageQOS": 0,
                "keepAliveSec": 60,
                "supportDM": True,
            },
        }

    def sparkplug(self, event: bool) -> dict[str, Any]:
        enabled = self._flag(40, 0.3)
        brokers = [
            {
                "id": 1,
                "enable": enabled,
                "status": self._status(40) if enabled else "disconnected",
                "lastConnectedTime": time.strftime("%b %d, %Y, %H:%M", time.gmtime(self.world.epoch - 3600)),
                "server": "sparkplug.plant.example",
                "port": 1883,
                "keepAliveSec": 60,
                "userName": "edge",
            }
        ]
        if event:
            return {"brokerList": [{"id": b["id"], "status": b["status"]} for b in brokers]}
        return {
            "enable": enabled,
            "enableDM": False,
            "nodeID": self.gw.id,
            "groupID": f"site-{self.gw.site + 1}",
            "uuid": "",
            "primaryHostID": "",
            "handshakeTimeout": 10,
            "retryInterval": 60,
            "maxRetries": 3,
            "brokerList": brokers,
        }


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _typed(v: Any, data_type: str) -> Any:
    if data_type == "boolean":
        return bool(v)
    if data_type in INT_RANGES:
        return round(float(v))
    if data_type in ("float", "double"):
        return float(v)
    if data_type == "string":
        return str(v)
    return v


# ---- HTTP ---------------------------------------------------------------------------------


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message}}, status_code=status)


def _ok(data: Any) -> JSONResponse:
    return JSONResponse({"data": data})


def _check_value(data_type: str, value: Any) -> str | None:
    """Why `value` cannot be written as `data_type`, or None when it can."""
    if data_type in INT_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"dataValue must be an integer for {data_type}"
        lo, hi = INT_RANGES[data_type]
        if not lo <= value <= hi:
            return f"dataValue {value} out of range for {data_type} ({lo}..{hi})"
        return None
    if data_type in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"dataValue must be a number for {data_type}"
        return None
    if data_type == "boolean":
        return None if isinstance(value, bool) else "dataValue must be true or false for boolean"
    if data_type == "string":
        return None if isinstance(value, str) else "dataValue must be a string"
    return f"{data_type} tags cannot be written over REST"


def create_app(
    world: World,
    *,
    gateway: str | int,
    faults: Faults | None = None,
    secret: str = DEMO_SECRET,
    username: str = "admin",
    now: Callable[[], float] | float | None = None,
    down: bool = False,
    stream_limit: int | None = None,
    token_ttl: float = TOKEN_TTL_S,
) -> Any:
    """One gateway of `world` (its id, or an index into `world.gateways_of("thingspro")`)."""
    gateways = world.gateways_of("thingspro")
    if isinstance(gateway, int):
        if not 0 <= gateway < len(gateways):
            raise ValueError(f"the world has {len(gateways)} thingspro gateways; no index {gateway}")
        gw = gateways[gateway]
    else:
        found = [g for g in gateways if g.id == gateway]
        if not found:
            raise ValueError(f"no thingspro gateway '{gateway}' in this world")
        gw = found[0]
    clock = sim_clock(now)
    state = GatewayState(world, gw, secret, username, clock)

    def authorized(request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else request.headers.get("mx-api-token", "")
        return bool(token) and state.check(token)

    def guard(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def wrapped(request: Request) -> Response:
            if down:
                return _error(503, f"gateway {gw.id} is unreachable")
            if not authorized(request):
                return _error(401, "invalid or expired token")
            return await handler(request)

        return wrapped

    async def login(request: Request) -> Response:
        if down:
            return _error(503, f"gateway {gw.id} is unreachable")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "body must be JSON {name, password}")
        if not isinstance(body, dict):
            return _error(400, "body must be JSON {name, password}")
        name, password = body.get("name"), body.get("password")
        if not isinstance(name, str) or not 1 <= len(name) <= 64:
            return _error(400, "name must be 1-64 characters")
        if not isinstance(password, str) or not 8 <= len(password) <= 256:
            return _error(400, "password must be 8-256 characters")
        if not state.password_ok(name, password):
            return _error(401, "invalid name or password")
        return _ok({"token": state.issue(ttl=token_ttl, subject=name)})

    async def auth_check(request: Request) -> Response:
        return _ok("ok")

    async def tag_list(request: Request) -> Response:
        provider = request.query_params.get("provider")
        body = state.tag_list_bodies.get(provider)
        if body is None:
            out = [
                tag.describe()
                for (prov, _), tags in state.tags.items()
                if provider in (None, "", prov)
                for tag in tags.values()
            ]
            body = _ok(out).body
            if provider in (None, "") or any(prov == provider for prov, _ in state.tags):
                state.tag_list_bodies[provider] = body
        return Response(body, media_type="application/json")

    def source_tags(request: Request) -> dict[str, Tag] | Response:
        key = (request.path_params["provider"], request.path_params["source"])
        tags = state.tags.get(key)
        if tags is None:
            return _error(404, f"no source {key[0]}/{key[1]}")
        names = [n for n in request.query_params.get("tags", "").split(",") if n.strip()]
        if not names:
            return tags
        missing = [n for n in names if n not in tags]
        if missing:
            return _error(404, f"no tag {', '.join(missing)} in {key[0]}/{key[1]}")
        return {n: tags[n] for n in names}

    async def monitor(request: Request) -> Response:
        tags = source_tags(request)
        if isinstance(tags, Response):
            return tags
        q = request.query_params
        now_s = state.clock()
        if "streamInterval" in q or q.get("onChanged", "").lower() == "true":
            interval = q.get("streamInterval", "1000")
            if not interval.isdigit() or not 50 <= int(interval) <= 3_600_000:
                return _error(400, "streamInterval must be 50..3600000 ms")
            on_changed = q.get("onChanged", "").lower() == "true"
            return StreamingResponse(
                _stream(state, list(tags.values()), int(interval) / 1000, on_changed, stream_limit),
                media_type="application/x-ndjson",
            )
        if "ms" in q:
            ms = q["ms"]
            if not ms.isdigit() or int(ms) < 1:
                return _error(400, "ms must be a positive number of milliseconds")
            start = now_s - min(int(ms) / 1000, RETENTION_S)
            out = [state.record(tag, t, v) for tag in tags.values() for t, v in state.window(tag, start, now_s)]
            out.sort(key=lambda r: r["ts"])
            return _ok(out)
        out = []
        for tag in tags.values():
            t, v = state.newest(tag, now_s)
            out.append(state.record(tag, t, v))
        return _ok(out)

    def one_tag(request: Request) -> Tag | Response:
        p = request.path_params
        tags = state.tags.get((p["provider"], p["source"]))
        if tags is None:
            return _error(404, f"no source {p['provider']}/{p['source']}")
        tag = tags.get(p["tag"])
        if tag is None:
            return _error(404, f"no tag {p['tag']} in {p['provider']}/{p['source']}")
        return tag

    async def access(request: Request) -> Response:
        tag = one_tag(request)
        if isinstance(tag, Response):
            return tag
        if request.method == "GET":
            t, v = state.newest(tag, state.clock())
            rec = state.record(tag, t, v)
            rec["timestamp"] = str(rec.pop("ts"))
            return _ok(rec)
        if "w" not in tag.access:
            return _error(400, f"tag {tag.provider}/{tag.source}/{tag.name} is read-only")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "body must be JSON {dataType, dataValue}")
        if not isinstance(body, dict) or "dataValue" not in body or "dataType" not in body:
            return _error(400, "body must be JSON {dataType, dataValue}")
        if body["dataType"] != tag.data_type:
            return _error(400, f"dataType {body['dataType']!r} does not match the tag's {tag.data_type}")
        problem = _check_value(tag.data_type, body["dataValue"])
        if problem:
            return _error(400, problem)
        t = state.clock()
        value = _typed(body["dataValue"], tag.data_type)
        state.writes[(tag.provider, tag.source, tag.name)] = (t, value)
        rec = state.record(tag, t, value)
        rec["timestamp"] = str(rec.pop("ts"))
        return _ok(rec)

    async def general(request: Request) -> Response:
        return _ok(state.general())

    async def mqtt(request: Request) -> Response:
        return _ok(state.mqtt_clients())

    async def azure(request: Request) -> Response:
        return _ok(state.azure())

    async def aws(request: Request) -> Response:
        return _ok(state.aws())

    async def sparkplug(request: Request) -> Response:
        return _ok(state.sparkplug(request.query_params.get("event", "").lower() == "true"))

    async def not_found(request: Request, exc: Exception) -> Response:
        if down:
            return _error(503, f"gateway {gw.id} is unreachable")
        return _error(404, f"no route {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _error(405, f"{request.method} not allowed on {request.url.path}")

    p = "/api/v1"
    routes = [
        Route(f"{p}/auth", login, methods=["POST"]),
        Route(f"{p}/auth", guard(auth_check), methods=["GET"]),
        Route(f"{p}/tags/list", guard(tag_list), methods=["GET"]),
        Route(f"{p}/tags/monitor/{{provider}}/{{source}}", guard(monitor), methods=["GET"]),
        Route(f"{p}/tags/access/{{provider}}/{{source}}/{{tag}}", guard(access), methods=["GET", "PUT"]),
        Route(f"{p}/device/general", guard(general), methods=["GET"]),
        Route(f"{p}/mqtt/clients", guard(mqtt), methods=["GET"]),
        Route(f"{p}/azure-iotdevice", guard(azure), methods=["GET"]),
        Route(f"{p}/aws-iotdevice", guard(aws), methods=["GET"]),
        Route(f"{p}/sparkplug", guard(sparkplug), methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
    app.state.gateway = gw
    app.state.sim = state
    app.state.mx_api_token = state.mx_api_token
    return with_faults(app, faults) if faults is not None else app


async def _stream(
    state: GatewayState, tags: list[Tag], interval: float, on_changed: bool, limit: int | None
) -> AsyncIterator[bytes]:
    """JSON lines: every tick (streamInterval) each tag's value; onChanged: only what changed."""
    sent = 0
    last: dict[str, tuple[float, Any]] = {}
    while True:
        now = state.clock()
        for tag in tags:
            t, v = state.newest(tag, now)
            if on_changed and last.get(tag.name) == (t, v):
                continue
            last[tag.name] = (t, v)
            yield (json.dumps(state.record(tag, t, v)) + "\n").encode()
            sent += 1
            if limit is not None and sent >= limit:
                return
        await asyncio.sleep(interval)


def demo_profile(name: str, world: World) -> dict[str, Any]:
    """Every thingspro gateway of the world (offline ones too: the demo serves them down)."""
    return {
        "vendor": "thingspro",
        "username": "admin",
        "gateways": [f"http://{g.id}.thingspro.demo" for g in world.gateways_of("thingspro")],
        # In process, httpx buffers a streaming body until it ends: the demo polls instead.
        "live": False,
    }
