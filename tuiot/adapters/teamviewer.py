"""TeamViewer IoT Cloud API → domain.

Bearer API key; paths from VENDORS.md §6, each overridable per profile
(`[profiles.X.paths]`); array parameters JSON-encoded in the query string. Metric ids
are `SENSOR_ID:METRIC_ID` so a metric can be found again from its id alone (the data
endpoint needs both). Severities 1–4 map to critical…warning, alarm status 1/3 to
open/closed, epoch ms to aware UTC; numbers that arrive as strings become numbers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tuiot.adapters.base import (
    Adapter,
    AdapterError,
    AuthError,
    Capability,
    Health,
    HttpClient,
    HttpSettings,
    InvalidRequest,
    NotFound,
    VendorError,
    as_int,
    as_list,
    from_epoch,
    gather_limited,
    gc_paused,
    number,
    off_loop,
    pick,
    to_epoch,
)
from tuiot.adapters.series import bucketize
from tuiot.domain import (
    Aggregate,
    Alarm,
    AlarmStatus,
    Node,
    Origin,
    Point,
    Reading,
    Rule,
    Series,
    Severity,
    Threshold,
    now_utc,
)
from tuiot.httpx_lean import httpx

PATHS = {
    "user": "/user",
    "devicetree": "/devicetree",
    "devices": "/devices",
    "groups": "/groups",
    "sensors": "/sensors",
    "metrics": "/metrics",
    "rules": "/rules",
    "alarms": "/alarms",
    "data": "/data",
    "lastvalues": "/lastvalues",
}
SEVERITY = {1: Severity.critical, 2: Severity.major, 3: Severity.minor, 4: Severity.warning}
SEVERITY_CODE = {v: k for k, v in SEVERITY.items()}
FUNC = {Aggregate.avg: "AVG", Aggregate.min: "MIN", Aggregate.max: "MAX", Aggregate.count: "COUNT", Aggregate.stdev: "STDEV"}
UNIT_NAMES = {
    "CELSIUS": "°C", "FAHRENHEIT": "°F", "KELVIN": "K", "PASCAL": "Pa", "PERCENT": "%", "VOLT": "V",
    "AMPERE": "A", "WATT": "W", "METER": "m", "SECOND": "s", "HERTZ": "Hz", "LUX": "lux",
}
LASTVALUES_BATCH = 200
# /data pages per history request: 20,000-point pages cover a year of one-minute readings.
MAX_DATA_PAGES = 50


def unit_of(d: dict[str, Any]) -> str | None:
    """`valueUnit` (a code like SI.Temperature.CELSIUS) or the custom `valueAnnotation`."""
    code = pick(d, "valueUnit", "valueunit")
    if code:
        last = str(code).rsplit(".", 1)[-1]
        return UNIT_NAMES.get(last.upper(), last.lower())
    ann = pick(d, "valueAnnotation", "valueannotation")
    return str(ann) if ann else None


def parse_error(resp: httpx.Response, body: Any) -> AdapterError | None:
    """The 400 envelope `{"error": {"code", "desc"}}`, also when it comes with a 200."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return VendorError(pick(err, "code"), str(pick(err, "desc", "message", default="") or "unknown error"), resp.status_code)
    return None


def long_id(value: Any, what: str) -> int:
    """The API's Long ids (groups, devices); a typo is a clear refusal, not a ValueError."""
    text = str(value).strip()
    if not text.isdigit():
        raise InvalidRequest(f"'{value}' is not a TeamViewer {what} id (a number)")
    return int(text)


def split_metric(metric_id: str) -> tuple[int, str]:
    sensor, sep, metric = metric_id.partition(":")
    if not sep or not sensor.isdigit() or not metric:
        raise InvalidRequest(f"'{metric_id}' is not a TeamViewer metric id (SENSOR:METRIC, as `tuiot tree` prints)")
    return int(sensor), metric


@dataclass
class _TreeIndex:
    """One devicetree answer, indexed (`TeamViewerAdapter._index`)."""

    known: set[str] = field(default_factory=set)  # every group, device and sensor ref
    below: dict[str, list[int]] = field(default_factory=dict)  # group or device ref → its sensors
    sensor: dict[int, tuple[dict[str, Any], str]] = field(default_factory=dict)  # → (its entry, device ref)
    every: list[int] = field(default_factory=list)  # every sensor once, in the tree's order


