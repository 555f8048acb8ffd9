"""ThingsPro adapter against simulated gateways in process (httpx ASGI transport, no sockets)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tuiot.adapters.base import AuthError, InvalidRequest, NotFound, NotSupported, Unavailable, VendorError
from tuiot.adapters.thingspro import ThingsProAdapter, cloud_status, coerce
from tuiot.config import Profile
from tuiot.credentials import SecretSource
from tuiot.domain import Aggregate
from tuiot.simulators.demo import HostRouter
from tuiot.simulators.faults import Faults
from tuiot.simulators.thingspro import DEMO_SECRET, MODBUS, create_app

NOW = 1_780_000_000.0 - (1_780_000_000.0 % 3600)


class Counting(httpx.AsyncBaseTransport):
    """Counts requests by (method, path prefix) on their way to the simulators."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.host, request.url.raw_path.decode()))
        return await self.inner.handle_async_request(request)

    def count(self, method: str, fragment: str) -> int:
        return sum(1 for m, _, p in self.calls if m == method and fragment in p)


class Fleet:
    def __init__(self, world: Any, *, down: tuple[str, ...] = (), faults: Faults | None = None, secret: str = DEMO_SECRET,
                 profile: dict[str, Any] | None = None, clock: Any = NOW, **opts: Any) -> None:
        self.world = world
        self.router = HostRouter()
        self.apps: dict[str, Any] = {}
        self.gateways = world.gateways_of("thingspro")
        urls = []
        for g in self.gateways:
            host = f"{g.id}.thingspro.demo"
            app = create_app(world, gateway=g.id, down=g.id in down, faults=faults, now=clock, **opts)
            self.apps[host] = app
            self.router.add(host, app)
            urls.append(f"http://{host}")
        self.transport = Counting(self.router)
        fields = {"name": "plant", "vendor": "thingspro", "username": "admin", "gateways": urls, "timeout": 2.0, "poll_interval": 1.0}
        fields.update(profile or {})
        self.profile = Profile(**fields)
        self.secrets = SecretSource(fixed={"plant": secret}, use_keyring=False)
        self.adapter = ThingsProAdapter(self.profile, self.secrets, transport=self.transport)

    def take_down(self, host: str) -> None:
        g = next(g for g in self.gateways if host.startswith(g.id))
        self.router.add(host, create_app(self.world, gateway=g.id, down=True))


@pytest.fixture
async def fleet(world):  # type: ignore[no-untyped-def]
    f = Fleet(world)
    yield f
    await f.adapter.aclose()


def tags_of(world: Any, gw_index: int) -> int:
    devices = [d for d in world.devices_of("thingspro") if d.gateway == gw_index]
    return sum(1 for d in devices for _ in world.metrics(d)) + 3  # + system cpu/memory/disk


# ---- tree --------------------------------------------------------------------------------------


async def test_tree_gateway_provider_source_tag(fleet: Fleet, world) -> None:  # type: ignore[no-untyped-def]
    nodes = await fleet.adapter.tree(depth="metric")
    refs = [n.ref for n in nodes]
    assert len(refs) == len(set(refs))
    seen: set[str] = set()
    for n in nodes:  # parents before children
        assert n.parent is None or n.parent in seen
        seen.add(n.ref)
    tops = [n for n in nodes if n.parent is None]
    assert [t.id for t in tops] == [f"{g.id}.thingspro.demo" for g in fleet.gateways]
    gw0 = tops[0]
    assert gw0.kind == "group" and gw0.online is True
    assert gw0.attrs["serialNumber"] == fleet.gateways[0].serial
    assert gw0.attrs["modelName"] and gw0.attrs["firmware"]
    for key in ("mqtt", "azure", "aws", "sparkplug"):
        assert key in gw0.attrs
    assert "SharedAccessKey" not in json.dumps(gw0.attrs)
    providers = [n for n in nodes if n.parent == gw0.ref]
    assert {p.name for p in providers} == {MODBUS, "system"}
    metrics = [n for n in nodes if n.kind == "metric" and n.id.startswith(gw0.id + "|")]
    assert len(metrics) == tags_of(world, fleet.gateways[0].index)
    setpoints = [m for m in metrics if m.name == "setpoint"]
    for m in setpoints:
        assert m.attrs == {"access": "rw", "dataType": "float"} and m.unit == "bar" and m.value_type == "float"
    rpm = [m for m in metrics if m.name == "rpm"]
    assert all(m.value_type == "int" and m.attrs["dataType"] == "uint16" for m in rpm)
    running = [m for m in metrics if m.name == "running"]
    assert all(m.value_type == "bool" for m in running)
    # metric ids name gateway, provider, source and tag
    gkey, _, path = metrics[0].id.partition("|")
    assert gkey == gw0.id and path.count("/") == 2

    light = await fleet.adapter.tree(depth="device")
    assert not any(n.kind == "metric" for n in light)
    source = next(n for n in light if n.kind == "device")
    kids = await fleet.adapter.children(source.ref)
    assert [k.ref for k in kids] == [n.ref for n in nodes if n.parent == source.ref]
    assert [k.ref for k in await fleet.adapter.children(gw0.ref)] == [p.ref for p in providers]


