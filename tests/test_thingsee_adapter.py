"""Thingsee adapter against the simulator in process (httpx ASGI transport), plus the
documented sample payloads through a mock transport.

The simulator's data clock and the adapter's idea of "now" are both pinned to the
world's epoch, so expected values come straight from the world.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import tuiot.adapters.thingsee as ts
from tuiot.adapters.base import AuthError, InvalidRequest, NotFound, NotSupported, VendorError
from tuiot.adapters.thingsee import ThingseeAdapter
from tuiot.config import Profile
from tuiot.credentials import SecretSource
from tuiot.domain import Aggregate, AlarmStatus, Severity
from tuiot.simulators.faults import Faults, with_faults
from tuiot.simulators.thingsee import DEMO_CLIENT_ID, DEMO_SECRET, create_app

NOW = 1_780_000_000.0 - (1_780_000_000.0 % 3600)
NOW_DT = datetime.fromtimestamp(NOW, tz=UTC)
FIXTURES = Path(__file__).parent / "fixtures" / "thingsee"


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ts, "now_utc", lambda: NOW_DT)


class Counting(httpx.AsyncBaseTransport):
    """Counts requests and answers on their way to the simulator."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.statuses: list[tuple[str, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path, dict(request.url.params)))
        resp = await self.inner.handle_async_request(request)
        self.statuses.append((request.url.path, resp.status_code))
        return resp

    def count(self, fragment: str, method: str | None = None) -> int:
        return sum(1 for m, p, _ in self.calls if fragment in p and (method is None or m == method))

    @property
    def tokens(self) -> int:
        return self.count("/auth/client-token")

    @property
    def unauthorized(self) -> int:
        return sum(1 for p, s in self.statuses if s == 401 and "client-token" not in p)


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Cloud:
    def __init__(self, world: Any, *, secret: str = DEMO_SECRET, faults: Faults | None = None, **opts: Any) -> None:
        self.world = world
        opts.setdefault("now", NOW)
        app = create_app(world, **opts)
        self.state = app.state.sim
        # The real base URL carries a path (…/prod/v1/): serve the simulator under it.
        self.app = with_faults(_under("/prod/v1", app), faults)
        self.transport = Counting(httpx.ASGITransport(app=self.app, raise_app_exceptions=False))
        self.profile = Profile(name="ts", vendor="thingsee", base_url="http://thingsee.test/prod/v1/", client_id=DEMO_CLIENT_ID, timeout=5)
        self.secrets = SecretSource(fixed={"ts": secret}, use_keyring=False)
        self.adapter = ThingseeAdapter(self.profile, self.secrets, transport=self.transport)


