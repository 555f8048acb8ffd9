"""One seeded synthetic world that every vendor simulator serves its own way.

The world is sites → gateways → devices; a device's model fixes its sensors and their
metrics. Values are pure functions of (device, metric, time): a daily cycle, a slow
drift, deterministic noise. Nothing is stored per reading, so any window of history at
any size of fleet costs only the points asked for, and the same seed always gives the
same fleet. Building 100,000 devices takes a fraction of a second.

Each site belongs to one vendor; a simulator serves `world.devices_of(vendor)` and keeps
its own mutable state (created groups, closed alarms, tags) on top of this world.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

from tuiot.gcpause import paused

VENDORS = ("teamviewer", "thingsee", "murano", "thingspro")
# Share of sites per vendor, in order; ThingsPro gateways are few but dense.
_VENDOR_WEIGHTS = (0.3, 0.3, 0.3, 0.1)

_MASK = (1 << 64) - 1
_UNIT = float(1 << 53)
_TWO_PI = 2 * math.pi
_sin = math.sin


def mix(*parts: int) -> int:
    """A fast, deterministic 64-bit hash of integers.

    CPython's tuple hash of ints does not depend on PYTHONHASHSEED (only str and
    bytes hashes are salted), so this is stable across runs; a final multiply-xorshift
    spreads it over the top bits, which `unit` reads.
    """
    z = (hash(parts) * 0xBF58476D1CE4E5B9) & _MASK
    return z ^ (z >> 31)


def unit(h: int) -> float:
    """Map a hash to [0, 1)."""
    return (h >> 11) / float(1 << 53)


def str_hash(s: str) -> int:
    h = 1469598103934665603
    for ch in s.encode():
        h = ((h ^ ch) * 1099511628211) & _MASK
    return h


@dataclass(frozen=True, slots=True)
class MetricSpec:
    key: str  # vendor-neutral field name, also Thingsee's field name where one exists
    name: str
    unit: str
    type: str = "float"  # float | int | bool | counter
    base: float = 0.0
    spread: float = 0.0  # device-to-device offset range (±)
    amplitude: float = 0.0  # daily cycle
    noise: float = 0.0
    drift: float = 0.0  # per day
    lo: float | None = None
    hi: float | None = None
    digits: int = 2
    writable: bool = False
    data_type: str = "float"  # ThingsPro dataType
    hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        # computed once: value() needs it for every point of every series
        object.__setattr__(self, "hash", str_hash(self.key))


@dataclass(frozen=True, slots=True)
class SensorSpec:
    key: str
    name: str
    metrics: tuple[MetricSpec, ...]
    tsm_id: int | None = None  # Thingsee message profile id carrying these fields


@dataclass(frozen=True, slots=True)
class ModelSpec:
    key: str
    name: str
    sensors: tuple[SensorSpec, ...]
    vendors: tuple[str, ...]
    tuid_prefix: str  # Thingsee-style product prefix


ENVIRONMENT = SensorSpec(
    "environment",
    "Environment",
    (
        MetricSpec("temp", "Temperature", "°C", base=21.0, spread=2.5, amplitude=2.5, noise=0.3, lo=-40, hi=85),
        MetricSpec("humd", "Humidity", "%RH", base=42.0, spread=8, amplitude=6, noise=1.0, lo=0, hi=100, digits=1),
        MetricSpec("airp", "Air pressure", "Pa", base=101325, spread=400, amplitude=120, noise=20, digits=0),
        MetricSpec("lght", "Light", "lux", base=250, spread=100, amplitude=300, noise=25, lo=0, digits=0),
    ),
    tsm_id=12100,
)
CO2 = SensorSpec(
    "airquality",
    "Air quality",
    (
        MetricSpec("carbonDioxide", "CO2", "ppm", type="int", base=650, spread=120, amplitude=300, noise=30, lo=400),
        MetricSpec("tvoc", "TVOC", "ppb", type="int", base=140, spread=40, amplitude=90, noise=15, lo=0),
    ),
    tsm_id=24100,
)
PRESENCE = SensorSpec(
    "presence",
    "Presence",
    (MetricSpec("moveCount", "Movement count", "count", type="int", base=6, spread=3, amplitude=6, noise=2, lo=0),),
    tsm_id=13100,
)
BATTERY = SensorSpec(
    "battery",
    "Battery",
    (MetricSpec("batl", "Battery level", "%", type="int", base=82, spread=15, drift=-0.15, noise=0.2, lo=0, hi=100),),
    tsm_id=1110,
)
POWER = SensorSpec(
    "power",
    "Power",
    (
        MetricSpec("voltage", "Voltage", "V", base=230, spread=2, amplitude=1.5, noise=0.8, digits=1),
        MetricSpec("current", "Current", "A", base=12, spread=6, amplitude=5, noise=0.6, lo=0, digits=2),
        MetricSpec("energy", "Energy", "kWh", type="counter", base=2.6, spread=2.0, lo=0, digits=1),
    ),
)
SYSTEM = SensorSpec(
    "system",
    "System health",
    (
        MetricSpec("cpu", "CPU load", "%", base=22, spread=10, amplitude=12, noise=6, lo=0, hi=100, digits=1),
        MetricSpec("memory", "Memory used", "%", base=48, spread=15, amplitude=4, noise=2, drift=0.2, lo=0, hi=100, digits=1),
        MetricSpec("disk", "Disk used", "%", base=55, spread=20, drift=0.05, noise=0.05, lo=0, hi=100, digits=1),
    ),
)
PUMP = SensorSpec(
    "pump",
    "Pump",
    (
        MetricSpec("pressure", "Outlet pressure", "bar", base=4.2, spread=0.8, amplitude=0.6, noise=0.1, lo=0, data_type="float"),
        MetricSpec("flow", "Flow", "m3/h", base=18, spread=6, amplitude=7, noise=1.0, lo=0, data_type="float"),
        MetricSpec("rpm", "Speed", "rpm", type="int", base=1450, spread=100, amplitude=250, noise=20, lo=0, data_type="uint16"),
        MetricSpec("running", "Running", "", type="bool", base=0.9, data_type="boolean"),
        MetricSpec("setpoint", "Pressure set-point", "bar", base=4.5, spread=0.5, lo=0, writable=True, digits=1, data_type="float"),
    ),
)

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("env", "Environment sensor", (ENVIRONMENT, BATTERY), ("teamviewer", "thingsee", "murano"), "TSPD"),
    ModelSpec("air", "Air quality sensor", (CO2, ENVIRONMENT, BATTERY), ("thingsee", "murano"), "TSAR"),
    ModelSpec("presence", "Presence sensor", (PRESENCE, BATTERY), ("thingsee",), "TSPR"),
    ModelSpec("edge", "Edge computer", (SYSTEM, ENVIRONMENT), ("teamviewer",), "TSEB"),
    ModelSpec("meter", "Power meter", (POWER,), ("teamviewer", "murano", "thingspro"), "TSPM"),
    ModelSpec("pump", "Pump controller", (PUMP, POWER), ("murano", "thingspro"), "TSPC"),
)
MODELS_BY_KEY = {m.key: m for m in MODELS}
_MODELS_OF = {v: tuple(m for m in MODELS if v in m.vendors) for v in VENDORS}

_CITIES = (
    "Oslo", "Oulu", "Tampere", "Turku", "Espoo", "Lyon", "Porto", "Graz", "Gdansk", "Malmo",
    "Aarhus", "Bergen", "Ghent", "Leeds", "Brno", "Basel", "Bilbao", "Cork", "Riga", "Tartu",
)
_PLACES = (
    "Plant", "Warehouse", "Depot", "Campus", "Office", "Clinic", "School", "Mall", "Station", "Yard",
)
_ROOMS = (
    "Boiler room", "Lobby", "Server room", "Cold store", "Loading bay", "Roof", "Meeting room",
    "Canteen", "Workshop", "Pump house", "Basement", "Line", "Corridor", "Lab", "Cleanroom",
)
_ALARM_TEXT = {
    "high": "{name} above {limit:.10g} {unit}",
    "low": "{name} below {limit:.10g} {unit}",
}


@dataclass(slots=True)
class Site:
    index: int
    id: str  # slug, unique
    name: str
    city: str
    vendor: str
    lat: float
    lon: float


@dataclass(slots=True)
class Gateway:
    index: int
    id: str
    name: str
    site: int
    serial: str
    ip: str
    online: bool


@dataclass(slots=True)  # not frozen: frozen __init__ is 5x slower at 10^5
class Device:
    index: int
    id: str  # vendor-neutral id, unique in the world
    name: str
    site: int
    gateway: int
    model: str
    vendor: str
    serial: str
    interval: int  # seconds between readings
    phase: int  # offset of the reading grid, seconds
    offline_since: float | None  # epoch seconds; None while online
    created: float
    firmware: str
    ip: str
    hash: int

    @property
    def online(self) -> bool:
        return self.offline_since is None

    @property
    def spec(self) -> ModelSpec:
        return MODELS_BY_KEY[self.model]


@dataclass(slots=True)
class SimAlarm:
    id: str
    device: int
    sensor: str
    metric: str
    severity: int  # 1 critical … 4 warning (TeamViewer's scale)
    opened_at: float
    closed_at: float | None
    description: str
    value: float
    limit: float | None = None  # the threshold crossed; None: the device went offline
    above: bool = True


@dataclass
class World:
    seed: int
    size: int
    epoch: float  # the world's "now" at construction, epoch seconds (whole hour)
    sites: list[Site] = field(default_factory=list)
    gateways: list[Gateway] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    alarms: list[SimAlarm] = field(default_factory=list)
    _by_vendor: dict[str, list[Device]] = field(default_factory=dict)
    _by_id: dict[str, Device] = field(default_factory=dict)
    # Built on first use: one ThingsPro app per gateway asks for its own devices, and a
    # scan of the fleet per gateway is O(fleet x gateways) at start-up.
    _by_gateway: dict[int, list[Device]] | None = field(default=None, repr=False)
    _gateways_by_vendor: dict[str, list[Gateway]] | None = field(default=None, repr=False)

    # ---- look-ups -------------------------------------------------------------

    def devices_of(self, vendor: str) -> list[Device]:
        return self._by_vendor.get(vendor, [])

    def devices_of_gateway(self, gateway: int) -> list[Device]:
        """The devices behind gateway index `gateway`, in world order."""
        if self._by_gateway is None:
            by_gateway: dict[int, list[Device]] = {}
            for dev in self.devices:
                by_gateway.setdefault(dev.gateway, []).append(dev)
            self._by_gateway = by_gateway
        return self._by_gateway.get(gateway, [])

    def sites_of(self, vendor: str) -> list[Site]:
        return [s for s in self.sites if s.vendor == vendor]

    def gateways_of(self, vendor: str) -> list[Gateway]:
        if self._gateways_by_vendor is None:
            by_vendor: dict[str, list[Gateway]] = {}
            for g in self.gateways:
                by_vendor.setdefault(self.sites[g.site].vendor, []).append(g)
            self._gateways_by_vendor = by_vendor
        # a copy: callers slice and keep it, and the index must not change under them
        return list(self._gateways_by_vendor.get(vendor, ()))

    def device(self, id: str) -> Device | None:
        return self._by_id.get(id)

    def alarms_of(self, vendor: str) -> list[SimAlarm]:
        return [a for a in self.alarms if self.devices[a.device].vendor == vendor]

    # ---- values ---------------------------------------------------------------

    def last_time(self, dev: Device, t: float) -> float:
        """The time of the device's newest reading at or before `t`."""
        end = min(t, dev.offline_since) if dev.offline_since is not None else t
        return math.floor((end - dev.phase) / dev.interval) * dev.interval + dev.phase

    def times(self, dev: Device, start: float, end: float, limit: int | None = None) -> Iterator[float]:
        """Reading times of the device in [start, end], oldest first."""
        last = self.last_time(dev, end)
        first = math.ceil((max(start, dev.created) - dev.phase) / dev.interval) * dev.interval + dev.phase
        n = 0
        t = first
        while t <= last:
            yield t
            n += 1
            if limit is not None and n >= limit:
                return
            t += dev.interval

    def value(self, dev: Device, metric: MetricSpec, t: float) -> float | int | bool:
        """The value `metric` of `dev` reads at time `t` (a pure function)."""
        # `mix` and `unit` written out: every simulator answer is built from these values
        # (150,000 of them for one Murano listing), and the calls were half the cost.
        # Same arithmetic in the same order, so the same floats.
        z = (hash((dev.hash, metric.hash)) * 0xBF58476D1CE4E5B9) & _MASK
        h = z ^ (z >> 31)
        mtype = metric.type
        if mtype == "bool":
            # long runs of one state: flips at most every few hours
            z = (hash((h, int(t // 10800))) * 0xBF58476D1CE4E5B9) & _MASK
            return ((z ^ (z >> 31)) >> 11) / _UNIT < (metric.base or 0.5)
        offset = metric.spread * ((h >> 11) / _UNIT * 2 - 1)
        if mtype == "counter":
            # cumulative: a per-device rate (units per hour) since creation
            rate = max(0.1, metric.base + offset)
            return round(rate * max(0.0, t - dev.created) / 3600.0, metric.digits)
        amplitude = metric.amplitude
        day = t / 86400.0
        z = (hash((h, 1)) * 0xBF58476D1CE4E5B9) & _MASK
        phase = ((z ^ (z >> 31)) >> 11) / _UNIT * 0.15 + 0.55  # peaks in the afternoon, UTC
        if metric.writable:
            cycle = drift = 0.0
        else:
            cycle = amplitude * _sin(_TWO_PI * (day - phase + 0.25))
            drift = metric.drift * (t - self.epoch) / 86400.0
        interval = dev.interval
        step = int(t // (interval if interval > 60 else 60))
        z = (hash((h, step, 2)) * 0xBF58476D1CE4E5B9) & _MASK
        noise = metric.noise * (((z ^ (z >> 31)) >> 11) / _UNIT * 2 - 1)
        v = metric.base + offset + cycle + drift + noise
        # a few devices run hot: these are the ones with threshold alarms
        z = (hash((h, 3)) * 0xBF58476D1CE4E5B9) & _MASK
        if ((z ^ (z >> 31)) >> 11) / _UNIT < 0.01:
            v += 3 * (amplitude or metric.noise or 1)
        lo, hi = metric.lo, metric.hi
        # as max(lo, v) / min(hi, v): a tie takes the bound (an int bound stays an int)
        if lo is not None and v <= lo:
            v = lo
        if hi is not None and v >= hi:
            v = hi
        if mtype == "int":
            return int(round(v))
        return round(v, metric.digits)

    def samples(
        self, dev: Device, metric: MetricSpec, start: float, end: float, limit: int | None = None
    ) -> list[tuple[float, float | int | bool]]:
        return [(t, self.value(dev, metric, t)) for t in self.times(dev, start, end, limit)]

    def latest(self, dev: Device, metric: MetricSpec, now: float) -> tuple[float, float | int | bool]:
        t = self.last_time(dev, now)
        return t, self.value(dev, metric, t)

    def metrics(self, dev: Device) -> Iterator[tuple[SensorSpec, MetricSpec]]:
        for sensor in dev.spec.sensors:
            for metric in sensor.metrics:
                yield sensor, metric


def sim_clock(now: float | Callable[[], float] | None) -> Callable[[], float]:
    """A simulator's data clock: a fixed time (tests), a callable, or the wall clock."""
    if callable(now):
        return now
    if now is not None:
        fixed = float(now)
        return lambda: fixed
    return time.time


def _ip(h: int) -> str:
    return f"10.{(h >> 8) & 0xFF}.{(h >> 16) & 0xFF}.{((h >> 24) & 0xFD) + 2}"


def build_world(devices: int = 200, seed: int = 7, epoch: float | datetime | None = None) -> World:
    """Build the world: same (devices, seed, epoch) → same fleet.

    `epoch` is the world's present; by default the current hour, so the simulated
    history always ends "now". Tests pass a fixed epoch for exact expectations.
    """
    # 10^5 devices are ~10^6 new objects: with the cyclic GC on, each generation-2 pass
    # rescans everything built so far, which cost a sixth of the build.
    with paused():
        return _build_world(devices, seed, epoch)


def _build_world(devices: int, seed: int, epoch: float | datetime | None) -> World:
    if devices < 1:
        raise ValueError("a fleet needs at least one device")
    if epoch is None:
        epoch = math.floor(datetime.now(timezone.utc).timestamp() / 3600) * 3600.0
    elif isinstance(epoch, datetime):
        epoch = epoch.timestamp()
    world = World(seed=seed, size=devices, epoch=float(epoch))

    # Sites of 20–80 devices, at least one per vendor.
    n_sites = max(len(VENDORS), round(devices / 40))
    cumulative = []
    acc = 0.0
    for w in _VENDOR_WEIGHTS:
        acc += w
        cumulative.append(acc)
    for i in range(n_sites):
        h = mix(seed, 11, i)
        vendor = VENDORS[i] if i < len(VENDORS) else VENDORS[_pick(cumulative, unit(h))]
        city = _CITIES[(h >> 20) % len(_CITIES)]
        place = _PLACES[(h >> 28) % len(_PLACES)]
        name = f"{city} {place} {i + 1}"
        world.sites.append(
            Site(
                index=i,
                id=f"{city.lower()}-{place.lower()}-{i + 1}",
                name=name,
                city=city,
                vendor=vendor,
                lat=round(45 + unit(mix(h, 1)) * 20, 5),
                lon=round(-5 + unit(mix(h, 2)) * 35, 5),
            )
        )
    # Gateways: one per site, two or three on ThingsPro sites (they are gateways).
    site_gateways: list[list[int]] = []
    for site in world.sites:
        count = 2 + (mix(seed, 13, site.index) % 2) if site.vendor == "thingspro" else 1
        ids = []
        for k in range(count):
            g = len(world.gateways)
            h = mix(seed, 17, g)
            world.gateways.append(
                Gateway(
                    index=g,
                    id=f"gw-{site.index + 1:04d}-{k + 1}",
                    name=f"{site.name} gateway {k + 1}",
                    site=site.index,
                    serial=f"GW{h % 10**10:010d}",
                    ip=_ip(h),
                    online=unit(mix(h, 5)) > 0.03,
                )
            )
            ids.append(g)
        site_gateways.append(ids)

    # Devices, spread over the sites.
    intervals = (60, 300, 600, 900)
    epoch_f = world.epoch
    short = {m.key: m.name.split()[0].lower() for m in MODELS}  # "Environment sensor" → "environment"
    all_devices, by_id, by_vendor = world.devices, world._by_id, world._by_vendor
    for i in range(devices):
        h = mix(seed, 23, i)
        site = world.sites[i % n_sites] if i < n_sites else world.sites[h % n_sites]
        models = _MODELS_OF[site.vendor]
        model = models[(h >> 7) % len(models)]
        gws = site_gateways[site.index]
        gw = gws[(h >> 13) % len(gws)]
        room = _ROOMS[(h >> 19) % len(_ROOMS)]
        offline = unit(mix(h, 4)) < 0.04 or not world.gateways[gw].online
        offline_since = epoch_f - 600 - (mix(h, 6) % (5 * 86400)) if offline else None
        # positional: keyword calls of a 15-field dataclass are measurably slower at 10^5
        dev = Device(
            i,  # index
            f"{model.key}-{i + 1:06d}",  # id
            f"{room} {short[model.key]} {i + 1}",  # name
            site.index,
            gw,
            model.key,
            site.vendor,
            f"{model.tuid_prefix}{(h >> 3) % 10**8:08d}",  # serial
            intervals[(h >> 25) % len(intervals)],
            int((h >> 31) % 60),  # phase
            offline_since,
            epoch_f - 90 * 86400 - (mix(h, 7) % (300 * 86400)),  # created
            f"{1 + (h >> 40) % 3}.{(h >> 44) % 10}.{(h >> 48) % 20}",  # firmware
            _ip(mix(h, 8)),
            h,
        )
        all_devices.append(dev)
        by_id[dev.id] = dev
        by_vendor.setdefault(dev.vendor, []).append(dev)

    _add_alarms(world)
    return world


def _pick(cumulative: list[float], u: float) -> int:
    for k, c in enumerate(cumulative):
        if u < c:
            return k
    return len(cumulative) - 1


def _add_alarms(world: World) -> None:
    """Open and closed alarms on about 3% of devices; every offline device has one open.

    The first two devices of each vendor always carry one open and one closed alarm, so
    even a ten-device demo has an inbox to triage.
    """
    seq = 0
    seen: dict[str, int] = {}
    for dev in world.devices:
        seen[dev.vendor] = seen.get(dev.vendor, 0) + 1
        showcase = seen[dev.vendor] <= 2
        h = mix(world.seed, 31, dev.index)
        sensors = dev.spec.sensors
        if dev.offline_since is not None and unit(mix(h, 1)) < 0.5:
            seq += 1
            sensor = sensors[0]
            metric = sensor.metrics[0]
            world.alarms.append(
                SimAlarm(
                    id=_alarm_id(world.seed, seq),
                    device=dev.index,
                    sensor=sensor.key,
                    metric=metric.key,
                    severity=2,
                    opened_at=dev.offline_since + 300,
                    closed_at=None,
                    description=f"{dev.name} has not reported since it went offline",
                    value=0.0,
                )
            )
        if unit(mix(h, 2)) >= 0.03 and not showcase:
            continue
        for k in range(2 if showcase else 1 + mix(h, 3) % 3):
            sensor = sensors[mix(h, 4, k) % len(sensors)]
            numeric = [m for m in sensor.metrics if m.type in ("float", "int")]
            if not numeric:
                continue
            metric = numeric[mix(h, 5, k) % len(numeric)]
            opened = world.epoch - (mix(h, 6, k) % (7 * 86400)) - 60
            is_open = (k == 0) if showcase else unit(mix(h, 7, k)) < 0.45
            closed = None if is_open else min(world.epoch - 30, opened + 300 + mix(h, 8, k) % 7200)
            val = world.value(dev, metric, opened)
            above = unit(mix(h, 9, k)) < 0.7
            limit = round(float(val) - 0.5 if above else float(val) + 0.5, 1)
            text = _ALARM_TEXT["high" if above else "low"].format(name=metric.name, limit=limit, unit=metric.unit)
            seq += 1
            world.alarms.append(
                SimAlarm(
                    id=_alarm_id(world.seed, seq),
                    device=dev.index,
                    sensor=sensor.key,
                    metric=metric.key,
                    severity=1 + mix(h, 10, k) % 4,
                    opened_at=opened,
                    closed_at=closed,
                    description=f"{dev.name}: {text}",
                    value=float(val),
                    limit=limit,
                    above=above,
                )
            )


def _alarm_id(seed: int, seq: int) -> str:
    h = mix(seed, 41, seq)
    x = f"{h:016x}{mix(h, 1):016x}"
    return f"{x[:8]}-{x[8:12]}-4{x[13:16]}-a{x[17:20]}-{x[20:32]}"
