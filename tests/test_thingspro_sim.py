"""The ThingsPro Edge gateway simulator answers in the documented shapes (VENDORS §4, §6)."""

from __future__ import annotations

import json

import httpx
import pytest

from tuiot.simulators.thingspro import DEMO_SECRET, MODBUS, create_app, demo_profile

NOW = 1_780_000_000.0


def client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://gw")


async def login(c: httpx.AsyncClient) -> dict[str, str]:
    r = await c.post("/api/v1/auth", json={"name": "admin", "password": DEMO_SECRET})
    assert r.status_code == 200
    return {"Authorization": f"Bearer {r.json()['data']['token']}"}


async def test_auth_and_errors(world) -> None:  # type: ignore[no-untyped-def]
    app = create_app(world, gateway=0, now=NOW)
    async with client(app) as c:
        r = await c.post("/api/v1/auth", json={"name": "admin", "password": "wrong-password"})
        assert r.status_code == 401 and r.json()["error"]["code"] == 401
        r = await c.post("/api/v1/auth", json={"name": "admin", "password": "short"})
        assert r.status_code == 400 and "8-256" in r.json()["error"]["message"]
        assert (await c.get("/api/v1/tags/list")).status_code == 401
        h = await login(c)
        token = h["Authorization"].split()[1]
        assert token.count(".") == 2  # a JWT
        assert (await c.get("/api/v1/auth", headers=h)).json() == {"data": "ok"}
        # the long-lived on-device token works as the mx-api-token header
        assert (await c.get("/api/v1/device/general", headers={"mx-api-token": app.state.mx_api_token})).status_code == 200
        r = await c.get("/api/v1/nothing/here", headers=h)
        assert r.status_code == 404 and "error" in r.json()
    # a token of one gateway is refused by another
    other = create_app(world, gateway=1, now=NOW)
    async with client(other) as c:
        assert (await c.get("/api/v1/tags/list", headers=h)).status_code == 401


async def test_token_expires(world) -> None:  # type: ignore[no-untyped-def]
    clock = [NOW]
    app = create_app(world, gateway=0, now=lambda: clock[0], token_ttl=60)
    async with client(app) as c:
        h = await login(c)
        assert (await c.get("/api/v1/auth", headers=h)).status_code == 200
        clock[0] += 61
        assert (await c.get("/api/v1/auth", headers=h)).status_code == 401


async def test_tag_list_monitor_and_lookback(world) -> None:  # type: ignore[no-untyped-def]
    app = create_app(world, gateway="gw-0004-2", now=NOW)
    gw = app.state.gateway
    devices = [d for d in world.devices_of("thingspro") if d.gateway == gw.index]
    async with client(app) as c:
        h = await login(c)
        tags = (await c.get("/api/v1/tags/list", headers=h)).json()["data"]
        sources = {t["srcName"] for t in tags if t["prvdName"] == MODBUS}
        assert sources == {d.id for d in devices}
        system = {t["tagName"] for t in tags if t["prvdName"] == "system"}
        assert system == {"cpuUsage", "memoryUsage", "diskUsage"}
        assert {t["access"] for t in tags} <= {"r", "rw"}
        assert any(t["access"] == "rw" and t["tagName"] == "setpoint" for t in tags) or not any(
            d.model == "pump" for d in devices
        )
        only = (await c.get("/api/v1/tags/list", params={"provider": "system"}, headers=h)).json()["data"]
        assert {t["prvdName"] for t in only} == {"system"}

        dev = devices[0]
        names = [t["tagName"] for t in tags if t["srcName"] == dev.id]
        r = await c.get(f"/api/v1/tags/monitor/{MODBUS}/{dev.id}", params={"tags": ",".join(names[:2])}, headers=h)
        data = r.json()["data"]
        assert isinstance(data, list) and [d["tagName"] for d in data] == names[:2]
        for d in data:
            assert set(d) == {"prvdName", "srcName", "tagName", "dataType", "dataValue", "dataUnit", "ts"}
            assert d["ts"] == int(world.last_time(dev, NOW) * 1000)  # ms
        # same world, same answer (values are pure functions of time)
        again = (await c.get(f"/api/v1/tags/monitor/{MODBUS}/{dev.id}", params={"tags": ",".join(names[:2])}, headers=h)).json()
        assert again["data"] == data
        # one tag is still a list
        one = (await c.get(f"/api/v1/tags/monitor/{MODBUS}/{dev.id}", params={"tags": names[0]}, headers=h)).json()["data"]
        assert isinstance(one, list) and len(one) == 1
        # look-back window: every reading of the last hour, oldest first
        hist = (await c.get(f"/api/v1/tags/monitor/{MODBUS}/{dev.id}", params={"tags": names[0], "ms": 3_600_000}, headers=h)).json()["data"]
        expected = len(list(world.times(dev, NOW - 3600, NOW)))
        assert len(hist) == expected and hist == sorted(hist, key=lambda x: x["ts"])
        # errors
        r = await c.get(f"/api/v1/tags/monitor/{MODBUS}/nope", headers=h)
        assert r.status_code == 404 and "nope" in r.json()["error"]["message"]
        r = await c.get(f"/api/v1/tags/monitor/{MODBUS}/{dev.id}", params={"tags": "ghost"}, headers=h)
        assert r.status_code == 404
        r = await c.get(f"/api/v1/tags/monitor/{MODBUS}/{dev.id}", params={"ms": "-5"}, headers=h)
        assert r.status_code == 400