def _under(prefix: str, app: Any) -> Any:
    raw = prefix.encode()

    async def mounted(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if not scope["path"].startswith(prefix):
                await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": b'{"message":"Not Found"}'})
                return
            scope = {**scope, "path": scope["path"][len(prefix):], "raw_path": scope.get("raw_path", b"")[len(raw):]}
        await app(scope, receive, send)

    return mounted


@pytest.fixture
def cloud(world: Any) -> Cloud:
    return Cloud(world)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def things(cloud: Cloud, **where: Any) -> list[str]:
    out = []
    for tuid, dev in cloud.state.things.items():
        if all(getattr(dev, k) == v for k, v in where.items()):
            out.append(tuid)
    return out


def spec(world: Any, dev: Any, key: str) -> Any:
    return next(m for _, m in world.metrics(dev) if m.key == key)


# ---- tree -----------------------------------------------------------------------------------


def test_tree_device_depth_is_groups_and_things_without_messages(cloud: Cloud) -> None:
    nodes = run(cloud.adapter.tree(depth="device"))
    groups = [n for n in nodes if n.kind == "group"]
    devices = [n for n in nodes if n.kind == "device"]
    assert {g.id for g in groups} == set(cloud.state.groups)
    assert len(devices) == len(cloud.state.things)
    assert cloud.transport.count("/messages") == 0 and cloud.transport.count("/things/T") == 0
    alerting = set(cloud.state.alerting())
    for d in devices:
        assert d.parent == f"ts/group/{cloud.state.group_of[d.id]}"
        assert d.online is (d.id not in alerting)
        assert d.severity == (Severity.major if d.id in alerting else None)
        assert d.attrs["installation_status"] in ts.INSTALLATION_STATUSES
        assert d.attrs["family"] in ("environment", "presence", "air quality")
    refs = [n.ref for n in nodes]
    assert all(n.parent is None or refs.index(n.parent) < refs.index(n.ref) for n in nodes)


def test_tree_metric_depth_names_units_from_catalogue(cloud: Cloud) -> None:
    nodes = run(cloud.adapter.tree(depth="metric"))
    metrics = {n.id: n for n in nodes if n.kind == "metric"}
    env = things(cloud, model="env", offline_since=None)[0]
    air = things(cloud, model="air", offline_since=None)[0]
    pres = things(cloud, model="presence", offline_since=None)[0]
    assert (metrics[f"{env}:temp"].name, metrics[f"{env}:temp"].unit) == ("Temperature", "°C")
    assert (metrics[f"{env}:airp"].unit, metrics[f"{env}:lght"].unit, metrics[f"{env}:humd"].unit) == ("Pa", "lux", "%RH")
    assert (metrics[f"{air}:carbonDioxide"].unit, metrics[f"{air}:tvoc"].unit) == ("ppm", "ppb")
    assert metrics[f"{pres}:moveCount"].value_type == "int" and metrics[f"{env}:batl"].unit == "%"
    assert metrics[f"{env}:temp"].parent == f"ts/device/{env}"
    dev = next(n for n in nodes if n.id == env)
    assert dev.attrs["gateway"].startswith("TSGW") and dev.attrs["lastseen"]
    # children of one thing = its slice of the full tree
    kids = run(cloud.adapter.children(f"ts/device/{env}"))
    assert [k.id for k in kids] == [n.id for n in nodes if n.parent == f"ts/device/{env}"]
    group = cloud.state.group_of[env]
    members = run(cloud.adapter.children(f"ts/group/{group}"))
    assert env in {m.id for m in members}


def test_tree_device_at_thirty_thousand_things_costs_one_request_per_group() -> None:
    import time

    from tuiot.simulators.fleet import build_world

    big = Cloud(build_world(devices=100_000, seed=7, epoch=NOW))
    t0 = time.perf_counter()
    nodes = run(big.adapter.tree(depth="device"))
    took = time.perf_counter() - t0
    assert sum(n.kind == "device" for n in nodes) == len(big.state.things) > 28_000
    # token + groups + alerts + one listing per group (and the unassigned one): nothing per thing
    assert len(big.transport.calls) == 3 + len(big.state.groups) + 1
    assert took < 10.0, f"tree(depth='device') took {took:.1f} s"


# ---- latest ---------------------------------------------------------------------------------


def test_latest_is_newest_value_of_each_field(cloud: Cloud, world: Any) -> None:
    readings = run(cloud.adapter.latest())
    by_metric = {r.metric: r for r in readings}
    for tuid in things(cloud, offline_since=None)[:10]:
        dev = cloud.state.things[tuid]
        for _, m in world.metrics(dev):
            t, v = world.latest(dev, m, NOW)
            r = by_metric[f"ts/metric/{tuid}:{m.key}"]
            assert (r.ts.timestamp(), r.value) == (t, v)
    temp = next(r for r in readings if r.metric.endswith(":temp"))
    assert temp.unit == "°C"


def test_latest_for_group_thing_and_metric_refs(cloud: Cloud) -> None:
    tuid = things(cloud, model="air", offline_since=None)[0]
    one = run(cloud.adapter.latest([f"ts/device/{tuid}"]))
    assert {r.metric.split(":")[-1] for r in one} == {"carbonDioxide", "tvoc", "temp", "humd", "airp", "lght", "batl"}
    only = run(cloud.adapter.latest([f"ts/metric/{tuid}:tvoc"]))
    assert [r.metric for r in only] == [f"ts/metric/{tuid}:tvoc"] and only[0].unit == "ppb"
    group = cloud.state.group_of[tuid]
    in_group = run(cloud.adapter.latest([f"ts/group/{group}"]))
    assert {r.metric.split("/")[-1].split(":")[0] for r in in_group} == set(cloud.state.members[group])


def test_latest_widens_the_window_for_a_thing_silent_for_days(cloud: Cloud, world: Any) -> None:
    tuid = max(things(cloud, online=False), key=lambda t: NOW - cloud.state.things[t].offline_since)
    dev = cloud.state.things[tuid]
    assert NOW - dev.offline_since > 6 * 3600
    readings = run(cloud.adapter.latest([f"ts/device/{tuid}"]))
    temp = next(r for r in readings if r.metric.endswith(":temp") or r.metric.endswith(":moveCount"))
    assert temp.ts.timestamp() == world.last_time(dev, NOW) < NOW - 6 * 3600
    windows = [p.get("from") for m, path, p in cloud.transport.calls if path.endswith(f"{tuid}/messages")]
    assert len(windows) >= 2 and int(windows[0]) > int(windows[1])  # widened


def test_unordered_messages_give_the_right_latest_value() -> None:
    # newest in the middle, oldest first and last; a limit=1 answer would have been wrong
    msgs = [
        {"tsmId": 12100, "tsmEv": 10, "tsmTs": 1700000000, "tsmTuid": "TSPD1", "temp": 1.0, "humd": 10},
        {"tsmId": 12100, "tsmEv": 10, "tsmTs": 1700000600, "tsmTuid": "TSPD1", "temp": 3.0, "humd": 30},
        {"tsmId": 1110, "tsmEv": 10, "tsmTs": "1700000300.5", "tsmTuid": "TSPD1", "batl": "77"},
        {"tsmId": 12100, "tsmEv": 10, "tsmTs": 1700000300, "tsmTuid": "TSPD1", "temp": 2.0, "humd": 20},
        {"tsmId": 1110, "tsmEv": 10, "tsmTs": 1699999000, "tsmTuid": "TSPD1", "batl": 79},
    ]
    adapter = mock_adapter({"/messages": {"data": msgs}})
    readings = {r.metric.split(":")[-1]: r for r in run(adapter.latest(["m/device/TSPD1"]))}
    assert readings["temp"].value == 3.0 and readings["temp"].ts.timestamp() == 1700000600
    assert readings["humd"].value == 30
    assert readings["batl"].value == 77 and readings["batl"].ts.timestamp() == 1700000300.5


# ---- history --------------------------------------------------------------------------------


def test_history_pages_back_by_time_and_matches_the_world(cloud: Cloud, world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ts, "PAGE", 50)
    tuid = next(t for t in things(cloud, model="env", offline_since=None) if cloud.state.things[t].interval == 60)
    dev = cloud.state.things[tuid]
    start, end = NOW_DT - timedelta(hours=3), NOW_DT
    series = run(cloud.adapter.history(f"{tuid}:temp", start, end))
    want = world.samples(dev, spec(world, dev, "temp"), start.timestamp(), end.timestamp())
    assert [(p.ts.timestamp(), p.value) for p in series.points] == want
    assert series.metric == f"ts/metric/{tuid}:temp" and series.unit == "°C"
    pages = [p for _, path, p in cloud.transport.calls if path.endswith(f"{tuid}/messages")]
    assert len(pages) >= 4 and all(p["messageid"] == "12100,13101,18101" for p in pages)
    assert len({p["to"] for p in pages}) == len(pages)  # each page ends where the last began


def test_history_with_a_full_ref_and_aggregation(cloud: Cloud, world: Any) -> None:
    tuid = things(cloud, model="presence", offline_since=None)[0]
    dev = cloud.state.things[tuid]
    start, end = NOW_DT - timedelta(hours=6), NOW_DT
    series = run(cloud.adapter.history(f"ts/metric/{tuid}:moveCount", start, end, aggregate=Aggregate.max, bucket=timedelta(hours=1)))
    raw = world.samples(dev, spec(world, dev, "moveCount"), start.timestamp(), end.timestamp())
    assert series.aggregate is Aggregate.max and series.bucket == timedelta(hours=1)
    assert sum(p.count or 0 for p in series.points) == len(raw)
    assert max(p.value for p in series.points) == max(v for _, v in raw)


def test_history_refuses_bad_ids_and_windows(cloud: Cloud) -> None:
    with pytest.raises(InvalidRequest, match="tuid"):
        run(cloud.adapter.history("no-field-here", NOW_DT - timedelta(hours=1), NOW_DT))
    with pytest.raises(InvalidRequest, match="empty"):
        run(cloud.adapter.history("X:temp", NOW_DT, NOW_DT - timedelta(hours=1)))
    with pytest.raises(NotFound):
        run(cloud.adapter.history("TSPD999:temp", NOW_DT - timedelta(hours=1), NOW_DT))


# ---- alarms ---------------------------------------------------------------------------------


def test_alarms_are_alert_windows_of_alerting_things(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(NOW)
    cloud = Cloud(world, flaky=1.0, now=clock)
    offline = {t for t, d in cloud.state.things.items() if d.offline_since is not None}
    while not set(cloud.state.alerting()) - offline:  # a moment when a flaky thing misses its heartbeat
        clock.t += 300
    now = datetime.fromtimestamp(clock.t, tz=UTC)
    monkeypatch.setattr(ts, "now_utc", lambda: now)
    alerting = set(cloud.state.alerting())
    since = now - timedelta(days=2)
    alarms = run(cloud.adapter.alarms(since=since))
    assert {a.device.split("/")[-1] for a in alarms} == alerting
    open_ = [a for a in alarms if a.status is AlarmStatus.open]
    closed = [a for a in alarms if a.status is AlarmStatus.closed]
    assert {a.device.split("/")[-1] for a in open_} == alerting
    assert closed and all(a.closed_at and a.opened_at >= since for a in closed)
    assert all(not a.closable and a.severity is Severity.major and a.opened_at.tzinfo for a in alarms)
    assert len({a.id for a in alarms}) == len(alarms)
    assert run(cloud.adapter.alarms(status=AlarmStatus.closed, since=since)) == closed
    with pytest.raises(NotSupported, match="Thingsee does not allow closing alerts"):
        run(cloud.adapter.close_alarm(alarms[0].id))


# ---- identities and writes ------------------------------------------------------------------


def test_identities_with_installation_status_and_group(cloud: Cloud) -> None:
    ids = run(cloud.adapter.identities())
    assert len(ids) == len(cloud.state.things)
    one = ids[0]
    assert one.status == cloud.state.installation_status(one.identity)
    assert one.group == cloud.state.group_of[one.identity] and one.tags["group"] == [one.group]
    new = run(cloud.adapter.identities(status=["new"]))
    assert new and all(i.status == "new" for i in new)
    assert run(cloud.adapter.identities(match="^TSAR")) and all(i.identity.startswith("TSAR") for i in run(cloud.adapter.identities(match="^TSAR")))
    assert all(i.tags["family"] == ["presence"] for i in run(cloud.adapter.identities(tags={"family": "presence"})))


def test_every_write_round_trips(cloud: Cloud) -> None:
    a = cloud.adapter
    tuid = things(cloud, offline_since=None)[0]

    async def go() -> None:
        assert await a.set_installation_status(tuid, "quarantine") == "quarantine"
        assert await a.installation_status(tuid) == "quarantine"
        assert next(i for i in await a.identities() if i.identity == tuid).status == "quarantine"

        assert await a.create_group("prfi00test-lab", "Test lab") == "prfi00test-lab"
        assert await a.set_group(f"ts/device/{tuid}", "prfi00test-lab") == "prfi00test-lab"
        assert await a.group_of(tuid) == "prfi00test-lab"
        nodes = await a.tree(depth="device")
        assert next(n for n in nodes if n.id == tuid).parent == "ts/group/prfi00test-lab"
        msgs = await a.latest([f"ts/device/{tuid}"])
        assert msgs

        assert await a.rename_group("prfi00test-lab", "prfi00test-lab-2") == "prfi00test-lab-2"
        assert next(i for i in await a.identities() if i.identity == tuid).group == "prfi00test-lab-2"
        await a.delete_group("prfi00test-lab-2")
        nodes = await a.tree(depth="device")
        assert "prfi00test-lab-2" not in {n.id for n in nodes if n.kind == "group"}
        assert next(n for n in nodes if n.id == tuid).parent == "ts/group/unassigned"

        sent = await a.send_command(tuid, {"tsmId": 13200, "tsmEv": 30, "threshold": 300})
        assert sent[0]["tsmDstTuid"] == tuid
        listed = await a.commands(tuid)
        assert listed[-1]["command"]["threshold"] == 300

    run(go())


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.set_group("TSPD1", "two words"),
        lambda a: a.set_group("TSPD1", "tab\tinside"),
        lambda a: a.set_group("TSPD1", "unassigned"),
        lambda a: a.set_group("TSPD1", "UNASSIGNED"),
        lambda a: a.create_group("my group"),
        lambda a: a.rename_group("prfi00x", "unassigned"),
        lambda a: a.send_command("TSPD1", {"tsmId": 17110, "tsmEv": 30}),
        lambda a: a.send_command("TSPD1", [{"tsmId": 13200, "tsmEv": 30}, {"tsmId": 1100, "tsmEv": 30}]),
        lambda a: a.send_command("TSPD1", {"tsmId": 13200}),
        lambda a: a.send_command("TSPD1", []),
        lambda a: a.set_installation_status("TSPD1", "broken"),
    ],
)
def test_refused_before_any_request(cloud: Cloud, call: Any) -> None:
    with pytest.raises(InvalidRequest) as err:
        run(call(cloud.adapter))
    assert cloud.transport.calls == []  # not even a token request
    assert "\n" not in str(err.value)