async def test_a_device_depth_tree_asks_each_gateway_its_name_only_and_node_adds_cloud_status(fleet: Fleet) -> None:
    """The console's first tree: one info request per gateway, not five (619 gateways at
    100k devices); a gateway's cloud connectivity comes with `node(ref)`, and a later
    tree keeps what that said."""
    nodes = await fleet.adapter.tree(depth="device")
    gw0 = next(n for n in nodes if n.parent is None)
    assert gw0.attrs["serialNumber"] == fleet.gateways[0].serial
    assert not any(key in gw0.attrs for key in ("mqtt", "azure", "aws", "sparkplug"))
    assert fleet.transport.count("GET", "/device/general") == len(fleet.gateways)
    assert fleet.transport.count("GET", "/mqtt/clients") == 0
    full = await fleet.adapter.node(gw0.ref)
    assert full is not None and full.ref == gw0.ref and full.name == gw0.name
    assert all(key in full.attrs for key in ("mqtt", "azure", "aws", "sparkplug"))
    assert fleet.transport.count("GET", "/mqtt/clients") == 1
    again = next(n for n in await fleet.adapter.tree(depth="device") if n.ref == gw0.ref)
    assert again.attrs["mqtt"] == full.attrs["mqtt"]
    assert await fleet.adapter.node(f"{fleet.adapter.name}/device/{gw0.id}|x/y") is None  # a source: nothing more


async def test_latest_one_request_per_source(fleet: Fleet, world) -> None:  # type: ignore[no-untyped-def]
    await fleet.adapter.tree(depth="device")
    before = fleet.transport.count("GET", "/tags/monitor/")
    readings = await fleet.adapter.latest()
    monitors = fleet.transport.count("GET", "/tags/monitor/") - before
    sources = sum(1 for d in world.devices_of("thingspro")) + len(fleet.gateways)
    assert monitors == sources
    assert len(readings) == sum(tags_of(world, g.index) for g in fleet.gateways)
    # values are the world's at the gateway's clock
    dev = world.devices_of("thingspro")[0]
    gw = world.gateways[dev.gateway]
    _sensor, metric = next(iter(world.metrics(dev)))
    ref = f"plant/metric/{gw.id}.thingspro.demo|{MODBUS}/{dev.id}/{metric.key}"
    r = next(r for r in readings if r.metric == ref)
    t, v = world.latest(dev, metric, NOW)
    assert r.ts == datetime.fromtimestamp(t, UTC) and r.value == pytest.approx(v) and r.unit == metric.unit
    # one device only: one request
    before = fleet.transport.count("GET", "/tags/monitor/")
    one = await fleet.adapter.latest([f"plant/device/{gw.id}.thingspro.demo|{MODBUS}/{dev.id}"])
    assert fleet.transport.count("GET", "/tags/monitor/") - before == 1
    assert {x.metric.rsplit("/", 1)[1] for x in one} == {m.key for _, m in world.metrics(dev)}
    with pytest.raises(InvalidRequest):
        await fleet.adapter.latest(["other/device/x"])


# ---- history --------------------------------------------------------------------------------------


