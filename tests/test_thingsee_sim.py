"""Thingsee simulator: the documented shapes, auth and token expiry, filters, writes, scale.

The golden samples in tests/fixtures/thingsee are the documented response bodies
(shared/vendor-docs/thingsee-api.txt) made valid JSON (the docs' trailing commas and
empty `"responsible": ,` become `null`); the simulator must answer with the same keys.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tuiot.simulators.fleet import build_world
from tuiot.simulators.thingsee import (
    DEMO_CLIENT_ID,
    DEMO_SECRET,
    UNASSIGNED,
    create_app,
    thing_tuid,
)

FIXTURES = Path(__file__).parent / "fixtures" / "thingsee"
NOW = 1_780_000_000.0 - (1_780_000_000.0 % 3600)


def sample(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Sim:
    """One simulator app and a synchronous client for it."""

    app: Any
    state: Any
    client: httpx.Client

    def token(self) -> str:
        r = self.client.post("/auth/client-token", json={"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_SECRET})
        assert r.status_code == 200, r.text
        return r.json()["data"]["token"]

    def get(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params, headers={"Authorization": f"Bearer {token or self.token()}"})

    def post(self, path: str, body: Any, token: str | None = None) -> httpx.Response:
        return self.client.post(path, json=body, headers={"Authorization": f"Bearer {token or self.token()}"})


class _SyncASGI(httpx.BaseTransport):
    """httpx's ASGI transport is async only: run each request to completion on its own loop."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        import asyncio

        async def go() -> httpx.Response:
            resp = await self.inner.handle_async_request(request)
            body = await resp.aread()
            return httpx.Response(resp.status_code, headers=resp.headers, content=body, request=request)

        return asyncio.run(go())


def make(world: Any, **opts: Any) -> Sim:
    s = Sim()
    s.app = create_app(world, now=opts.pop("now", NOW), **opts)
    s.state = s.app.state.sim
    s.client = httpx.Client(transport=_SyncASGI(s.app), base_url="http://thingsee.test")
    return s


@pytest.fixture
def sim(world: Any) -> Sim:
    return make(world)


