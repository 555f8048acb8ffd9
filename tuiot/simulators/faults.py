"""Fault injection for every simulator: latency, 429s, 5xx, stalls, bad bodies, drops.

Wrapped around a vendor app as ASGI middleware, so a test (or `tuiot simulate
--faults ...`) can prove the console survives a misbehaving cloud. Draws come from a
seeded generator: the same seed gives the same sequence of faults.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, fields
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Faults:
    latency: float = 0.0  # seconds added to every request
    rate429: float = 0.0  # probability of a 429
    retry_after: float = 1.0  # seconds announced with a 429
    error5xx: float = 0.0  # probability of a 503
    timeout: float = 0.0  # probability of stalling past any sane client timeout
    stall: float = 60.0  # how long a stall lasts
    malformed: float = 0.0  # probability of a 200 with a broken JSON body
    drop: float = 0.0  # probability of closing without an answer
    first429: int = 0  # the first N requests get a 429 (deterministic tests)
    seed: int = 1

    @classmethod
    def parse(cls, spec: str | None) -> "Faults":
        """`latency=0.2,rate429=0.1,error5xx=0.05` → Faults; unknown names are refused."""
        f = cls()
        if not spec:
            return f
        names = {x.name: x.type for x in fields(cls)}
        for part in spec.split(","):
            if not part.strip():
                continue
            key, _, val = part.partition("=")
            key = key.strip()
            if key not in names:
                raise ValueError(f"unknown fault '{key}' (known: {', '.join(names)})")
            try:
                num = float(val) if val else 1.0
            except ValueError:
                raise ValueError(f"fault '{key}' needs a number, got '{val}'") from None
            setattr(f, key, int(num) if key in ("first429", "seed") else num)
        return f

    @property
    def active(self) -> bool:
        return any(
            (self.latency, self.rate429, self.error5xx, self.timeout, self.malformed, self.drop, self.first429)
        )


class FaultMiddleware:
    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        f = self.faults
        self.count += 1
        if f.latency:
            await asyncio.sleep(f.latency)
        r = self.rng.random()
        if self.count <= f.first429 or r < f.rate429:
            await _answer(send, 429, b'{"message":"Too Many Requests"}', [(b"retry-after", str(f.retry_after).encode())])
            return
        r -= f.rate429
        if r < f.error5xx:
            await _answer(send, 503, b'{"message":"Service Unavailable"}')
            return
        r -= f.error5xx
        if r < f.timeout:
            await asyncio.sleep(f.stall)
            await _answer(send, 504, b'{"message":"Gateway Timeout"}')
            return
        r -= f.timeout
        if r < f.drop:
            raise ConnectionResetError("simulated dropped connection")
        r -= f.drop
        if r < f.malformed:
            await _answer(send, 200, b'{"data": [{"broken": ')
            return
        await self.app(scope, receive, send)


async def _answer(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


def with_faults(app: ASGIApp, faults: Faults | None) -> ASGIApp:
    return FaultMiddleware(app, faults) if faults is not None and faults.active else app