def test_group_refusals_say_why(cloud: Cloud) -> None:
    with pytest.raises(InvalidRequest, match="whitespace"):
        run(cloud.adapter.set_group("TSPD1", "prfi00 oulu"))
    with pytest.raises(InvalidRequest, match='"unassigned" is reserved'):
        run(cloud.adapter.set_group("TSPD1", "unassigned"))
    with pytest.raises(InvalidRequest, match="1500, 1501, 12200, 13200"):
        run(cloud.adapter.send_command("TSPD1", {"tsmId": 1100, "tsmEv": 30}))


def test_a_form_asks_the_same_group_rule_without_a_request(cloud: Cloud) -> None:
    """The console's group dialog says the refusal set_group would raise, before it asks anything."""
    assert cloud.adapter.group_problem("Unassigned") == '"unassigned" is reserved by Thingsee; choose another group id'
    assert "whitespace" in (cloud.adapter.group_problem("prfi00 oulu") or "")
    assert cloud.adapter.group_problem("prfi00oulu") is None
    assert cloud.transport.calls == []


def test_vendor_refusals_are_one_line_errors(cloud: Cloud) -> None:
    tuid = things(cloud)[0]
    with pytest.raises(VendorError, match="does not exist"):
        run(cloud.adapter.set_group(tuid, "prfi00nowhere"))
    with pytest.raises(NotFound, match="TSXX"):
        run(cloud.adapter.thing("TSXX0001"))


