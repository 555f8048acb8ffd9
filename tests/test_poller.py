"""The per-profile poller: batching, backoff, wake-up, and slow vendors delaying nobody."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from tuiot.adapters.base import RateLimited, Unavailable
from tuiot.domain import Identity, Reading
from tuiot.fleet.poller import MAX_BACKOFF, Poller, Polled, Want, backoff


class FakeAdapter:
    def __init__(self, *, delay: float = 0.0, fail: list[Exception] | None = None) -> None:
        self.delay = delay
        self.fail = list(fail or [])
        self.latest_calls: list[list[str] | None] = []
        self.alarm_calls = 0
        self.identity_calls = 0
        self.identity_fail: list[Exception] = []

    async def latest(self, refs: list[str] | None = None) -> list[Reading]:
        self.latest_calls.append(refs)
        await asyncio.sleep(self.delay)
        if self.fail:
            raise self.fail.pop(0)
        return [Reading(metric=r, value=1.0, ts=datetime(2026, 1, 1)) for r in refs or ["p/metric/all"]]

    async def alarms(self, *, status: object = None, since: datetime | None = None) -> list:
        self.alarm_calls += 1
        await asyncio.sleep(self.delay)
        return []

    async def identities(self) -> list[Identity]:
        self.identity_calls += 1
        await asyncio.sleep(self.delay)
        if self.identity_fail:
            raise self.identity_fail.pop(0)
        return [Identity(identity="a", profile="p", status="provisioned")]


def test_backoff_doubles_per_failure_caps_and_honours_retry_after() -> None:
    mid = lambda: 0.5  # noqa: E731 — no jitter
    assert backoff(10, 0, rand=mid) == 10
    assert backoff(10, 1, rand=mid) == 20
    assert backoff(10, 3, rand=mid) == 80
    assert backoff(10, 50, rand=mid) == MAX_BACKOFF
    assert backoff(10, 1, retry_after=120, rand=mid) == 120
    # jitter stays within ±10 %
    assert 18 <= backoff(10, 1, rand=lambda: 0.0) <= 22
    assert 18 <= backoff(10, 1, rand=lambda: 1.0) <= 22
    # an interval longer than the cap is never shortened by a failure
    assert backoff(600, 1, rand=mid) == 600


async def test_one_round_batches_refs_and_fetches_alarms_concurrently() -> None:
    adapter = FakeAdapter(delay=0.2)
    poller = Poller("p", adapter, interval=10, want=lambda: Want(), deliver=lambda r: None)
    result = await poller.poll(Want(latest=("p/metric/a", "p/metric/b"), alarms=True))
    assert adapter.latest_calls == [["p/metric/a", "p/metric/b"]]  # one call for every ref
    assert adapter.alarm_calls == 1
    assert result.ok and len(result.readings or []) == 2 and result.alarms == []
    assert result.took < 0.35  # concurrent, not 0.4 s in a row
    assert result.next_in == 10


async def test_failures_back_off_and_a_success_resets() -> None:
    adapter = FakeAdapter(fail=[Unavailable("down"), Unavailable("down")])
    poller = Poller("p", adapter, interval=5, want=lambda: Want(latest=None), deliver=lambda r: None)
    first = await poller.poll(Want(latest=None))
    second = await poller.poll(Want(latest=None))
    third = await poller.poll(Want(latest=None))
    assert not first.ok and isinstance(first.errors[0], Unavailable)
    assert 9 <= first.next_in <= 11 and 18 <= second.next_in <= 22
    assert third.ok and third.next_in == 5 and poller.failures == 0


async def test_retry_after_is_waited_even_when_woken() -> None:
    adapter = FakeAdapter(fail=[RateLimited("slow down", retry_after=0.3)])
    poller = Poller("p", adapter, interval=0.05, want=lambda: Want(latest=None), deliver=lambda r: None)
    result = await poller.poll(Want(latest=None))
    assert result.next_in >= 0.3
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    poller.wake()
    await poller._sleep(result.next_in)
    assert loop.time() - t0 >= 0.28


async def test_wake_polls_now_and_an_empty_want_calls_nothing() -> None:
    adapter = FakeAdapter()
    delivered: list[Polled] = []
    wanted = [Want()]
    poller = Poller("p", adapter, interval=60, want=lambda: wanted[0], deliver=delivered.append)
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(0.05)
    assert adapter.latest_calls == [] and delivered == []  # nothing on screen: no request
    wanted[0] = Want(latest=("p/metric/x",))
    poller.wake()
    await asyncio.sleep(0.05)
    task.cancel()
    assert adapter.latest_calls == [["p/metric/x"]] and len(delivered) == 1


async def test_a_slow_vendor_never_delays_a_fast_one() -> None:
    slow, fast = FakeAdapter(delay=1.0), FakeAdapter()
    got: dict[str, int] = {"slow": 0, "fast": 0}

    def count(name: str):
        return lambda r: got.__setitem__(name, got[name] + 1)

    pollers = [
        Poller("slow", slow, interval=0.02, want=lambda: Want(latest=None), deliver=count("slow")),
        Poller("fast", fast, interval=0.02, want=lambda: Want(latest=None), deliver=count("fast")),
    ]
    tasks = [asyncio.create_task(p.run()) for p in pollers]
    await asyncio.sleep(0.5)
    for t in tasks:
        t.cancel()
    assert got["slow"] == 0
    assert got["fast"] >= 5


async def test_paused_poller_sends_nothing() -> None:
    adapter = FakeAdapter()
    poller = Poller("p", adapter, interval=0.01, want=lambda: Want(latest=None), deliver=lambda r: None)
    poller.paused = True
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(0.1)
    task.cancel()
    assert adapter.latest_calls == []


@pytest.mark.parametrize("can", [True, False])
async def test_alarms_only_where_the_vendor_has_them(can: bool) -> None:
    adapter = FakeAdapter()
    poller = Poller("p", adapter, interval=10, want=lambda: Want(), deliver=lambda r: None, can_alarms=can)
    await poller.poll(Want(alarms=True))
    assert adapter.alarm_calls == (1 if can else 0)


async def test_identities_come_in_the_same_round_and_a_failure_backs_off() -> None:
    """Screen 6 refreshes through the profile's poller: one identities call beside the
    readings, none for a vendor without identities, and a failed one backs the round off."""
    adapter = FakeAdapter(delay=0.2)
    poller = Poller("p", adapter, interval=5, want=lambda: Want(), deliver=lambda r: None, can_identities=True)
    result = await poller.poll(Want(latest=("p/metric/a",), identities=True))
    assert adapter.identity_calls == 1 and [i.identity for i in result.identities or []] == ["a"]
    assert result.took < 0.35  # beside the readings, not after them
    assert not Want(identities=True).empty
    adapter.identity_fail = [Unavailable("down")]
    failed = await poller.poll(Want(identities=True))
    assert not failed.ok and failed.identities is None and 9 <= failed.next_in <= 11
    plain = FakeAdapter()
    await Poller("q", plain, interval=5, want=lambda: Want(), deliver=lambda r: None).poll(Want(identities=True))
    assert plain.identity_calls == 0  # can_identities defaults to off
