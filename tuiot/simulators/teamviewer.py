"""TeamViewer IoT Cloud API simulator over the shared world.

Paths and parameter encoding follow VENDORS.md §6 (the vendor never published its
paths): GET parameters are a query string whose arrays are JSON-encoded, POST bodies
are `{"action": ..., "payload": {...}}`. Success is `{"data": ..., "status": "OK"}`,
errors HTTP 400 `{"error": {"code": "11", "desc": ...}}`. The documents' quirks are
kept on purpose: numbers and severities as strings, lower-case key variants in rules
(`ruletype`, `metricid`) and metric listings (`valueunit`), so the adapter's tolerant
parsing is exercised by every request.

Groups are the vendor's sites, sensors a device model's sensors, metrics their fields.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tuiot.simulators.faults import Faults, with_faults
from tuiot.simulators.fleet import MODELS, Device, MetricSpec, SensorSpec, World, sim_clock

DEMO_SECRET = "tv-demo-api-key-0123456789"
USER_ID = "u100000"
# VENDORS.md §6 defaults; `create_app(paths=...)` serves others (e.g. {"lastvalues": "/metrics/lastvalues"})
# so a profile's path overrides can be exercised end to end.
PATHS = {
    "user": "/user", "devicetree": "/devicetree", "devices": "/devices", "groups": "/groups",
    "sensors": "/sensors", "sensors_count": "/sensors/count", "metrics": "/metrics",
    "metrics_count": "/metrics/count", "lastvalues": "/lastvalues", "data": "/data",
    "alarms": "/alarms", "rules": "/rules",
}

# Common units of the API (valueUnit) for the world's units; others go to valueAnnotation.
_UNITS = {
    "°C": "SI.Temperature.CELSIUS",
    "Pa": "SI.Pressure.PASCAL",
    "%": "NoSI.Dimensionless.PERCENT",
    "V": "SI.ElectricPotential.VOLT",
    "A": "SI.ElectricCurrent.AMPERE",
}


def unit_label(code: str) -> str:
    for k, v in _UNITS.items():
        if v == code:
            return k
    return code


def _metric_id(dev: Device, sensor: SensorSpec, metric: MetricSpec) -> str:
    return hashlib.md5(f"{dev.id}/{sensor.key}/{metric.key}".encode()).hexdigest()


def _sensor_id(dev: Device, k: int) -> int:
    return 100000 + dev.index * 10 + k


@dataclass
class _Metric:
    id: str
    device: Device
    sensor_id: int
    sensor: SensorSpec
    spec: MetricSpec


@dataclass
class _State:
    world: World
    devices: list[Device]
    clock: Callable[[], float]
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    device_by_id: dict[int, Device] = field(default_factory=dict)
    sensors: dict[int, tuple[Device, SensorSpec]] = field(default_factory=dict)
    _metrics: dict[str, _Metric] | None = None  # metric id → metric, see `metrics`
    # sensor id → its metrics with their ids, so /lastvalues hashes nothing per request
    sensor_metrics: dict[int, list[tuple[str, MetricSpec]]] = field(default_factory=dict)
    closed: dict[str, float] = field(default_factory=dict)  # alarm id → close time (ms)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_group: int = 900000
    tree_bytes: bytes | None = None  # the encoded tree: 30,000 devices are tens of MB of JSON
    # set by create_app: the tree as objects, and the same written straight as JSON text
    tree_objects: Callable[[], list[dict[str, Any]]] | None = None
    tree_text: Callable[[], str] | None = None

    @property
    def metrics(self) -> dict[str, _Metric]:
        """Every metric by id, built on first use: only /metrics and rules need it, and
        150,000 of them cost a third of the start-up of a 100,000-device demo."""
        if self._metrics is None:
            self._metrics = {
                mid: _Metric(mid, dev, sid, sensor, spec)
                for sid, (dev, sensor) in self.sensors.items()
                for mid, spec in self.sensor_metrics[sid]
            }
        return self._metrics


def _device_id(dev: Device) -> int:
    return 2000000000 + dev.index


def _build(world: World, clock: Callable[[], float]) -> _State:
    devices = world.devices_of("teamviewer")
    st = _State(world=world, devices=devices, clock=clock)
    for site in world.sites_of("teamviewer"):
        st.groups[30000 + site.index] = {"id": 30000 + site.index, "name": site.name, "devices": []}
    for dev in devices:
        st.device_by_id[_device_id(dev)] = dev
        st.groups[30000 + dev.site]["devices"].append(_device_id(dev))
        for k, sensor in enumerate(dev.spec.sensors):
            sid = _sensor_id(dev, k)
            st.sensors[sid] = (dev, sensor)
            pairs = st.sensor_metrics[sid] = []
            for metric in sensor.metrics:
                pairs.append((_metric_id(dev, sensor, metric), metric))
    # A few native rules, as an account would have.
    for n, (dev, sensor) in enumerate(list(st.sensors.values())[:3]):
        metric = next(m for m in sensor.metrics if m.type in ("float", "int"))
        rid = hashlib.md5(f"rule{n}".encode()).hexdigest()[:24]
        limit = round(metric.base + metric.amplitude + metric.spread, 1)
        st.rules[rid] = {
            "id": rid,
            "name": f"{metric.name} high on {dev.name}",
            "ruletype": 1,
            "activeflag": 1,
            "thresholds": [{"severity": 2, "condition": f"metric>{limit:g}", "checkcount": 2}],
            "sources": [
                {
                    "devicename": dev.name,
                    "sensorname": sensor.name,
                    "metricid": _metric_id(dev, sensor, metric),
                    "metricname": metric.name,
                    "thingid": _sensor_id(dev, dev.spec.sensors.index(sensor)),
                }
            ],
        }
    return st


def _alarm_rules(st: _State, alarms: list[Any]) -> dict[str, str]:
    """The account's rules behind its alarms, one per metric name and direction, plus one
    offline rule: each alarm names a rule that /rules lists, whose sources include the
    alarm's metric (or device) and whose threshold the alarm crossed. Returns alarm id →
    rule id."""
    groups: dict[tuple[str, bool | None], list[Any]] = {}
    for a in alarms:
        dev = st.world.devices[a.device]
        sensor = next(s for s in dev.spec.sensors if s.key == a.sensor)
        metric = next(m for m in sensor.metrics if m.key == a.metric)
        key = (metric.name, a.above) if a.limit is not None else ("offline", None)
        groups.setdefault(key, []).append((a, dev, sensor, metric))
    rule_of: dict[str, str] = {}
    for (name, above), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] is True)):
        rid = hashlib.md5(f"alarm-rule {name} {above}".encode()).hexdigest()[:24]
        sources: dict[str, dict[str, Any]] = {}
        limits: dict[int, float] = {}
        for a, dev, sensor, metric in members:
            rule_of[a.id] = rid
            if above is None:
                sources[str(dev.index)] = {"deviceid": _device_id(dev), "devicename": dev.name}
                continue
            k = dev.spec.sensors.index(sensor)
            mid = _metric_id(dev, sensor, metric)
            sources[mid] = {"devicename": dev.name, "sensorname": sensor.name, "metricid": mid,
                            "metricname": metric.name, "thingid": _sensor_id(dev, k)}
            pick = min if above else max  # the loosest limit: every member alarm crossed it
            limits[a.severity] = pick(limits.get(a.severity, a.limit), a.limit)
        if above is None:
            thresholds = [{"severity": 2, "condition": "offline>300", "checkcount": 1}]
            title = "Device offline"
        else:
            op = ">" if above else "<"
            thresholds = [{"severity": sev, "condition": f"metric{op}{limit:.10g}", "checkcount": 1}
                          for sev, limit in sorted(limits.items())]
            title = f"{name} {'high' if above else 'low'}"
        st.rules[rid] = {"id": rid, "name": title, "ruletype": 2 if above is None else 1, "activeflag": 1,
                         "thresholds": thresholds, "sources": list(sources.values())}
    return rule_of


def _ok(data: Any = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"status": "OK", **extra}
    if data is not None:
        body["data"] = data
    return JSONResponse(body)


def _error(desc: str, code: str = "11", status: int = 400) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "desc": desc}}, status_code=status)


class _BadRequest(Exception):
    def __init__(self, desc: str, code: str = "11") -> None:
        self.desc, self.code = desc, code


def _json_param(request: Request, name: str, required: bool = True) -> Any:
    raw = request.query_params.get(name)
    if raw is None:
        if required:
            raise _BadRequest(f"Warn.missing parameter {name}.", "12")
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise _BadRequest(f"Warn.parameter {name} is not valid JSON.", "13") from None


def create_app(
    world: World,
    *,
    faults: Faults | None = None,
    secret: str = DEMO_SECRET,
    now: float | Callable[[], float] | None = None,
    paths: dict[str, str] | None = None,
) -> Any:
    unknown = set(paths or {}) - set(PATHS)
    if unknown:
        raise ValueError(f"unknown TeamViewer path keys: {', '.join(sorted(unknown))}")
    where = {**PATHS, **(paths or {})}
    clock = sim_clock(now)
    st = _build(world, clock)

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {secret}"

    def endpoint(fn: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def wrapped(request: Request) -> JSONResponse:
            if not authorized(request):
                return _error("Unauthorized: invalid API key.", "401", 401)
            try:
                return await fn(request)
            except _BadRequest as e:
                return _error(e.desc, e.code)
            except (TypeError, ValueError, KeyError, AttributeError):
                # A payload of the wrong shape (a string where a number or object belongs).
                return _error("Warn.malformed request parameters.", "13")

        return wrapped

    async def body_of(request: Request) -> tuple[str, dict[str, Any]]:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise _BadRequest("Warn.could not parse the request body.", "13") from None
        if not isinstance(body, dict) or not isinstance(body.get("payload", {}), dict):
            raise _BadRequest("Warn.could not detect any correct action.")
        return str(body.get("action", "")), body.get("payload", {})

    vendor_alarms = world.alarms_of("teamviewer")
    alarms_by_id = {a.id: a for a in vendor_alarms}
    rule_of = _alarm_rules(st, vendor_alarms)

    def worst_open() -> dict[int, int]:
        worst: dict[int, int] = {}
        for a in vendor_alarms:
            if a.closed_at is None and a.id not in st.closed:
                worst[a.device] = min(worst.get(a.device, 9), a.severity)
        return worst

    def alarm_open(dev: Device, worst: dict[int, int]) -> str | None:
        sev = worst.get(dev.index)
        return str(sev) if sev else None

    def device_json(dev: Device, full: bool, worst: dict[int, int]) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": _device_id(dev),
            "name": dev.name,
            "deviceType": 2,
            "state": 2 if dev.online else 1,  # the document: 1 offline, 2 online
            "sensorsCount": str(len(dev.spec.sensors)),
            "metricsCount": str(sum(len(s.metrics) for s in dev.spec.sensors)),
            "description": f"{dev.spec.name} {dev.serial}",
            "isMonitoringEnabled": True,
            "version": dev.firmware,
        }
        alarm = alarm_open(dev, worst)
        if alarm:
            d["alarm"] = alarm
        if full:
            d["sensors"] = [sensor_json(dev, k, s) for k, s in enumerate(dev.spec.sensors)]
        return d

    def sensor_json(dev: Device, k: int, sensor: SensorSpec) -> dict[str, Any]:
        return {
            "id": _sensor_id(dev, k),
            "name": sensor.name,
            "metricsCount": str(len(sensor.metrics)),
            "frequency": {"type": "seconds", "value": dev.interval},
            "metrics": [metric_json(dev, sensor, m) for m in sensor.metrics],
        }

    def metric_json(dev: Device, sensor: SensorSpec, m: MetricSpec, lower: bool = False) -> dict[str, Any]:
        return {"id": _metric_id(dev, sensor, m), **metric_fields(m, lower)}

    def metric_fields(m: MetricSpec, lower: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {"name": m.name}
        vtype = {"int": "integer", "bool": "boolean", "counter": "double"}.get(m.type, "double")
        if m.unit in _UNITS:
            d["valueunit" if lower else "valueUnit"] = _UNITS[m.unit]
        elif m.unit:
            d["valueAnnotation"] = m.unit
        d["valuetype" if lower else "valueType"] = vtype
        return d

    def tree() -> list[dict[str, Any]]:
        """The device tree as objects: what `tree_text` writes (kept as its reference)."""
        worst = worst_open()
        return [
            {
                "id": g["id"],
                "name": g["name"],
                "permission": 3,
                "owner": 29469,
                "devices": [device_json(st.device_by_id[d], True, worst) for d in g["devices"] if d in st.device_by_id],
            }
            for g in st.groups.values()
        ]

    # The static JSON of each metric and model, written once: a 30,000-device tree is
    # 150,000 metric objects, and building them as dicts to encode them took longer than
    # everything else the first /devicetree request did.
    metric_tail = {
        (sensor.key, m.key): _dumps(metric_fields(m))[1:]  # after `{"id":"…",`
        for model in MODELS
        for sensor in model.sensors
        for m in sensor.metrics
    }
    model_counts = {
        model.key: (
            f',"sensorsCount":{_js(str(len(model.sensors)))},'
            f'"metricsCount":{_js(str(sum(len(x.metrics) for x in model.sensors)))}'
        )
        for model in MODELS
    }

    def device_text(dev: Device, worst: dict[int, int]) -> str:
        """`device_json(dev, True, worst)` as compact JSON, written directly."""
        spec = dev.spec
        sensors = []
        for k, sensor in enumerate(spec.sensors):
            sid = _sensor_id(dev, k)
            metrics = ",".join([f'{{"id":"{mid}",{metric_tail[(sensor.key, m.key)]}' for mid, m in st.sensor_metrics[sid]])
            sensors.append(
                f'{{"id":{sid},"name":{_js(sensor.name)},"metricsCount":"{len(sensor.metrics)}",'
                f'"frequency":{{"type":"seconds","value":{dev.interval}}},"metrics":[{metrics}]}}'
            )
        alarm = alarm_open(dev, worst)
        alarm_text = f',"alarm":{_js(alarm)}' if alarm else ""
        return (
            f'{{"id":{_device_id(dev)},"name":{_js(dev.name)},"deviceType":2,"state":{2 if dev.online else 1}'
            f'{model_counts[dev.model]},"description":{_js(f"{spec.name} {dev.serial}")},'
            f'"isMonitoringEnabled":true,"version":{_js(dev.firmware)}{alarm_text},"sensors":[{",".join(sensors)}]}}'
        )

    def tree_text() -> str:
        """`tree()` as compact JSON, written directly."""
        worst = worst_open()
        groups = []
        for g in st.groups.values():
            devices = ",".join([device_text(st.device_by_id[d], worst) for d in g["devices"] if d in st.device_by_id])
            groups.append(f'{{"id":{_dumps(g["id"])},"name":{_dumps(g["name"])},"permission":3,"owner":29469,"devices":[{devices}]}}')
        return f"[{','.join(groups)}]"

    st.tree_objects, st.tree_text = tree, tree_text

    async def user(request: Request) -> JSONResponse:
        return _ok({"id": USER_ID, "firstname": "Demo", "lastname": "Operator", "email": "ops@example.com",
                    "license": {"type": "Premium", "version": 15}, "eulaagreement": 1})

    async def devicetree(request: Request) -> Response:
        if st.tree_bytes is None:
            # 29 MB at 100k devices: written in a thread, so an in-process console keeps drawing
            st.tree_bytes = (await asyncio.to_thread(tree_text)).encode()
        # Splice the cached tree into the envelope: only the timestamp changes per request.
        body = b'{"data":' + st.tree_bytes + b',"status":"OK","timestamp":' + str(int(clock() * 1000)).encode() + b"}"
        return Response(body, media_type="application/json")

    async def devices(request: Request) -> JSONResponse:
        worst = worst_open()
        # This listing spells its keys in lower case (`devicetype`, `buddyid`), unlike the tree.
        out = []
        for d in st.devices:
            j = device_json(d, False, worst)
            j["devicetype"] = j.pop("deviceType")
            j["buddyid"] = 100000 + d.index
            out.append(j)
        return _ok(out)

    async def groups(request: Request) -> JSONResponse:
        if request.method == "GET":
            return _ok([
                {"id": g["id"], "name": g["name"], "permission": 3, "sharedWith": [], "contacts": [],
                 "devices": [{"id": d, "tvId": d, "name": st.device_by_id[d].name} for d in g["devices"]
                             if d in st.device_by_id]}
                for g in st.groups.values()
            ])
        action, p = await body_of(request)
        if action == "create":
            if not str(p.get("name", "")).strip():
                raise _BadRequest("Warn.group name is required.", "14")
            st.next_group += 1
            st.groups[st.next_group] = {"id": st.next_group, "name": p["name"], "devices": _known(p.get("devices", []))}
            st.tree_bytes = None
            return _ok({"id": st.next_group})
        if action not in ("update", "delete"):
            raise _BadRequest("Warn.could not detect any correct action.")
        gid = p.get("id")
        if gid not in st.groups:
            raise _BadRequest(f"Warn.no group with id {gid}.", "15")
        if action == "delete":
            del st.groups[gid]
        elif action == "update":
            if "name" in p:
                st.groups[gid]["name"] = p["name"]
            if "devices" in p:
                st.groups[gid]["devices"] = _known(p["devices"])
        else:
            raise _BadRequest("Warn.could not detect any correct action.")
        st.tree_bytes = None
        return _ok(timestamp=int(clock() * 1000))

    def _known(ids: Any) -> list[int]:
        if not isinstance(ids, list):
            raise _BadRequest("Warn.devices must be a list.", "13")
        # The document's own example sends device ids as strings.
        known = []
        for i in ids:
            try:
                did = int(i)
            except (TypeError, ValueError):
                raise _BadRequest(f"Warn.{i!r} is not a device id.", "13") from None
            if did in st.device_by_id:
                known.append(did)
        return known

    async def sensors(request: Request) -> JSONResponse:
        return _ok([
            {**{k: v for k, v in sensor_json(dev, dev.spec.sensors.index(s), s).items() if k != "metrics"},
             "deviceId": _device_id(dev)}
            for sid, (dev, s) in st.sensors.items()
        ])

    async def sensors_count(request: Request) -> JSONResponse:
        return _ok([len(st.sensors)])

    async def metrics(request: Request) -> JSONResponse:
        return _ok({"metrics": [
            {**metric_json(m.device, m.sensor, m.spec, lower=True),
             "sensor": {"id": m.sensor_id, "name": m.sensor.name},
             "device": {"id": _device_id(m.device), "name": m.device.name}}
            for m in st.metrics.values()
        ]})

    async def metrics_count(request: Request) -> JSONResponse:
        return _ok({"metrics": [len(st.metrics)]})

    async def lastvalues(request: Request) -> JSONResponse:
        ids = _json_param(request, "sensorids")
        if not isinstance(ids, list):
            raise _BadRequest("Warn.sensorids must be a list.", "13")
        now = clock()
        out = []
        for raw in ids:
            sid = _as_id(raw)
            found = st.sensors.get(sid) if sid is not None else None
            if found is None:
                continue
            dev = found[0]
            t = world.last_time(dev, now)
            row: dict[str, Any] = {"sensorId": sid, "timestamp": int(t * 1000)}
            for mid, m in st.sensor_metrics[sid]:
                row[mid] = _as_text(world.value(dev, m, t))
            out.append(row)
        return _ok(out)

    async def data(request: Request) -> JSONResponse:
        rng = _range(request)
        period = request.query_params.get("period")
        try:
            period_ms = int(period) if period else None
        except ValueError:
            raise _BadRequest("Warn.period must be a number of milliseconds.", "13") from None
        wanted = _json_param(request, "metrics")
        if not isinstance(wanted, list):
            raise _BadRequest("Warn.metrics must be a list.", "13")
        start, end = rng[0] / 1000, rng[1] / 1000
        out = []
        for w in wanted:
            if not isinstance(w, dict):
                raise _BadRequest("Warn.metrics entries must be objects.", "13")
            found = st.sensors.get(_as_id(w.get("sensorId")))  # type: ignore[arg-type]
            if found is None:
                raise _BadRequest(f"Warn.no sensor with id {w.get('sensorId')}.", "16")
            dev, sensor = found
            func = str(w.get("func") or "AVG").upper()
            if func not in ("MIN", "MAX", "AVG", "STDEV", "COUNT"):
                raise _BadRequest(f"Warn.unknown func {func}.", "17")
            for m in sensor.metrics:
                if w.get("metricId") not in (None, _metric_id(dev, sensor, m)):
                    continue
                points = world.samples(dev, m, start, end, limit=20000)
                result = _aggregate(points, period_ms, func) if period_ms else [
                    {"value": _num(v), "timestamp": int(t * 1000)} for t, v in points
                ]
                row = {"result": result, "metricId": _metric_id(dev, sensor, m), "sensorId": w["sensorId"]}
                if period_ms:
                    row["func"] = func
                out.append(row)
        return _ok(out)

    def _range(request: Request) -> list[int]:
        rng = _json_param(request, "range")
        if not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, (int, float)) for x in rng)):
            raise _BadRequest("Warn.range must be [startTimestamp, endTimestamp].", "13")
        return [int(rng[0]), int(rng[1])]

    def alarm_json(a: Any) -> dict[str, Any]:
        dev = world.devices[a.device]
        sensor_k = next(k for k, s in enumerate(dev.spec.sensors) if s.key == a.sensor)
        sensor = dev.spec.sensors[sensor_k]
        metric = next(m for m in sensor.metrics if m.key == a.metric)
        closed = st.closed.get(a.id) or (a.closed_at * 1000 if a.closed_at else None)
        changelog = []
        if closed:
            changelog.append({"closeTime": int(closed), "userId": USER_ID if a.id in st.closed else "system",
                              "prevVal": "Open", "currentVal": "Closed By User" if a.id in st.closed else "Closed By System",
                              "prop": "status"})
        return {
            "severity": str(a.severity),
            "changeLog": changelog,
            "description": a.description,
            "source": {
                "sourceKey": f"{_device_id(dev)}_{_sensor_id(dev, sensor_k)}_{_metric_id(dev, sensor, metric)}",
                "details": {"sensor": sensor.name, "consCheck": "1", "value": _as_text(a.value),
                            "device": dev.name, "metric": metric.name},
                "id": rule_of[a.id],  # the rule that raised it
            },
            "id": a.id,
            "type": "1",
            "openTime": int(a.opened_at * 1000),
            "status": "3" if closed else "1",
        }

    async def alarms(request: Request) -> JSONResponse:
        if request.method == "POST":
            action, p = await body_of(request)
            if action != "close":
                raise _BadRequest("Warn.could not detect any correct action.")
            target = alarms_by_id.get(p.get("id"))
            if target is None:
                raise _BadRequest(f"Warn.no alarm with id {p.get('id')}.", "18")
            if target.closed_at is None and target.id not in st.closed:
                st.closed[target.id] = clock() * 1000
                st.tree_bytes = None
            j = alarm_json(target)
            return _ok({"changelog": {k.lower(): v for k, v in j["changeLog"][0].items()}, "id": target.id,
                        "userid": USER_ID, "opentime": j["openTime"], "status": 3})
        rng = _range(request)
        status = request.query_params.get("status")
        out = []
        for a in vendor_alarms:
            if not rng[0] <= a.opened_at * 1000 <= rng[1]:
                continue
            j = alarm_json(a)
            if status and j["status"] != status:
                continue
            out.append(j)
        return _ok(out)

    async def rules(request: Request) -> JSONResponse:
        if request.method == "GET":
            return _ok(list(st.rules.values()))
        action, p = await body_of(request)
        if action == "delete":
            ids = p.get("id")
            if not isinstance(ids, list):
                raise _BadRequest("Warn.id must be a list of rule ids.", "13")
            for rid in ids:
                st.rules.pop(rid, None)
            return _ok()
        if action == "create":
            rule = _rule_from(p, None)
            st.rules[rule["id"]] = rule
            return _ok({"id": rule["id"]})
        if action == "update":
            old = st.rules.get(p.get("id"))
            if old is None:
                raise _BadRequest(f"Warn.no rule with id {p.get('id')}.", "19")
            st.rules[old["id"]] = _rule_from(p, old)
            return _ok(timestamp=int(clock() * 1000))
        raise _BadRequest("Warn.could not detect any correct action.")

    def _rule_from(p: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        name = p.get("name", old["name"] if old else "")
        if not str(name).strip():
            raise _BadRequest("Warn.rule name is required.", "20")
        rtype = p.get("ruleType", p.get("ruletype", old["ruletype"] if old else 1))
        thresholds = p.get("thresholds", old["thresholds"] if old else None)
        if not isinstance(thresholds, list) or not thresholds:
            raise _BadRequest("Warn.at least one threshold is required.", "21")
        clean = []
        for t in thresholds:
            if not isinstance(t, dict) or str(t.get("severity")) not in ("1", "2", "3", "4"):
                raise _BadRequest("Warn.threshold severity must be 1-4.", "22")
            clean.append({"severity": int(t["severity"]), "condition": str(t.get("condition", "")),
                          "checkcount": int(t.get("checkcount", p.get("checkcount", 1)) or 1)})
        sources_in = p.get("sources")
        if sources_in is None and old:
            sources = old["sources"]
        else:
            if not isinstance(sources_in, list) or not sources_in:
                raise _BadRequest("Warn.at least one source is required.", "23")
            sources = []
            for s in sources_in:
                mid = s.get("metricId") or s.get("metricid")
                if mid:
                    m = st.metrics.get(mid)
                    if m is None:
                        raise _BadRequest(f"Warn.no metric with id {mid}.", "16")
                    sources.append({"devicename": m.device.name, "sensorname": m.sensor.name, "metricid": mid,
                                    "metricname": m.spec.name, "thingid": m.sensor_id})
                else:
                    did = s.get("deviceId") or s.get("deviceid")
                    dev = st.device_by_id.get(did)
                    if dev is None:
                        raise _BadRequest(f"Warn.no device with id {did}.", "24")
                    sources.append({"deviceid": did, "devicename": dev.name})
        rid = old["id"] if old else hashlib.md5(f"{name}{clock()}{len(st.rules)}".encode()).hexdigest()[:24]
        active = p.get("activeflag", old["activeflag"] if old else 1)
        return {"id": rid, "name": name, "ruletype": int(rtype), "activeflag": int(active),
                "thresholds": clean, "sources": sources}

    async def not_found(request: Request) -> JSONResponse:
        return _error("Warn.could not detect any correct action.")

    handlers = {
        "user": user, "devicetree": devicetree, "devices": devices, "groups": groups, "sensors": sensors,
        "sensors_count": sensors_count, "metrics": metrics, "metrics_count": metrics_count,
        "lastvalues": lastvalues, "data": data, "alarms": alarms, "rules": rules,
    }
    routes = [Route(where[key], endpoint(fn), methods=["GET", "POST"] if key in ("groups", "alarms", "rules") else ["GET"])
              for key, fn in handlers.items()]
    routes.append(Route("/{path:path}", endpoint(not_found), methods=["GET", "POST"]))
    app = Starlette(routes=routes)
    app.state.sim = st
    return with_faults(app, faults)


_js = json.encoder.encode_basestring  # type: ignore[attr-defined]  # a JSON string literal, as json.dumps writes it


def _dumps(value: Any) -> str:
    """Compact JSON, as the tree was encoded before it was written as text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _as_text(v: Any) -> str:
    """The API sends values as strings (`"temp": "49"`)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _as_id(v: Any) -> int | None:
    """Long ids arrive as numbers or, from some clients, as digit strings."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    return int(v) if isinstance(v, str) and v.isdigit() else None


def _num(v: Any) -> Any:
    return int(v) if isinstance(v, bool) else v


def _aggregate(points: list[tuple[float, Any]], period_ms: int, func: str) -> list[dict[str, Any]]:
    import statistics

    buckets: dict[int, list[float]] = {}
    for t, v in points:
        buckets.setdefault(int(t * 1000) // period_ms, []).append(float(_num(v)))
    out = []
    for k in sorted(buckets):
        vals = buckets[k]
        value = {
            "MIN": min(vals),
            "MAX": max(vals),
            "AVG": sum(vals) / len(vals),
            "STDEV": statistics.pstdev(vals) if len(vals) > 1 else 0.0,
            "COUNT": len(vals),
        }[func]
        out.append({"value": round(value, 6) if isinstance(value, float) else value, "timestamp": k * period_ms})
    return out


def demo_profile(name: str, world: World) -> dict[str, Any]:
    return {"vendor": "teamviewer", "base_url": "http://teamviewer.demo"}
