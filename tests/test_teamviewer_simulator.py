"""TeamViewer IoT simulator: the documented shapes, envelopes, quirks and persistence.

Every response is compared key-for-key with the document's own sample
(tests/fixtures/teamviewer), so a drift in the simulator's shapes shows up here first.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tuiot.simulators.fleet import build_world
from tuiot.simulators.teamviewer import DEMO_SECRET, USER_ID, create_app, demo_profile

NOW = 1_780_000_000.0 - (1_780_000_000.0 % 3600)
FIXTURES = Path(__file__).parent / "fixtures" / "teamviewer"
AUTH = {"Authorization": f"Bearer {DEMO_SECRET}"}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def q(**params: Any) -> dict[str, str]:
    return {k: json.dumps(v) if isinstance(v, (list, dict)) else str(v) for k, v in params.items()}


@pytest.fixture
def client(world: Any):
    app = create_app(world, now=NOW)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://teamviewer.demo", headers=AUTH)


async def test_user_and_envelope(client: httpx.AsyncClient) -> None:
    r = await client.get("/user")
    body = r.json()
    assert r.status_code == 200 and body["status"] == "OK"
    assert body["data"]["id"] == USER_ID
    assert set(body["data"]) == set(fixture("user.json")["data"])
    assert set(body["data"]["license"]) == {"type", "version"}


async def test_auth_refused(world: Any) -> None:
    app = create_app(world, now=NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as c:
        for headers in ({}, {"Authorization": "Bearer nope"}):
            r = await c.get("/devicetree", headers=headers)
            assert r.status_code == 401
            assert set(r.json()["error"]) == {"code", "desc"}


async def test_devicetree_shape_matches_the_document(client: httpx.AsyncClient, world: Any) -> None:
    sample = fixture("devicetree.json")
    body = (await client.get("/devicetree")).json()
    assert body["status"] == "OK" and isinstance(body["timestamp"], int)
    groups = body["data"]
    assert len(groups) == len(world.sites_of("teamviewer"))
    s_group, s_dev = sample["data"][0], sample["data"][0]["devices"][0]
    s_sensor, s_metric = s_dev["sensors"][0], s_dev["sensors"][0]["metrics"][1]
    assert {"id", "name", "devices"} <= set(groups[0]) <= set(s_group)
    devices = [d for g in groups for d in g["devices"]]
    assert len(devices) == len(world.devices_of("teamviewer"))
    dev = devices[0]
    assert set(dev) - {"sensors", "alarm"} <= set(s_dev)
    # numbers as strings, like the sample
    assert isinstance(dev["sensorsCount"], str) and isinstance(dev["metricsCount"], str)
    assert {d["state"] for d in devices} == {1, 2}  # 1 offline, 2 online
    sensor = dev["sensors"][0]
    assert isinstance(sensor["id"], int) and set(sensor) <= set(s_sensor)
    assert set(sensor["frequency"]) == set(s_sensor["frequency"])
    metric = sensor["metrics"][0]
    assert isinstance(metric["id"], str) and {"id", "name", "valueType"} <= set(metric)
    assert set(metric) <= set(s_metric) | {"valueUnit"}
    # some device carries its worst open alarm as a string severity
    alarms = [d["alarm"] for d in devices if "alarm" in d]
    assert alarms and all(a in ("1", "2", "3", "4") for a in alarms)


async def test_devices_sensors_metrics_and_counts(client: httpx.AsyncClient, world: Any) -> None:
    devices = (await client.get("/devices")).json()["data"]
    assert len(devices) == len(world.devices_of("teamviewer")) and "sensors" not in devices[0]
    assert {"id", "name", "devicetype", "buddyid"} <= set(devices[0])  # the document's lower-case listing
    sensors = (await client.get("/sensors")).json()["data"]
    count = (await client.get("/sensors/count")).json()["data"]
    assert count == [len(sensors)] and "deviceId" in sensors[0]
    metrics = (await client.get("/metrics")).json()["data"]["metrics"]
    sample = fixture("metrics.json")["data"]["metrics"][0]
    assert set(metrics[0]) <= set(sample) | {"valueAnnotation"}
    assert "valuetype" in metrics[0]  # the document's lower-case variant
    assert any("valueunit" in m for m in metrics)
    assert set(metrics[0]["sensor"]) == set(sample["sensor"]) and set(metrics[0]["device"]) == set(sample["device"])
    assert (await client.get("/metrics/count")).json()["data"] == {"metrics": [len(metrics)]}


async def test_ids_are_stable_across_instances(world: Any) -> None:
    async def tree() -> Any:
        app = create_app(world, now=NOW)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x", headers=AUTH) as c:
            return (await c.get("/devicetree")).json()["data"]

    assert await tree() == await tree()


async def test_lastvalues_shape_and_values(client: httpx.AsyncClient, world: Any) -> None:
    tree = (await client.get("/devicetree")).json()["data"]
    sensor = tree[0]["devices"][0]["sensors"][0]
    body = (await client.get("/lastvalues", params=q(sensorids=[sensor["id"], 1]))).json()
    rows = body["data"]
    assert len(rows) == 1  # unknown ids are left out
    row = rows[0]
    assert set(fixture("lastvalues.json")["data"][0]) - {"temp"} <= set(row)
    assert row["sensorId"] == sensor["id"] and isinstance(row["timestamp"], int)
    assert row["timestamp"] <= NOW * 1000
    values = {k: v for k, v in row.items() if k not in ("sensorId", "timestamp")}
    assert set(values) == {m["id"] for m in sensor["metrics"]}
    assert all(isinstance(v, str) for v in values.values())
    # value at that timestamp comes from the world
    dev = world.devices_of("teamviewer")[0]
    spec = dev.spec.sensors[0].metrics[0]
    expected = world.value(dev, spec, row["timestamp"] / 1000)
    got = values[sensor["metrics"][0]["id"]]
    assert float(got) == pytest.approx(float(expected), rel=1e-3, abs=1e-3)


async def test_data_raw_and_aggregated(client: httpx.AsyncClient) -> None:
    tree = (await client.get("/devicetree")).json()["data"]
    sensor = tree[0]["devices"][0]["sensors"][0]
    mid = sensor["metrics"][0]["id"]
    rng = [int((NOW - 6 * 3600) * 1000), int(NOW * 1000)]
    raw = (await client.get("/data", params=q(range=rng, metrics=[{"sensorId": sensor["id"], "metricId": mid}]))).json()
    row = raw["data"][0]
    assert set(row) - {"func"} <= set(fixture("data.json")["data"][0])
    assert row["metricId"] == mid and row["sensorId"] == sensor["id"]
    points = row["result"]
    assert len(points) > 6 and all(rng[0] <= p["timestamp"] <= rng[1] for p in points)
    hour = 3_600_000
    counted = {}
    for func in ("MIN", "MAX", "AVG", "STDEV", "COUNT"):
        spec = [{"sensorId": sensor["id"], "metricId": mid, "func": func}]
        agg = (await client.get("/data", params=q(range=rng, metrics=spec, period=hour))).json()["data"][0]
        assert agg["func"] == func and all(p["timestamp"] % hour == 0 for p in agg["result"])
        counted[func] = agg["result"]
    assert sum(p["value"] for p in counted["COUNT"]) == len(points)
    for lo, mean, hi in zip(counted["MIN"], counted["AVG"], counted["MAX"], strict=True):
        assert lo["value"] <= mean["value"] <= hi["value"]
    # without metricId every metric of the sensor comes back
    every = (await client.get("/data", params=q(range=rng, metrics=[{"sensorId": sensor["id"]}]))).json()["data"]
    assert len(every) == len(sensor["metrics"])


async def test_alarms_by_range_and_status_and_close(client: httpx.AsyncClient, world: Any) -> None:
    everything = [0, int(NOW * 1000)]
    open_ = (await client.get("/alarms", params=q(range=everything, status=1))).json()["data"]
    closed = (await client.get("/alarms", params=q(range=everything, status=3))).json()["data"]
    assert open_ and closed
    sample = fixture("alarms_closed.json")["data"][0]
    for a in open_ + closed:
        assert set(a) == set(sample) and a["severity"] in ("1", "2", "3", "4")
        assert set(a["source"]) == set(sample["source"])
    assert all(a["status"] == "1" and a["changeLog"] == [] for a in open_)
    assert all(a["status"] == "3" and a["changeLog"][0]["closeTime"] for a in closed)
    # the range filters on openTime
    newest = max(a["openTime"] for a in open_)
    later = (await client.get("/alarms", params=q(range=[newest, everything[1]], status=1))).json()["data"]
    assert later and all(a["openTime"] >= newest for a in later)
    # close persists; the device's alarm flag follows
    target = open_[0]["id"]
    r = await client.post("/alarms", json={"action": "close", "payload": {"id": target}})
    body = r.json()
    assert body["status"] == "OK" and body["data"]["status"] == 3
    assert set(body["data"]) == set(fixture("close_alarm.json")["data"])
    still_open = (await client.get("/alarms", params=q(range=everything, status=1))).json()["data"]
    assert target not in {a["id"] for a in still_open}
    now_closed = (await client.get("/alarms", params=q(range=everything, status=3))).json()["data"]
    assert target in {a["id"] for a in now_closed}
    bad = await client.post("/alarms", json={"action": "close", "payload": {"id": "no-such"}})
    assert bad.status_code == 400 and "error" in bad.json()


async def test_rules_crud_persists(client: httpx.AsyncClient) -> None:
    rules = (await client.get("/rules")).json()["data"]
    sample = fixture("rules.json")["data"][0]
    assert rules and set(rules[0]) == set(sample)
    assert set(rules[0]["sources"][0]) == set(sample["sources"][0])
    metric_id = rules[0]["sources"][0]["metricid"]
    created = (await client.post("/rules", json={"action": "create", "payload": {
        "name": "hot", "ruleType": 1, "sources": [{"metricId": metric_id}],
        "thresholds": [{"severity": "3", "condition": "metric>1", "checkcount": 2}]}})).json()
    rid = created["data"]["id"]
    got = {r["id"]: r for r in (await client.get("/rules")).json()["data"]}
    assert got[rid]["name"] == "hot" and got[rid]["thresholds"][0]["severity"] == 3
    upd = await client.post("/rules", json={"action": "update", "payload": {"id": rid, "name": "hotter"}})
    assert upd.json()["status"] == "OK"
    got = {r["id"]: r for r in (await client.get("/rules")).json()["data"]}
    assert got[rid]["name"] == "hotter" and got[rid]["sources"] == got[rid]["sources"]
    await client.post("/rules", json={"action": "delete", "payload": {"id": [rid]}})
    assert rid not in {r["id"] for r in (await client.get("/rules")).json()["data"]}
    # invalid rules are refused with the envelope
    for payload in ({"name": "", "sources": [{"metricId": metric_id}], "thresholds": [{"severity": 1}]},
                    {"name": "x", "sources": [], "thresholds": [{"severity": 1}]},
                    {"name": "x", "sources": [{"metricId": metric_id}], "thresholds": [{"severity": 9}]}):
        r = await client.post("/rules", json={"action": "create", "payload": payload})
        assert r.status_code == 400 and set(r.json()["error"]) == {"code", "desc"}


async def test_groups_crud_persists_into_the_tree(client: httpx.AsyncClient) -> None:
    groups = (await client.get("/groups")).json()["data"]
    assert {"id", "name", "permission", "sharedWith", "contacts", "devices"} <= set(groups[0])
    assert set(groups[0]["devices"][0]) == {"id", "tvId", "name"}
    dev = groups[0]["devices"][0]["id"]
    # ids as strings, as in the document's create example
    created = await client.post("/groups", json={"action": "create", "payload": {"name": "Spare", "devices": [str(dev)]}})
    gid = created.json()["data"]["id"]
    tree = {g["id"]: g for g in (await client.get("/devicetree")).json()["data"]}
    assert tree[gid]["name"] == "Spare" and [d["id"] for d in tree[gid]["devices"]] == [dev]
    await client.post("/groups", json={"action": "update", "payload": {"id": gid, "name": "Renamed", "devices": []}})
    tree = {g["id"]: g for g in (await client.get("/devicetree")).json()["data"]}
    assert tree[gid]["name"] == "Renamed" and tree[gid]["devices"] == []
    await client.post("/groups", json={"action": "delete", "payload": {"id": gid}})
    assert gid not in {g["id"] for g in (await client.get("/groups")).json()["data"]}


async def test_error_envelopes(client: httpx.AsyncClient) -> None:
    sample = fixture("error.json")
    cases = [
        client.post("/groups", json={"action": "explode", "payload": {}}),
        client.post("/rules", content=b"{not json"),
        client.get("/lastvalues", params={"sensorids": "[1,"}),
        client.get("/data", params={"range": "[1]", "metrics": "[]"}),
        client.get("/alarms"),
        client.get("/nowhere"),
        client.post("/rules", json={"action": "create", "payload": {"name": "r", "ruleType": "one",
                                                                     "thresholds": [{"severity": 1}], "sources": ["x"]}}),
    ]
    for call in cases:
        r = await call
        assert r.status_code == 400
        assert set(r.json()) == set(sample) and set(r.json()["error"]) == set(sample["error"])
        assert isinstance(r.json()["error"]["code"], str)
    r = await client.post("/groups", json={"action": "explode", "payload": {}})
    assert r.json() == sample


async def test_paths_can_be_moved(world: Any) -> None:
    app = create_app(world, now=NOW, paths={"lastvalues": "/metrics/lastvalues", "devicetree": "/tree"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x", headers=AUTH) as c:
        tree = (await c.get("/tree")).json()["data"]
        sid = tree[0]["devices"][0]["sensors"][0]["id"]
        rows = (await c.get("/metrics/lastvalues", params=q(sensorids=[sid]))).json()["data"]
        assert rows[0]["sensorId"] == sid
        assert (await c.get("/lastvalues", params=q(sensorids=[sid]))).status_code == 400
    with pytest.raises(ValueError, match="unknown TeamViewer path keys"):
        create_app(world, paths={"lastvalue": "/x"})


def test_demo_profile(world: Any) -> None:
    assert demo_profile("tv", world) == {"vendor": "teamviewer", "base_url": "http://teamviewer.demo"}


async def test_fast_at_30000_devices() -> None:
    big = build_world(devices=30000, seed=1, epoch=NOW)
    app = create_app(big, now=NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x", headers=AUTH,
                                 timeout=60) as c:
        t0 = time.perf_counter()
        tree = (await c.get("/devicetree")).json()["data"]
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        await c.get("/devicetree")
        cached = time.perf_counter() - t0
        ids = [s["id"] for g in tree for d in g["devices"] for s in d["sensors"]][:200]
        t0 = time.perf_counter()
        rows = (await c.get("/lastvalues", params=q(sensorids=ids))).json()["data"]
        last = time.perf_counter() - t0
    assert len(rows) == len(ids)
    print(f"devicetree first {first:.2f}s cached {cached:.2f}s; lastvalues(200) {last * 1000:.0f} ms")
    assert first < 20 and last < 2


async def test_tree_text_is_the_tree_objects_encoded(world: Any) -> None:
    """/devicetree writes its JSON directly; it must stay the tree's objects, encoded."""
    app = create_app(world, now=NOW)
    st = app.state.sim
    compact = {"ensure_ascii": False, "separators": (",", ":")}
    assert st.tree_text() == json.dumps(st.tree_objects(), **compact)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tv",
                                 headers={"Authorization": f"Bearer {DEMO_SECRET}"}) as c:
        alarm = next(a for a in (await c.get("/alarms", params=q(range=[0, int(NOW * 1000)], status=1))).json()["data"])
        assert (await c.post("/alarms", json={"action": "close", "payload": {"id": alarm["id"]}})).status_code == 200
        assert (await c.post("/groups", json={"action": "create", "payload": {"name": "Mixed \"quoted\" ü"}})).status_code == 200
        tree = (await c.get("/devicetree")).json()["data"]
    assert st.tree_text() == json.dumps(st.tree_objects(), **compact)
    assert tree == st.tree_objects()