# ---- tokens ---------------------------------------------------------------------------------


def test_token_expiry_mid_session_renews_once_unnoticed(world: Any) -> None:
    server = Clock()
    cloud = Cloud(world, token_clock=server, token_ttl=900.0)
    tuid = things(cloud, offline_since=None)[0]

    async def go() -> None:
        await cloud.adapter.tree(depth="device")
        assert cloud.transport.tokens == 1
        server.t += 60 * 60  # the server forgot the token (the adapter still thinks it fresh)
        readings = await cloud.adapter.latest([f"ts/device/{tuid}"])
        assert readings
        assert cloud.transport.tokens == 2 and cloud.transport.unauthorized == 1
        await cloud.adapter.latest([f"ts/device/{tuid}"])
        assert cloud.transport.tokens == 2

    run(go())


def test_short_real_ttl(world: Any) -> None:
    cloud = Cloud(world, token_ttl=0.3)

    async def go() -> None:
        await cloud.adapter.tree(depth="device")
        await asyncio.sleep(0.35)
        nodes = await cloud.adapter.tree(depth="device")
        assert nodes and cloud.transport.tokens == 2

    run(go())


def test_token_renewed_before_it_expires(world: Any) -> None:
    server = Clock()
    cloud = Cloud(world, token_clock=server, token_ttl=900.0)
    mine = Clock()
    cloud.adapter.auth.clock = mine

    async def go() -> None:
        await cloud.adapter.tree(depth="device")
        mine.t += 11 * 60
        server.t += 11 * 60
        await cloud.adapter.tree(depth="device")
        assert cloud.transport.tokens == 1
        mine.t += 2 * 60  # past 12 minutes: renew before sending, no 401 seen
        server.t += 2 * 60
        await cloud.adapter.tree(depth="device")
        assert cloud.transport.tokens == 2 and cloud.transport.unauthorized == 0

    run(go())


