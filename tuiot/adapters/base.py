"""What every vendor adapter shares: the interface, typed errors, one HTTP client, parsing.

An adapter turns one vendor's HTTP API into domain objects. The console and the CLI
see only the `Adapter` interface below and its `capabilities`; vendor JSON never leaves
the adapter module.
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import json
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel

from tuiot.adapters.pieces import decode_in_pieces
from tuiot.domain import (
    Aggregate,
    Alarm,
    AlarmStatus,
    Identity,
    Node,
    Reading,
    Rule,
    Series,
    now_utc,
)
from tuiot.gcpause import paused as gc_paused
from tuiot.httpx_lean import httpx

if TYPE_CHECKING:
    from tuiot.config import Profile
    from tuiot.credentials import SecretSource


# ---- errors -------------------------------------------------------------------


class AdapterError(Exception):
    """A failure the user can act on; `str(err)` is one line fit for a terminal."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class AuthError(AdapterError):
    """The vendor refused the credential (or none was available)."""


class RateLimited(AdapterError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VendorError(AdapterError):
    """The vendor answered with an error of its own (code and text as it sent them)."""

    def __init__(self, code: str | int | None, message: str, status: int | None = None) -> None:
        text = f"vendor error {code}: {message}" if code not in (None, "") else f"vendor error: {message}"
        super().__init__(text)
        self.code = code
        self.vendor_message = message
        self.status = status


class Unavailable(AdapterError):
    """The vendor could not be reached, timed out, or failed on its side (5xx)."""


class NotSupported(AdapterError):
    """The vendor (or this profile) cannot do what was asked."""


class InvalidRequest(AdapterError):
    """Refused before any request was sent: the input breaks a vendor rule."""


class NotFound(AdapterError):
    """No such device, metric, alarm or rule."""


# ---- capabilities ---------------------------------------------------------------


class Capability(str, Enum):
    tree = "tree"
    latest = "latest"
    history = "history"
    aggregate = "aggregate"  # server-side aggregation of history
    alarms = "alarms"
    alarm_close = "alarm_close"
    rules = "rules"  # vendor-native rules (read)
    rule_write = "rule_write"
    identities = "identities"
    identity_write = "identity_write"  # add/remove/lock/unlock/state
    tag_write = "tag_write"  # identity tags (Murano) or gateway tags (ThingsPro)
    group_write = "group_write"
    commands = "commands"
    installation = "installation"
    live_stream = "live_stream"


# ---- parsing helpers (vendor JSON is inconsistent: be tolerant) ------------------


def pick(d: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    """The first of `names` present in `d`, matching keys case-insensitively.

    Vendor samples mix `valueUnit` and `valueunit`, `ruleType` and `ruletype`.
    """
    for n in names:
        if n in d:
            return d[n]
    lowered = {k.lower(): v for k, v in d.items() if isinstance(k, str)}
    for n in names:
        v = lowered.get(n.lower())
        if v is not None or n.lower() in lowered:
            return v
    return default


def number(v: Any) -> Any:
    """Turn numbers sent as strings into numbers; leave anything else as it is."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        s = v.strip()
        if s.lower() in ("true", "false"):
            return s.lower() == "true"
        try:
            return int(s)
        except ValueError:
            pass
        try:
            f = float(s)
        except ValueError:
            return v
        return f
    return v


def as_int(v: Any, default: int | None = None) -> int | None:
    n = number(v)
    if isinstance(n, bool):
        return int(n)
    if isinstance(n, int):
        return n
    if isinstance(n, float):
        return int(n)
    return default


M = TypeVar("M", bound=BaseModel)
_new = object.__new__
_set = object.__setattr__


def built(cls: type[M], values: dict[str, Any], given: frozenset[str] | None = None) -> M:
    """`cls.model_construct(**values)` for values that are already exactly what validation
    would make of them: every field, in declaration order, of its declared type. `given`
    names the fields the validated call would have been passed (its `model_fields_set`),
    when some were left at their defaults; by default all of them.

    For the hot loops of a 100,000-device fleet only (each identity or node validated
    cost several µs, model_construct even more); anything less certain is validated.
    The result is equal to, and prints and dumps like, the validated model (tests check).
    """
    obj = _new(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(values if given is None else given))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


def as_list(v: Any) -> list[Any]:
    """A list from a list, a single object (some vendors drop the list for one item) or None."""
    if v is None:
        return []
    if isinstance(v, list):
        return v
    return [v]


def from_epoch(v: Any, unit: str) -> datetime:
    """Epoch in `unit` (s, ms, us) → aware UTC datetime. Accepts numbers as strings."""
    n = number(v)
    if not isinstance(n, (int, float)) or isinstance(n, bool):
        raise ValueError(f"not an epoch time: {v!r}")
    div = {"s": 1, "ms": 1_000, "us": 1_000_000}[unit]
    return datetime.fromtimestamp(n / div, tz=timezone.utc)


def from_epoch_guess(v: Any) -> datetime:
    """Epoch whose unit is told by its size: seconds, milliseconds or microseconds."""
    n = number(v)
    if not isinstance(n, (int, float)) or isinstance(n, bool):
        raise ValueError(f"not an epoch time: {v!r}")
    a = abs(n)
    unit = "us" if a >= 1e14 else "ms" if a >= 1e11 else "s"
    return from_epoch(n, unit)


def parse_time(v: Any) -> datetime:
    """ISO 8601 (a naive one is UTC) or an epoch number of any unit → aware UTC."""
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=timezone.utc)
    if isinstance(v, str):
        s = v.strip()
        n = number(s)
        if isinstance(n, (int, float)) and not isinstance(n, bool):
            return from_epoch_guess(n)
        if s.endswith("Z"):
            s = s[:-1] + "+00:00"
        dt = datetime.fromisoformat(s)
        return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    return from_epoch_guess(v)


def to_epoch(dt: datetime, unit: str) -> int:
    mult = {"s": 1, "ms": 1_000, "us": 1_000_000}[unit]
    return int(round(dt.timestamp() * mult))


# ---- connection health (what the status bar shows) -------------------------------


@dataclass
class Health:
    state: str = "unknown"  # unknown | ok | degraded | offline
    last_ok: datetime | None = None
    last_error: str | None = None
    requests: int = 0
    failures: int = 0
    retries: int = 0
    rate_limited_until: float = 0.0

    def ok(self) -> None:
        self.state = "ok"
        self.last_ok = now_utc()
        self.last_error = None

    def failed(self, err: AdapterError) -> None:
        self.failures += 1
        self.last_error = str(err)
        if isinstance(err, Unavailable):
            self.state = "offline"
        else:
            self.state = "degraded"


# ---- the shared HTTP client -----------------------------------------------------

ErrorParser = Callable[[httpx.Response, Any], "AdapterError | None"]


@dataclass
class HttpSettings:
    timeout: float = 15.0  # per request (connect/read/write)
    deadline: float = 45.0  # a whole logical call, retries included
    max_concurrency: int = 8
    retries: int = 3
    backoff: float = 0.5  # first wait; doubles, with jitter
    max_retry_after: float = 30.0  # a longer Retry-After is surfaced, not slept
    verify: bool | str = True
    headers: dict[str, str] = field(default_factory=dict)


class HttpClient:
    """One client per profile: timeouts, bounded concurrency, retries, typed errors.

    Retries are done here once, in the open, not in a transport: a 429's Retry-After
    sets a cooldown that every request of the profile waits for, so concurrent pollers
    do not each take their own 429; a wait longer than `max_retry_after` is raised as
    `RateLimited` for the UI to show instead of sleeping where nobody sees it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        settings: HttpSettings | None = None,
        auth: httpx.Auth | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        error_parser: ErrorParser | None = None,
        label: str = "",
    ) -> None:
        self.settings = s = settings or HttpSettings()
        self.base_url = base_url.rstrip("/")
        self.label = label or self.base_url
        self.health = Health()
        self._error_parser = error_parser
        self._sem = asyncio.Semaphore(s.max_concurrency)
        self._cooldown_until = 0.0
        timeout = httpx.Timeout(s.timeout, connect=min(s.timeout, 10.0), pool=s.deadline)
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            auth=auth,
            transport=transport,
            timeout=timeout,
            verify=s.verify,
            headers={"Accept": "application/json", "User-Agent": "tuiot", **s.headers},
            limits=httpx.Limits(max_connections=s.max_concurrency, max_keepalive_connections=s.max_concurrency),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> Any:
        return await self.request("POST", path, **kw)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool | None = None,
        expect: str = "json",  # json | text | none
    ) -> Any:
        """Send one request and return its parsed body, or raise an `AdapterError`.

        `retry` defaults to True for GET/PUT/DELETE and False for POST: a POST is only
        retried where the caller knows it is idempotent (searches, token requests).
        """
        if retry is None:
            retry = method.upper() != "POST"
        attempts = 1 + (self.settings.retries if retry else 0)
        try:
            async with asyncio.timeout(self.settings.deadline):
                return await self._attempts(method, path, params, json_body, content, headers, attempts, expect)
        except TimeoutError:
            err = Unavailable(f"{self.label}: no answer within {self.settings.deadline:g} s")
            self.health.failed(err)
            raise err from None
        except AdapterError as err:
            self.health.failed(err)
            raise

    async def _attempts(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        attempts: int,
        expect: str,
    ) -> Any:
        delay = self.settings.backoff
        for attempt in range(1, attempts + 1):
            wait = self._cooldown_until - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                resp = await self._send(method, path, params, json_body, content, headers)
            except AdapterError as err:
                transient = isinstance(err, Unavailable)
                if not transient or attempt == attempts:
                    raise
                self.health.retries += 1
                await asyncio.sleep(_jitter(delay))
                delay *= 2
                continue
            status = resp.status_code
            if status == 429 or status >= 500:
                retry_after = _retry_after(resp)
                if status == 429 and retry_after is not None:
                    if retry_after > self.settings.max_retry_after:
                        self.health.rate_limited_until = time.time() + retry_after
                        raise RateLimited(
                            f"{self.label}: rate limited, retry after {retry_after:.0f} s", retry_after
                        )
                    self._cooldown_until = time.monotonic() + retry_after
                if attempt < attempts:
                    self.health.retries += 1
                    await asyncio.sleep(0 if retry_after is not None else _jitter(delay))
                    delay *= 2
                    continue
                if status == 429:
                    raise RateLimited(f"{self.label}: rate limited (HTTP 429)", retry_after)
                body = _safe_json(resp)
                custom = self._error_parser(resp, body) if self._error_parser and body is not None else None
                detail = f" ({custom.message})" if custom else ""
                raise Unavailable(f"{self.label}: server error HTTP {status}{detail}")
            if expect == "json" and status < 400 and len(resp.content) >= _BIG_BODY:
                # in a worker thread, in pieces: the console keeps drawing while it decodes
                return self._parse(resp, expect, body=await asyncio.to_thread(decode_in_pieces, resp.content))
            return self._parse(resp, expect)
        raise AssertionError("unreachable")

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        self.health.requests += 1
        async with self._sem:
            # One turn of the event loop per request: over an in-process transport (the demo's
            # simulators) a request never waits on a socket, so without it thousands of them
            # (a Thingsee sweep) would run in one turn and the console would not draw meanwhile.
            await asyncio.sleep(0)
            try:
                return await self.client.request(
                    method, path, params=params, json=json_body, content=content, headers=headers
                )
            except httpx.TimeoutException:
                raise Unavailable(f"{self.label}: timed out after {self.settings.timeout:g} s") from None
            except httpx.ConnectError as e:
                raise Unavailable(_connect_message(self.label, e)) from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as e:
                raise Unavailable(f"{self.label}: connection dropped ({type(e).__name__})") from None
            except httpx.TransportError as e:
                raise Unavailable(f"{self.label}: {type(e).__name__}: {e}") from None

    def _parse(self, resp: httpx.Response, expect: str, body: Any = None) -> Any:
        """The answer's JSON (`body`, when already decoded), or a typed error for its status."""
        status = resp.status_code
        if body is None and (expect == "json" or status >= 400):
            body = _safe_json(resp)
        if status >= 400:
            custom = self._error_parser(resp, body) if self._error_parser else None
            if status in (401, 403):
                detail = custom.message if custom else (resp.reason_phrase or "refused")
                raise AuthError(f"{self.label}: credential refused (HTTP {status}: {_strip(detail)})")
            if custom is not None:
                raise custom
            if status == 404:
                raise NotFound(f"{self.label}: not found: {resp.request.url.path}")
            raise VendorError(status, _strip(resp.text[:200]) or resp.reason_phrase, status)
        if expect == "none" or status == 204 or (expect == "json" and not resp.content):
            self.health.ok()
            return None
        if expect == "text":
            self.health.ok()
            return resp.text
        if body is None:
            raise VendorError(None, f"malformed JSON from {resp.request.url.path}", status)
        if self._error_parser is not None:
            custom = self._error_parser(resp, body)
            if custom is not None:
                raise custom
        self.health.ok()
        return body

    def stream(self, method: str, path: str, **kw: Any) -> Any:
        """A streaming response context (`async with http.stream(...) as resp`)."""
        return self.client.stream(method, path, **kw)


