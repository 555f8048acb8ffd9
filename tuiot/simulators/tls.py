"""Self-signed TLS for simulated gateways, and a small loopback HTTPS server for them.

A real ThingsPro gateway answers on :8443 with a certificate nobody's trust store
knows. `make_tls_files` makes the same situation on loopback: a private CA (what an
operator would export and point the profile's `verify` at) and a server certificate
for 127.0.0.1/localhost/::1 signed by it. `serve_gateways` runs N gateway apps on
consecutive loopback ports in a background thread (tests, and `tuiot simulate`).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

CA_FILE = "tuiot-sim-ca.pem"
CERT_FILE = "tuiot-sim-gateway.pem"
KEY_FILE = "tuiot-sim-gateway.key"


@dataclass(frozen=True)
class TlsFiles:
    ca_pem: Path  # the CA to trust (profile: verify = "<this path>")
    cert_pem: Path  # server certificate chain
    key_pem: Path  # server private key (mode 0600)


def make_tls_files(directory: Path | str) -> TlsFiles:
    """Write (or reuse) a CA and a loopback server certificate under `directory`.

    Existing files are reused, so a profile that trusts the CA keeps working across
    restarts of the simulator.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(d / CA_FILE, d / CERT_FILE, d / KEY_FILE)
    if all(p.exists() for p in (files.ca_pem, files.cert_pem, files.key_pem)):
        return files
    import trustme

    ca = trustme.CA(organization_name="tuiot simulated gateways")
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ca.cert_pem.write_to_path(str(files.ca_pem))
    with open(files.cert_pem, "wb") as f:
        f.writelines(blob.bytes() for blob in cert.cert_chain_pems)
    fd = os.open(files.key_pem, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(cert.private_key_pem.bytes())
    return files


@dataclass
class RunningGateways:
    """Gateways served in a background thread; `close()` stops them."""

    urls: list[str]
    gateway_ids: list[str]
    tls: TlsFiles | None
    apps: list[Any] = field(default_factory=list)
    _servers: list[Any] = field(default_factory=list, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def close(self) -> None:
        for s in self._servers:
            s.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_gateways(
    world: Any,
    n: int,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls_dir: Path | str | None = None,
    gateways: list[str] | None = None,
    **app_options: Any,
) -> RunningGateways:
    """Serve `n` thingspro gateways of `world` on `host` (port 0: any free ports).

    Returns once every socket listens. `gateways` picks gateway ids (default: the
    first n); `app_options` go to each `create_app` (faults, down, stream_limit, ...).
    """
    import uvicorn

    from tuiot.simulators.thingspro import create_app

    ids = gateways or [g.id for g in world.gateways_of("thingspro")[:n]]
    if len(ids) < n:
        raise ValueError(f"the world has {len(ids)} thingspro gateways, not {n}")
    ids = ids[:n]
    tls = make_tls_files(tls_dir) if tls_dir is not None else None
    ssl = {"ssl_certfile": str(tls.cert_pem), "ssl_keyfile": str(tls.key_pem)} if tls else {}
    scheme = "https" if tls else "http"
    socks: list[socket.socket] = []
    for k in range(n):
        # proto must be IPPROTO_TCP, or asyncio skips TCP_NODELAY on accepted connections
        # and every small answer waits ~40 ms for a delayed ACK (Nagle)
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port + k if port else 0))
        socks.append(s)
    apps = [create_app(world, gateway=gid, **app_options) for gid in ids]
    servers = [
        uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", **ssl))
        for app in apps
    ]
    shown = f"[{host}]" if ":" in host else host
    urls = [f"{scheme}://{shown}:{s.getsockname()[1]}" for s in socks]
    started = threading.Event()

    async def main() -> None:
        tasks = [asyncio.create_task(srv.serve(sockets=[sock])) for srv, sock in zip(servers, socks)]
        while not all(srv.started for srv in servers):
            if any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.01)
        started.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="tuiot-gateways", daemon=True)
    thread.start()
    started.wait(timeout=30)
    running = RunningGateways(urls, ids, tls, apps, servers, thread)
    if not all(srv.started for srv in servers):
        running.close()
        raise RuntimeError("simulated gateways did not start")
    return running
