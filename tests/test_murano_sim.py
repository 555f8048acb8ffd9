"""The Murano Device2 business-API simulator, over HTTP in process: auth, shapes, codes, filters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tuiot.simulators.murano import (
    DEMO_EMAIL,
    DEMO_SECRET,
    DEMO_SOLUTION,
    SERVICE_ID,
    create_app,
    demo_profile,
)

NOW = 1_780_000_000.0 - (1_780_000_000.0 % 3600)
FIXTURES = Path(__file__).parent / "fixtures" / "murano"
CALL = f"/api:1/solution/{DEMO_SOLUTION}/serviceconfig/{SERVICE_ID}/call"


class Client:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://m")
        self.token = ""

    async def login(self) -> None:
        r = await self.http.post("/api:1/token/", json={"email": DEMO_EMAIL, "password": DEMO_SECRET})
        assert r.status_code == 200
        self.token = r.json()["token"]

    async def call(self, op: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(f"{CALL}/{op}", json=body or {}, headers={"Authorization": f"token {self.token}"})

    async def ok(self, op: str, body: dict[str, Any] | None = None) -> Any:
        r = await self.call(op, body)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
async def client(world):  # type: ignore[no-untyped-def]
    c = Client(create_app(world, now=NOW))
    await c.login()
    yield c
    await c.http.aclose()


async def test_login_and_token_scheme(world: Any) -> None:
    c = Client(create_app(world, now=NOW))
    bad = await c.http.post("/api:1/token/", json={"email": DEMO_EMAIL, "password": "nope"})
    assert bad.status_code == 401 and bad.json()["statusCode"] == 401
    await c.login()
    info = await c.http.get(f"/api:1/token/{c.token}")
    assert info.json()["email"] == DEMO_EMAIL and 0 < info.json()["ttl"] <= 172_800
    bearer = await c.http.post(f"{CALL}/listIdentities", json={}, headers={"Authorization": f"Bearer {c.token}"})
    assert bearer.status_code == 401 and "token <token>" in bearer.json()["message"]
    assert (await c.http.post(f"{CALL}/listIdentities", json={})).status_code == 401
    assert (await c.call("listIdentities")).status_code == 200
    c.app.state.revoke_tokens()
    assert (await c.call("listIdentities")).status_code == 401
    await c.http.aclose()


async def test_twofactor_login_is_409(world: Any) -> None:
    c = Client(create_app(world, now=NOW, twofactor=True))
    r = await c.http.post("/api:1/token/", json={"email": DEMO_EMAIL, "password": DEMO_SECRET})
    assert r.status_code == 409 and r.json() == {"message": "twofactor"}
    await c.http.aclose()


async def test_service_config_discovery(client: Client) -> None:
    h = {"Authorization": f"token {client.token}"}
    cfg = (await client.http.get(f"/api:1/solution/{DEMO_SOLUTION}/serviceconfig/device2", headers=h)).json()
    assert cfg["id"] == SERVICE_ID and cfg["service"] == "device2" and cfg["parameters"]["fqdn"]
    listing = (await client.http.get(f"/api:1/solution/{DEMO_SOLUTION}/serviceconfig/", headers=h)).json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == SERVICE_ID
    other = await client.http.get("/api:1/solution/elsewhere/serviceconfig/device2", headers=h)
    assert other.status_code == 404 and other.json()["statusCode"] == 404
    unknown = await client.call("noSuchOperation")
    assert unknown.status_code == 404 and unknown.json()["code"] == 404
    get = await client.http.get(f"{CALL}/getIdentity", params={"identity": "nobody"}, headers=h)
    assert get.status_code == 404 and get.json() == {"code": 404, "message": "identity 'nobody' does not exist"}


async def test_list_identities_shape_order_and_paging(client: Client, world: Any) -> None:
    first = await client.ok("listIdentities")
    assert len(first["devices"]) == min(50, len(world.devices_of("murano"))) and isinstance(first["mayLoadMore"], bool)
    everything = await client.ok("listIdentities", {"limit": 2000})
    devices = everything["devices"]
    assert everything["mayLoadMore"] is False and len(devices) == len(world.devices_of("murano"))
    keys = [(-(d.get("lastseen") or 0), d["identity"]) for d in devices]
    assert keys == sorted(keys)
    d = next(x for x in devices if x["status"] == "provisioned" and not x["locked"])
    assert set(d) >= {"identity", "auth", "locked", "status", "online", "lastseen", "lastip", "tags", "state"}
    assert d["lastseen"] > 10**15  # microseconds
    dev = world.device(d["identity"])
    assert d["lastseen"] == int(world.last_time(dev, NOW)) * 1_000_000
    state = d["state"]
    assert set(state) == {m.key for _, m in world.metrics(dev)}
    assert all(v["timestamp"] == d["lastseen"] and v["set"] == v["reported"] for v in state.values())
    page = await client.ok("listIdentities", {"limit": 5, "offset": 5})
    assert [x["identity"] for x in page["devices"]] == [x["identity"] for x in devices[5:10]] and page["mayLoadMore"]
    for bad in ({"limit": 2001}, {"limit": 0}, {"offset": -1}, {"limit": "many"}, {"order": ["identity.asc"]}):
        r = await client.call("listIdentities", bad)
        assert r.status_code == 400 and r.json()["code"] == 400


async def test_before_and_after_in_microseconds(client: Client) -> None:
    devices = (await client.ok("listIdentities", {"limit": 2000}))["devices"]
    seen = sorted({d["lastseen"] for d in devices if "lastseen" in d}, reverse=True)
    pivot = seen[len(seen) // 2]
    before = (await client.ok("listIdentities", {"limit": 2000, "before": pivot}))["devices"]
    assert before and all((d.get("lastseen") or 0) < pivot for d in before)
    after = (await client.ok("listIdentities", {"limit": 2000, "after": pivot}))["devices"]
    assert after and all(d["lastseen"] > pivot for d in after)
    at = sum(1 for d in devices if d.get("lastseen") == pivot)
    assert len(before) + len(after) + at == len(devices)
    counted = await client.ok("countIdentities", {"before": pivot})
    assert counted == {"count": len(before)}


async def test_status_regex_ip_and_tag_filters(client: Client, world: Any) -> None:
    devices = (await client.ok("listIdentities", {"limit": 2000}))["devices"]
    statuses = {d["status"] for d in devices}
    assert {"provisioned", "locked"} <= statuses
    for wanted in ("locked", "locked,whitelisted", ["provisioned", "expired"], "online", "offline"):
        got = (await client.ok("listIdentities", {"limit": 2000, "status": wanted}))["devices"]
        names = set(wanted.split(",")) if isinstance(wanted, str) else set(wanted)
        if names == {"online"}:
            assert got and all(d["online"] for d in got)
        elif names == {"offline"}:
            assert got and not any(d["online"] for d in got)
        else:
            assert got and all(d["status"] in names for d in got)
    assert (await client.call("listIdentities", {"status": "sleepy"})).status_code == 400
    pumps = (await client.ok("listIdentities", {"limit": 2000, "identity": "^pump-"}))["devices"]
    assert pumps and all(d["identity"].startswith("pump-") for d in pumps)
    assert (await client.call("listIdentities", {"identity": "(["})).status_code == 400
    one = next(d for d in devices if d.get("lastip"))
    by_ip = (await client.ok("listIdentities", {"limit": 2000, "ipaddress": one["lastip"]}))["devices"]
    assert one["identity"] in {d["identity"] for d in by_ip}
    site = next(t["value"] for d in devices for t in d["tags"] if t["name"] == "site")
    named = (await client.ok("listIdentities", {"limit": 2000, "tag.name": "site", "tag.value": site}))["devices"]
    assert named and all({"name": "site", "value": site} in d["tags"] for d in named)
    nested = (await client.ok("listIdentities", {"limit": 2000, "tag": {"name": "site"}}))["devices"]
    untagged = [d for d in devices if not any(t["name"] == "site" for t in d["tags"])]
    assert untagged and len(nested) + len(untagged) == len(devices)
    assert (await client.call("listIdentities", {"tag.value": "x"})).status_code == 400
    both = {"tags": json.dumps([{"name": "site", "operator": "eq", "value": site}]), "tag.name": "site"}
    assert (await client.call("listIdentities", both)).status_code == 400


async def test_tag_criteria_json(client: Client) -> None:
    def crit(*c: tuple[str, str, str]) -> dict[str, Any]:
        return {"limit": 2000, "tags": json.dumps([{"name": n, "operator": o, "value": v} for n, o, v in c])}

    def models(ds: list[dict[str, Any]]) -> set[str]:
        return {t["value"] for d in ds for t in d["tags"] if t["name"] == "model"}

    assert models((await client.ok("listIdentities", crit(("model", "eq", "pump"))))["devices"]) == {"pump"}
    assert models((await client.ok("listIdentities", crit(("model", "gt", "env"))))["devices"]) == {"meter", "pump"}
    assert models((await client.ok("listIdentities", crit(("model", "gte", "env"), ("model", "lte", "meter"))))["devices"]) == {"env", "meter"}
    assert models((await client.ok("listIdentities", crit(("model", "lt", "env"))))["devices"]) == {"air"}
    assert "pump" not in models((await client.ok("listIdentities", crit(("model", "ne", "pump"))))["devices"])
    for bad in ("not json", json.dumps([{"name": "model"}]), json.dumps([{"name": "m", "operator": "like", "value": "x"}]), json.dumps(5)):
        r = await client.call("listIdentities", {"tags": bad})
        assert r.status_code == 400 and r.json()["message"]


async def test_identity_writes_and_codes(client: Client) -> None:
    added = await client.call("addIdentity", {"identity": "spare-1", "auth": {"type": "token"}})
    assert added.status_code == 204 and added.content == b""
    assert (await client.call("addIdentity", {"identity": "spare-1"})).status_code == 409
    assert (await client.call("addIdentity", {"identity": "has space"})).status_code == 400
    assert (await client.call("addIdentity", {"identity": "spare-2", "locked": "yes"})).status_code == 400
    got = await client.ok("getIdentity", {"identity": "spare-1"})
    assert got["status"] == "whitelisted" and got["online"] is False and "lastseen" not in got and got["state"] == {}
    assert (await client.call("updateIdentity", {"identity": "spare-1", "locked": True})).status_code == 204
    assert (await client.ok("getIdentity", {"identity": "spare-1"}))["status"] == "locked"
    assert (await client.call("updateIdentity", {"identity": "spare-1", "locked": "no"})).status_code == 400
    assert (await client.call("updateIdentity", {"identity": "ghost", "locked": True})).status_code == 404
    removed = await client.call("removeIdentity", {"identity": "spare-1"})
    assert removed.status_code == 205
    assert (await client.call("getIdentity", {"identity": "spare-1"})).status_code == 404
    assert (await client.call("removeIdentity", {"identity": "spare-1"})).status_code == 404
    for k in range(3):
        await client.call("addIdentity", {"identity": f"batch-{k}"})
    assert (await client.call("removeIdentities", {"identities": "batch-0,batch-2"})).status_code == 204
    assert (await client.ok("countIdentities", {"identity": "^batch-"})) == {"count": 1}
    assert (await client.call("removeIdentities", {})).status_code == 400


async def test_state_settable_only(client: Client) -> None:
    devices = (await client.ok("listIdentities", {"limit": 2000, "identity": "^pump-", "status": "provisioned"}))["devices"]
    pump = devices[0]["identity"]
    assert (await client.call("setIdentityState", {"identity": pump, "setpoint": 5.1})).status_code == 204
    state = await client.ok("getIdentityState", {"identity": pump})
    assert state["setpoint"]["set"] == 5.1 and state["setpoint"]["timestamp"] == int(NOW) * 1_000_000
    conflict = await client.call("setIdentityState", {"identity": pump, "temp": 3})
    assert conflict.status_code == 409 and conflict.json() == {"code": 409, "message": "resource 'temp' is not settable"}
    assert (await client.call("setIdentityState", {"identity": pump, "setpoint": "high"})).status_code == 400
    assert (await client.call("setIdentityState", {"identity": pump, "nothing": 1})).status_code == 400
    assert (await client.call("setIdentityState", {"identity": pump})).status_code == 400
    assert (await client.call("setIdentityState", {"identity": "ghost", "setpoint": 1})).status_code == 404
    defs = await client.ok("getGatewayResourceList")
    assert defs["setpoint"]["settable"] is True and defs["temp"]["settable"] is False
    assert {defs[k]["format"] for k in defs} <= {"float", "integer", "boolean", "string"}
    assert defs["rpm"]["format"] == "integer" and defs["running"]["format"] == "boolean" and defs["temp"]["unit"] == "°C"
    assert (await client.ok("getGatewayResource", {"alias": "flow"}))["unit"] == "m3/h"
    assert (await client.call("getGatewayResource", {"alias": "nope"})).status_code == 404


async def test_tags_add_replace_remove_and_names(client: Client) -> None:
    ident = (await client.ok("listIdentities", {"limit": 1}))["devices"][0]["identity"]

    def tag(n: str, v: str) -> dict[str, str]:
        return {"name": n, "value": v}

    assert (await client.call("addIdentityTag", {"identity": ident, "tags": [tag("zone", "a"), tag("zone", "b")]})).status_code == 204
    assert await client.ok("getIdentityTag", {"identity": ident, "name": "zone"}) == ["a", "b"]
    await client.call("addIdentityTag", {"identity": ident, "tags": [tag("zone", "c")], "replace": True})
    assert await client.ok("getIdentityTag", {"identity": ident, "name": "zone"}) == ["c"]
    await client.call("addIdentityTag", {"identity": ident, "tags": [tag("zone", "d"), tag("zone", "e")]})
    assert (await client.call("removeIdentityTag", {"identity": ident, "name": "zone", "value": "c,e"})).status_code == 204
    assert await client.ok("getIdentityTag", {"identity": ident, "name": "zone"}) == ["d"]
    assert "zone" in await client.ok("listTagNames")
    await client.call("removeIdentityTag", {"identity": ident, "name": "zone"})
    assert await client.ok("getIdentityTag", {"identity": ident, "name": "zone"}) == []
    assert "zone" not in await client.ok("listTagNames")
    assert {"site", "model", "city", "name"} <= set(await client.ok("listTagNames"))
    assert (await client.call("addIdentityTag", {"identity": ident, "tags": []})).status_code == 400
    assert (await client.call("addIdentityTag", {"identity": ident, "tags": [{"name": "x" * 129, "value": "v"}]})).status_code == 400
    assert (await client.call("addIdentityTag", {"identity": "ghost", "tags": [tag("a", "b")]})).status_code == 404
    assert (await client.call("removeIdentityTag", {"identity": ident})).status_code == 400
    assert (await client.call("getIdentityTag", {"identity": "ghost", "name": "a"})).status_code == 404


async def test_update_identities_by_query(client: Client) -> None:
    body = {"identity": "^meter-", "add": {"tags": [{"name": "fleet", "value": "power"}]}}
    assert (await client.call("updateIdentities", body)).status_code == 204
    meters = (await client.ok("listIdentities", {"limit": 2000, "identity": "^meter-"}))["devices"]
    assert meters and all({"name": "fleet", "value": "power"} in d["tags"] for d in meters)
    assert (await client.call("updateIdentities", {"identity": "^meter-", "remove": {"tags": [{"name": "fleet"}]}})).status_code == 204
    assert (await client.ok("countIdentities", {"tag.name": "fleet"})) == {"count": 0}
    assert (await client.call("updateIdentities", {"identity": "^pump-", "update": {"state": {"temp": 1}}})).status_code == 409
    assert (await client.call("updateIdentities", {"identity": "^pump-"})).status_code == 400


async def test_signals_query_paging_and_epoch(client: Client, world: Any) -> None:
    d = next(x for x in (await client.ok("listIdentities", {"limit": 2000, "status": "provisioned"}))["devices"])
    dev = world.device(d["identity"])
    _, metric = next(iter(world.metrics(dev)))
    start, end = NOW - 3 * 3600, NOW
    expected = world.samples(dev, metric, start, end - 1e-6)
    ms = await client.ok("querySignal", {"identity": dev.id, "signal": metric.key, "start_time": start, "end_time": end, "epoch": "ms", "limit": 10000})
    assert ms["total"] == len(expected) and ms["q"]["epoch"] == "ms"
    assert [(p["timestamp"], p["value"]) for p in ms["data"]] == [(int(t * 1000), v) for t, v in reversed(expected)]
    asc = await client.ok("querySignal", {"identity": dev.id, "signal": metric.key, "start_time": start, "end_time": end, "epoch": "s", "order": "asc", "limit": 4, "page": 2})
    assert [p["timestamp"] for p in asc["data"]] == [int(t) for t, _ in expected[4:8]]
    for bad in ({"start_time": 12}, {"end_time": 1e13}, {"epoch": "ns"}, {"limit": 10001}, {"page": 0}, {"order": "up"}):
        r = await client.call("querySignal", {"identity": dev.id, "signal": metric.key, **bad})
        assert r.status_code == 400, bad
    assert (await client.call("querySignal", {"identity": dev.id})).status_code == 400
    assert (await client.call("querySignal", {"identity": "ghost", "signal": "temp"})).status_code == 404
    none = await client.ok("querySignal", {"identity": dev.id, "signal": "not-a-resource", "epoch": "us"})
    assert none["data"] == [] and none["total"] == 0
    keys = [m.key for _, m in world.metrics(dev)][:2]
    merged = await client.ok("querySignals", {"identity": dev.id, "signals": keys, "start_time": start, "end_time": end, "epoch": "us", "limit": 3})
    assert merged["total"] == len(expected) and len(merged["data"]) == 3
    assert set(merged["data"][0]["values"]) == set(keys) and merged["data"][0]["timestamp"] == int(expected[-1][0]) * 1_000_000


async def test_aggregated_signal_buckets(client: Client, world: Any) -> None:
    d = next(x for x in (await client.ok("listIdentities", {"limit": 2000, "status": "provisioned"}))["devices"])
    dev = world.device(d["identity"])
    metric = next(m for _, m in world.metrics(dev) if m.type in ("float", "int"))
    start, end = NOW - 6 * 3600, NOW
    answer = await client.ok("aggrquerySignal", {"identity": dev.id, "signal": metric.key, "bucket": "1h", "start_time": start,
                                                 "end_time": end, "epoch": "s"})
    assert answer["total"] == 6 and answer["q"]["bucket"] == "1h"
    newest = answer["data"][0]
    values = [float(v) for _, v in world.samples(dev, metric, NOW - 3600, NOW - 1e-6)]
    assert newest["timestamp"] == int(NOW - 3600)
    assert newest["count"] == len(values) and newest["min"] == min(values) and newest["max"] == max(values)
    assert newest["sum"] == pytest.approx(sum(values))
    only = await client.ok("aggrquerySignal", {"identity": dev.id, "signal": metric.key, "bucket": "5m", "fields": ["max"],
                                               "start_time": start, "end_time": end, "epoch": "ms", "limit": 2, "page": 1})
    assert len(only["data"]) == 2 and set(only["data"][0]) == {"timestamp", "max"} and only["total"] == 72
    assert (await client.call("aggrquerySignal", {"identity": dev.id, "signal": metric.key, "bucket": "2m"})).status_code == 400
    assert (await client.call("aggrquerySignal", {"identity": dev.id, "signal": metric.key, "bucket": "1m", "fields": ["avg"]})).status_code == 400


async def test_latest_signals_search(client: Client, world: Any) -> None:
    all_rows = await client.ok("latestSignalsSearch", {"limit": 2000})
    seen = [d["identity"] for d in (await client.ok("listIdentities", {"limit": 2000}))["devices"] if "lastseen" in d]
    assert all_rows["total"] == sum(1 for i in seen for _ in world.metrics(world.device(i)))
    default = await client.ok("latestSignalsSearch")
    assert len(default["data"]) == min(100, all_rows["total"]) and default["data"] == all_rows["data"][:100]
    row = all_rows["data"][0]
    assert set(row) == {"identity", "resource", "signal_id", "signal_name", "last_value", "last_update", "last_insert"}
    assert isinstance(row["last_value"], str) and row["last_update"].endswith("Z")
    dev = world.device(row["identity"])
    metric = next(m for _, m in world.metrics(dev) if m.key == row["signal_name"])
    assert row["last_value"] == str(world.latest(dev, metric, NOW)[1])
    reverse = await client.ok("latestSignalsSearch", {"limit": 3, "reverse": True})
    assert reverse["data"] == list(reversed(all_rows["data"][-3:]))
    page2 = await client.ok("latestSignalsSearch", {"limit": 7, "page": 2})
    assert page2["data"] == all_rows["data"][7:14]
    by_signal = await client.ok("latestSignalsSearch", {"limit": 2000, "sort_key": "signal", "signals": ["temp", "batl"]})
    names = [r["signal_name"] for r in by_signal["data"]]
    assert names == sorted(names) and set(names) == {"temp", "batl"}
    some = await client.ok("latestSignalsSearch", {"identities": [row["identity"]], "limit": 2000})
    assert {r["identity"] for r in some["data"]} == {row["identity"]} and some["total"] == len(list(world.metrics(dev)))
    assert (await client.call("latestSignalsSearch", {"limit": 2001})).status_code == 400
    assert (await client.call("latestSignalsSearch", {"sort_key": "value"})).status_code == 400


async def test_device_metrics_shape_matches_the_documented_sample(client: Client) -> None:
    sample = json.loads((FIXTURES / "device_metrics.json").read_text(encoding="utf-8"))
    got = await client.ok("getDeviceMetrics", {"metric_name": "connected", "aggregate_window": "5m",
                                               "start_time": int(NOW - 3600), "end_time": int(NOW)})
    assert len(got) == 12 and all(set(x) == set(sample[0]) for x in got)
    assert got[0]["time"].endswith(".000000Z") and len(got[0]["time"]) == len(sample[0]["time"])
    assert all(isinstance(x["value"], int) for x in got)
    assert (await client.call("getDeviceMetrics", {"metric_name": "nope"})).status_code == 400


async def test_same_seed_same_answers(world: Any) -> None:
    a, b = Client(create_app(world, now=NOW)), Client(create_app(world, now=NOW))
    await a.login()
    await b.login()
    assert await a.ok("listIdentities", {"limit": 2000}) == await b.ok("listIdentities", {"limit": 2000})
    assert await a.ok("latestSignalsSearch", {"limit": 500}) == await b.ok("latestSignalsSearch", {"limit": 500})
    await a.http.aclose()
    await b.http.aclose()


def test_demo_profile_fields(world: Any) -> None:
    from tuiot.config import Profile

    p = Profile(name="Murano", **demo_profile("Murano", world))
    assert p.vendor == "murano" and p.base_url == "http://murano.demo" and p.solution_id == DEMO_SOLUTION and p.username == DEMO_EMAIL


async def test_listing_text_is_what_json_response_would_send(client: Any) -> None:
    """listIdentities writes its identities as text; each must read back as `view()` does."""
    from tuiot.simulators.murano import _dumps

    sim = client.app.state.sim
    pump = next(k for k, i in sim.idents.items() if k.startswith("pump-") and i.connected_ever)
    assert (await client.call("setIdentityState", {"identity": pump, "setpoint": 3.5})).status_code == 204
    sim.idents[next(iter(sim.idents))].expire = 1_900_000_000
    t = sim.snapshot_time()
    for ident in sim.idents.values():
        assert sim.view_json(ident, t) == _dumps(sim.view(ident, t))
    listed = (await client.ok("listIdentities", {"limit": 2000}))["devices"]
    assert listed == [sim.view(i, t) for i in sim.order()[0][: len(listed)]]