def test_concurrent_requests_share_one_renewal(world: Any) -> None:
    server = Clock()
    cloud = Cloud(world, token_clock=server)
    tuids = things(cloud)[:20]

    async def go() -> None:
        await cloud.adapter.tree(depth="device")
        server.t += 3600
        results = await asyncio.gather(*(cloud.adapter.latest([f"ts/device/{t}"]) for t in tuids))
        assert all(isinstance(r, list) for r in results)
        assert cloud.transport.tokens == 2

    run(go())


def test_refused_secret_fails_once_without_looping(world: Any) -> None:
    cloud = Cloud(world, secret="wrong-secret")
    with pytest.raises(AuthError, match="client id or secret refused") as err:
        run(cloud.adapter.tree(depth="device"))
    assert "wrong-secret" not in str(err.value)
    assert cloud.transport.tokens == 1
    assert cloud.secrets.where("ts") is None  # forgotten: the next try asks again


def test_a_server_that_keeps_refusing_tokens_is_not_retried_in_a_loop(world: Any) -> None:
    cloud = Cloud(world, token_ttl=0.0)  # every token is dead on arrival
    tuid = things(cloud)[0]
    with pytest.raises(AuthError, match=r"credential refused \(HTTP 401: Unauthorized\)"):
        run(cloud.adapter.thing(tuid))
    # one token, one 401, one renewal, one replay: then the 401 is the answer
    assert cloud.transport.tokens == 2 and cloud.transport.unauthorized == 2