async def test_history_lookback_and_buffer(fleet: Fleet, world) -> None:  # type: ignore[no-untyped-def]
    dev = world.devices_of("thingspro")[0]
    gw = world.gateways[dev.gateway]
    host = f"{gw.id}.thingspro.demo"
    metric = next(m for _, m in world.metrics(dev))
    mid = f"{host}|{MODBUS}/{dev.id}/{metric.key}"
    end = datetime.fromtimestamp(NOW, UTC)
    start = end - timedelta(hours=2)
    s = await fleet.adapter.history(mid, start, end)
    expected = world.samples(dev, metric, NOW - 7200, NOW)
    assert [(p.ts.timestamp(), p.value) for p in s.points] == [(t, pytest.approx(v)) for t, v in expected]
    assert s.metric == f"plant/metric/{mid}" and s.unit == metric.unit
    agg = await fleet.adapter.history(f"plant/metric/{mid}", start, end, aggregate=Aggregate.max, bucket=timedelta(hours=1))
    assert agg.aggregate == Aggregate.max and 2 <= len(agg.points) <= 3
    # what latest saw is buffered; with the gateway away, history still has it
    await fleet.adapter.latest([f"plant/device/{host}|{MODBUS}/{dev.id}"])
    fleet.take_down(host)
    s2 = await fleet.adapter.history(mid, start, end)
    assert [p.ts.timestamp() for p in s2.points] == [world.last_time(dev, NOW)]
    other = next(m for _, m in world.metrics(dev) if m.key != metric.key)
    other_dev = next(d for d in world.devices_of("thingspro") if d.gateway == dev.gateway and d.id != dev.id)
    with pytest.raises(Unavailable):
        await fleet.adapter.history(f"{host}|{MODBUS}/{other_dev.id}/{other.key}", start, end)
    with pytest.raises(InvalidRequest):
        await fleet.adapter.history("no-gateway-part", start, end)
    with pytest.raises(NotFound):
        await fleet.adapter.history("10.9.9.9:8443|a/b/c", start, end)


# ---- gateway fleets -------------------------------------------------------------------------------


async def test_one_gateway_down(world) -> None:  # type: ignore[no-untyped-def]
    gws = world.gateways_of("thingspro")
    f = Fleet(world, down=(gws[1].id,))
    try:
        nodes = await f.adapter.tree()
        tops = {n.id: n for n in nodes if n.parent is None}
        assert len(tops) == len(gws)
        dead = tops[f"{gws[1].id}.thingspro.demo"]
        assert dead.online is False and "503" in dead.attrs["error"]
        assert not any(n.parent == dead.ref for n in nodes)
        alive = tops[f"{gws[0].id}.thingspro.demo"]
        assert alive.online is True and any(n.parent == alive.ref for n in nodes)
        readings = await f.adapter.latest()
        hosts = {r.metric.split("/", 2)[2].split("|")[0] for r in readings}
        assert hosts == {f"{g.id}.thingspro.demo" for g in gws if g.id != gws[1].id}
        assert f.adapter.health.state == "degraded"
    finally:
        await f.adapter.aclose()
    everything = Fleet(world, down=tuple(g.id for g in gws))
    try:
        with pytest.raises(Unavailable):
            await everything.adapter.tree()
        with pytest.raises(Unavailable):
            await everything.adapter.latest()
        assert everything.adapter.health.state == "offline"
    finally:
        await everything.adapter.aclose()


async def test_gateway_offline_keeps_its_last_catalog(fleet: Fleet) -> None:
    nodes = await fleet.adapter.tree()
    host = nodes[0].id
    fleet.take_down(host)
    again = await fleet.adapter.tree()
    gw = next(n for n in again if n.id == host)
    assert gw.online is False
    assert len(again) == len(nodes)  # its tags are still listed, under an offline gateway


# ---- writes ---------------------------------------------------------------------------------------


async def test_write_round_trip_and_refusals(fleet: Fleet, world) -> None:  # type: ignore[no-untyped-def]
    pump = next(d for d in world.devices_of("thingspro") if d.model == "pump")
    host = f"{world.gateways[pump.gateway].id}.thingspro.demo"
    path = f"{MODBUS}/{pump.id}/setpoint"
    r = await fleet.adapter.write_tag(path, "4.75")  # text from a command line, converted to float
    assert r.value == 4.75 and r.metric == f"plant/metric/{host}|{path}" and r.unit == "bar"
    assert fleet.transport.count("PUT", "/tags/access/") == 1
    latest = await fleet.adapter.latest([r.metric])
    assert [x.value for x in latest] == [4.75]
    # by full ref, as a number
    r2 = await fleet.adapter.write_tag(f"plant/metric/{host}|{path}", 3)
    assert r2.value == 3.0
    puts = fleet.transport.count("PUT", "/tags/access/")
    with pytest.raises(InvalidRequest, match="read-only"):
        await fleet.adapter.write_tag(f"{MODBUS}/{pump.id}/rpm", 1200)
    with pytest.raises(InvalidRequest, match="number"):
        await fleet.adapter.write_tag(path, "fast")
    with pytest.raises(InvalidRequest, match="exists on"):
        await fleet.adapter.write_tag("system/status/cpuUsage", 1)  # every gateway has it
    with pytest.raises(NotFound):
        await fleet.adapter.write_tag(f"{MODBUS}/{pump.id}/ghost", 1)
    with pytest.raises(InvalidRequest):
        await fleet.adapter.write_tag("not-a-path", 1)
    assert fleet.transport.count("PUT", "/tags/access/") == puts  # refused before sending