class TeamViewerAdapter(Adapter):
    vendor = "teamviewer"
    capabilities = frozenset(
        {
            Capability.tree, Capability.latest, Capability.history, Capability.aggregate, Capability.alarms,
            Capability.alarm_close, Capability.rules, Capability.rule_write, Capability.group_write,
        }
    )

    def __init__(self, profile: Any, secrets: Any, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(profile, secrets, transport=transport)
        self.paths = {**PATHS, **profile.paths}
        self._http: HttpClient | None = None
        self._tree: list[dict[str, Any]] | None = None
        self._sensor_device: dict[int, str] = {}  # sensor id → device ref
        self._indexed: tuple[list[dict[str, Any]], _TreeIndex] | None = None  # the devicetree answer it indexes

    # ---- plumbing -------------------------------------------------------------------

    async def http(self) -> HttpClient:
        if self._http is None:
            secret = await self.secrets.get(self.name)

            class Bearer(httpx.Auth):
                def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
                    request.headers["Authorization"] = f"Bearer {secret.get_secret_value()}"
                    yield request

            self._http = HttpClient(
                self.profile.base_url,
                settings=HttpSettings(timeout=self.profile.timeout, max_concurrency=self.profile.max_concurrency),
                auth=Bearer(),
                transport=self.transport,
                error_parser=parse_error,
                label=f"teamviewer '{self.name}'",
            )
        return self._http

    async def _get(self, key: str, **params: Any) -> Any:
        encoded = {k: json.dumps(v, separators=(",", ":")) if isinstance(v, (list, dict)) else v for k, v in params.items()}
        http = await self.http()
        try:
            body = await http.get(self.paths[key], params=encoded)
        except AuthError:
            self.secrets.forget(self.name)
            raise
        return body.get("data") if isinstance(body, dict) else body

    async def _post(self, key: str, action: str, payload: dict[str, Any]) -> Any:
        http = await self.http()
        try:
            body = await http.post(self.paths[key], json_body={"action": action, "payload": payload})
        except AuthError:
            self.secrets.forget(self.name)
            raise
        return body.get("data") if isinstance(body, dict) else body

    @property
    def health(self) -> Health:
        return self._http.health if self._http else Health()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    # ---- tree ---------------------------------------------------------------------------

    async def _devicetree(self, fresh: bool = True) -> list[dict[str, Any]]:
        if fresh or self._tree is None:
            self._tree = [g for g in as_list(await self._get("devicetree")) if isinstance(g, dict)]
        return self._tree

    async def tree(self, *, depth: str = "metric") -> list[Node]:
        tree = await self._devicetree()
        size = sum(len(as_list(pick(g, "devices"))) for g in tree if isinstance(g, dict))
        return await off_loop(size, self._tree_nodes_paused, tree, depth)

    def _tree_nodes_paused(self, tree: list[dict[str, Any]], depth: str) -> list[Node]:
        nodes: list[Node] = []
        with gc_paused():  # 30,000 devices in one synchronous stretch
            self._tree_nodes(tree, depth, nodes)
        return nodes

    def _tree_nodes(self, tree: list[dict[str, Any]], depth: str, nodes: list[Node]) -> None:
        for group in tree:
            gref = self.ref("group", str(pick(group, "id")))
            devices = [d for d in as_list(pick(group, "devices")) if isinstance(d, dict)]
            nodes.append(Node(kind="group", id=str(pick(group, "id")), name=str(pick(group, "name", default="")),
                              profile=self.name, has_children=bool(devices),
                              severity=_worst(devices), attrs={"devices": len(devices)}))
            for dev in devices:
                nodes.append(self._device_node(dev, gref))
                if depth == "metric":
                    nodes.extend(self._below_device(dev))

    def _device_node(self, dev: dict[str, Any], parent: str) -> Node:
        if dev.keys() <= _DEVICE_KEYS:
            # Spelt as the documents spell them (every device of a 30,000-device tree): read
            # directly, with no lower-cased copy of the device.
            id_, name, alarm_v, state_v = dev.get("id"), dev.get("name"), dev.get("alarm"), dev.get("state")
            sensors, metrics = dev.get("sensorsCount"), dev.get("metricsCount")
            description, version = dev.get("description"), dev.get("version")
        else:
            d = {k.lower(): v for k, v in dev.items() if isinstance(k, str)}
            id_, name, alarm_v, state_v = d.get("id"), d.get("name"), d.get("alarm"), d.get("state")
            sensors, metrics = d.get("sensorscount"), d.get("metricscount")
            description, version = d.get("description"), d.get("version")
        alarm = as_int(alarm_v)
        state = as_int(state_v)
        return Node(
            kind="device", id=str(id_), name=str(name or ""), profile=self.name,
            # The document: state 1 offline, 2 online (its own sample device is offline).
            parent=parent, online=None if state is None else state == 2,
            severity=SEVERITY.get(alarm) if alarm else None,
            has_children=as_int(sensors, 1) != 0,
            attrs={k: v for k, v in (("description", description), ("version", version),
                                     ("sensors", number(sensors)),
                                     ("metrics", number(metrics))) if v not in (None, "")},
        )

    def _below_device(self, dev: dict[str, Any]) -> list[Node]:
        dref = self.ref("device", str(pick(dev, "id")))
        out: list[Node] = []
        for sensor in as_list(pick(dev, "sensors")):
            sid = str(pick(sensor, "id"))
            sref = self.ref("sensor", sid)
            metrics = as_list(pick(sensor, "metrics"))
            freq = pick(sensor, "frequency") or {}
            out.append(Node(kind="sensor", id=sid, name=str(pick(sensor, "name", default="")), profile=self.name,
                            parent=dref, has_children=bool(metrics),
                            attrs={"frequency": f"{pick(freq, 'value')} {pick(freq, 'type')}"} if freq else {}))
            for m in metrics:
                out.append(Node(kind="metric", id=f"{sid}:{pick(m, 'id')}", name=str(pick(m, "name", default="")),
                                profile=self.name, parent=sref, unit=unit_of(m),
                                value_type=pick(m, "valueType", "valuetype"), has_children=False))
        return out

    async def children(self, ref: str) -> list[Node]:
        parts = ref.split("/", 2)
        if len(parts) != 3:
            raise InvalidRequest(f"'{ref}' is not a node reference (profile/kind/id)")
        _, kind, id = parts
        tree = await self._devicetree(fresh=self._tree is None)
        for group in tree:
            if kind == "group" and str(pick(group, "id")) == id:
                return [self._device_node(d, ref) for d in as_list(pick(group, "devices"))]
            for dev in as_list(pick(group, "devices")):
                if kind == "device" and str(pick(dev, "id")) == id:
                    return self._below_device(dev)
                if kind == "sensor":
                    below = self._below_device(dev)
                    if any(n.ref == ref for n in below):
                        return [n for n in below if n.parent == ref]
        return []

    # ---- latest -------------------------------------------------------------------------

    def _index(self, tree: list[dict[str, Any]]) -> _TreeIndex:
        """The devicetree answer indexed, once per answer: a poll round's refs are looked up
        instead of searched for among 30,000 devices (twice) every round. Built lean (no
        per-metric work) and unscanned by the collector: it costs about one such search."""
        if self._indexed is not None and self._indexed[0] is tree:
            return self._indexed[1]
        ix = _TreeIndex()
        known, below, entry, every = ix.known, ix.below, ix.sensor, ix.every
        ref = self.ref
        with gc_paused():
            for group in tree:
                gref = ref("group", str(pick(group, "id")))
                known.add(gref)
                in_group = below.setdefault(gref, [])
                for dev in as_list(pick(group, "devices")):
                    dref = ref("device", str(pick(dev, "id")))
                    known.add(dref)
                    in_device = below.setdefault(dref, [])
                    for sensor in as_list(pick(dev, "sensors")):
                        raw = pick(sensor, "id")
                        sid = as_int(raw)
                        known.add(ref("sensor", str(raw)))
                        in_group.append(sid)  # type: ignore[arg-type]
                        in_device.append(sid)  # type: ignore[arg-type]
                        if sid not in entry:
                            every.append(sid)  # type: ignore[arg-type]
                        entry[sid] = (sensor, dref)  # type: ignore[index]
        self._indexed = (tree, ix)
        return ix

    async def _sensor_ids(self, refs: Sequence[str] | None) -> tuple[list[int], dict[str, str | None]]:
        """Sensor ids below the refs, and the unit of each of their metrics
        (`sensor:metric` → unit).

        Also notes each sensor's device in `self._sensor_device`, so readings can name it.
        """
        ix = self._index(await self._devicetree(fresh=self._tree is None))
        if refs is None or self.ref("profile", self.name) in refs:
            sensors = ix.every
        else:
            chosen: dict[int, None] = {}  # in the order asked, once each
            for r in refs:
                ids = ix.below.get(r)
                if ids is None and r.startswith(f"{self.name}/sensor/"):
                    sid = as_int(r.rsplit("/", 1)[1])
                    ids = [sid] if sid in ix.sensor else []  # type: ignore[list-item]
                chosen.update(dict.fromkeys(ids or ()))
            sensors = list(chosen)
        units: dict[str, str | None] = {}
        for sid in sensors:
            sensor, dref = ix.sensor[sid]
            self._sensor_device[sid] = dref
            for m in as_list(pick(sensor, "metrics")):
                units[f"{sid}:{pick(m, 'id')}"] = unit_of(m)
        return sensors, units

    async def latest(self, refs: Sequence[str] | None = None) -> list[Reading]:
        if refs is None or any(r == self.name or r.endswith("/profile/" + self.name) for r in refs):
            refs = None
        # A metric ref asks for its sensor's last values, then keeps only that metric.
        only: set[str] | None = None
        if refs is not None:
            metric_refs = [r for r in refs if r.split("/", 2)[1:2] == ["metric"]]
            if metric_refs:
                only = {self.ref("metric", self.metric_id(r)) for r in metric_refs}
                others = [r for r in refs if r not in metric_refs]
                refs = others + [self.ref("sensor", str(split_metric(self.metric_id(r))[0])) for r in metric_refs]
                if others:
                    only |= await self._metrics_below(others)
        if refs is not None:
            await self._check_known(refs)
        sensors, units = await self._sensor_ids(refs)
        batches = [sensors[i:i + LASTVALUES_BATCH] for i in range(0, len(sensors), LASTVALUES_BATCH)]
        results = await gather_limited((self._get("lastvalues", sensorids=b) for b in batches), limit=4)
        readings: list[Reading] = []
        for res in results:
            if isinstance(res, AdapterError):
                raise res
            for row in as_list(res):
                if not isinstance(row, dict):
                    continue
                sid = pick(row, "sensorId", "sensorid")
                ts = pick(row, "timestamp")
                if sid is None or ts is None:
                    continue
                at = from_epoch(ts, "ms")
                for key, value in row.items():
                    if key.lower() in ("sensorid", "timestamp"):
                        continue
                    mid = f"{sid}:{key}"
                    if only is not None and self.ref("metric", mid) not in only:
                        continue
                    readings.append(Reading(metric=self.ref("metric", mid), value=number(value), ts=at, unit=units.get(mid),
                                            device=self._sensor_device.get(as_int(sid))))  # type: ignore[arg-type]
        return readings

    async def _check_known(self, refs: Sequence[str]) -> None:
        """Asking only for ids the device tree does not hold is a NotFound, not an empty
        answer: the tree lists every group, device and sensor, so "no values" and "no such
        device" differ. A cached tree may predate a new device: it is fetched again before
        refusing. Among known ones, an unknown id (a device removed while a console polls
        its screen) is left out as before, so it cannot stop the others' values."""
        kinds = {r: r.split("/", 2)[1:2] for r in refs}
        if not refs or any(k not in (["group"], ["device"], ["sensor"]) for k in kinds.values()):
            return  # something else asked for too (a metric's sensor is checked as a sensor)
        wanted = set(kinds)
        missing = wanted - self._known_refs(await self._devicetree(fresh=self._tree is None))
        if missing == wanted:
            missing -= self._known_refs(await self._devicetree(fresh=True))
        if missing == wanted:
            ref = sorted(missing)[0]
            _, kind, id_ = ref.split("/", 2)
            raise NotFound(f"teamviewer '{self.name}': no {kind} {id_} (`tuiot tree --profile {self.name}` lists them)")

    def _known_refs(self, tree: list[dict[str, Any]]) -> set[str]:
        return self._index(tree).known

    async def _metrics_below(self, refs: Sequence[str]) -> set[str]:
        _, units = await self._sensor_ids(refs)
        return {self.ref("metric", mid) for mid in units}

    # ---- history ------------------------------------------------------------------------

    async def history(
        self,
        metric: str,
        start: datetime,
        end: datetime,
        *,
        aggregate: Aggregate | None = None,
        bucket: timedelta | None = None,
    ) -> Series:
        mid = self.metric_id(metric)
        sensor, metric_key = split_metric(mid)
        if end <= start:
            raise InvalidRequest("the history window is empty: start must be before end")
        spec: dict[str, Any] = {"sensorId": sensor, "metricId": metric_key}
        server_side = aggregate is not None and aggregate in FUNC
        if aggregate is not None:
            bucket = bucket or timedelta(hours=1)
            if bucket.total_seconds() * 1000 < 1:
                raise InvalidRequest("an aggregation bucket must be at least one millisecond")
        period = int(bucket.total_seconds() * 1000) if server_side else None  # type: ignore[union-attr]
        if server_side:
            spec["func"] = FUNC[aggregate]  # type: ignore[index]
        points = await self._data_pages(spec, to_epoch(start, "ms"), to_epoch(end, "ms"), period, mid)
        if aggregate is not None and not server_side:
            points = bucketize(points, aggregate, bucket)  # type: ignore[arg-type]
        elif server_side:
            # the server's figure is `value`; also put it where a chart looks for it
            field = {Aggregate.min: "min", Aggregate.max: "max", Aggregate.avg: "avg", Aggregate.count: "count"}.get(aggregate)  # type: ignore[arg-type]
            if field:
                points = [p.model_copy(update={field: int(p.value) if field == "count" else p.value}) for p in points]  # type: ignore[arg-type]
        unit = None
        try:
            _, units = await self._sensor_ids([self.ref("sensor", str(sensor))])
            unit = units.get(mid)
        except AdapterError:
            pass
        return Series(metric=self.ref("metric", mid), points=points, aggregate=aggregate,
                      bucket=bucket if aggregate else None, unit=unit)

    async def _data_pages(self, spec: dict[str, Any], start_ms: int, end_ms: int, period: int | None,
                          mid: str) -> list[Point]:
        """`/data` over [start, end], page after page.

        The API documents no paging, yet its answers are capped (the simulator, like the
        service it models, stops at 20,000 points and keeps the oldest): one request over
        30 days would silently end days early. So while an answer stops short of the window
        end by more than its own spacing, the next request starts after its last point.
        With `period` (server-side buckets), the last bucket of a cut answer may be partial:
        it is asked for again from its start, which is a bucket boundary.
        """
        points: list[Point] = []
        since = start_ms
        for _ in range(MAX_DATA_PAGES):
            page = await self._data_page(spec, since, end_ms, period, mid, first=not points)
            if points and page and page[0].ts <= points[-1].ts:
                page = [p for p in page if p.ts > points[-1].ts]  # a server that repeats the edge
            if not page:
                return points
            last_ms = to_epoch(page[-1].ts, "ms")
            if not _cut_short(page, last_ms, end_ms, period):
                return points + page
            if period is not None and len(page) > 1:
                page = page[:-1]  # the bucket the cap cut through: asked for whole next time
                since = last_ms
            else:
                since = last_ms + 1
            points += page
        raise InvalidRequest(
            f"teamviewer '{self.name}': {mid} has more than {MAX_DATA_PAGES} pages of points in this window: "
            "narrow the window or aggregate (--agg)"
        )

    async def _data_page(self, spec: dict[str, Any], start_ms: int, end_ms: int, period: int | None,
                         mid: str, *, first: bool) -> list[Point]:
        params: dict[str, Any] = {"range": [start_ms, end_ms], "metrics": [spec]}
        if period is not None:
            params["period"] = period
        data = as_list(await self._get("data", **params))
        metric_key = spec["metricId"]
        row = next((r for r in data if isinstance(r, dict) and str(pick(r, "metricId", "metricid")) == metric_key), None)
        if row is None:
            if first:
                raise NotFound(f"teamviewer '{self.name}': no data for metric {mid}")
            return []  # a later page of a known metric: nothing more in the window
        points = [
            Point(ts=from_epoch(pick(p, "timestamp"), "ms"), value=number(pick(p, "value")))
            for p in as_list(pick(row, "result"))
            if isinstance(p, dict) and pick(p, "timestamp") is not None
        ]
        points.sort(key=lambda p: p.ts)
        return points

    # ---- alarms -------------------------------------------------------------------------

    async def alarms(self, *, status: AlarmStatus | None = None, since: datetime | None = None) -> list[Alarm]:
        now = now_utc()
        since = since or now - timedelta(days=7)
        # An open alarm stays open however old it is: ask for open ones over all time.
        calls = []
        if status in (None, AlarmStatus.open):
            calls.append(self._get("alarms", range=[0, to_epoch(now, "ms")], status=1))
        if status in (None, AlarmStatus.closed):
            calls.append(self._get("alarms", range=[to_epoch(since, "ms"), to_epoch(now, "ms")], status=3))
        out: dict[str, Alarm] = {}
        for res in await gather_limited(calls, limit=2):
            if isinstance(res, AdapterError):
                raise res
            for a in as_list(res):
                if isinstance(a, dict):
                    alarm = self._alarm(a)
                    out[alarm.id] = alarm
        return sorted(out.values(), key=lambda a: a.opened_at, reverse=True)

    def _alarm(self, a: dict[str, Any]) -> Alarm:
        source = pick(a, "source") or {}
        key = str(pick(source, "sourceKey", "sourcekey", default=""))
        parts = key.split("_")
        details = pick(source, "details") or {}
        closed_at = None
        for change in as_list(pick(a, "changeLog", "changelog")):
            t = pick(change, "closeTime", "closetime")
            if t is not None:
                closed_at = from_epoch(t, "ms")
        status = AlarmStatus.closed if as_int(pick(a, "status")) == 3 else AlarmStatus.open
        return Alarm(
            id=str(pick(a, "id")),
            profile=self.name,
            severity=SEVERITY.get(as_int(pick(a, "severity"), 2) or 2, Severity.major),
            status=status,
            device=self.ref("device", parts[0]) if parts and parts[0] else None,
            metric=self.ref("metric", f"{parts[1]}:{parts[2]}") if len(parts) == 3 else None,
            description=str(pick(a, "description", default="")),
            opened_at=from_epoch(pick(a, "openTime", "opentime"), "ms"),
            closed_at=closed_at if status is AlarmStatus.closed else None,
            origin=Origin.vendor,
            value=number(pick(details, "value")),
            rule=str(pick(source, "id")) if pick(source, "id") else None,
            closable=status is AlarmStatus.open,
        )

    async def close_alarm(self, alarm_id: str) -> None:
        if not alarm_id.strip():
            raise InvalidRequest("an alarm id is required")
        await self._post("alarms", "close", {"id": alarm_id})

    # ---- rules --------------------------------------------------------------------------

    async def rules(self) -> list[Rule]:
        return [self._rule(r) for r in as_list(await self._get("rules")) if isinstance(r, dict)]

    def _rule(self, r: dict[str, Any]) -> Rule:
        rtype = as_int(pick(r, "ruleType", "ruletype"), 1)
        sources = []
        for s in as_list(pick(r, "sources")):
            mid, thing = pick(s, "metricId", "metricid"), pick(s, "thingId", "thingid")
            if mid and thing is not None:
                sources.append(self.ref("metric", f"{thing}:{mid}"))
            elif pick(s, "deviceId", "deviceid") is not None:
                sources.append(self.ref("device", str(pick(s, "deviceId", "deviceid"))))
        thresholds = [
            Threshold(condition=str(pick(t, "condition", default="")),
                      severity=SEVERITY.get(as_int(pick(t, "severity"), 2) or 2, Severity.major),
                      checks=as_int(pick(t, "checkcount", "checkCount"), 1) or 1)
            for t in as_list(pick(r, "thresholds")) if isinstance(t, dict)
        ]
        return Rule(id=str(pick(r, "id")), profile=self.name, name=str(pick(r, "name", default="")),
                    enabled=as_int(pick(r, "activeflag", "activeFlag"), 1) == 1,
                    kind="offline" if rtype == 2 else "threshold", sources=sources, thresholds=thresholds,
                    origin=Origin.vendor)

    def _rule_payload(self, rule: Rule) -> dict[str, Any]:
        if not rule.name.strip():
            raise InvalidRequest("a rule needs a name")
        if not rule.sources:
            raise InvalidRequest("a rule needs at least one source (a metric, or a device for offline rules)")
        if not rule.thresholds:
            raise InvalidRequest("a rule needs at least one threshold")
        sources = []
        for ref in rule.sources:
            parts = ref.split("/", 2)
            kind, id = (parts[1], parts[2]) if len(parts) == 3 else ("metric", ref)
            if kind == "device" or rule.kind == "offline":
                if not id.isdigit():
                    raise InvalidRequest(f"'{id}' is not a TeamViewer device id")
                sources.append({"deviceId": int(id)})
            else:
                sensor, metric = split_metric(id)
                sources.append({"metricId": metric, "thingId": sensor})
        thresholds = []
        for t in rule.thresholds:
            if t.checks < 1:
                raise InvalidRequest("a threshold needs at least one check")
            thresholds.append({"condition": t.condition, "severity": SEVERITY_CODE[t.severity], "checkcount": t.checks})
        return {"name": rule.name, "ruleType": 2 if rule.kind == "offline" else 1, "sources": sources,
                "thresholds": thresholds, "checkcount": rule.thresholds[0].checks,
                "activeflag": 1 if rule.enabled else 2}

    async def create_rule(self, rule: Rule) -> Rule:
        data = await self._post("rules", "create", self._rule_payload(rule))
        return rule.model_copy(update={"id": str(pick(data or {}, "id", default=rule.id)), "profile": self.name,
                                       "origin": Origin.vendor})

    async def update_rule(self, rule: Rule) -> Rule:
        await self._post("rules", "update", {"id": rule.id, **self._rule_payload(rule)})
        return rule

    async def delete_rule(self, rule_id: str) -> None:
        await self._post("rules", "delete", {"id": [rule_id]})

    # ---- groups -------------------------------------------------------------------------

    async def create_group(self, name: str, devices: Sequence[str] = ()) -> str:
        if not name.strip():
            raise InvalidRequest("a group needs a name")
        data = await self._post("groups", "create", {"name": name, "devices": [long_id(d, "device") for d in devices]})
        self._tree = None
        return str(pick(data or {}, "id"))

    async def update_group(self, group_id: str, *, name: str | None = None, devices: Sequence[str] | None = None) -> None:
        payload: dict[str, Any] = {"id": long_id(group_id, "group")}
        if name is not None:
            payload["name"] = name
        if devices is not None:
            payload["devices"] = [long_id(d, "device") for d in devices]
        await self._post("groups", "update", payload)
        self._tree = None

    async def delete_group(self, group_id: str) -> None:
        await self._post("groups", "delete", {"id": long_id(group_id, "group")})
        self._tree = None


# A device's keys in the documents' spelling (the tree and /devices listings).
_DEVICE_KEYS = frozenset(
    {"id", "name", "deviceType", "devicetype", "state", "sensorsCount", "metricsCount", "description",
     "isMonitoringEnabled", "version", "alarm", "sensors", "buddyid"}
)


def _alarm(d: dict[str, Any]) -> Any:
    """`pick(d, "alarm")`: a device spelt as documented and without an alarm needs no search
    of its other keys (most of 30,000 devices have none)."""
    if "alarm" in d:
        return d["alarm"]
    return None if d.keys() <= _DEVICE_KEYS else pick(d, "alarm")


def _cut_short(page: list[Point], last_ms: int, end_ms: int, period: int | None) -> bool:
    """Whether an answer looks capped: it stops before the window end by more than twice its
    spacing (the bucket period, or the median gap between its points). A device that just
    went quiet costs one more, empty, request."""
    if len(page) < 2:
        return False  # no cap is this small, and no spacing to judge by
    if period is not None:
        step = period
    else:
        gaps = sorted(to_epoch(b.ts, "ms") - to_epoch(a.ts, "ms") for a, b in zip(page, page[1:]))
        step = max(gaps[len(gaps) // 2], 1)
    return end_ms - last_ms > 2 * step


def _worst(devices: list[dict[str, Any]]) -> Severity | None:
    return Severity.worst(*(SEVERITY.get(as_int(_alarm(d), 0) or 0) for d in devices))


__all__ = ["TeamViewerAdapter", "parse_error", "split_metric", "unit_of"]