def test_secret_never_in_reprs(cloud: Cloud) -> None:
    run(cloud.adapter.tree(depth="device"))
    assert DEMO_SECRET not in repr(cloud.adapter.auth) and DEMO_SECRET not in repr(vars(cloud.adapter.auth))


# ---- faults ---------------------------------------------------------------------------------


def test_rate_limits_and_server_errors_are_retried(world: Any) -> None:
    cloud = Cloud(world, faults=Faults(first429=2, retry_after=0.01))
    cloud.adapter.http.settings.backoff = 0.01
    nodes = run(cloud.adapter.tree(depth="device"))
    assert nodes and cloud.adapter.health.retries >= 1


def test_malformed_body_is_a_vendor_error(world: Any) -> None:
    cloud = Cloud(world, faults=Faults(malformed=1.0))
    with pytest.raises(VendorError, match="malformed"):
        run(cloud.adapter.tree(depth="device"))


def test_profile_needs_client_id_and_base_url() -> None:
    secrets = SecretSource(fixed={"x": "s"}, use_keyring=False)
    with pytest.raises(InvalidRequest, match="client_id"):
        ThingseeAdapter(Profile(name="x", vendor="thingsee", base_url="http://t"), secrets)
    with pytest.raises(InvalidRequest, match="base_url"):
        ThingseeAdapter(Profile(name="x", vendor="thingsee", client_id="c"), secrets)


