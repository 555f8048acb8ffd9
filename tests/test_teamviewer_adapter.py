"""TeamViewer adapter: the document's samples through a mock transport, and the adapter
against the simulator in process (httpx ASGI transport), error paths included.

The simulator's clock and the adapter's "now" are pinned to the world's epoch, so
expected values come straight from the world.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import tuiot.adapters.teamviewer as tv
from tuiot.adapters.base import AuthError, InvalidRequest, Unavailable, VendorError
from tuiot.adapters.teamviewer import TeamViewerAdapter
from tuiot.config import Profile
from tuiot.credentials import SecretSource
from tuiot.domain import Aggregate, AlarmStatus, Origin, Rule, Severity, Threshold
from tuiot.simulators.faults import Faults
from tuiot.simulators.teamviewer import DEMO_SECRET, create_app

NOW = 1_780_000_000.0 - (1_780_000_000.0 % 3600)
NOW_DT = datetime.fromtimestamp(NOW, tz=UTC)
FIXTURES = Path(__file__).parent / "fixtures" / "teamviewer"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tv, "now_utc", lambda: NOW_DT)


def make(transport: httpx.AsyncBaseTransport, secret: str = DEMO_SECRET, **profile: Any) -> TeamViewerAdapter:
    prof = Profile(name="tv", vendor="teamviewer", base_url="http://teamviewer.test", **profile)
    return TeamViewerAdapter(prof, SecretSource(fixed={"tv": secret}, use_keyring=False), transport=transport)


def sim(world: Any, *, faults: Faults | None = None, secret: str = DEMO_SECRET, **profile: Any) -> TeamViewerAdapter:
    app = create_app(world, faults=faults, now=NOW)
    return make(httpx.ASGITransport(app=app, raise_app_exceptions=False), secret, **profile)


def mock(routes: dict[str, Any], seen: list[httpx.Request] | None = None) -> TeamViewerAdapter:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        answer = routes.get(request.url.path)
        if answer is None:
            return httpx.Response(404, json={"error": {"code": "11", "desc": "no route"}})
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)

    return make(httpx.MockTransport(handler))


# ---- the document's own samples ------------------------------------------------------------


def test_documented_devicetree_parses() -> None:
    adapter = mock({"/devicetree": fixture("devicetree.json")})
    nodes = run(adapter.tree(depth="metric"))
    by_kind = {n.kind: [m for m in nodes if m.kind == n.kind] for n in nodes}
    group, = by_kind["group"]
    device, = by_kind["device"]
    assert (group.id, group.name, group.ref) == ("33858", "My computers", "tv/group/33858")
    assert device.id == "2000000472" and device.parent == group.ref
    assert device.online is False and device.severity is Severity.major  # state 1 = offline; alarm "2"
    assert device.attrs["sensors"] == 7 and device.attrs["version"] == "2.6.3"  # "7" → 7
    assert group.severity is Severity.major
    m1, m2 = by_kind["metric"]
    assert m1.id == "106631:d070dcc1ac904f8eb7f011d5a492fc09" and m1.unit == "°C" and m1.value_type == "double"
    assert m2.unit == "Percent"  # valueAnnotation
    assert run(adapter.children(device.ref))[0].kind == "sensor"


def test_documented_metric_listing_lowercase_unit() -> None:
    sample = fixture("metrics.json")["data"]["metrics"][0]
    assert tv.unit_of(sample) == "%"  # valueunit, lower-case variant
    assert tv.unit_of({"valueannotation": "rpm"}) == "rpm"


def test_documented_lastvalues_parse_string_numbers() -> None:
    tree = {"data": [{"id": 1, "name": "g", "devices": [{"id": 2, "name": "d", "state": 0, "sensors": [
        {"id": 811617, "name": "s", "metrics": [{"id": "temp", "name": "T", "valueUnit": "SI.Temperature.CELSIUS"}]},
        {"id": 8262216, "name": "h", "metrics": [{"id": "humidity", "name": "H", "valueunit": "NoSI.Dimensionless.PERCENT"}]},
    ]}]}], "status": "OK"}
    seen: list[httpx.Request] = []
    adapter = mock({"/devicetree": tree, "/lastvalues": fixture("lastvalues.json")}, seen)
    readings = {r.metric: r for r in run(adapter.latest())}
    temp, hum = readings["tv/metric/811617:temp"], readings["tv/metric/8262216:humidity"]
    assert temp.value == 49 and isinstance(temp.value, (int, float)) and temp.unit == "°C"
    assert hum.value == 33 and hum.unit == "%"
    assert temp.ts == datetime(2019, 2, 12, 10, 44, 4, 542000, tzinfo=UTC)
    query = next(r for r in seen if r.url.path == "/lastvalues").url.params["sensorids"]
    assert json.loads(query) == [811617, 8262216]  # JSON-encoded array in the query string


def test_documented_data_parses() -> None:
    seen: list[httpx.Request] = []
    adapter = mock({"/data": fixture("data.json"), "/devicetree": {"data": [], "status": "OK"}}, seen)
    start = datetime(2019, 11, 25, tzinfo=UTC)
    series = run(adapter.history("106624:9414e8d582e64e6ead90b549cc4173ef", start, start + timedelta(days=1),
                                 aggregate=Aggregate.avg, bucket=timedelta(minutes=1)))
    assert [p.value for p in series.points] == [0, 0]
    assert series.points[0].ts == datetime.fromtimestamp(1574679580.889, tz=UTC)
    params = next(r for r in seen if r.url.path == "/data").url.params
    assert json.loads(params["metrics"]) == [{"sensorId": 106624, "metricId": "9414e8d582e64e6ead90b549cc4173ef", "func": "AVG"}]
    assert params["period"] == "60000" and json.loads(params["range"])[0] == 1574640000000


def test_documented_alarms_parse() -> None:
    adapter = mock({"/alarms": fixture("alarms_open.json")})
    a, = run(adapter.alarms(status=AlarmStatus.open))
    assert a.severity is Severity.critical and a.status is AlarmStatus.open and a.closable
    assert a.device == "tv/device/2018301694" and a.metric == "tv/metric/1111:2222"
    assert a.value == 15 and a.opened_at == datetime.fromtimestamp(1545292817.957, tz=UTC)
    assert a.origin is Origin.vendor and a.description == "rule1"

    adapter = mock({"/alarms": fixture("alarms_offline.json")})
    a, = run(adapter.alarms(status=AlarmStatus.open))
    assert a.device == "tv/device/2018301694" and a.metric is None

    adapter = mock({"/alarms": fixture("alarms_closed.json")})
    a, = run(adapter.alarms(status=AlarmStatus.closed, since=datetime(2018, 12, 1, tzinfo=UTC)))
    assert a.status is AlarmStatus.closed and a.value == 5
    assert a.closed_at == datetime.fromtimestamp(1545284319.571, tz=UTC)

    adapter = mock({"/alarms": fixture("close_alarm.json")})
    run(adapter.close_alarm("745ea3cb-fc67-49ec-9352-287f072c9f10"))


@pytest.mark.parametrize("code,sev", [("1", Severity.critical), ("2", Severity.major), ("3", Severity.minor), ("4", Severity.warning)])
def test_severity_mapping(code: str, sev: Severity) -> None:
    body = fixture("alarms_open.json")
    body["data"][0]["severity"] = code
    a, = run(mock({"/alarms": body}).alarms(status=AlarmStatus.open))
    assert a.severity is sev


def test_documented_rules_parse() -> None:
    metric_rule, offline = run(mock({"/rules": fixture("rules.json")}).rules())
    assert metric_rule.kind == "threshold" and metric_rule.enabled
    assert metric_rule.sources == ["tv/metric/82331:38aca994a6764e5c8c7819c6e774f505",
                                   "tv/metric/54126:ca2d8983375d47beb1af9a9d8ac21e36"]
    assert metric_rule.thresholds == [Threshold(condition="metric>=60", severity=Severity.critical, checks=1)]
    assert offline.kind == "offline" and offline.sources == ["tv/device/2022634333"]


# ---- against the simulator -----------------------------------------------------------------


def test_tree_device_depth_and_metric_depth(world: Any) -> None:
    adapter = sim(world)
    shallow = run(adapter.tree(depth="device"))
    assert {n.kind for n in shallow} == {"group", "device"}
    devices = [n for n in shallow if n.kind == "device"]
    assert len(devices) == len(world.devices_of("teamviewer"))
    assert any(d.online is False for d in devices) and any(d.online for d in devices)
    assert any(d.severity is not None for d in devices)
    deep = run(adapter.tree(depth="metric"))
    metrics = [n for n in deep if n.kind == "metric"]
    assert len(metrics) == sum(len(list(world.metrics(d))) for d in world.devices_of("teamviewer"))
    assert any(m.unit == "°C" for m in metrics) and all(":" in m.id for m in metrics)
    below = run(adapter.children(devices[0].ref))
    assert below and below[0].parent == devices[0].ref


def test_latest_all_and_one_device(world: Any) -> None:
    adapter = sim(world)
    everything = run(adapter.latest())
    deep = run(adapter.tree(depth="metric"))
    assert {r.metric for r in everything} == {n.ref for n in deep if n.kind == "metric"}
    assert all(r.ts <= NOW_DT for r in everything)
    assert all(isinstance(r.value, (int, float, bool)) for r in everything)
    device = next(n for n in deep if n.kind == "device")
    mine = run(adapter.latest([device.ref]))
    sensors = {n.ref for n in deep if n.kind == "sensor" and n.parent == device.ref}
    assert mine and all(next(n for n in deep if n.ref == r.metric).parent in sensors for r in mine)


def test_a_poll_round_looks_refs_up_in_an_index_of_the_tree_not_the_whole_tree(world: Any, monkeypatch) -> None:
    """DESIGN §7: nothing O(fleet) per refresh. A round for a few devices scanned all 30,000
    devices of the cached tree twice (known refs, then sensor ids); the tree is indexed
    once per devicetree answer, and the same readings come as a scan would give."""
    adapter = sim(world)
    deep = run(adapter.tree(depth="metric"))
    devices = [n for n in deep if n.kind == "device"][:3]
    scans = 0
    real_pick = tv.pick

    def counting_pick(d, *names, **kw):  # type: ignore[no-untyped-def]
        nonlocal scans
        if names == ("sensors",):
            scans += 1
        return real_pick(d, *names, **kw)

    monkeypatch.setattr(tv, "pick", counting_pick)
    first = run(adapter.latest([d.ref for d in devices]))
    built = scans
    assert built >= len(devices)  # the first round indexes the cached tree once...
    again = run(adapter.latest([d.ref for d in devices]))
    assert scans == built  # ...the next rounds only look up
    assert {r.metric for r in again} == {r.metric for r in first}
    sensors = {n.ref for n in deep if n.kind == "sensor" and n.parent in {d.ref for d in devices}}
    below = {n.ref for n in deep if n.kind == "metric" and n.parent in sensors}
    assert {r.metric for r in first} == below


def test_latest_for_one_metric(world: Any) -> None:
    adapter = sim(world)
    metric = next(n for n in run(adapter.tree(depth="metric")) if n.kind == "metric")
    readings = run(adapter.latest([metric.ref]))
    assert [r.metric for r in readings] == [metric.ref]


def test_latest_batches_200_sensors(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tv, "LASTVALUES_BATCH", 5)
    app = create_app(world, now=NOW)
    calls: list[int] = []

    class Spy(httpx.AsyncBaseTransport):
        inner = httpx.ASGITransport(app=app)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/lastvalues":
                calls.append(len(json.loads(request.url.params["sensorids"])))
            return await self.inner.handle_async_request(request)

    run(make(Spy()).latest())
    assert calls and max(calls) <= 5 and len(calls) > 1


def test_history_raw_and_aggregated(world: Any) -> None:
    adapter = sim(world)
    metric = next(n for n in run(adapter.tree(depth="metric")) if n.kind == "metric" and n.value_type == "double")
    start, end = NOW_DT - timedelta(hours=6), NOW_DT
    raw = run(adapter.history(metric.id, start, end))  # bare id works alone
    assert len(raw.points) > 6 and raw.metric == metric.ref and raw.unit == metric.unit
    assert all(start <= p.ts <= end for p in raw.points)
    hour = timedelta(hours=1)
    avg = run(adapter.history(metric.ref, start, end, aggregate=Aggregate.avg, bucket=hour))
    mx = run(adapter.history(metric.ref, start, end, aggregate=Aggregate.max, bucket=hour))
    count = run(adapter.history(metric.ref, start, end, aggregate=Aggregate.count, bucket=hour))
    assert avg.aggregate is Aggregate.avg and avg.bucket == hour
    assert all(a.value <= m.value for a, m in zip(avg.points, mx.points, strict=True))
    assert sum(p.value for p in count.points) == len(raw.points)
    total = run(adapter.history(metric.ref, start, end, aggregate=Aggregate.sum, bucket=hour))  # client-side
    assert sum(p.value for p in total.points) == pytest.approx(sum(p.value for p in raw.points))
    with pytest.raises(InvalidRequest):
        run(adapter.history("not-a-metric", start, end))
    with pytest.raises(InvalidRequest):
        run(adapter.history(metric.id, end, start))


def _recording(world: Any, seen: list[httpx.Request]) -> httpx.AsyncBaseTransport:
    """The simulator in process, noting every request the adapter sends into `seen`."""
    asgi = httpx.ASGITransport(app=create_app(world, now=NOW), raise_app_exceptions=False)

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return await asgi.handle_async_request(request)

    return Recording()


def _busiest_metric(world: Any, adapter: TeamViewerAdapter) -> tuple[Any, Any]:
    """A double metric of the device that reads most often, and that device in the world."""
    nodes = run(adapter.tree(depth="metric"))
    by_ref = {n.ref: n for n in nodes}
    best = None
    for n in nodes:
        if n.kind == "metric" and n.value_type == "double":
            dev = world.devices[int(by_ref[by_ref[n.parent].parent].id) - 2_000_000_000]
            if best is None or dev.interval < best[1].interval:
                best = (n, dev)
    assert best is not None
    return best


def test_history_longer_than_one_answer_is_fetched_page_by_page(world: Any) -> None:
    """The service stops an answer at 20,000 points (the oldest): 30 days of one-minute
    readings must still reach the end of the window, each point once."""
    seen: list[httpx.Request] = []
    adapter = make(_recording(world, seen))
    metric, dev = _busiest_metric(world, adapter)
    start, end = NOW_DT - timedelta(days=30), NOW_DT
    expected = list(world.times(dev, start.timestamp(), end.timestamp()))
    assert len(expected) > 20_000  # more than one answer holds
    seen.clear()
    raw = run(adapter.history(metric.ref, start, end))
    assert [p.ts.timestamp() for p in raw.points] == expected
    assert sum(r.url.path == "/data" for r in seen) == -(-len(expected) // 20_000)

    # server-side buckets: none is cut in two where one answer ended
    day = timedelta(days=1)
    count = run(adapter.history(metric.ref, start, end, aggregate=Aggregate.count, bucket=day))
    assert sum(p.value for p in count.points) == len(expected)
    assert count.points[-1].ts >= end - day


def test_history_within_one_answer_costs_one_request(world: Any) -> None:
    seen: list[httpx.Request] = []
    adapter = make(_recording(world, seen))
    metric, _ = _busiest_metric(world, adapter)
    seen.clear()
    run(adapter.history(metric.ref, NOW_DT - timedelta(days=2), NOW_DT))
    assert sum(r.url.path == "/data" for r in seen) == 1


def test_open_and_closed_alarms_and_close_round_trip(world: Any) -> None:
    adapter = sim(world)
    everything = run(adapter.alarms(since=datetime.fromtimestamp(0, tz=UTC)))
    open_ = [a for a in everything if a.status is AlarmStatus.open]
    closed = [a for a in everything if a.status is AlarmStatus.closed]
    assert open_ and closed
    assert {a.id for a in open_} == {a.id for a in world.alarms_of("teamviewer") if a.closed_at is None}
    assert all(a.closed_at is not None for a in closed) and all(a.closable for a in open_)
    assert all(a.device and a.device.startswith("tv/device/") for a in everything)
    target = open_[0]
    run(adapter.close_alarm(target.id))
    after = {a.id: a for a in run(adapter.alarms(since=datetime.fromtimestamp(0, tz=UTC)))}
    assert after[target.id].status is AlarmStatus.closed and after[target.id].closed_at == NOW_DT
    with pytest.raises(VendorError):
        run(adapter.close_alarm("no-such-alarm"))


def test_rule_create_update_delete_round_trip(world: Any) -> None:
    adapter = sim(world)
    metric = next(n for n in run(adapter.tree(depth="metric")) if n.kind == "metric")
    rule = Rule(id="", profile="tv", name="too hot", kind="threshold", sources=[metric.ref],
                thresholds=[Threshold(condition="metric>40", severity=Severity.minor, checks=3)])
    made = run(adapter.create_rule(rule))
    assert made.id
    stored = {r.id: r for r in run(adapter.rules())}[made.id]
    assert stored.name == "too hot" and stored.sources == [metric.ref]
    assert stored.thresholds == [Threshold(condition="metric>40", severity=Severity.minor, checks=3)]
    run(adapter.update_rule(made.model_copy(update={"name": "hotter", "enabled": False})))
    stored = {r.id: r for r in run(adapter.rules())}[made.id]
    assert stored.name == "hotter" and stored.enabled is False
    run(adapter.delete_rule(made.id))
    assert made.id not in {r.id for r in run(adapter.rules())}


@pytest.mark.parametrize("change", [
    {"name": "  "},
    {"sources": []},
    {"thresholds": []},
    {"thresholds": [Threshold(condition="metric>1", severity=Severity.minor, checks=0)]},
])
def test_invalid_rules_refused_before_any_request(change: dict[str, Any]) -> None:
    seen: list[httpx.Request] = []
    adapter = mock({}, seen)
    rule = Rule(id="", profile="tv", name="r", kind="threshold", sources=["tv/metric/1:a"],
                thresholds=[Threshold(condition="metric>1", severity=Severity.minor, checks=1)])
    try:
        bad = rule.model_copy(update=change)
    except ValueError:
        return  # the domain model refuses it already
    with pytest.raises(InvalidRequest):
        run(adapter.create_rule(bad))
    assert seen == []


def test_group_round_trip(world: Any) -> None:
    adapter = sim(world)
    device = next(n for n in run(adapter.tree(depth="device")) if n.kind == "device")
    gid = run(adapter.create_group("Spare parts", [device.id]))
    tree = run(adapter.tree(depth="device"))
    assert any(n.ref == f"tv/group/{gid}" and n.name == "Spare parts" for n in tree)
    assert any(n.kind == "device" and n.parent == f"tv/group/{gid}" for n in tree)
    run(adapter.update_group(gid, name="Renamed", devices=[]))
    group = next(n for n in run(adapter.tree(depth="device")) if n.ref == f"tv/group/{gid}")
    assert group.name == "Renamed" and group.has_children is False
    run(adapter.delete_group(gid))
    assert all(n.ref != f"tv/group/{gid}" for n in run(adapter.tree(depth="device")))
    with pytest.raises(InvalidRequest):
        run(adapter.create_group(" "))


@pytest.mark.parametrize("call", [
    lambda a: a.create_group("g", ["not-a-device"]),
    lambda a: a.update_group("abc", name="x"),
    lambda a: a.delete_group(""),
    lambda a: a.children("no-slashes"),
    lambda a: a.history("1:a", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC),
                        aggregate=Aggregate.avg, bucket=timedelta(seconds=-5)),
])
def test_bad_input_is_a_typed_refusal_before_any_request(call: Any) -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(InvalidRequest):
        run(call(mock({}, seen)))
    assert seen == []


def test_paths_overridable(world: Any) -> None:
    seen: list[httpx.Request] = []
    prof = Profile(name="tv", vendor="teamviewer", base_url="http://x", paths={"devicetree": "/v2/tree"})

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=fixture("devicetree.json"))

    adapter = TeamViewerAdapter(prof, SecretSource(fixed={"tv": "k"}, use_keyring=False), transport=httpx.MockTransport(handler))
    run(adapter.tree(depth="device"))
    assert seen[0].url.path == "/v2/tree" and seen[0].headers["authorization"] == "Bearer k"


def test_moved_paths_end_to_end(world: Any) -> None:
    moved = {"lastvalues": "/metrics/lastvalues", "data": "/metrics/data"}
    app = create_app(world, now=NOW, paths=moved)
    adapter = make(httpx.ASGITransport(app=app, raise_app_exceptions=False), paths=moved)
    device = next(n for n in run(adapter.tree(depth="device")) if n.kind == "device")
    readings = run(adapter.latest([device.ref]))
    assert readings
    start = datetime.fromtimestamp(NOW - 3600, UTC)
    series = run(adapter.history(readings[0].metric, start, start + timedelta(hours=1)))
    assert series.points


# ---- error paths ----------------------------------------------------------------------------


def test_refused_key_is_auth_error(world: Any) -> None:
    with pytest.raises(AuthError):
        run(sim(world, secret="wrong").tree(depth="device"))


def test_400_envelope_is_vendor_error_with_code_and_text() -> None:
    adapter = mock({"/rules": httpx.Response(400, json=fixture("error.json"))})
    with pytest.raises(VendorError) as err:
        run(adapter.rules())
    assert "11" in str(err.value) and "could not detect any correct action" in str(err.value)


def test_200_carrying_an_error_is_an_error() -> None:
    adapter = mock({"/rules": httpx.Response(200, json=fixture("error.json"))})
    with pytest.raises(VendorError, match="could not detect"):
        run(adapter.rules())


def test_429_then_success(world: Any) -> None:
    adapter = sim(world, faults=Faults(first429=1, retry_after=0))
    nodes = run(adapter.tree(depth="device"))
    assert nodes and adapter.health.retries >= 1


def test_malformed_json_is_a_vendor_error(world: Any) -> None:
    with pytest.raises(VendorError, match="malformed"):
        run(sim(world, faults=Faults(malformed=1.0)).tree(depth="device"))


def test_timeout_is_unavailable(world: Any) -> None:
    # In process there is no socket for httpx's own timeout to watch: the deadline of
    # the whole logical call is what cuts a stalling server short.
    adapter = sim(world, faults=Faults(timeout=1.0, stall=5), timeout=0.2)

    async def go() -> None:
        http = await adapter.http()
        http.settings.retries = 0
        http.settings.deadline = 0.3
        await adapter.tree(depth="device")

    with pytest.raises(Unavailable, match="timed out|no answer"):
        run(go())


def test_secret_never_in_reprs(world: Any) -> None:
    adapter = sim(world, secret=DEMO_SECRET)
    run(adapter.tree(depth="device"))
    assert DEMO_SECRET not in repr(adapter) and DEMO_SECRET not in repr(adapter.__dict__)


# ---- over a real loopback socket ------------------------------------------------------------


def test_adapter_over_a_loopback_socket() -> None:
    from simproc import simulate

    with simulate("--vendor", "teamviewer", "--devices", "40", "--seed", "5") as port:
        prof = Profile(name="tv", vendor="teamviewer", base_url=f"http://127.0.0.1:{port}", timeout=10)
        adapter = TeamViewerAdapter(prof, SecretSource(fixed={"tv": DEMO_SECRET}, use_keyring=False))

        async def go() -> None:
            try:
                nodes = await adapter.tree(depth="metric")
                metric = next(n for n in nodes if n.kind == "metric")
                assert await adapter.latest()
                series = await adapter.history(metric.id, tv.now_utc() - timedelta(hours=2), tv.now_utc())
                assert series.points
            finally:
                await adapter.aclose()

        run(go())


def test_timeout_over_a_loopback_socket() -> None:
    from simproc import simulate

    with simulate("--vendor", "teamviewer", "--devices", "20", "--faults", "timeout=1.0,stall=1.5") as port:
        prof = Profile(name="tv", vendor="teamviewer", base_url=f"http://127.0.0.1:{port}", timeout=0.3)
        adapter = TeamViewerAdapter(prof, SecretSource(fixed={"tv": DEMO_SECRET}, use_keyring=False))

        async def go() -> None:
            http = await adapter.http()
            http.settings.retries = 0
            try:
                await adapter.tree(depth="device")
            finally:
                await adapter.aclose()

        with pytest.raises(Unavailable, match="timed out"):
            run(go())


def test_every_simulated_alarm_names_a_listed_rule_that_covers_it() -> None:
    from tuiot.simulators.fleet import build_world

    adapter = sim(build_world(devices=4000, seed=7, epoch=NOW))
    alarms = run(adapter.alarms())
    rules = {r.id: r for r in run(adapter.rules())}
    assert len(alarms) > 20
    for a in alarms:
        rule = rules[a.rule]  # the rule /rules lists
        assert (a.metric in rule.sources) if rule.kind == "threshold" else (a.device in rule.sources)
        if rule.kind == "threshold":  # the alarm's value crossed the rule's threshold for its severity
            cond = next(t.condition for t in rule.thresholds if t.severity is a.severity)
            op, limit = cond[6], float(cond[7:])
            assert a.value > limit if op == ">" else a.value < limit
    assert any(r.kind == "offline" for r in rules.values())


def test_an_unknown_device_is_not_found_but_one_without_values_is_empty(world: Any) -> None:
    from tuiot.adapters.base import NotFound

    adapter = sim(world)
    nodes = run(adapter.tree(depth="metric"))
    device = next(n for n in nodes if n.kind == "device" and n.has_children)
    with pytest.raises(NotFound, match=r"teamviewer 'tv': no device 999999 \(`tuiot tree --profile tv` lists them\)"):
        run(adapter.latest(["tv/device/999999"]))
    with pytest.raises(NotFound, match="no sensor 1"):
        run(adapter.latest(["tv/metric/1:abc"]))
    # beside a known device (a console's batch), the unknown one is only left out
    both = run(adapter.latest([device.ref, "tv/device/999999"]))
    assert both and {r.device for r in both} == {device.ref}


def test_a_device_added_after_the_tree_was_read_is_found(world: Any) -> None:
    adapter = sim(world)
    run(adapter.tree(depth="device"))
    first = adapter._tree[0]  # type: ignore[index]
    gone = first["devices"].pop()  # the cached tree predates this device
    assert run(adapter.latest([f"tv/device/{gone['id']}"]))