def _strip(s: str) -> str:
    return " ".join(str(s).split())


# Above this size a body is decoded with the cyclic GC paused (see `gc_paused`).
_BIG_BODY = 256 * 1024


OFF_LOOP_MIN = 2_000  # items below which a stretch runs in place (a thread costs more than it saves)
R = TypeVar("R")


async def off_loop(size: int, fn: Callable[..., R], *args: Any) -> R:
    """Run `fn(*args)`, a synchronous stretch over `size` items (30,000 devices turned into
    nodes), in a worker thread when it is large. The event loop, which also draws the
    console and reads its keys, then gets the interpreter every few milliseconds instead
    of waiting a second or more for the stretch to end."""
    if size < OFF_LOOP_MIN:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)


def _safe_json(resp: httpx.Response) -> Any:
    content = resp.content
    if not content:
        return None
    try:
        if len(content) < _BIG_BODY:
            return json.loads(content)
        with gc_paused():
            return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None


def _retry_after(resp: httpx.Response) -> float | None:
    v = resp.headers.get("retry-after")
    if not v:
        return None
    try:
        return max(0.0, float(v))
    except ValueError:
        pass
    try:
        dt = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    return max(0.0, (dt - datetime.now(timezone.utc)).total_seconds())


def _jitter(delay: float) -> float:
    return delay * (0.5 + random.random())