# ---- the documented samples ------------------------------------------------------------------


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def mock_adapter(routes: dict[str, Any]) -> ThingseeAdapter:
    """An adapter whose every request is answered from `routes` (path suffix → body)."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/auth/client-token"):
            return httpx.Response(200, json=fixture("client_token.json"))
        for suffix in sorted(routes, key=len, reverse=True):
            if path.endswith(suffix):
                body = routes[suffix]
                return httpx.Response(200, json=body(request) if callable(body) else body)
        return httpx.Response(404, json={"message": "Not Found"})

    profile = Profile(name="m", vendor="thingsee", base_url="https://abc.execute-api.eu-west-1.amazonaws.com/prod/v1/", client_id="c")
    return ThingseeAdapter(profile, SecretSource(fixed={"m": "s"}, use_keyring=False), transport=httpx.MockTransport(handler))


def test_documented_samples_parse() -> None:
    adapter = mock_adapter(
        {
            "/groups/": fixture("groups.json"),
            "/groups/testgroup1/things": fixture("group_things.json"),
            "/things/alerts": fixture("alerts.json"),
            "/alerts": fixture("thing_alerts.json"),
            "/messages": fixture("messages.json"),
            "/installations": fixture("installations.json"),
            "/group": fixture("thing_group.json"),
            "/commands": fixture("commands.json"),
            "/things/XXXXTUID": fixture("thing.json"),
        }
    )

    async def go() -> None:
        nodes = await adapter.tree(depth="metric")
        assert [n.kind for n in nodes] == ["group", "device", "metric"]
        batl = nodes[2]
        assert (batl.id, batl.name, batl.unit) == ("XXXXTUID:batl", "Battery level", "%")
        assert nodes[1].attrs["gateway"] == "XXXXGATEWAYTUID" and nodes[1].online is True
        reading = (await adapter.latest())[0]
        assert reading.value == 74 and reading.ts == datetime(2019, 6, 4, 8, 50, 41, tzinfo=UTC)
        alarms = await adapter.alarms()
        assert len(alarms) == 4  # two alerting things, each with the sample's two windows
        lost = next(a for a in alarms if "gateway" in a.description.lower())
        assert lost.status is AlarmStatus.closed
        assert lost.opened_at == datetime(2019, 12, 3, 7, 22, 19, tzinfo=UTC)
        assert lost.closed_at == datetime(2019, 12, 3, 7, 32, 19, tzinfo=UTC)
        missed = next(a for a in alarms if "heartbeat" in a.description.lower())
        assert missed.opened_at.year == 1970
        assert await adapter.installation_status("XXXXTUID") == "retired"
        assert await adapter.group_of("XXXXTUID") == "testgroup1"
        assert (await adapter.commands("XXXXTUID"))[0]["command"]["transactionId"] == 99999
        info = await adapter.thing("XXXXTUID")
        assert info["battery_level"] == 86 and info["location"]["lat"] == 65.01
        ids = await adapter.identities()
        assert ids[0].status == "retired" and ids[0].group == "testgroup1"  # fetched per thing when the listing lacks it
        await adapter.aclose()

    run(go())


def test_documented_write_answers_parse() -> None:
    adapter = mock_adapter(
        {
            "/installations": fixture("set_installation.json"),
            "/group": fixture("set_group.json"),
            "/commands": fixture("send_command.json"),
            "/groups": fixture("create_group.json"),
            "/rename": fixture("rename_group.json"),
            "/groups/deletedgroup": fixture("delete_group.json"),
        }
    )

    async def go() -> None:
        assert await adapter.set_installation_status("XXXXXXTUID", "installed") == "installed"
        assert await adapter.set_group("XXXXTUID", "testgroup") == "testgroup"
        sent = await adapter.send_command("XXXXTUID", {"tsmId": 12200, "tsmEv": 30, "transactionId": 99999})
        assert sent[0]["transactionId"] == 99999
        assert await adapter.create_group("testgroup1", "This is a test group") == "testgroup1"
        assert await adapter.rename_group("oldgroupname", "newgroupname") == "newgroupname"
        await adapter.delete_group("deletedgroup")

    run(go())


@pytest.mark.parametrize("status", [400, 404])
def test_a_deployment_without_an_unassigned_listing(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/auth/client-token"):
            return httpx.Response(200, json=fixture("client_token.json"))
        if path.endswith("/groups/unassigned/things"):
            return httpx.Response(status, json={"message": "no such group"})
        if path.endswith("/groups/testgroup1/things"):
            return httpx.Response(200, json=fixture("group_things.json"))
        if path.endswith("/groups/"):
            return httpx.Response(200, json=fixture("groups.json"))
        return httpx.Response(200, json={"data": {"alerting_tuids": []}})

    profile = Profile(name="m", vendor="thingsee", base_url="https://x/prod/v1", client_id="c")
    adapter = ThingseeAdapter(profile, SecretSource(fixed={"m": "s"}, use_keyring=False), transport=httpx.MockTransport(handler))
    nodes = run(adapter.tree(depth="device"))
    assert [n.id for n in nodes] == ["testgroup1", "XXXXTUID"]


def test_error_envelopes() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/client-token"):
            return httpx.Response(200, json=fixture("client_token.json"))
        if "/groups" in request.url.path:
            return httpx.Response(400, json={"error": {"code": "E12", "message": "bad   group\nname"}})
        return httpx.Response(403, json={"message": "Forbidden"})

    profile = Profile(name="m", vendor="thingsee", base_url="https://x/prod/v1", client_id="c")
    adapter = ThingseeAdapter(profile, SecretSource(fixed={"m": "s"}, use_keyring=False), transport=httpx.MockTransport(handler))
    with pytest.raises(VendorError, match="E12: bad group name"):
        run(adapter.tree(depth="device"))
    with pytest.raises(AuthError, match="Forbidden"):
        run(adapter.thing("X"))


class FailFirstToken(httpx.AsyncBaseTransport):
    """The first token request fails as the network or the token service would; then all is well."""

    def __init__(self, inner: httpx.AsyncBaseTransport, how: str) -> None:
        self.inner, self.how, self.failed = inner, how, False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/client-token") and not self.failed:
            self.failed = True
            if self.how == "drop":
                raise httpx.ConnectError("connection refused", request=request)
            return httpx.Response(503, json={"message": "Service Unavailable"})
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("how", ["drop", "503"])
def test_a_failed_token_request_is_retried_and_releases_the_lock(world: Any, how: str) -> None:
    cloud = Cloud(world)
    flaky = FailFirstToken(cloud.transport, how)
    adapter = ThingseeAdapter(cloud.profile, cloud.secrets, transport=flaky)
    adapter.http.settings.backoff = 0.01

    async def go() -> None:
        async with asyncio.timeout(10):  # a lock left held would hang here
            nodes = await adapter.tree(depth="device")
            assert nodes and flaky.failed and adapter.auth.renewals == 1
            assert adapter.health.retries == 1

    run(go())
