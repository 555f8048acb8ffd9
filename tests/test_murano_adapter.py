"""Murano adapter against the Device2 business-API simulator in process (no sockets)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tuiot.adapters.base import AuthError, InvalidRequest, NotFound, Unavailable, VendorError
from tuiot.adapters.murano import MuranoAdapter, _us
from tuiot.adapters.series import bucketize
from tuiot.config import Profile
from tuiot.credentials import SecretSource
from tuiot.domain import Aggregate, IdentityStatus
from tuiot.simulators.faults import Faults
from tuiot.simulators.fleet import build_world
from tuiot.simulators.murano import DEMO_EMAIL, DEMO_SECRET, DEMO_SOLUTION, SERVICE_ID, create_app

NOW = 1_780_000_000.0 - (1_780_000_000.0 % 3600)
FIXTURES = Path(__file__).parent / "fixtures" / "murano"


class Recording(httpx.AsyncBaseTransport):
    """Keeps every request (method, path, headers, JSON body) on its way to the app."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, request.url.path, dict(request.headers), body))
        return await self.inner.handle_async_request(request)

    def ops(self, op: str) -> list[Any]:
        return [b for _, p, _, b in self.calls if p.endswith(f"/call/{op}")]

    def count(self, fragment: str) -> int:
        return sum(1 for _, p, _, _ in self.calls if fragment in p)


class Setup:
    def __init__(self, world: Any, *, secret: str = DEMO_SECRET, profile: dict[str, Any] | None = None, **opts: Any) -> None:
        self.world = world
        self.app = create_app(world, now=opts.pop("now", NOW), **opts)
        self.sim = self.app.state.sim
        self.transport = Recording(httpx.ASGITransport(app=self.app, raise_app_exceptions=False))
        fields = {"name": "mur", "vendor": "murano", "base_url": "http://murano.test", "username": DEMO_EMAIL,
                  "solution_id": DEMO_SOLUTION, "timeout": 5.0}
        fields.update(profile or {})
        self.profile = Profile(**fields)
        self.secrets = SecretSource(fixed={"mur": secret}, use_keyring=False)
        self.adapter = MuranoAdapter(self.profile, self.secrets, transport=self.transport)


@pytest.fixture
async def setup(world):  # type: ignore[no-untyped-def]
    s = Setup(world)
    yield s
    await s.adapter.aclose()


@pytest.fixture(scope="module")
def big_world():  # about 600 murano devices
    return build_world(devices=2000, seed=7, epoch=NOW)


def murano_ids(world: Any) -> set[str]:
    return {d.id for d in world.devices_of("murano")}