async def test_stream_json_lines(world) -> None:  # type: ignore[no-untyped-def]
    app = create_app(world, gateway=0, now=NOW, stream_limit=7)
    async with client(app) as c:
        h = await login(c)
        async with c.stream("GET", "/api/v1/tags/monitor/system/status", params={"streamInterval": 50}, headers=h) as r:
            assert r.status_code == 200
            lines = [json.loads(x) async for x in r.aiter_lines() if x.strip()]
        assert len(lines) == 7
        assert [x["tagName"] for x in lines[:3]] == ["cpuUsage", "memoryUsage", "diskUsage"]
        # onChanged: the first value of each tag, then only changes (none at a fixed clock)
        app2 = create_app(world, gateway=0, now=NOW, stream_limit=3)
        async with client(app2) as c2:
            h2 = await login(c2)
            r = await c2.get("/api/v1/tags/monitor/system/status", params={"onChanged": "true"}, headers=h2)
            assert len([x for x in r.text.splitlines() if x]) == 3
        r = await c.get("/api/v1/tags/monitor/system/status", params={"streamInterval": "1"}, headers=h)
        assert r.status_code == 400


async def test_access_read_and_typed_writes(world) -> None:  # type: ignore[no-untyped-def]
    app = create_app(world, gateway=0, now=NOW)
    state = app.state.sim
    (prov, src), _tags = next((k, v) for k, v in state.tags.items() if "setpoint" in v)
    base = f"/api/v1/tags/access/{prov}/{src}"
    async with client(app) as c:
        h = await login(c)
        r = (await c.get(f"{base}/setpoint", headers=h)).json()["data"]
        assert isinstance(r["timestamp"], str) and r["dataType"] == "float"
        bad = [
            ({"dataType": "int16", "dataValue": 4}, "does not match"),
            ({"dataType": "float", "dataValue": "4.5"}, "number"),
            ({"dataType": "float"}, "dataValue"),
        ]
        for body, text in bad:
            r = await c.put(f"{base}/setpoint", json=body, headers=h)
            assert r.status_code == 400 and text in r.json()["error"]["message"], body
        r = await c.put(f"{base}/rpm", json={"dataType": "uint16", "dataValue": 5}, headers=h)
        assert r.status_code == 400 and "read-only" in r.json()["error"]["message"]
        r = await c.put(f"{base}/setpoint", json={"dataType": "float", "dataValue": 5.25}, headers=h)
        assert r.status_code == 200 and r.json()["data"]["dataValue"] == 5.25
        # the written value persists: direct read and monitor return it
        assert (await c.get(f"{base}/setpoint", headers=h)).json()["data"]["dataValue"] == 5.25
        mon = (await c.get(f"/api/v1/tags/monitor/{prov}/{src}", params={"tags": "setpoint"}, headers=h)).json()["data"]
        assert mon[0]["dataValue"] == 5.25


async def test_device_info_cloud_and_down(world) -> None:  # type: ignore[no-untyped-def]
    app = create_app(world, gateway=0, now=NOW)
    async with client(app) as c:
        h = await login(c)
        general = (await c.get("/api/v1/device/general", headers=h)).json()["data"]
        assert {"description", "hostName", "serialNumber", "modelName", "firmware"} <= set(general)
        mqtt = (await c.get("/api/v1/mqtt/clients", headers=h)).json()["data"]
        assert isinstance(mqtt, list) and all("status" in m and "password" not in m for m in mqtt)
        for path in ("azure-iotdevice", "aws-iotdevice"):
            d = (await c.get(f"/api/v1/{path}", headers=h)).json()["data"]
            assert d["status"] in ("connected", "disconnected") and "enable" in d["provisioning"]
        sp = (await c.get("/api/v1/sparkplug", params={"event": "true"}, headers=h)).json()["data"]
        assert set(sp) == {"brokerList"} and "status" in sp["brokerList"][0]
        # read-only: no writes to the cloud configuration
        assert (await c.put("/api/v1/mqtt/clients", json={}, headers=h)).status_code == 405
    down = create_app(world, gateway=0, down=True)
    async with client(down) as c:
        assert (await c.post("/api/v1/auth", json={"name": "admin", "password": DEMO_SECRET})).status_code == 503
        assert (await c.get("/api/v1/tags/list")).status_code == 503


def test_demo_profile_and_bad_gateway(world) -> None:  # type: ignore[no-untyped-def]
    p = demo_profile("ThingsPro", world)
    assert p["vendor"] == "thingspro" and p["username"] == "admin"
    assert p["gateways"] == [f"http://{g.id}.thingspro.demo" for g in world.gateways_of("thingspro")]
    with pytest.raises(ValueError):
        create_app(world, gateway="gw-nope")
    with pytest.raises(ValueError):
        create_app(world, gateway=99)
