"""The demo fleet: all four simulators in process, reached through the real adapters.

`build_demo()` builds one seeded world, one app per vendor (one per gateway for
ThingsPro) and an httpx transport that routes each demo host name to its app, so the
console talks HTTP to the simulators exactly as it would to a cloud, with no sockets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tuiot.config import Profile
from tuiot.httpx_lean import httpx
from tuiot.simulators import available, simulator_module
from tuiot.simulators.faults import Faults
from tuiot.simulators.fleet import World, build_world

# In process every request is CPU work on the console's own event loop: there is no wire to
# overlap, so more requests in flight only lengthen each loop turn (the console draws less often).
DEMO_CONCURRENCY = 2
DEMO_NAMES = {"teamviewer": "TeamViewer", "thingsee": "Thingsee", "murano": "Murano", "thingspro": "ThingsPro"}


class HostRouter(httpx.AsyncBaseTransport):
    """Route a request to the in-process ASGI app serving its host name."""

    def __init__(self) -> None:
        self._routes: dict[str, httpx.ASGITransport] = {}

    def add(self, host: str, app: Any) -> None:
        # raise_app_exceptions=False: a simulator fault becomes a real 500, as on the wire
        self._routes[host] = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    @property
    def hosts(self) -> list[str]:
        return list(self._routes)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        route = self._routes.get(request.url.host)
        if route is None:
            raise httpx.ConnectError(f"no demo host {request.url.host}", request=request)
        return await route.handle_async_request(request)


@dataclass
class Demo:
    world: World
    profiles: list[Profile]
    transport: HostRouter
    secrets: dict[str, str] = field(default_factory=dict)


def build_demo(
    devices: int = 400,
    seed: int = 7,
    *,
    epoch: float | None = None,
    faults: dict[str, Faults] | None = None,
    vendors: tuple[str, ...] | None = None,
    now: float | None = None,
) -> Demo:
    """Build the demo fleet; `faults` maps a vendor (or demo profile name) to its faults.

    `now` stops the simulators' clock at that time (snapshot tests); None is the wall clock.
    """
    world = build_world(devices=devices, seed=seed, epoch=epoch)
    # The world's objects live as long as the process: keep the garbage collector from
    # rescanning them while the adapters decode large answers in the same process.
    import gc

    gc.freeze()
    router = HostRouter()
    profiles: list[Profile] = []
    secrets: dict[str, str] = {}
    faults = faults or {}
    for vendor in vendors or available():
        mod = simulator_module(vendor)
        name = DEMO_NAMES[vendor]
        vendor_faults = faults.get(vendor) or faults.get(name)
        fields = dict(mod.demo_profile(name, world))
        fields.setdefault("vendor", vendor)
        fields.setdefault("max_concurrency", DEMO_CONCURRENCY)
        if vendor == "thingspro":
            by_id = {g.id: g for g in world.gateways_of("thingspro")}
            for url in fields.get("gateways", []):
                host = urlsplit(url).hostname or ""
                gw = by_id.get(host.split(".")[0])
                if gw is None:
                    continue
                router.add(host, mod.create_app(world, gateway=gw.id, faults=vendor_faults, down=not gw.online, now=now))
        else:
            host = urlsplit(fields["base_url"]).hostname or ""
            router.add(host, mod.create_app(world, faults=vendor_faults, now=now))
        profiles.append(Profile(name=name, **fields))
        secrets[name] = mod.DEMO_SECRET
    return Demo(world=world, profiles=profiles, transport=router, secrets=secrets)
