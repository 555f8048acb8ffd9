"""Haltian Thingsee Open Services API, fed by the shared synthetic world.

Things are the world's thingsee devices; a thing's TUID is built from its model's
product prefix (`TSPD` environment, `TSAR` air quality, `TSPR` presence) and its index,
so it is unique at any fleet size. Deployment groups start as the vendor's sites
(`prfi00<site-id>`); gateways appear as `tsmGw` / `gateway_tuid` (`TSGW…`).

Routes (successes `{"data": ...}`, errors `{"message": "..."}` as AWS API Gateway
answers; VENDORS.md §2 and §6):

- `POST /auth/client-token` `{client_id, client_secret}` → `{"data": {"token": ...}}`.
  Tokens live `token_ttl` seconds (15 min; an option so tests can use one second) on
  `token_clock` (real time by default, independent of the world's clock); several may
  coexist; an unknown or expired token gets 401 `{"message": "Unauthorized"}`.
- `GET /things/alerts`, `GET /things/alerts/count` (the count is a string),
  `GET /things/{tuid}/alerts?from=&to=` (windows overlapping the range; `from`/`to` in
  the answer are naive ISO strings in UTC, `to` is null while the window is open).
- `GET /things/{tuid}` → battery, last event time, location, gateway, version.
- `GET /things/{tuid}/messages?messageid=&eventid=&from=&to=&limit=` (`limit` required):
  the newest `limit` messages of the window, in an order that is NOT by time. Messages
  are generated from the world on demand: one per message profile at each of the
  thing's reading times (12100 temp/humd/airp/lght, 13100 moveCount, 24100
  carbonDioxide, 24101 tvoc, 1110 batl), so they accumulate as the clock moves on.
- `GET|POST /things/{tuid}/commands` (only tsmIds 1500, 1501, 12200, 13200 are taken),
  `GET|POST /things/{tuid}/installations`, `GET|POST /things/{tuid}/group`.
- `POST /groups`, `POST /groups/{id}/rename`, `GET /groups/?q=&limit=`,
  `GET /groups/{id}/things` (`[{tuid, installation_status}]`), `DELETE /groups/{id}`
  (its things become `unassigned`, a reserved group that can be listed too).

Writes persist in the app's state (`app.state.sim`), so the next read shows them.
Alert windows: an offline thing has an open "heartbeat missed" window (or "gateway
connection lost" when its gateway is down); a few flaky things miss heartbeats for
20-40 minutes every few hours (no messages meanwhile), so windows open and close as
time passes; the world's closed alarms leave closed windows in the history.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tuiot.simulators.faults import Faults, with_faults
from tuiot.simulators.fleet import Device, MetricSpec, World, mix, sim_clock, unit

DEMO_SECRET = "thingsee-demo-secret"
DEMO_CLIENT_ID = "tuiot-demo-client"
TOKEN_TTL_S = 900.0
GROUP_PREFIX = "prfi00"
UNASSIGNED = "unassigned"
MAX_LIMIT = 1_000  # a larger limit is served as this many (the client pages by time)
ALLOWED_COMMANDS = (1500, 1501, 12200, 13200)
INSTALLATION_STATUSES = ("new", "installed", "uninstalled", "quarantine", "retired")
GATEWAY_LOST = "gateway connection lost"
HEARTBEAT = "heartbeat missed"
TIMED_EVENT = 10  # tsmEv of periodic measurements
# Where the world's metrics travel: field → message profile (VENDORS.md §2.3).
TSM_OF_FIELD = {
    "temp": 12100, "humd": 12100, "airp": 12100, "lght": 12100,
    "moveCount": 13100,
    "carbonDioxide": 24100,
    "tvoc": 24101,
    "batl": 1110,
}
_GROUP_ID = re.compile(r"^\S+$")


@dataclass(frozen=True, slots=True)
class Profile:
    tsm_id: int
    fields: tuple[MetricSpec, ...]


def thing_tuid(dev: Device) -> str:
    return f"{dev.spec.tuid_prefix}{dev.index:06d}{dev.hash % 1_000_000:06d}"


def gateway_tuid(index: int, serial: str) -> str:
    return f"TSGW{index:06d}{serial[-6:]}"


def group_id_for(site_id: str) -> str:
    return f"{GROUP_PREFIX}{site_id}"


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def group_id_problem(group_id: Any) -> str | None:
    if not isinstance(group_id, str) or not group_id:
        return "group_id must be a non-empty string"
    if not _GROUP_ID.match(group_id):
        return "group id must not contain whitespace"
    if group_id.lower() == UNASSIGNED:
        return 'group id must not be named "unassigned"'
    return None


class ThingseeState:
    """The cloud's view: things, groups, tokens, installation history, commands sent."""

    def __init__(
        self,
        world: World,
        *,
        secret: str,
        client_id: str,
        clock: Callable[[], float],
        token_clock: Callable[[], float],
        token_ttl: float,
        flaky: float = 0.03,
    ) -> None:
        self.world = world
        self.clock = clock
        self.token_clock = token_clock
        self.token_ttl = token_ttl
        self.client_id = client_id
        self._secret = secret
        self._key = hashlib.sha256(f"thingsee|{secret}".encode()).digest()
        self.tokens: dict[str, float] = {}
        self.token_requests = 0
        self._issued = 0

        self.gw_tuid = {g.index: gateway_tuid(g.index, g.serial) for g in world.gateways_of("thingsee")}
        self.things: dict[str, Device] = {}
        self.groups: dict[str, str] = {}
        self.members: dict[str, dict[str, None]] = {UNASSIGNED: {}}
        self.group_of: dict[str, str] = {}
        sites = world.sites
        for site in world.sites_of("thingsee"):
            gid = group_id_for(site.id)
            self.groups[gid] = f"{site.name} ({site.city})"
            self.members[gid] = {}
        self.profiles: dict[str, tuple[Profile, ...]] = {}
        self._profiles_of_model: dict[str, tuple[Profile, ...]] = {}
        self.flaky: list[str] = []
        self.offline_alerts: dict[str, tuple[str, float]] = {}
        self.history_alerts: dict[str, list[tuple[str, float, float]]] = {}
        for dev in world.devices_of("thingsee"):
            tuid = thing_tuid(dev)
            self.things[tuid] = dev
            gid = group_id_for(sites[dev.site].id)
            self.members[gid][tuid] = None
            self.group_of[tuid] = gid
            if dev.model not in self._profiles_of_model:
                self._profiles_of_model[dev.model] = _profiles(world, dev)
            if dev.offline_since is not None:
                gw_down = not world.gateways[dev.gateway].online
                kind = GATEWAY_LOST if gw_down else HEARTBEAT
                self.offline_alerts[tuid] = (kind, dev.offline_since + (60 if gw_down else 900))
            elif unit(mix(dev.hash, 77)) < flaky:
                self.flaky.append(tuid)
        self.flaky_set = set(self.flaky)
        self.tuid_of_index = {dev.index: t for t, dev in self.things.items()}
        for a in world.alarms_of("thingsee"):
            if a.closed_at is None:
                continue  # open threshold alarms are not connectivity alerts
            tuid = self.tuid_of_index[a.device]
            kind = HEARTBEAT if mix(a.device, a.opened_at) % 3 else GATEWAY_LOST
            self.history_alerts.setdefault(tuid, []).append((kind, a.opened_at, a.closed_at))
        self.installs: dict[str, list[dict[str, Any]]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}

    # ---- tokens --------------------------------------------------------------------

    def credentials_ok(self, client_id: str, secret: str) -> bool:
        return hmac.compare_digest(client_id.encode(), self.client_id.encode()) & hmac.compare_digest(
            secret.encode(), self._secret.encode()
        )

    def issue(self) -> str:
        self.token_requests += 1
        self._issued += 1
        now = self.token_clock()
        if len(self.tokens) > 1_000:  # forget long-expired tokens
            self.tokens = {t: exp for t, exp in self.tokens.items() if exp > now}
        sig = hmac.new(self._key, f"{self._issued}|{now}".encode(), hashlib.sha256).hexdigest()
        token = f"tst.{self._issued}.{sig}"
        self.tokens[token] = now + self.token_ttl
        return token

    def token_ok(self, token: str) -> bool:
        exp = self.tokens.get(token)
        return exp is not None and exp > self.token_clock()

    # ---- things --------------------------------------------------------------------

    def thing_profiles(self, dev: Device) -> tuple[Profile, ...]:
        return self._profiles_of_model[dev.model]

    def installation_history(self, tuid: str) -> list[dict[str, Any]]:
        hist = self.installs.get(tuid)
        if hist is not None:
            return hist
        dev = self.things[tuid]
        u = unit(mix(dev.hash, 91))
        steps = ["new"] if u < 0.02 else ["new", "installed", "uninstalled"] if u < 0.05 else ["new", "installed"]
        return [
            {"tuid": tuid, "installation_status": s, "timestamp": int(dev.created) + k * 3600, "responsible": "factory"}
            for k, s in enumerate(steps)
        ]

    def installation_status(self, tuid: str) -> str:
        return self.installation_history(tuid)[-1]["installation_status"]

    def set_installation(self, tuid: str, status: str, responsible: str) -> None:
        hist = list(self.installation_history(tuid))
        hist.append({"tuid": tuid, "installation_status": status, "timestamp": int(self.clock()), "responsible": responsible})
        self.installs[tuid] = hist

    def move(self, tuid: str, group_id: str) -> None:
        old = self.group_of.get(tuid, UNASSIGNED)
        self.members.get(old, {}).pop(tuid, None)
        self.members.setdefault(group_id, {})[tuid] = None
        self.group_of[tuid] = group_id

    # ---- alerts --------------------------------------------------------------------

    def _flaky_windows(self, tuid: str, start: float, end: float) -> Iterator[tuple[float, float]]:
        """Periodic missed heartbeats of a flaky thing: every 4-12 h, for 20-40 min."""
        dev = self.things[tuid]
        period = 4 * 3600 + mix(dev.hash, 78) % (8 * 3600)
        length = 1200 + mix(dev.hash, 79) % 1200
        offset = mix(dev.hash, 80) % period
        k = math.floor((start - offset - length) / period)
        while True:
            s = offset + k * period
            if s > end:
                return
            if s + length >= start and s >= dev.created:
                yield s, s + length
            k += 1

    def silent(self, tuid: str, t: float) -> bool:
        """Inside one of the thing's missed-heartbeat windows (it sends nothing then)."""
        return any(True for _ in self._flaky_windows(tuid, t, t))

    def windows(self, tuid: str, start: float, end: float) -> list[tuple[str, float, float | None]]:
        """Alert windows overlapping [start, end], as seen at the present; None = still open."""
        now = self.clock()
        out: list[tuple[str, float, float | None]] = []
        for kind, s, e in self.history_alerts.get(tuid, []):
            if s <= min(end, now) and e >= start:
                out.append((kind, s, e if e <= now else None))
        if tuid in self.offline_alerts:
            kind, s = self.offline_alerts[tuid]
            if s <= min(end, now):
                out.append((kind, s, None))
        else:
            for s, e in self._flaky_windows(tuid, start, min(end, now)):
                out.append((HEARTBEAT, s, e if e <= now else None))
        out.sort(key=lambda w: w[1])
        return out

    def alerting(self) -> list[str]:
        now = self.clock()
        out = [t for t, (_, s) in self.offline_alerts.items() if s <= now]
        out.extend(t for t in self.flaky if self.silent(t, now))
        return out

    # ---- messages --------------------------------------------------------------------

    def header(self, dev: Device, tuid: str, tsm_id: int, t: float) -> dict[str, Any]:
        return {
            "tsmId": tsm_id,
            "tsmEv": TIMED_EVENT,
            "tsmTs": int(t),
            "tsmTuid": tuid,
            "tsmGw": self.gw_tuid[dev.gateway],
            "deploymentGroupId": self.group_of.get(tuid, UNASSIGNED),
        }

    def messages(
        self,
        tuid: str,
        start: float | None,
        end: float | None,
        limit: int,
        message_ids: set[int] | None,
        event_ids: set[int] | None,
    ) -> list[dict[str, Any]]:
        """The newest `limit` messages in [start, end], generated from the world."""
        dev = self.things[tuid]
        now = self.clock()
        end = now if end is None else min(end, now)
        start = dev.created if start is None else max(start, dev.created)
        profiles = [p for p in self.thing_profiles(dev) if message_ids is None or p.tsm_id in message_ids]
        if not profiles or (event_ids is not None and TIMED_EVENT not in event_ids) or start > end:
            return []
        flaky = tuid in self.flaky_set
        out: list[dict[str, Any]] = []
        t = self.world.last_time(dev, end)
        while t >= start and len(out) < limit:
            if not (flaky and self.silent(tuid, t)):
                for p in profiles:
                    msg = self.header(dev, tuid, p.tsm_id, t)
                    for m in p.fields:
                        msg[m.key] = self.world.value(dev, m, t)
                    out.append(msg)
                    if len(out) >= limit:
                        break
            t -= dev.interval
        # The API promises no order: serve a deterministic shuffle, not newest first.
        out.sort(key=lambda m: mix(m["tsmTs"], m["tsmId"], 5))
        return out

    def info(self, tuid: str) -> dict[str, Any]:
        dev = self.things[tuid]
        now = self.clock()
        site = self.world.sites[dev.site]
        data: dict[str, Any] = {
            "timestamp": int(self.world.last_time(dev, now)),
            "location": {
                "lat": round(site.lat + (unit(mix(dev.hash, 81)) - 0.5) * 0.002, 5),
                "lon": round(site.lon + (unit(mix(dev.hash, 82)) - 0.5) * 0.002, 5),
            },
            "gateway_tuid": self.gw_tuid[dev.gateway],
            "version": f"20{20 + dev.hash % 6}.{dev.firmware}_ts_{dev.spec.tuid_prefix.lower()}wp34",
        }
        for p in self.thing_profiles(dev):
            for m in p.fields:
                if m.key == "batl":
                    data["battery_level"] = self.world.latest(dev, m, now)[1]
        return data