async def test_read_only_profile_refuses_writes(world) -> None:  # type: ignore[no-untyped-def]
    f = Fleet(world, profile={"read_only": True})
    with pytest.raises(NotSupported):
        await f.adapter.write_tag(f"{MODBUS}/x/setpoint", 1)
    await f.adapter.aclose()


def test_coerce() -> None:
    assert coerce("uint16", "12") == 12 and coerce("int8", 5.0) == 5
    assert coerce("boolean", "on") is True and coerce("boolean", "0") is False
    assert coerce("double", "1e3") == 1000.0 and coerce("string", 5) == "5"
    for dt, v in (("uint8", "256"), ("int16", True), ("uint16", -1), ("float", "nan"), ("boolean", "maybe"), ("raw", "x"), ("int32", "1.5")):
        with pytest.raises(InvalidRequest):
            coerce(dt, v)


# ---- auth -----------------------------------------------------------------------------------------


async def test_relogin_once_when_token_expires(world) -> None:  # type: ignore[no-untyped-def]
    clock = [NOW]
    f = Fleet(world, clock=lambda: clock[0], token_ttl=60)
    ref = f"plant/group/{f.gateways[0].id}.thingspro.demo|system"
    await f.adapter.latest([ref])
    assert f.transport.count("POST", "/api/v1/auth") == 1
    clock[0] += 120
    assert await f.adapter.latest([ref])
    assert f.transport.count("POST", "/api/v1/auth") == 2
    await f.adapter.aclose()


async def test_wrong_password_is_auth_error(world) -> None:  # type: ignore[no-untyped-def]
    f = Fleet(world, secret="not-the-password")
    with pytest.raises(AuthError, match="credential refused"):
        await f.adapter.tree()
    assert f.secrets.where("plant") is None  # forgotten, so the next try asks again
    await f.adapter.aclose()


async def test_mx_api_token_secret(world) -> None:  # type: ignore[no-untyped-def]
    gw = world.gateways_of("thingspro")[0]
    app = create_app(world, gateway=gw.id, now=NOW)
    transport = Counting(httpx.ASGITransport(app=app, raise_app_exceptions=False))
    profile = Profile(name="one", vendor="thingspro", base_url="http://gw.local")
    a = ThingsProAdapter(profile, SecretSource(fixed={"one": app.state.mx_api_token}, use_keyring=False), transport=transport)
    nodes = await a.tree()
    assert nodes[0].online is True and transport.count("POST", "/auth") == 0
    await a.aclose()


# ---- error paths ----------------------------------------------------------------------------------


async def test_429_then_success(world) -> None:  # type: ignore[no-untyped-def]
    f = Fleet(world, faults=Faults(first429=1, retry_after=0.0))
    assert await f.adapter.tree(depth="device")
    await f.adapter.aclose()


async def test_malformed_json(world) -> None:  # type: ignore[no-untyped-def]
    f = Fleet(world, faults=Faults(malformed=1.0))
    with pytest.raises(VendorError, match="malformed"):
        await f.adapter.tree()
    await f.adapter.aclose()


async def test_stalled_gateway_times_out(world) -> None:  # type: ignore[no-untyped-def]
    f = Fleet(world, faults=Faults(timeout=1.0, stall=30), profile={"timeout": 0.2})
    with pytest.raises(Unavailable):
        async with asyncio.timeout(10):
            await f.adapter.tree()
    await f.adapter.aclose()


def mock_gateway(monitor: Any, status: int = 200) -> httpx.MockTransport:
    """A gateway answering with given payloads (the vendor documents' own shapes)."""

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v1/auth":
            return httpx.Response(200, json={"data": {"token": "a.b.c"}})
        if path == "/api/v1/tags/list":
            return httpx.Response(200, json={"data": [{
                "prvdName": "modbus_tcp_master", "srcName": "ioLogik-E1242", "tagName": "AI_0_scaledValue",
                "dataType": "double", "dataSize": 8, "dataUnit": "mA", "access": "r"}]})
        if path.startswith("/api/v1/tags/monitor/"):
            return httpx.Response(status, json=monitor)
        return httpx.Response(404, json={"error": {"code": 404, "message": "no such path"}})

    return httpx.MockTransport(handle)