def keys_like(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert set(want) <= set(got), f"missing {set(want) - set(got)}"


def first_tuid(sim: Sim) -> str:
    return next(iter(sim.state.things))


# ---- auth ------------------------------------------------------------------------------


def test_token_shape_and_refusals(sim: Sim) -> None:
    r = sim.client.post("/auth/client-token", json={"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_SECRET})
    keys_like(r.json()["data"], sample("client_token.json")["data"])
    assert r.status_code == 200
    bad = sim.client.post("/auth/client-token", json={"client_id": DEMO_CLIENT_ID, "client_secret": "nope"})
    assert bad.status_code == 401 and bad.json() == {"message": "Unauthorized"}
    assert sim.client.post("/auth/client-token", content=b"{").status_code == 400
    assert sim.client.get("/things/alerts").status_code == 401
    assert sim.get("/things/alerts", token="made-up").status_code == 401
    # several tokens coexist
    a, b = sim.token(), sim.token()
    assert a != b and sim.get("/things/alerts", token=a).status_code == 200 and sim.get("/things/alerts", token=b).status_code == 200


def test_token_expires_after_ttl(world: Any) -> None:
    clock = Clock(100.0)
    s = make(world, token_clock=clock, token_ttl=900.0)
    tok = s.token()
    clock.t += 899
    assert s.get("/things/alerts", token=tok).status_code == 200
    clock.t += 2
    r = s.get("/things/alerts", token=tok)
    assert r.status_code == 401 and r.json()["message"] == "Unauthorized"


# ---- reads -------------------------------------------------------------------------------


def test_alerts_and_count(sim: Sim) -> None:
    tok = sim.token()
    alerts = sim.get("/things/alerts", tok).json()
    keys_like(alerts["data"], sample("alerts.json")["data"])
    count = sim.get("/things/alerts/count", tok).json()["data"]["alert_count"]
    assert isinstance(count, str) and int(count) == len(alerts["data"]["alerting_tuids"]) > 0
    offline = {thing_tuid(d) for d in sim.state.world.devices_of("thingsee") if d.offline_since is not None}
    assert offline <= set(alerts["data"]["alerting_tuids"])
    tuid = alerts["data"]["alerting_tuids"][0]
    body = sim.get(f"/things/{tuid}/alerts", tok).json()
    entry = body["data"][0]
    keys_like(entry, sample("thing_alerts.json")["data"][0])
    assert entry["alert_type"] in ("heartbeat missed", "gateway connection lost")
    window = entry["alerts"][-1]
    assert window["to"] is None and "T" in window["from"] and "+" not in window["from"] and not window["from"].endswith("Z")


def test_alert_windows_open_and_close_as_time_passes(world: Any) -> None:
    clock = Clock(NOW)
    s = make(world, now=clock, flaky=1.0)
    tok = s.token()
    flaky = s.state.flaky[0]
    seen_open = seen_closed = False
    for step in range(0, 48 * 3600, 600):
        clock.t = NOW + step
        alerting = flaky in s.get("/things/alerts", tok).json()["data"]["alerting_tuids"]
        seen_open |= alerting
        seen_closed |= seen_open and not alerting
        if seen_open and seen_closed:
            break
    assert seen_open and seen_closed
    windows = s.get(f"/things/{flaky}/alerts", tok, **{"from": int(NOW), "to": int(clock.t)}).json()["data"]
    assert any(w["to"] is not None for e in windows for w in e["alerts"])
    # the thing says nothing while its heartbeat is missed
    w = next(w for e in windows for w in e["alerts"] if w["to"])
    start = time.mktime(time.strptime(w["from"], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    end = time.mktime(time.strptime(w["to"], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    msgs = s.get(f"/things/{flaky}/messages", tok, limit=100, **{"from": int(start) + 1, "to": int(end) - 1}).json()["data"]
    assert msgs == []


def test_thing_info(sim: Sim) -> None:
    tuid = first_tuid(sim)
    data = sim.get(f"/things/{tuid}").json()["data"]
    keys_like(data, sample("thing.json")["data"])
    assert data["gateway_tuid"].startswith("TSGW") and set(data["location"]) == {"lat", "lon"}
    assert sim.get("/things/NOPE").status_code == 404


def test_messages_limit_required_window_and_disorder(sim: Sim) -> None:
    tok = sim.token()
    tuid = next(t for t, d in sim.state.things.items() if d.online and d.interval == 60)
    assert sim.get(f"/things/{tuid}/messages", tok).status_code == 400
    assert "limit" in sim.get(f"/things/{tuid}/messages", tok).json()["message"]
    assert sim.get(f"/things/{tuid}/messages", tok, limit="x").status_code == 400
    assert sim.get(f"/things/{tuid}/messages", tok, limit=5, **{"from": "yesterday"}).status_code == 400
    msgs = sim.get(f"/things/{tuid}/messages", tok, limit=40).json()["data"]
    assert len(msgs) == 40
    keys_like(msgs[0], {k: v for k, v in sample("messages.json")["data"][0].items() if k != "batl"})
    ts = [m["tsmTs"] for m in msgs]
    assert ts != sorted(ts) and ts != sorted(ts, reverse=True)  # order is not promised
    dev = sim.state.things[tuid]
    newest = sim.state.world.last_time(dev, NOW)
    assert max(ts) == newest  # the newest `limit` messages of the window
    env = next(m for m in msgs if m["tsmId"] == 12100 and m["tsmTs"] == newest)
    spec = {m.key: m for _, m in sim.state.world.metrics(dev)}
    assert env["temp"] == sim.state.world.value(dev, spec["temp"], newest)
    only = sim.get(f"/things/{tuid}/messages", tok, limit=50, messageid="1110").json()["data"]
    assert only and {m["tsmId"] for m in only} == {1110} and all("batl" in m for m in only)
    assert sim.get(f"/things/{tuid}/messages", tok, limit=50, eventid="35").json()["data"] == []
    window = sim.get(f"/things/{tuid}/messages", tok, limit=1000, **{"from": int(NOW - 600), "to": int(NOW - 300)}).json()["data"]
    assert window and all(NOW - 600 <= m["tsmTs"] <= NOW - 300 for m in window)


def test_messages_accumulate_as_time_passes(world: Any) -> None:
    clock = Clock(NOW)
    s = make(world, now=clock)
    tok = s.token()
    tuid = next(t for t, d in s.state.things.items() if d.online)
    before = max(m["tsmTs"] for m in s.get(f"/things/{tuid}/messages", tok, limit=20).json()["data"])
    clock.t += 3600
    after = max(m["tsmTs"] for m in s.get(f"/things/{tuid}/messages", tok, limit=20).json()["data"])
    assert after > before


def test_air_quality_thing_sends_co2_and_tvoc_profiles(sim: Sim) -> None:
    tuid = next(t for t in sim.state.things if t.startswith("TSAR") and sim.state.things[t].online)
    msgs = sim.get(f"/things/{tuid}/messages", limit=60).json()["data"]
    ids = {m["tsmId"] for m in msgs}
    assert {24100, 24101, 12100, 1110} <= ids
    assert all("carbonDioxide" in m for m in msgs if m["tsmId"] == 24100)
    assert all("tvoc" in m for m in msgs if m["tsmId"] == 24101)


# ---- writes ------------------------------------------------------------------------------


def test_commands_allowed_ids_only_and_listed(sim: Sim) -> None:
    tok = sim.token()
    tuid = first_tuid(sim)
    refused = sim.post(f"/things/{tuid}/commands", [{"tsmId": 17110, "tsmEv": 30}], tok)
    assert refused.status_code == 400 and "17110" in refused.json()["message"]
    assert sim.post(f"/things/{tuid}/commands", [{"tsmId": 13200}], tok).status_code == 400
    ok = sim.post(f"/things/{tuid}/commands", [{"tsmId": 13200, "tsmEv": 30, "threshold": 120}], tok)
    assert ok.status_code == 200
    keys_like(ok.json()["data"], sample("send_command.json")["data"])
    sent = ok.json()["data"]["commands"][0]
    assert sent["tsmDstTuid"] == tuid and sent["tsmTs"] == int(NOW) and sent["threshold"] == 120
    listed = sim.get(f"/things/{tuid}/commands", tok).json()["data"]
    keys_like(listed[0], sample("commands.json")["data"][0])
    assert [c["command"]["tsmId"] for c in listed] == [13200]
    assert sim.get(f"/things/{tuid}/commands", tok, messageid="1500").json()["data"] == []


def test_installation_status_round_trip(sim: Sim) -> None:
    tok = sim.token()
    tuid = first_tuid(sim)
    hist = sim.get(f"/things/{tuid}/installations", tok).json()["data"]
    keys_like(hist[0], sample("installations.json")["data"][0])
    assert sim.post(f"/things/{tuid}/installations", {"installation_status": "broken"}, tok).status_code == 400
    r = sim.post(f"/things/{tuid}/installations", {"installation_status": "quarantine"}, tok)
    assert r.json()["data"] == {"tuid": tuid, "installation_status": "quarantine"}
    newest = sim.get(f"/things/{tuid}/installations", tok, limit=1).json()["data"]
    assert len(newest) == 1 and newest[0]["installation_status"] == "quarantine"


def test_groups_create_rename_list_things_delete(sim: Sim) -> None:
    tok = sim.token()
    tuid = first_tuid(sim)
    old = sim.get(f"/things/{tuid}/group", tok).json()["data"]
    keys_like(old, sample("thing_group.json")["data"])
    assert old["group_id"].startswith("prfi00") and not any(c.isspace() for c in old["group_id"])
    for bad in ("has space", "unassigned", ""):
        assert sim.post("/groups", {"group_id": bad}, tok).status_code == 400
    created = sim.post("/groups", {"group_id": "prfi00test-lab", "group_description": "Test lab"}, tok)
    keys_like(created.json()["data"], sample("create_group.json")["data"])
    assert sim.post("/groups", {"group_id": "prfi00test-lab"}, tok).status_code == 409
    assert sim.post(f"/things/{tuid}/group", {"group_id": "prfi00nowhere"}, tok).status_code == 400
    moved = sim.post(f"/things/{tuid}/group", {"group_id": "prfi00test-lab"}, tok).json()["data"]
    assert moved == {"group_id": "prfi00test-lab", "tuid": tuid}
    things = sim.get("/groups/prfi00test-lab/things", tok).json()["data"]
    assert [t["tuid"] for t in things] == [tuid]
    assert tuid not in [t["tuid"] for t in sim.get(f"/groups/{old['group_id']}/things", tok).json()["data"]]
    msg = sim.get(f"/things/{tuid}/messages", tok, limit=3).json()["data"]
    assert msg == [] or all(m["deploymentGroupId"] == "prfi00test-lab" for m in msg)
    listed = sim.get("/groups/", tok, q="test").json()["data"]
    assert listed == [{"group_id": "prfi00test-lab", "group_description": "Test lab"}]
    assert len(sim.get("/groups/", tok, limit=1).json()["data"]) == 1
    renamed = sim.post("/groups/prfi00test-lab/rename", {"group_id": "prfi00test-lab-2"}, tok).json()["data"]
    assert renamed == {"group_id": "prfi00test-lab-2", "old": "prfi00test-lab", "renamed": True}
    assert sim.get(f"/things/{tuid}/group", tok).json()["data"]["group_id"] == "prfi00test-lab-2"
    assert sim.post("/groups/prfi00test-lab-2/rename", {"group_id": "bad name"}, tok).status_code == 400
    r = sim.client.delete("/groups/prfi00test-lab-2", headers={"Authorization": f"Bearer {tok}"})
    assert r.json()["data"] == {"group_id": "prfi00test-lab-2", "deleted": True}
    assert sim.get(f"/things/{tuid}/group", tok).json()["data"]["group_id"] == UNASSIGNED
    assert tuid in [t["tuid"] for t in sim.get(f"/groups/{UNASSIGNED}/things", tok).json()["data"]]
    assert sim.get("/groups/prfi00test-lab-2/things", tok).status_code == 404


def test_unknown_route_and_method(sim: Sim) -> None:
    tok = sim.token()
    r = sim.get("/nothing/here", tok)
    assert r.status_code == 404 and "message" in r.json()


def test_same_seed_same_answers(world: Any) -> None:
    a, b = make(world), make(world)
    tuid = first_tuid(a)
    assert a.get(f"/things/{tuid}/messages", limit=30).json() == b.get(f"/things/{tuid}/messages", limit=30).json()


def test_fast_at_thirty_thousand_things() -> None:
    big = build_world(devices=100_000, seed=7, epoch=NOW)
    t0 = time.perf_counter()
    s = make(big)
    built = time.perf_counter() - t0
    assert len(s.state.things) > 28_000
    tok = s.token()
    t0 = time.perf_counter()
    s.get("/things/alerts", tok)
    groups = s.get("/groups/", tok).json()["data"]
    s.get(f"/groups/{groups[0]['group_id']}/things", tok)
    tuid = first_tuid(s)
    s.get(f"/things/{tuid}/messages", tok, limit=1000)
    assert built < 3.0 and time.perf_counter() - t0 < 2.0