def t(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


# ---- auth and plumbing -------------------------------------------------------------------------


async def test_token_header_one_login_and_one_discovery(setup: Setup) -> None:
    await setup.adapter.identities()
    await setup.adapter.tree(depth="metric")
    assert setup.transport.count("/api:1/token") == 1
    assert sum(1 for _, p, _, _ in setup.transport.calls if p.endswith("/serviceconfig/device2")) == 1
    for method, path, headers, body in setup.transport.calls:
        if "/call/" in path:
            assert method == "POST"
            assert headers["authorization"].startswith("token ")
            assert isinstance(body, dict)
    login = setup.transport.calls[0]
    assert login[1] == "/api:1/token/" and login[3] == {"email": DEMO_EMAIL, "password": DEMO_SECRET}
    assert "authorization" not in login[2]


async def test_tree_and_identities_share_one_listing_until_a_write(setup: Setup) -> None:
    a = setup.adapter
    nodes = await a.tree(depth="device")
    items = await a.identities()
    assert setup.transport.count("/call/listIdentities") == 1
    assert {i.identity for i in items} == {n.id for n in nodes if n.kind == "device"}
    # handed over once: the same call again (a refresh) reads the gateway
    await a.identities()
    assert setup.transport.count("/call/listIdentities") == 2
    await a.tree(depth="device")  # takes the listing identities() just read
    assert setup.transport.count("/call/listIdentities") == 2
    await a.tree(depth="device")
    assert setup.transport.count("/call/listIdentities") == 3
    # a write drops the listing the tree left for identities()
    await a.add_identity("shared-listing-1")
    assert "shared-listing-1" in {i.identity for i in await a.identities()}
    assert setup.transport.count("/call/listIdentities") == 4


async def test_identities_and_nodes_are_as_validated(setup: Setup) -> None:
    """Identities and device nodes are built without validation: they must be exactly the
    validated models (equal, same repr, same dump, same fields set)."""
    from tuiot.domain import Identity, Node, StateValue

    a = setup.adapter
    nodes = await a.tree(depth="device")
    items = await a.identities()
    odd = a._identity({"Identity": "x", "STATE": {"a": {"Set": {"k": 1}, "reported": None}},
                       "Tags": [{"Name": "n", "VALUE": 3}], "Status": "weird", "auth": {"type": 5}})
    for i in [*items, odd]:
        again = Identity(**{**i.__dict__, "state": {k: StateValue(**v.__dict__) for k, v in i.state.items()}})
        assert i == again and repr(i) == repr(again) and i.model_dump_json() == again.model_dump_json()
        assert i.model_fields_set == again.model_fields_set
        assert all(v.model_fields_set == again.state[k].model_fields_set for k, v in i.state.items())
    devices = [n for n in nodes if n.kind == "device"]
    assert devices
    for n in devices:
        again = Node(**{k: v for k, v in n.__dict__.items() if k in n.model_fields_set})
        assert n == again and repr(n) == repr(again) and n.model_dump_json() == again.model_dump_json()
        assert n.model_fields_set == again.model_fields_set


async def test_relogin_once_after_token_expiry(setup: Setup) -> None:
    await setup.adapter.identities()
    setup.app.state.revoke_tokens()
    found = await setup.adapter.identities(match="^pump-")
    assert found and all(i.identity.startswith("pump-") for i in found)
    assert setup.app.state.logins == 2


async def test_wrong_password_is_auth_error_and_forgets_secret(world: Any) -> None:
    s = Setup(world, secret="wrong")
    forgotten: list[str] = []
    s.secrets.forget = forgotten.append  # type: ignore[method-assign]
    with pytest.raises(AuthError, match="login refused for ops@example.com"):
        await s.adapter.identities()
    assert forgotten == ["mur"]
    assert "wrong" not in repr(s.adapter.__dict__)
    await s.adapter.aclose()


async def test_twofactor_account_is_explained(world: Any) -> None:
    s = Setup(world, twofactor=True)
    with pytest.raises(AuthError, match="two-factor"):
        await s.adapter.identities()
    await s.adapter.aclose()


async def test_unknown_solution_is_not_found(world: Any) -> None:
    s = Setup(world, profile={"solution_id": "nope"})
    with pytest.raises(NotFound, match="solution 'nope' has no Device2 service"):
        await s.adapter.tree(depth="device")
    await s.adapter.aclose()


async def test_base_url_with_api_suffix_is_accepted(world: Any) -> None:
    s = Setup(world, profile={"base_url": "http://murano.test/api:1/"})
    assert len(await s.adapter.identities()) == len(murano_ids(world))
    await s.adapter.aclose()


async def test_reads_are_retried_after_429(world: Any) -> None:
    s = Setup(world, faults=Faults(first429=2, retry_after=0.01))
    assert len(await s.adapter.identities()) == len(murano_ids(world))
    # the first two answers (the login's) were 429s, waited out and retried
    assert s.adapter._login_http.health.retries + s.adapter.health.retries == 2
    await s.adapter.aclose()


async def test_server_errors_end_as_unavailable(world: Any) -> None:
    s = Setup(world, faults=Faults(error5xx=1.0))
    s.adapter.http.settings.retries = 1
    s.adapter.http.settings.backoff = 0.001
    s.adapter._login_http.settings.retries = 1
    s.adapter._login_http.settings.backoff = 0.001
    with pytest.raises(Unavailable):
        await s.adapter.identities()
    await s.adapter.aclose()


# ---- identities ---------------------------------------------------------------------------------


async def test_identities_have_status_tags_state_and_utc_lastseen(setup: Setup, world: Any) -> None:
    items = await setup.adapter.identities()
    assert {i.identity for i in items} == murano_ids(world)
    by_id = {i.identity: i for i in items}
    statuses = {str(getattr(i.status, "value", i.status)) for i in items}
    assert "provisioned" in statuses
    for ident in items:
        dev = world.device(ident.identity)
        raw = setup.sim.idents[ident.identity]
        if raw.connected_ever:
            expected = t(world.last_time(dev, NOW))
            assert ident.lastseen == expected and ident.lastseen.tzinfo == UTC
            assert ident.lastip == dev.ip
            assert set(ident.state) == {m.key for _, m in world.metrics(dev)}
            some = next(iter(ident.state.values()))
            assert some.reported == some.set and some.ts == expected
        else:
            assert ident.lastseen is None and ident.online is False and not ident.state
        assert ident.tags["model"] == [dev.model]
        if "site" in ident.tags:
            assert ident.group == world.sites[dev.site].id
        else:
            assert ident.group is None
    locked = [i for i in items if i.locked]
    assert locked and any(i.lastseen is None for i in items)
    assert all(i.status == IdentityStatus.locked and i.online is False for i in locked)
    assert by_id  # every identity parsed


def test_microseconds_to_utc() -> None:
    assert _us(1487021743864000) == datetime(2017, 2, 13, 21, 35, 43, 864000, tzinfo=UTC)
    assert _us("1490392562583312") == datetime(2017, 3, 24, 21, 56, 2, 583312, tzinfo=UTC)
    assert _us(None) is None and _us(0) is None


async def test_pagination_across_pages_with_lastseen_ties(big_world: Any) -> None:
    s = Setup(big_world)
    s.adapter.page_size = 200
    items = await s.adapter.identities()
    expected = murano_ids(big_world)
    assert len(expected) >= 550
    assert [i.identity for i in items].count(items[0].identity) == 1
    assert {i.identity for i in items} == expected
    calls = s.transport.ops("listIdentities")
    assert len(calls) >= 3
    assert calls[0].get("before") is None
    assert all(c["limit"] == 200 for c in calls)
    # a page size smaller than the largest tie group still reads everything exactly once
    s.adapter.page_size = 3
    tiny = await s.adapter.identities(match="^env-")
    assert sorted(i.identity for i in tiny) == sorted(x for x in expected if x.startswith("env-"))
    ls = [i.lastseen or t(0) for i in tiny]
    assert ls == sorted(ls, reverse=True)
    await s.adapter.aclose()


async def test_ties_larger_than_a_page_use_offset(world: Any) -> None:
    s = Setup(world)
    # every never-connected identity has no lastseen: one tie group, read through offset
    for k in range(7):
        await s.adapter.add_identity(f"spare-{k}")
    s.adapter.page_size = 2
    spares = await s.adapter.identities(match="^spare-")
    assert sorted(i.identity for i in spares) == [f"spare-{k}" for k in range(7)]
    offsets = [c.get("offset") for c in s.transport.ops("listIdentities") if c.get("identity") == "^spare-"]
    assert offsets[:4] == [None, 2, 4, 6]
    await s.adapter.aclose()


async def test_filters_status_match_and_tags(setup: Setup, world: Any) -> None:
    sim = setup.sim
    locked = await setup.adapter.identities(status=["locked"])
    assert locked
    assert {i.identity for i in locked} == {k for k, v in sim.idents.items() if v.locked}
    several = await setup.adapter.identities(status=["whitelisted,expired"])
    assert len({str(i.status.value) for i in several}) == 2
    assert {i.identity for i in several} == {k for k, v in sim.idents.items() if v.status in ("whitelisted", "expired")}
    pumps = await setup.adapter.identities(match="^pump-")
    assert pumps and {i.identity for i in pumps} == {x for x in murano_ids(world) if x.startswith("pump-")}
    site = next(i.tags for i in await setup.adapter.identities() if "site" in i.tags)["site"][0]
    at_site = await setup.adapter.identities(tags={"site": site, "model": "pump"})
    assert at_site and all(i.tags["site"] == [site] and i.tags["model"] == ["pump"] for i in at_site)
    sent = setup.transport.ops("listIdentities")[-1]
    assert json.loads(sent["tags"]) == [
        {"name": "site", "operator": "eq", "value": site},
        {"name": "model", "operator": "eq", "value": "pump"},
    ]
    online = await setup.adapter.identities(status=["online"])
    assert online and all(i.online for i in online)


async def test_tag_criteria_operators_and_count(setup: Setup, world: Any) -> None:
    crit = json.dumps([{"name": "model", "operator": "gte", "value": "m"}, {"name": "model", "operator": "lt", "value": "p"}])
    answer = await setup.adapter.call("listIdentities", {"tags": crit, "limit": 2000})
    models = {t["value"] for d in answer["devices"] for t in d["tags"] if t["name"] == "model"}
    assert models == {"meter"}
    count = await setup.adapter.call("countIdentities", {"tags": crit})
    assert count == {"count": len(answer["devices"])}
    ne = await setup.adapter.call("countIdentities", {"tags": json.dumps([{"name": "model", "operator": "ne", "value": "meter"}])})
    assert ne["count"] == len(murano_ids(world)) - count["count"]
    with pytest.raises(VendorError, match="unknown tag operator"):
        await setup.adapter.call("listIdentities", {"tags": json.dumps([{"name": "x", "operator": "like", "value": "y"}])})
    with pytest.raises(VendorError, match="not a valid regular expression"):
        await setup.adapter.identities(match="([")


# ---- tree, latest, history ------------------------------------------------------------------------


async def test_tree_grouped_by_site_with_untagged_group(setup: Setup, world: Any) -> None:
    nodes = await setup.adapter.tree(depth="metric")
    groups = [n for n in nodes if n.kind == "group"]
    devices = [n for n in nodes if n.kind == "device"]
    metrics = [n for n in nodes if n.kind == "metric"]
    assert {d.id for d in devices} == murano_ids(world)
    assert groups[-1].id == "(no site)"
    untagged = [k for k, v in setup.sim.idents.items() if not any(n == "site" for n, _ in v.tags)]
    assert untagged and {d.id for d in devices if d.parent == groups[-1].ref} == set(untagged)
    temp = next(m for m in metrics if m.id.endswith(":temp"))
    assert temp.unit == "°C" and temp.value_type == "float"
    assert next(m for m in metrics if m.id.endswith(":running")).value_type == "bool"
    assert next(m for m in metrics if m.id.endswith(":rpm")).value_type == "int"
    assert next(m for m in metrics if m.id.endswith(":setpoint")).attrs["settable"] is True
    shallow = await setup.adapter.tree(depth="device")
    assert [n for n in shallow if n.kind == "metric"] == []
    dev = next(d for d in devices if d.has_children)
    kids = await setup.adapter.children(dev.ref)
    assert {k.id for k in kids} == {m.id for m in metrics if m.parent == dev.ref}
    assert dev.attrs["lastseen"].endswith("+00:00") and dev.name != dev.id
    for group in (groups[0], groups[-1]):
        members = await setup.adapter.children(group.ref)
        assert [m.id for m in members] == sorted(d.id for d in devices if d.parent == group.ref)


async def test_tree_grouped_by_another_tag(world: Any) -> None:
    s = Setup(world, profile={"group_by_tag": "model"})
    nodes = await s.adapter.tree(depth="device")
    assert {n.id for n in nodes if n.kind == "group"} <= {"env", "air", "meter", "pump"}
    await s.adapter.aclose()


async def test_latest_all_pages_and_by_ref(setup: Setup, world: Any) -> None:
    setup.adapter.latest_page = 50
    everything = await setup.adapter.latest()
    seen = [k for k, v in setup.sim.idents.items() if v.connected_ever]
    expected = sum(1 for k in seen for _ in world.metrics(world.device(k)))
    assert len(everything) == expected == len({r.metric for r in everything})
    assert len(setup.transport.ops("latestSignalsSearch")) == -(-expected // 50)
    one = everything[0]
    ident, alias = setup.adapter.metric_id(one.metric).rsplit(":", 1)
    dev = world.device(ident)
    metric = next(m for _, m in world.metrics(dev) if m.key == alias)
    ts, value = world.latest(dev, metric, NOW)
    assert one.ts == t(ts) and one.value == value and one.unit == metric.unit
    by_device = await setup.adapter.latest([setup.adapter.ref("device", ident)])
    assert {r.metric for r in by_device} == {r.metric for r in everything if f"/{ident}:" in r.metric}
    by_metric = await setup.adapter.latest([one.metric])
    assert [r.metric for r in by_metric] == [one.metric]
    nodes = await setup.adapter.tree(depth="device")
    group = next(n for n in nodes if n.kind == "group")
    members = {n.id for n in nodes if n.parent == group.ref}
    by_group = await setup.adapter.latest([group.ref])
    assert by_group and {setup.adapter.metric_id(r.metric).rsplit(":", 1)[0] for r in by_group} <= members
    running = [r for r in everything if r.metric.endswith(":running")]
    assert running and all(isinstance(r.value, bool) for r in running)


async def test_history_raw_matches_the_world_and_sends_epoch(setup: Setup, world: Any) -> None:
    ident = next(k for k, v in setup.sim.idents.items() if v.connected_ever and k.startswith("pump-"))
    dev = world.device(ident)
    metric = next(m for _, m in world.metrics(dev) if m.key == "flow")
    start, end = NOW - 6 * 3600, NOW - 3600
    s = await setup.adapter.history(f"{ident}:flow", t(start), t(end))
    expected = world.samples(dev, metric, start, end)
    assert [(p.ts, p.value) for p in s.points] == [(t(a), v) for a, v in expected]
    assert s.unit == "m3/h" and s.metric == setup.adapter.ref("metric", f"{ident}:flow")
    sent = setup.transport.ops("querySignal")[-1]
    assert sent["epoch"] == "us" and sent["identity"] == ident and sent["signal"] == "flow"
    assert sent["start_time"] == start and abs(sent["end_time"] - end) < 1e-3


async def test_history_pages_through_signal_limit(setup: Setup, world: Any) -> None:
    ident = next(k for k, v in setup.sim.idents.items() if v.connected_ever)
    dev = world.device(ident)
    setup.adapter.signal_page = 7
    s = await setup.adapter.history(f"{ident}:temp" if dev.model in ("env", "air") else f"{ident}:voltage", t(NOW - 4 * 3600), t(NOW))
    assert len(s.points) == len(list(world.times(dev, NOW - 4 * 3600, NOW)))
    assert len(setup.transport.ops("querySignal")) >= 2


async def test_history_aggregated_on_the_server_and_merged(setup: Setup, world: Any) -> None:
    ident = next(k for k, v in setup.sim.idents.items() if v.connected_ever and world.device(k).interval <= 300)
    dev = world.device(ident)
    alias = next(m.key for _, m in world.metrics(dev) if m.type == "float")
    start, end = NOW - 12 * 3600, NOW
    raw = await setup.adapter.history(f"{ident}:{alias}", t(start), t(end))
    for bucket, server in ((timedelta(hours=1), "1h"), (timedelta(minutes=15), "5m"), (timedelta(hours=2), "1h")):
        for agg in (Aggregate.avg, Aggregate.max, Aggregate.count, Aggregate.sum, Aggregate.min):
            s = await setup.adapter.history(f"{ident}:{alias}", t(start), t(end), aggregate=agg, bucket=bucket)
            local = bucketize(raw.points, agg, bucket)
            assert [p.ts for p in s.points] == [p.ts for p in local]
            assert [p.value for p in s.points] == pytest.approx([p.value for p in local], rel=1e-6)
            assert s.aggregate is agg and s.bucket == bucket
            assert s.unit == raw.unit  # the metric's unit, not the epoch unit of the answer ('us')
            assert setup.transport.ops("aggrquerySignal")[-1]["bucket"] == server
    before = len(setup.transport.ops("aggrquerySignal"))
    sd = await setup.adapter.history(f"{ident}:{alias}", t(start), t(end), aggregate=Aggregate.stdev, bucket=timedelta(hours=1))
    assert len(setup.transport.ops("aggrquerySignal")) == before  # no server stdev: computed here
    assert len(sd.points) == 12


async def test_history_bad_metric_ids(setup: Setup) -> None:
    with pytest.raises(InvalidRequest, match="IDENTITY:RESOURCE"):
        await setup.adapter.history("no-colon", t(NOW - 60), t(NOW))
    with pytest.raises(InvalidRequest):
        await setup.adapter.history("x:temp", t(NOW), t(NOW - 60))
    with pytest.raises(NotFound):
        await setup.adapter.history("ghost:temp", t(NOW - 60), t(NOW))


# ---- writes round-trip ---------------------------------------------------------------------------


async def test_identity_writes_round_trip(setup: Setup) -> None:
    a = setup.adapter
    added = await a.add_identity("new-unit-1")
    assert added.status == IdentityStatus.whitelisted and added.lastseen is None
    assert "new-unit-1" in {i.identity for i in await a.identities(status=["whitelisted"])}
    with pytest.raises(VendorError, match="already exists"):
        await a.add_identity("new-unit-1")
    with pytest.raises(VendorError, match="identity must be"):
        await a.add_identity("bad identity")
    locked = await a.set_locked("new-unit-1", True)
    assert locked.locked and locked.status == IdentityStatus.locked
    assert "new-unit-1" in {i.identity for i in await a.identities(status=["locked"])}
    unlocked = await a.set_locked("new-unit-1", False)
    assert not unlocked.locked and unlocked.status == IdentityStatus.whitelisted
    await a.remove_identity("new-unit-1")
    with pytest.raises(NotFound, match="does not exist"):
        await a.identity("new-unit-1")
    with pytest.raises(NotFound):
        await a.remove_identity("new-unit-1")
    assert "new-unit-1" not in {i.identity for i in await a.identities()}


async def test_tag_writes_round_trip(setup: Setup) -> None:
    a = setup.adapter
    ident = next(iter(setup.sim.idents))
    after = await a.tag_add(ident, "zone", "north")
    assert after.tags["zone"] == ["north"]
    after = await a.tag_add(ident, "zone", "south")
    assert after.tags["zone"] == ["north", "south"]
    assert ident in {i.identity for i in await a.identities(tags={"zone": "south"})}
    assert "zone" in await a.call("listTagNames")
    assert await a.call("getIdentityTag", {"identity": ident, "name": "zone"}) == ["north", "south"]
    after = await a.tag_add(ident, "zone", "east", replace=True)
    assert after.tags["zone"] == ["east"]
    after = await a.tag_add(ident, "zone", "west")
    after = await a.tag_remove(ident, "zone", ["east"])
    assert after.tags["zone"] == ["west"]
    after = await a.tag_remove(ident, "zone")
    assert "zone" not in after.tags
    assert "zone" not in await a.call("listTagNames")
    with pytest.raises(InvalidRequest, match="contains ','"):
        await a.tag_remove(ident, "zone", ["a,b"])
    with pytest.raises(NotFound):
        await a.tag_add("ghost", "zone", "x")


async def test_set_state_round_trip_and_409(setup: Setup) -> None:
    a = setup.adapter
    pump = next(k for k, v in setup.sim.idents.items() if k.startswith("pump-") and v.connected_ever)
    after = await a.set_state(pump, "setpoint", "4.9")
    assert after.state["setpoint"].set == 4.9
    assert after.state["setpoint"].reported != 4.9 or after.state["setpoint"].ts == t(NOW)
    assert after.state["setpoint"].ts == t(NOW)
    listed = next(i for i in await a.identities(match=f"^{pump}$"))
    assert listed.state["setpoint"].set == 4.9
    with pytest.raises(VendorError, match="resource temp is not settable") as err:
        await a.set_state(pump, "temp", "20")
    assert err.value.status == 409
    with pytest.raises(InvalidRequest, match="no resource 'nope'"):
        await a.set_state(pump, "nope", "1")
    with pytest.raises(InvalidRequest, match="is a number"):
        await a.set_state(pump, "setpoint", "high")


# ---- the vendor's documented samples ---------------------------------------------------------------


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def sample_transport(answers: dict[str, Any], status: dict[str, int] | None = None) -> httpx.MockTransport:
    status = status or {}

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api:1/token/":
            return httpx.Response(200, json={"token": "TTTTTTTTTT"})
        assert request.headers["authorization"] == "token TTTTTTTTTT"
        if path.endswith("/serviceconfig/device2"):
            return httpx.Response(200, json={"id": SERVICE_ID, "service": "device2"})
        op = path.rsplit("/", 1)[-1]
        return httpx.Response(status.get(op, 200), json=answers[op])

    return httpx.MockTransport(handle)


def sample_adapter(answers: dict[str, Any], status: dict[str, int] | None = None) -> MuranoAdapter:
    profile = Profile(name="mur", vendor="murano", base_url="https://bizapi.example", username="me@example.com", solution_id="s1")
    return MuranoAdapter(profile, SecretSource(fixed={"mur": "pw"}, use_keyring=False), transport=sample_transport(answers, status))


async def test_documented_identity_samples_parse() -> None:
    a = sample_adapter({"listIdentities": fixture("list_identities.json"), "getGatewayResourceList": fixture("resources.json")})
    items = await a.identities()
    first, second = items
    assert first.identity == "mockdevice" and first.status == IdentityStatus.provisioned and first.online is True
    assert first.lastseen == datetime(2017, 2, 13, 21, 35, 43, 864000, tzinfo=UTC)
    assert first.tags == {"device-type": ["camera"], "installed-date": ["20020615"], "site": ["plant-1", "plant-2"]}
    assert first.state["temp"].set == 1591 and first.state["temp"].reported == 1591
    assert first.state["temp"].ts == datetime(2017, 3, 24, 21, 56, 2, 583312, tzinfo=UTC)
    assert first.group == "plant-1" and first.lastip == "10.0.0.1"
    assert second.locked and second.status == IdentityStatus.locked and second.lastip is None
    assert second.lastseen == datetime(2017, 2, 13, 21, 35, 43, tzinfo=UTC)
    nodes = await a.tree(depth="metric")
    metric = next(n for n in nodes if n.kind == "metric")
    assert metric.id == "mockdevice:temp" and metric.unit == "°C" and metric.value_type == "float"
    await a.aclose()


async def test_documented_signal_samples_parse() -> None:
    a = sample_adapter(
        {
            "getGatewayResourceList": fixture("resources.json"),
            "latestSignalsSearch": fixture("latest_signals.json"),
            "querySignal": fixture("query_signal.json"),
            "aggrquerySignal": fixture("aggrquery_signal.json"),
        }
    )
    readings = {r.metric.rsplit(":", 1)[1]: r for r in await a.latest()}
    assert readings["temp"].value == 30.0 and readings["temp"].ts == datetime(2024, 1, 2, 6, 50, 40, tzinfo=UTC)
    assert readings["running"].value is True and readings["running"].ts == datetime(2024, 1, 2, 6, 50, 40, tzinfo=UTC)
    assert readings["mode"].value == "eco" and readings["mode"].ts == datetime(2024, 1, 2, 6, 50, 40, tzinfo=UTC)
    raw = await a.history("mockdevice:temp", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC))
    # the answer says epoch "ms": its unit wins over the one asked for
    assert [(p.ts, p.value) for p in raw.points] == [
        (datetime(2024, 1, 2, 6, 50, 34, tzinfo=UTC), 30.0),
        (datetime(2024, 1, 2, 6, 50, 40, tzinfo=UTC), 7.0),
    ]
    agg = await a.history("mockdevice:temp", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC),
                          aggregate=Aggregate.avg, bucket=timedelta(hours=1))
    assert [(p.ts, p.value, p.count, p.min, p.max) for p in agg.points] == [
        (datetime(2024, 1, 2, 6, 0, tzinfo=UTC), 7.0, 4, 2.0, 12.0),
        (datetime(2024, 1, 2, 7, 0, tzinfo=UTC), 18.5, 2, 7.0, 30.0),
    ]
    await a.aclose()


async def test_documented_error_bodies() -> None:
    errors = fixture("errors.json")
    a = sample_adapter(
        {"listIdentities": errors["invalid_query"], "getIdentity": errors["gateway_missing"],
         "setIdentityState": errors["not_settable"], "getGatewayResourceList": fixture("resources.json"),
         "countIdentities": errors["lua_error"]},
        {"listIdentities": 400, "getIdentity": 404, "setIdentityState": 409},
    )
    with pytest.raises(VendorError, match="vendor error 400: Invalid query parameters."):
        await a.identities()
    with pytest.raises(NotFound, match="The gateway context does not exist."):
        await a.identity("mockdevice")
    with pytest.raises(VendorError, match="resource setpoint is not settable"):
        await a.set_state("mockdevice", "setpoint", "3")
    with pytest.raises(VendorError, match="attempt to index a nil value"):
        await a.call("countIdentities")
    await a.aclose()