def mock_adapter(transport: httpx.AsyncBaseTransport) -> ThingsProAdapter:
    profile = Profile(name="doc", vendor="thingspro", username="admin", base_url="https://127.0.0.1:8443")
    return ThingsProAdapter(profile, SecretSource(fixed={"doc": "password1"}, use_keyring=False), transport=transport)


async def test_documented_monitor_sample_parses() -> None:
    # VENDORS §4.2: one object (not a list), value and ts possibly as strings, ts in ms
    sample = {"data": {"prvdName": "modbus_tcp_master", "srcName": "ioLogik-E1242", "tagName": "AI_0_scaledValue",
                       "dataType": "double", "dataValue": "12.5", "dataUnit": "mA", "ts": "1590000000123"}}
    a = mock_adapter(mock_gateway(sample))
    readings = await a.latest()
    assert len(readings) == 1
    r = readings[0]
    assert r.metric == "doc/metric/127.0.0.1:8443|modbus_tcp_master/ioLogik-E1242/AI_0_scaledValue"
    assert r.value == 12.5 and r.unit == "mA"
    assert r.ts == datetime(2020, 5, 20, 18, 40, 0, 123000, tzinfo=UTC)
    nodes = await a.tree()
    assert nodes[0].online is True and nodes[-1].value_type == "float"  # info endpoints absent: still a tree
    await a.aclose()


async def test_error_envelopes() -> None:
    a = mock_adapter(mock_gateway({"error": {"code": "E42", "message": "bad tag list"}}, status=400))
    with pytest.raises(VendorError, match="bad tag list") as e:
        await a.latest()
    assert e.value.code == "E42"
    await a.aclose()
    b = mock_adapter(mock_gateway({"data": None, "error": {"code": 7, "message": "tag service busy"}}, status=200))
    with pytest.raises(VendorError, match="tag service busy"):
        await b.latest()
    await b.aclose()


def test_cloud_status_from_documented_samples() -> None:
    # request/response samples of the "ThingsPro Cloud APIs" page
    mqtt = [{"id": 1, "enable": True, "status": "connected", "protocolVersion": "3.1.1", "server": "127.0.0.1",
             "port": 1883, "clientID": "mydevice1", "userName": "moxa", "password": "123", "qos": 1}]
    aws = {"status": "connected", "provisioning": {"enable": True, "host": "x", "port": 8883, "thingID": "t"}}
    azure = {"provisioning": {"enable": False}}
    sparkplug = {"brokerList": [{"id": 1, "status": "connected"}]}
    got = cloud_status({"mqtt": mqtt, "aws": aws, "azure": azure, "sparkplug": sparkplug})
    assert got == {"mqtt": "connected", "aws": "connected", "azure": "disabled", "sparkplug": "connected"}
    two = cloud_status({"mqtt": mqtt + [{"id": 2, "enable": True, "status": "disconnected"}], "sparkplug": {"enable": False}})
    assert two == {"mqtt": "1/2 connected", "sparkplug": "disabled"}
    assert "123" not in json.dumps(got)


# ---- TLS settings ---------------------------------------------------------------------------------


def test_verify_false_warns_and_missing_bundle_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secrets = SecretSource(fixed={}, use_keyring=False)
    off = ThingsProAdapter(Profile(name="p", vendor="thingspro", gateways=["https://10.0.0.5:8443"], verify=False), secrets)
    assert off.warnings and "verify" in off.warnings[0]
    on = ThingsProAdapter(Profile(name="p", vendor="thingspro", gateways=["10.0.0.5:8443"]), secrets)
    assert on.warnings == [] and on.gateways == ["10.0.0.5:8443"]
    missing = ThingsProAdapter(
        Profile(name="p", vendor="thingspro", gateways=["https://10.0.0.5:8443"], verify=str(tmp_path / "nope.pem")), secrets
    )
    with pytest.raises(InvalidRequest, match="does not exist"):
        asyncio.run(missing.tree())
    empty = ThingsProAdapter(Profile(name="p", vendor="thingspro"), secrets)
    with pytest.raises(InvalidRequest, match="no gateway"):
        asyncio.run(empty.latest())


# ---- live -----------------------------------------------------------------------------------------


async def collect(adapter: ThingsProAdapter, refs: list[str], n: int, timeout: float = 10) -> list[Any]:
    out = []
    gen = adapter.stream(refs)
    try:
        async with asyncio.timeout(timeout):
            async for r in gen:
                out.append(r)
                if len(out) >= n:
                    break
    finally:
        await gen.aclose()
    return out