def _profiles(world: World, dev: Device) -> tuple[Profile, ...]:
    by_id: dict[int, list[MetricSpec]] = {}
    for sensor, metric in world.metrics(dev):
        tsm = TSM_OF_FIELD.get(metric.key, sensor.tsm_id)
        if tsm is not None:
            by_id.setdefault(tsm, []).append(metric)
    return tuple(Profile(k, tuple(v)) for k, v in by_id.items())


# ---- HTTP -----------------------------------------------------------------------------


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def _ok(data: Any) -> JSONResponse:
    return JSONResponse({"data": data})


class BadQuery(Exception):
    pass


def _num(q: Any, name: str) -> float | None:
    v = q.get(name)
    if v is None or v == "":
        return None
    try:
        n = float(v)
    except ValueError:
        raise BadQuery(f"{name} must be a Unix timestamp in seconds") from None
    if not math.isfinite(n):
        raise BadQuery(f"{name} must be a Unix timestamp in seconds")
    return n


def _limit(q: Any, required: bool) -> int | None:
    v = q.get("limit")
    if v is None or v == "":
        if required:
            raise BadQuery("limit is required")
        return None
    if not v.isdigit() or int(v) < 1:
        raise BadQuery("limit must be a positive whole number")
    return min(int(v), MAX_LIMIT)


