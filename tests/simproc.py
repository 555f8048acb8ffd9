"""Start `tuiot simulate` as a real process on a free loopback port (for socket tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"simulator on port {port} did not start")


@contextmanager
def simulate(*args: str, ports: int = 1) -> Iterator[int]:
    """Run `tuiot simulate ARGS --port P`; yield P once every port listens."""
    port = free_port() if ports == 1 else _free_run(ports)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuiot", "simulate", *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        for k in range(ports):
            wait_port(port + k)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _free_run(n: int) -> int:
    for _ in range(50):
        base = free_port()
        ok = True
        for k in range(1, n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", base + k))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no run of free ports")
