"""The shared HTTP client: retries, Retry-After, typed errors, tolerant parsing."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import httpx
import pytest

from tuiot.adapters.base import (
    AuthError,
    HttpClient,
    HttpSettings,
    RateLimited,
    Unavailable,
    VendorError,
    from_epoch,
    from_epoch_guess,
    number,
    parse_time,
    pick,
)

FAST = HttpSettings(backoff=0.001, retries=2, deadline=5)


def client(handler, **kw) -> HttpClient:
    return HttpClient("http://sim", settings=kw.pop("settings", FAST), transport=httpx.MockTransport(handler), **kw)


async def test_429_with_retry_after_then_success() -> None:
    calls = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, json={"data": [1]})

    c = client(handler)
    assert await c.get("/x") == {"data": [1]}
    assert len(calls) == 2 and c.health.state == "ok" and c.health.retries == 1


async def test_long_retry_after_is_surfaced_not_slept() -> None:
    c = client(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimited, match="retry after 3600 s") as e:
        await c.get("/x")
    assert e.value.retry_after == 3600


async def test_5xx_retried_then_unavailable() -> None:
    n = []
    c = client(lambda r: n.append(1) or httpx.Response(503))
    with pytest.raises(Unavailable, match="HTTP 503"):
        await c.get("/x")
    assert len(n) == 3


async def test_post_not_retried_by_default() -> None:
    n = []
    c = client(lambda r: n.append(1) or httpx.Response(502))
    with pytest.raises(Unavailable):
        await c.post("/x", json_body={})
    assert len(n) == 1


async def test_401_is_auth_error_and_400_uses_vendor_parser() -> None:
    def parser(resp, body):
        if isinstance(body, dict) and "error" in body:
            return VendorError(body["error"]["code"], body["error"]["desc"])
        return None

    c = client(lambda r: httpx.Response(401, json={"message": "Unauthorized"}), error_parser=parser)
    with pytest.raises(AuthError, match="credential refused"):
        await c.get("/x")
    c = client(lambda r: httpx.Response(400, json={"error": {"code": "11", "desc": "Warn.could not detect any correct action."}}), error_parser=parser)
    with pytest.raises(VendorError, match="vendor error 11: Warn.could not detect") as e:
        await c.get("/x")
    assert e.value.code == "11"
    # a 200 that carries an error is an error too
    c = client(lambda r: httpx.Response(200, json={"error": {"code": "3", "desc": "nope"}}), error_parser=parser)
    with pytest.raises(VendorError, match="nope"):
        await c.get("/x")


async def test_malformed_json_is_a_clear_error() -> None:
    c = client(lambda r: httpx.Response(200, content=b'{"data": [1,'))
    with pytest.raises(VendorError, match="malformed JSON"):
        await c.get("/x")


async def test_connect_error_and_deadline() -> None:
    def refuse(req):
        raise httpx.ConnectError("Connection refused", request=req)

    c = client(refuse)
    with pytest.raises(Unavailable, match="cannot connect"):
        await c.get("/x")
    assert c.health.state == "offline"

    async def slow(req):
        await asyncio.sleep(5)
        return httpx.Response(200, json={})

    c = HttpClient("http://sim", settings=HttpSettings(deadline=0.2, retries=0), transport=httpx.MockTransport(slow))
    with pytest.raises(Unavailable, match="no answer within 0.2 s"):
        await c.get("/x")


async def test_concurrency_is_bounded() -> None:
    live, peak = 0, 0

    async def handler(req):
        nonlocal live, peak
        live += 1
        peak = max(peak, live)
        await asyncio.sleep(0.01)
        live -= 1
        return httpx.Response(200, json={})

    c = client(handler, settings=HttpSettings(max_concurrency=3))
    await asyncio.gather(*(c.get("/x") for _ in range(12)))
    assert peak <= 3


def test_tolerant_parsing() -> None:
    assert pick({"valueunit": "°C"}, "valueUnit") == "°C"
    assert pick({"valueUnit": "°C"}, "valueunit", "valueUnit") == "°C"
    assert number("23.5") == 23.5 and number("12") == 12 and number("abc") == "abc" and number("true") is True
    t = datetime(2018, 12, 20, 7, 6, 57, 957000, tzinfo=timezone.utc)
    assert from_epoch(1545289617957, "ms") == t
    assert from_epoch("1545289617957", "ms") == t
    assert from_epoch_guess(1545289617957000) == t
    assert from_epoch_guess(1545289617.957) == t
    assert parse_time("2019-12-03T07:22:19") == datetime(2019, 12, 3, 7, 22, 19, tzinfo=timezone.utc)
    assert parse_time("2019-12-03T07:22:19Z").tzinfo is not None


async def test_a_sweep_over_an_in_process_transport_leaves_the_event_loop_turns_to_draw() -> None:
    """An in-process transport never waits on a socket: each request still gives the loop a
    turn, so a console sharing it (the demo) keeps drawing through a 300-request sweep."""
    from tuiot.adapters.base import gather_limited

    http = client(lambda req: httpx.Response(200, json={"data": 1}))
    turns = 0
    done = False

    async def other_work() -> None:  # stands for the console's timers and key handling
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    watcher = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    await gather_limited((http.request("GET", "/x") for _ in range(300)), limit=8)
    done = True
    await watcher
    await http.aclose()
    assert turns >= 300 / 8


async def test_off_loop_runs_large_stretches_in_a_thread_and_small_ones_in_place() -> None:
    import threading

    from tuiot.adapters.base import OFF_LOOP_MIN, off_loop

    here = threading.get_ident()
    assert await off_loop(10, threading.get_ident) == here
    assert await off_loop(OFF_LOOP_MIN, threading.get_ident) != here


async def test_the_bench_stall_probe_sees_a_blocked_event_loop() -> None:
    import time

    from tuiot.commands.bench import StallProbe

    probe = StallProbe()
    probe.start()
    await asyncio.sleep(0.05)
    time.sleep(0.3)  # a synchronous stretch on the loop, as a big parse once was
    await asyncio.sleep(0.05)
    probe.stop()
    assert 0.25 <= probe.longest < 2


@pytest.mark.parametrize("doc", [
    {"data": [{"id": i, "name": f"g[{i}],\"x\"", "devices": [{"v": i / 3, "ok": i % 2 == 0, "n": None}]} for i in range(50)],
     "status": "OK"},
    [{"identity": f"d{i}", "tags": {"site": ["a", "b"]}, "lastseen": 10**15 + i} for i in range(40)],
    {"devices": [], "mayLoadMore": False, "nested": {"deep": [[1, 2], [3]]}},
    {"a": [[1, [2, {"b": "]}["}]], {}], "e": {}, "f": [], "g": "x", "h": -1.5e-7},
    [],
    "just a string",
])
def test_decoding_a_big_body_in_pieces_gives_what_json_loads_gives(doc) -> None:
    from tuiot.adapters.pieces import decode_in_pieces as _decode_in_pieces

    for text in (json.dumps(doc), json.dumps(doc, indent=2), "\n " + json.dumps(doc, separators=(",", ":")) + " \n"):
        assert _decode_in_pieces(text.encode()) == json.loads(text)


@pytest.mark.parametrize("bad", [b'{"data": [1, 2,]}', b'[1, 2] [3]', b'{"a" 1}', b'{"data": [1, 2', b"\xff\xfe{", b""])
def test_decoding_in_pieces_refuses_what_is_not_json(bad: bytes) -> None:
    from tuiot.adapters.pieces import decode_in_pieces as _decode_in_pieces

    assert _decode_in_pieces(bad) is None


async def test_gather_limited_cancelled_before_its_tasks_start_leaves_no_coroutine_unawaited() -> None:
    import gc
    import inspect
    import warnings

    from tuiot.adapters.base import gather_limited

    async def work(i: int) -> int:
        await asyncio.sleep(0.01)
        return i

    coros = [work(i) for i in range(20)]
    task = asyncio.ensure_future(gather_limited(iter(coros), limit=2))
    await asyncio.sleep(0)  # the gather is under way, its tasks not yet started
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in coros)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del coros, task
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]