def _ids(q: Any, name: str) -> set[int] | None:
    v = q.get(name)
    if v is None or v == "":
        return None
    out = set()
    for part in v.split(","):
        part = part.strip()
        if not part.lstrip("-").isdigit():
            raise BadQuery(f"{name} must be comma-separated numbers")
        out.add(int(part))
    return out


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise BadQuery("body must be JSON") from None


def create_app(
    world: World,
    *,
    faults: Faults | None = None,
    secret: str = DEMO_SECRET,
    client_id: str = DEMO_CLIENT_ID,
    now: Callable[[], float] | float | None = None,
    token_clock: Callable[[], float] | None = None,
    token_ttl: float = TOKEN_TTL_S,
    flaky: float = 0.03,
) -> Any:
    """The Thingsee cloud of `world`. `now` fixes the data clock (tests), tokens use `token_clock`;
    `flaky` is the share of online things that miss heartbeats now and then."""
    clock = sim_clock(now)
    state = ThingseeState(
        world, secret=secret, client_id=client_id, clock=clock,
        token_clock=token_clock or time.monotonic,
        token_ttl=token_ttl,
        flaky=flaky,
    )

    def guard(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def wrapped(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
            if not token or not state.token_ok(token):
                return _error(401, "Unauthorized")
            tuid = request.path_params.get("tuid")
            if tuid is not None and tuid not in state.things:
                return _error(404, f"thing {tuid} not found")
            try:
                return await handler(request)
            except BadQuery as e:
                return _error(400, str(e))

        return wrapped

    async def client_token(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "body must be JSON {client_id, client_secret}")
        if not isinstance(body, dict) or not isinstance(body.get("client_id"), str) or not isinstance(body.get("client_secret"), str):
            return _error(400, "client_id and client_secret are required")
        if not state.credentials_ok(body["client_id"], body["client_secret"]):
            return _error(401, "Unauthorized")
        return _ok({"token": state.issue()})

    async def alerts(request: Request) -> Response:
        return _ok({"alerting_tuids": state.alerting()})

    async def alert_count(request: Request) -> Response:
        return _ok({"alert_count": str(len(state.alerting()))})

    async def thing(request: Request) -> Response:
        return _ok(state.info(request.path_params["tuid"]))

    async def thing_alerts(request: Request) -> Response:
        tuid = request.path_params["tuid"]
        q = request.query_params
        start = _num(q, "from") or 0.0
        end = _num(q, "to")
        windows = state.windows(tuid, start, state.clock() if end is None else end)
        by_type: dict[str, list[dict[str, Any]]] = {}
        for kind, s, e in windows:
            by_type.setdefault(kind, []).append({"from": iso(s), "to": iso(e) if e is not None else None})
        return _ok([{"tuid": tuid, "alert_type": k, "alerts": v} for k, v in by_type.items()])

    async def messages(request: Request) -> Response:
        q = request.query_params
        limit = _limit(q, required=True)
        assert limit is not None
        data = state.messages(
            request.path_params["tuid"], _num(q, "from"), _num(q, "to"), limit, _ids(q, "messageid"), _ids(q, "eventid")
        )
        return _ok(data)

    async def commands(request: Request) -> Response:
        tuid = request.path_params["tuid"]
        if request.method == "GET":
            q = request.query_params
            start, end, limit = _num(q, "from"), _num(q, "to"), _limit(q, required=False)
            mids, eids = _ids(q, "messageid"), _ids(q, "eventid")
            out = [
                c
                for c in state.commands.get(tuid, [])
                if (start is None or c["timestamp"] >= start)
                and (end is None or c["timestamp"] <= end)
                and (mids is None or c["command"]["tsmId"] in mids)
                and (eids is None or c["command"]["tsmEv"] in eids)
            ]
            return _ok(out[-limit:] if limit else out)
        body = await _json(request)
        if isinstance(body, dict):
            body = [body]
        if not isinstance(body, list) or not body:
            return _error(400, "body must be a JSON array of commands")
        for c in body:
            if not isinstance(c, dict):
                return _error(400, "each command must be an object with tsmId and tsmEv")
            tsm, ev = c.get("tsmId"), c.get("tsmEv")
            if isinstance(tsm, bool) or not isinstance(tsm, int) or isinstance(ev, bool) or not isinstance(ev, int):
                return _error(400, "each command needs a numeric tsmId and tsmEv")
            if tsm not in ALLOWED_COMMANDS:
                return _error(400, f"tsmId {tsm} is not allowed (allowed: {', '.join(map(str, ALLOWED_COMMANDS))})")
        ts = int(state.clock())
        sent = [{**c, "tsmTs": ts, "tsmDstTuid": tuid} for c in body]
        log = state.commands.setdefault(tuid, [])
        for c in sent:
            log.append({"tuid": tuid, "timestamp": ts, "responsible": state.client_id, "command": c})
        return _ok({"responsible": state.client_id, "commands": sent})

    async def installations(request: Request) -> Response:
        tuid = request.path_params["tuid"]
        if request.method == "GET":
            limit = _limit(request.query_params, required=False)
            hist = list(reversed(state.installation_history(tuid)))  # newest first
            return _ok(hist[:limit] if limit else hist)
        body = await _json(request)
        status = body.get("installation_status") if isinstance(body, dict) else None
        if status not in INSTALLATION_STATUSES:
            return _error(400, f"installation_status must be one of {', '.join(INSTALLATION_STATUSES)}")
        state.set_installation(tuid, status, state.client_id)
        return _ok({"tuid": tuid, "installation_status": status})

    async def thing_group(request: Request) -> Response:
        tuid = request.path_params["tuid"]
        if request.method == "POST":
            body = await _json(request)
            gid = body.get("group_id") if isinstance(body, dict) else None
            problem = group_id_problem(gid)
            if problem:
                return _error(400, problem)
            if gid not in state.groups:
                return _error(400, f"group {gid} does not exist")
            state.move(tuid, gid)
        return _ok({"group_id": state.group_of.get(tuid, UNASSIGNED), "tuid": tuid})

    async def create_group(request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict):
            return _error(400, "body must be JSON {group_id, group_description}")
        gid = body.get("group_id")
        problem = group_id_problem(gid)
        if problem:
            return _error(400, problem)
        if gid in state.groups:
            return _error(409, f"group {gid} already exists")
        desc = body.get("group_description") or ""
        if not isinstance(desc, str):
            return _error(400, "group_description must be a string")
        state.groups[gid] = desc
        state.members[gid] = {}
        return _ok({"group_id": gid, "group_description": desc})

    async def list_groups(request: Request) -> Response:
        q = request.query_params
        text = (q.get("q") or "").lower()
        limit = _limit(q, required=False)
        out = [
            {"group_id": g, "group_description": d}
            for g, d in state.groups.items()
            if not text or text in g.lower() or text in d.lower()
        ]
        return _ok(out[:limit] if limit else out)

    def existing(request: Request) -> str | Response:
        gid = request.path_params["groupid"]
        if gid not in state.groups and gid != UNASSIGNED:
            return _error(404, f"group {gid} not found")
        return gid

    async def group_things(request: Request) -> Response:
        gid = existing(request)
        if isinstance(gid, Response):
            return gid
        return _ok(
            [{"tuid": t, "installation_status": state.installation_status(t)} for t in state.members.get(gid, {})]
        )

    async def rename_group(request: Request) -> Response:
        old = existing(request)
        if isinstance(old, Response):
            return old
        if old == UNASSIGNED:
            return _error(400, 'the "unassigned" group cannot be renamed')
        body = await _json(request)
        new = body.get("group_id") if isinstance(body, dict) else None
        problem = group_id_problem(new)
        if problem:
            return _error(400, problem)
        if new in state.groups and new != old:
            return _error(409, f"group {new} already exists")
        state.groups = {(new if g == old else g): d for g, d in state.groups.items()}
        members = state.members.pop(old, {})
        state.members[new] = members
        for t in members:
            state.group_of[t] = new
        return _ok({"group_id": new, "old": old, "renamed": True})

    async def delete_group(request: Request) -> Response:
        gid = existing(request)
        if isinstance(gid, Response):
            return gid
        if gid == UNASSIGNED:
            return _error(400, 'the "unassigned" group cannot be deleted')
        del state.groups[gid]
        for t in state.members.pop(gid, {}):
            state.move(t, UNASSIGNED)
        return _ok({"group_id": gid, "deleted": True})

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, f"no route {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _error(405, f"{request.method} not allowed on {request.url.path}")

    routes = [
        Route("/auth/client-token", client_token, methods=["POST"]),
        Route("/things/alerts", guard(alerts), methods=["GET"]),
        Route("/things/alerts/count", guard(alert_count), methods=["GET"]),
        Route("/things/{tuid}", guard(thing), methods=["GET"]),
        Route("/things/{tuid}/alerts", guard(thing_alerts), methods=["GET"]),
        Route("/things/{tuid}/messages", guard(messages), methods=["GET"]),
        Route("/things/{tuid}/commands", guard(commands), methods=["GET", "POST"]),
        Route("/things/{tuid}/installations", guard(installations), methods=["GET", "POST"]),
        Route("/things/{tuid}/group", guard(thing_group), methods=["GET", "POST"]),
        Route("/groups", guard(create_group), methods=["POST"]),
        Route("/groups", guard(list_groups), methods=["GET"]),
        Route("/groups/", guard(list_groups), methods=["GET"]),
        Route("/groups/", guard(create_group), methods=["POST"]),
        Route("/groups/{groupid}/things", guard(group_things), methods=["GET"]),
        Route("/groups/{groupid}/rename", guard(rename_group), methods=["POST"]),
        Route("/groups/{groupid}", guard(delete_group), methods=["DELETE"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
    app.router.redirect_slashes = False
    app.state.sim = state
    return with_faults(app, faults) if faults is not None else app


def demo_profile(name: str, world: World) -> dict[str, Any]:
    return {"vendor": "thingsee", "base_url": "http://thingsee.demo", "client_id": DEMO_CLIENT_ID}