def _connect_message(label: str, e: Exception) -> str:
    text = str(e)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return (
            f"{label}: TLS certificate not trusted (self-signed?). Set `verify` in the profile "
            "to the gateway's CA bundle path, or `verify = false` to skip checking (insecure)"
        )
    return f"{label}: cannot connect ({_strip(text) or type(e).__name__})"


# ---- the adapter interface -------------------------------------------------------


class Adapter(ABC):
    """One vendor account (a profile) seen as a fleet.

    Every method returns domain objects; unsupported operations raise `NotSupported`
    with a sentence the UI can show ("Thingsee does not allow closing alerts").
    """

    vendor: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(
        self,
        profile: Profile,
        secrets: SecretSource,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.profile = profile
        self.secrets = secrets
        self.transport = transport

    @property
    def name(self) -> str:
        return self.profile.name

    def can(self, cap: Capability) -> bool:
        return cap in self.capabilities

    def ref(self, kind: str, id: str) -> str:
        return f"{self.name}/{kind}/{id}"

    @property
    def health(self) -> Health:
        """Connection health for the status bar; adapters with one client return its health."""
        return Health()

    async def aclose(self) -> None:
        """Release connections."""

    # reads ---------------------------------------------------------------------

    @abstractmethod
    async def tree(self, *, depth: str = "metric") -> list[Node]:
        """The fleet as a flat list, parents before children.

        `depth` is "device" (groups and devices only; what the console loads first) or
        "metric" (everything down to metrics; what `tuiot tree` prints).
        """

    async def node(self, ref: str) -> Node | None:
        """One node afresh, with what a tree at depth "device" leaves out to load fast (a
        ThingsPro gateway's cloud connectivity); None when the tree says all there is."""
        return None

    async def children(self, ref: str) -> list[Node]:
        """The nodes below one node (used for lazy loading of a device's sensors and metrics)."""
        return [n for n in await self.tree(depth="metric") if n.parent == ref]

    @abstractmethod
    async def latest(self, refs: Sequence[str] | None = None) -> list[Reading]:
        """Newest reading of every metric below the given node refs (None: the whole profile)."""

    @abstractmethod
    async def history(
        self,
        metric: str,
        start: datetime,
        end: datetime,
        *,
        aggregate: Aggregate | None = None,
        bucket: timedelta | None = None,
    ) -> Series:
        """Readings of one metric (a ref or the id printed by `tuiot tree`) in [start, end]."""

    async def alarms(self, *, status: AlarmStatus | None = None, since: datetime | None = None) -> list[Alarm]:
        """Vendor alarms; open ones whatever their age, closed ones opened since `since`."""
        raise NotSupported(f"{self.vendor} has no vendor alarms; use local rules")

    async def close_alarm(self, alarm_id: str) -> None:
        raise NotSupported(f"{self.vendor} alarms cannot be closed from here")

    async def rules(self) -> list[Rule]:
        raise NotSupported(f"{self.vendor} has no native rules; use local rules")

    async def create_rule(self, rule: Rule) -> Rule:
        raise NotSupported(f"{self.vendor} rules cannot be created; use local rules")

    async def update_rule(self, rule: Rule) -> Rule:
        raise NotSupported(f"{self.vendor} rules cannot be changed; use local rules")

    async def delete_rule(self, rule_id: str) -> None:
        raise NotSupported(f"{self.vendor} rules cannot be deleted; use local rules")

    async def identities(
        self,
        *,
        status: Iterable[str] | None = None,
        match: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> list[Identity]:
        raise NotSupported(f"{self.vendor} has no identities")

    def group_problem(self, group_id: str) -> str | None:
        """Why this vendor would refuse `group_id` as a group to move things to, or None.

        The vendor's naming rule lives with its adapter; a form asks here before it asks
        anything else, so a refused id is said where it was typed, not after a confirmation."""
        return None

    def metric_id(self, metric: str) -> str:
        """Accept a full ref (`profile/metric/ID`) or a bare id; return the bare id."""
        prefix = f"{self.name}/metric/"
        return metric[len(prefix):] if metric.startswith(prefix) else metric


async def gather_limited(coros: Iterable[Awaitable[Any]], limit: int = 8) -> list[Any]:
    """Run awaitables with at most `limit` in flight; results in order, exceptions returned."""
    sem = asyncio.Semaphore(limit)

    async def one(c: Awaitable[Any]) -> Any:
        try:
            async with sem:
                return await c
        except AdapterError as e:
            return e
        finally:
            if inspect.iscoroutine(c) and c.cr_frame is not None and not c.cr_running and c.cr_await is None:
                c.close()  # cancelled while queued for the semaphore: never started, so close it quietly

    pending = list(coros)
    try:
        return await asyncio.gather(*(one(c) for c in pending))
    except asyncio.CancelledError:
        # cancelled (the console quit mid-load) before some tasks even started: their
        # awaitables would be collected unawaited, each with a RuntimeWarning on stderr
        for c in pending:
            if inspect.iscoroutine(c) and inspect.getcoroutinestate(c) == inspect.CORO_CREATED:
                c.close()
        raise
