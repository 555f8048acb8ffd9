"""`tuiot simulate`: serve the vendor simulators on loopback, for curl and real-socket tests."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from tuiot.cli_context import CliContext, CliError

VENDORS = ("teamviewer", "thingsee", "murano", "thingspro")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="serve vendor simulators on 127.0.0.1", parents=[sub.parent_options])
    p.add_argument("--vendor", action="append", choices=VENDORS, default=None, help="repeatable (default: all four)")
    p.add_argument("--port", type=int, default=8700, help="first port; each app takes the next one (default 8700)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    p.add_argument("--faults", default=None, help="e.g. latency=0.2,rate429=0.1,error5xx=0.05,malformed=0.02")
    p.add_argument("--gateways", type=int, default=1, help="thingspro: how many gateways to serve (default 1)")
    p.add_argument("--tls", action="store_true", help="thingspro: HTTPS with a generated self-signed certificate")
    p.add_argument("--tls-dir", default=None, help="where to write the CA and certificate (default: a temp dir)")
    p.set_defaults(run=run)


async def run(args: argparse.Namespace, ctx: CliContext) -> int:
    import uvicorn

    from tuiot.simulators import available, simulator_module
    from tuiot.simulators.faults import Faults
    from tuiot.simulators.fleet import build_world

    if not args.host.startswith("127.") and args.host not in ("localhost", "::1"):
        raise CliError("simulators bind to loopback only (127.0.0.1, localhost or ::1)")
    try:
        faults = Faults.parse(args.faults)
    except ValueError as e:
        raise CliError(str(e)) from None
    world = build_world(devices=args.devices, seed=args.seed)
    vendors = args.vendor or list(available())
    servers: list[uvicorn.Server] = []
    port = args.port
    lines = []
    for vendor in vendors:
        mod = simulator_module(vendor)
        # the non-secret login fields a profile needs (client id, user, solution)
        login = "".join(
            f"  {k} {v}" for k, v in mod.demo_profile(vendor, world).items() if k in ("client_id", "username", "solution_id")
        )
        if vendor == "thingspro":
            gateways = world.gateways_of("thingspro")[: args.gateways]
            if len(gateways) < args.gateways:
                raise CliError(f"the world has {len(gateways)} thingspro gateways; use more --devices for {args.gateways}")
            ssl = {}
            scheme = "http"
            if args.tls:
                from tuiot.simulators.tls import make_tls_files

                directory = Path(args.tls_dir) if args.tls_dir else Path(tempfile.mkdtemp(prefix="tuiot-tls-"))
                files = make_tls_files(directory)
                ssl = {"ssl_certfile": str(files.cert_pem), "ssl_keyfile": str(files.key_pem)}
                scheme = "https"
                lines.append(f"thingspro CA bundle: {files.ca_pem}  (profile: verify = \"{files.ca_pem}\")")
            for gw in gateways:
                app = mod.create_app(world, gateway=gw.id, faults=faults, down=not gw.online)
                servers.append(_server(app, args.host, port, ssl))
                lines.append(f"thingspro   {scheme}://{args.host}:{port}  gateway {gw.id}{login}  secret {mod.DEMO_SECRET}")
                port += 1
        else:
            app = mod.create_app(world, faults=faults)
            servers.append(_server(app, args.host, port, {}))
            lines.append(f"{vendor:<11} http://{args.host}:{port}{login}  secret {mod.DEMO_SECRET}")
            port += 1
    for line in lines:
        ctx.say(line)
    sys.stdout.flush()
    try:
        await asyncio.gather(*(s.serve() for s in servers))
    except asyncio.CancelledError:
        pass
    return 0


def _server(app: object, host: str, port: int, ssl: dict[str, str]):  # type: ignore[no-untyped-def]
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off", **ssl)
    return uvicorn.Server(config)