async def test_streaming_session(world) -> None:  # type: ignore[no-untyped-def]
    f = Fleet(world, profile={"live": True}, stream_limit=8)  # one tick per connection: no waiting
    f.adapter.reconnect_delay = 0.01
    pump = next(d for d in world.devices_of("thingspro") if d.model == "pump")
    host = f"{world.gateways[pump.gateway].id}.thingspro.demo"
    source = f"plant/device/{host}|{MODBUS}/{pump.id}"
    names = [m.key for _, m in world.metrics(pump)]
    first = await collect(f.adapter, [source], len(names))
    assert sorted(r.metric.rsplit("/", 1)[1] for r in first) == sorted(names)  # each once: repeats are dropped
    assert f.transport.count("GET", "streamInterval=1000") >= 1
    # a write shows up on the live stream
    gen = f.adapter.stream([source])
    got = []
    try:
        async with asyncio.timeout(10):
            async for r in gen:
                got.append(r)
                if len(got) == len(names):
                    await f.adapter.write_tag(f"{MODBUS}/{pump.id}/setpoint", 6.5)
                if r.metric.endswith("/setpoint") and r.value == 6.5:
                    break
    finally:
        await gen.aclose()
    assert got[-1].value == 6.5
    # streamed readings feed history: the written value is there, though the gateway's clock is fixed
    t0 = datetime.fromtimestamp(NOW - 600, UTC)
    s = await f.adapter.history(got[-1].metric, t0, datetime.now(UTC))
    assert s.points[-1].value == 6.5
    await f.adapter.aclose()


class NoStreaming(httpx.AsyncBaseTransport):
    """A gateway whose firmware has no streaming monitor: 404 for streamInterval requests."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.polls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "streamInterval" in str(request.url):
            return httpx.Response(404, json={"error": {"code": 404, "message": "unknown parameter"}})
        if "/tags/monitor/" in request.url.path:
            self.polls += 1
        return await self.inner.handle_async_request(request)


async def test_stream_falls_back_to_polling(world) -> None:  # type: ignore[no-untyped-def]
    f = Fleet(world, profile={"live": True})
    transport = NoStreaming(f.router)
    a = ThingsProAdapter(f.profile, f.secrets, transport=transport)
    ref = f"plant/group/{f.gateways[0].id}.thingspro.demo|system"
    got = await collect(a, [ref], 3)
    assert {r.metric.rsplit("/", 1)[1] for r in got} == {"cpuUsage", "memoryUsage", "diskUsage"}
    assert transport.polls >= 1
    await a.aclose()
    # not live: polling from the start
    g = Fleet(world)
    got = await collect(g.adapter, [ref], 3)
    assert len(got) == 3 and not any("streamInterval" in p for _, _, p in g.transport.calls)
    await g.adapter.aclose()


async def test_stream_ends_on_refused_credential(world) -> None:  # type: ignore[no-untyped-def]
    f = Fleet(world, profile={"live": True})
    ref = f"plant/group/{f.gateways[0].id}.thingspro.demo|system"
    await f.adapter.latest([ref])  # catalogue loaded with a good password
    f.adapter._secret = None
    f.secrets = SecretSource(fixed={"plant": "changed-password"}, use_keyring=False)
    f.adapter.secrets = f.secrets
    for gw in f.adapter._gws.values():
        gw.token = None
    with pytest.raises(AuthError):
        await collect(f.adapter, [ref], 3, timeout=5)
    await f.adapter.aclose()


async def test_gateway_back_joins_the_stream(world) -> None:  # type: ignore[no-untyped-def]
    gws = world.gateways_of("thingspro")
    f = Fleet(world, down=(gws[0].id,))
    f.adapter.rejoin_interval = 0.05
    refs = [f"plant/group/{g.id}.thingspro.demo|system" for g in gws[:2]]
    gen = f.adapter.stream(refs)
    hosts: set[str] = set()
    try:
        async with asyncio.timeout(10):
            async for r in gen:
                hosts.add(r.metric.split("/", 2)[2].split("|")[0])
                if hosts == {f"{gws[1].id}.thingspro.demo"}:
                    f.router.add(f"{gws[0].id}.thingspro.demo", create_app(world, gateway=gws[0].id, now=NOW))
                if len(hosts) == 2:
                    break
    finally:
        await gen.aclose()
    assert hosts == {f"{g.id}.thingspro.demo" for g in gws[:2]}
    await f.adapter.aclose()
