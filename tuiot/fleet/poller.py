"""One poller per profile: refresh what is on screen, back off on errors, wait for nobody.

Each profile runs its own loop, so a slow or failing vendor only delays itself. A round
asks the console what it wants now (`Want`: the metric refs on screen, or the whole
profile when local rules need every reading, whether the alarm inbox is due, and whether
the identity list is), sends one batched `latest` call, one `alarms` call and one
`identities` call to the adapter concurrently, and hands a `Polled` result back. The console turns that into state; the poller keeps none of it.

After a failure the next round waits `backoff()`: the interval doubled per consecutive
failure up to a cap, never shorter than a vendor's Retry-After, with jitter so several
consoles do not retry in step. `wake()` runs a round now (the user pressed ctrl+r or
changed what is shown), except while a Retry-After is running.

No Textual and no I/O of its own: the adapter does the HTTP, the caller's `deliver`
callback the state.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from tuiot.domain import Alarm, Identity, Reading, now_utc

MAX_BACKOFF = 300.0  # s: a dead vendor is still retried every five minutes
ALARM_WINDOW = timedelta(days=7)


class _Adapter(Protocol):
    async def latest(self, refs: Any = None) -> list[Reading]: ...
    async def alarms(self, *, status: Any = None, since: datetime | None = None) -> list[Alarm]: ...
    async def identities(self) -> list[Identity]: ...


@dataclass(frozen=True)
class Want:
    """What one round should fetch. `latest`: refs to read, None for the whole profile,
    an empty tuple for nothing."""

    latest: tuple[str, ...] | None = ()
    alarms: bool = False
    identities: bool = False

    @property
    def empty(self) -> bool:
        return self.latest == () and not self.alarms and not self.identities


@dataclass
class Polled:
    profile: str
    want: Want
    readings: list[Reading] | None = None
    alarms: list[Alarm] | None = None
    identities: list[Identity] | None = None
    errors: list[Exception] = field(default_factory=list)
    started: float = 0.0  # monotonic: answers older than another already shown are not shown
    took: float = 0.0  # s
    next_in: float = 0.0  # s until the next round
    asked: bool = False  # a request went out: only then does the round say anything of the vendor

    @property
    def ok(self) -> bool:
        return not self.errors

    def __repr__(self) -> str:
        # Textual reprs messages as it dispatches them: a round may carry 100,000 readings
        n = lambda items: "-" if items is None else len(items)  # noqa: E731
        return (f"Polled({self.profile!r}, readings={n(self.readings)}, alarms={n(self.alarms)}, "
                f"identities={n(self.identities)}, errors={len(self.errors)}, took={self.took:.3f})")


def backoff(interval: float, failures: int, retry_after: float | None = None, *,
            cap: float = MAX_BACKOFF, jitter: float = 0.1, rand: Callable[[], float] = random.random) -> float:
    """Seconds until the next round after `failures` failed rounds in a row."""
    if failures <= 0:
        delay = interval
    else:
        delay = min(max(cap, interval), interval * 2 ** min(failures, 16))
        delay *= 1 + jitter * (2 * rand() - 1)
    return max(delay, retry_after or 0.0)


class Poller:
    """The refresh loop of one profile (see the module doc)."""

    def __init__(
        self,
        profile: str,
        adapter: _Adapter,
        *,
        interval: float,
        want: Callable[[], Want],
        deliver: Callable[[Polled], Awaitable[None] | None],
        can_alarms: bool = True,
        can_identities: bool = False,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.profile = profile
        self.adapter = adapter
        self.interval = interval
        self.want = want
        self.deliver = deliver
        self.can_alarms = can_alarms
        self.can_identities = can_identities
        self.clock = clock
        self.failures = 0
        self.paused = False
        self.rounds = 0
        self._wake = asyncio.Event()
        self._hold_until = 0.0  # monotonic: a Retry-After the vendor asked for

    # ---- control ---------------------------------------------------------------------

    def wake(self) -> None:
        """Poll now rather than at the next interval (a Retry-After still holds)."""
        self._wake.set()

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            self._wake.clear()  # a wake() during the round below still cuts the sleep after it
            delay = self.interval
            if not self.paused:
                want = self.want()
                if not want.empty:
                    result = await self.poll(want)
                    outcome = self.deliver(result)
                    if asyncio.iscoroutine(outcome):
                        await outcome
                    delay = result.next_in
            await self._sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            return
        hold = self._hold_until - time.monotonic()
        if hold > 0:
            await asyncio.sleep(hold)

    # ---- one round -------------------------------------------------------------------

    async def poll(self, want: Want) -> Polled:
        """One round: the readings, alarms and identities asked for, fetched concurrently."""
        t0 = time.perf_counter()
        result = Polled(self.profile, want, started=time.monotonic())
        jobs: list[Awaitable[Any]] = []
        if want.latest != ():
            jobs.append(self._latest(want.latest, result))
        if want.alarms and self.can_alarms:
            jobs.append(self._alarms(result))
        if want.identities and self.can_identities:
            jobs.append(self._identities(result))
        result.asked = bool(jobs)
        await asyncio.gather(*jobs)
        self.rounds += 1
        self.failures = self.failures + 1 if result.errors else 0
        retry_after = max((getattr(e, "retry_after", None) or 0.0 for e in result.errors), default=0.0)
        if retry_after:
            self._hold_until = time.monotonic() + retry_after
        result.took = time.perf_counter() - t0
        result.next_in = backoff(self.interval, self.failures, retry_after or None)
        return result

    async def _latest(self, refs: tuple[str, ...] | None, result: Polled) -> None:
        try:
            result.readings = await self.adapter.latest(list(refs) if refs is not None else None)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the round reports it; the loop goes on
            result.errors.append(e)

    async def _alarms(self, result: Polled) -> None:
        try:
            result.alarms = await self.adapter.alarms(since=self.clock() - ALARM_WINDOW)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            result.errors.append(e)

    async def _identities(self, result: Polled) -> None:
        try:
            result.identities = await self.adapter.identities()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            result.errors.append(e)
