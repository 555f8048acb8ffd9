"""The headless reads: tree, latest, history, alarms, rules, identities; and alarm close.

Same adapters as the console; rows use the domain's field names so scripts can rely
on them (DESIGN §6). `--offline` answers from the last snapshot the console or a
previous command saved.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import Any

from tuiot.adapters.base import Adapter, Unavailable
from tuiot.cli_context import CliContext, CliError
from tuiot.domain import Aggregate, AlarmStatus, Node, Reading, now_utc
from tuiot.output import FORMATS
from tuiot.timespec import parse_duration, parse_instant

TREE_COLUMNS = ["ref", "kind", "id", "name", "profile", "parent", "online", "severity", "unit", "value_type", "attrs"]
LATEST_COLUMNS = ["metric", "value", "unit", "ts"]
HISTORY_COLUMNS = ["ts", "value", "min", "max", "avg", "count"]
ALARM_COLUMNS = ["id", "severity", "status", "device", "metric", "description", "opened_at", "closed_at", "origin"]
RULE_COLUMNS = ["id", "name", "enabled", "kind", "sources", "thresholds", "origin"]
IDENTITY_COLUMNS = ["identity", "status", "online", "lastseen", "lastip", "group", "tags", "state"]

# What the 80-column table shows; JSON and CSV carry every column above.
TABLE_COLUMNS = {
    "tree": ["kind", "name", "id", "online", "severity", "unit"],
    "latest": ["metric", "value", "unit", "ts"],
    "history": ["ts", "value", "min", "max", "count"],
    "alarms": ["severity", "status", "device", "description", "opened_at", "id"],
    "rules": ["name", "enabled", "kind", "thresholds", "id"],
    "identities": ["identity", "status", "online", "lastseen", "group", "tags"],
}


def register(sub: argparse._SubParsersAction) -> None:
    common = sub.parent_options

    def reader(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, parents=[common])
        p.add_argument("--profile", required=True, metavar="NAME")
        p.add_argument("--format", choices=FORMATS, default="table")
        return p

    p = reader("tree", "groups, devices, sensors and metrics of a profile")
    p.add_argument("--depth", choices=("device", "metric"), default="metric", help="stop at devices (faster)")
    p.set_defaults(run=tree)

    p = reader("latest", "newest value of every metric (or of one device)")
    p.add_argument("--device", metavar="ID", help="only this device (id or ref)")
    p.set_defaults(run=latest)

    p = reader("history", "readings of one metric over a window")
    p.add_argument("metric", help="metric id as printed by `tuiot tree` (or its ref)")
    p.add_argument("--since", default=None, help="window ending now, e.g. 1h, 24h, 7d (default 1h)")
    p.add_argument("--from", dest="start", default=None, help="window start (ISO 8601, epoch, or 2h for 2 hours ago)")
    p.add_argument("--to", dest="end", default=None, help="window end (default now)")
    p.add_argument("--agg", choices=[a.value for a in Aggregate], default=None, help="aggregate per bucket")
    p.add_argument("--every", default=None, help="bucket size with --agg, e.g. 5m (default: about 60 buckets)")
    p.set_defaults(run=history)

    p = reader("alarms", "open and recently closed alarms")
    p.add_argument("--status", choices=("open", "closed", "all"), default="all")
    p.add_argument("--since", default="7d", help="closed alarms opened within this window (default 7d)")
    p.set_defaults(run=alarms)

    p = sub.add_parser("alarm", help="act on one alarm", parents=[common])
    ps = p.add_subparsers(dest="alarm_action", metavar="ACTION", required=True)
    close = ps.add_parser("close", help="close an alarm where the vendor allows", parents=[common])
    close.add_argument("--profile", required=True, metavar="NAME")
    close.add_argument("id")
    close.add_argument("--yes", action="store_true", help="do not ask")
    p.set_defaults(run=alarm_close)

    p = sub.add_parser("rules", help="list a profile's rules, or validate a condition", parents=[common])
    p.add_argument("action", nargs="?", choices=("list", "validate"), default="list")
    p.add_argument("expr", nargs="?", help="with validate: the condition, e.g. 'metric > 30 && metric < 90'")
    p.add_argument("--profile", metavar="NAME")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(run=rules)

    p = reader("identities", "identities with status, online, last seen, tags")
    p.add_argument("--status", action="append", default=None, help="filter by status (repeatable)")
    p.add_argument("--match", default=None, metavar="REGEX", help="identity matches this regex")
    p.add_argument("--tag", action="append", default=None, metavar="NAME=VALUE", help="tag filter (repeatable)")
    p.set_defaults(run=identities)


def _columns(args: argparse.Namespace, command: str, full: list[str]) -> list[str]:
    if args.format == "table":
        return TABLE_COLUMNS[command]
    return [*full, "fetched_at"] if getattr(args, "offline", False) else full


# ---- snapshot: last known state for --offline, saved after each good answer ------------


def _store() -> Any:
    from tuiot.fleet.snapshot import SnapshotStore

    return SnapshotStore()


def _account(ctx: CliContext, profile: str) -> str:
    """The account the profile now points at: a snapshot saved from another is not its own."""
    from tuiot.fleet.snapshot import profile_account

    return profile_account(ctx.profile(profile))


async def _online(ctx: CliContext, profile: str, fetch: Any) -> Any:
    """Run `fetch(adapter)`; if the vendor is unreachable, say whether a snapshot can answer."""
    adapter: Adapter = await ctx.adapter(profile)
    try:
        return adapter, await fetch(adapter)
    except Unavailable as e:
        if ctx.demo is None:
            import asyncio

            from tuiot.fleet.snapshot import unreachable_hint

            account = _account(ctx, profile)
            hint = await asyncio.to_thread(lambda: unreachable_hint(_store(), profile, account=account))
            if hint:
                raise Unavailable(f"{e}; {hint}") from None
        raise


async def _save(ctx: CliContext, profile: str, **parts: Any) -> None:
    """Keep what a command fetched as the profile's last known state (not for the demo)."""
    if ctx.demo is not None:
        return
    import asyncio

    account = _account(ctx, profile)

    def save() -> None:
        with _store() as store:
            store.save(profile, account=account, **parts)

    await asyncio.to_thread(save)


async def _merge(ctx: CliContext, profile: str, readings: list[Reading]) -> None:
    """Readings of some devices join the saved ones (not for the demo)."""
    if ctx.demo is None:
        import asyncio

        account = _account(ctx, profile)

        def merge() -> None:
            with _store() as store:
                store.merge_readings(profile, readings, account=account)

        await asyncio.to_thread(merge)


def _offline(ctx: CliContext, profile: str, part: str) -> tuple[list[Any], str]:
    """A saved part of the profile's snapshot and when it was fetched (ISO), or a clear error."""
    from tuiot.fleet.snapshot import SnapshotStore, describe_age

    account = _account(ctx, profile)  # unknown profiles fail the same way offline
    import sys

    with SnapshotStore() as store:
        snap = store.load(profile, account=account)
        other = store.mismatch(profile, account) if snap is None else None
        for problem in store.take_problems():  # e.g. a damaged file moved aside: never silent
            print(f"tuiot: warning: {problem}", file=sys.stderr)
    if other:
        raise CliError(f"no snapshot of '{profile}' ({part}): {other}; run the command once while online", code=5)
    items = getattr(snap, part, None) if snap else None
    if snap is None or items is None:
        raise CliError(f"no snapshot of '{profile}' ({part}) yet: run the command once while online", code=5)
    at = snap.fetched_at[part]
    print(f"tuiot: offline: {part} of '{profile}' as fetched {describe_age(now_utc() - at)} ago", file=sys.stderr)
    return items, at.isoformat().replace("+00:00", "Z")


def _short(ref: str | None, profile: str) -> str | None:
    """In a table, `TeamViewer/metric/123:abc` reads better as `123:abc`."""
    if ref is None:
        return None
    parts = ref.split("/", 2)
    return parts[2] if len(parts) == 3 and parts[0] == profile else ref


# ---- tree ---------------------------------------------------------------------------


def node_row(n: Node) -> dict[str, Any]:
    row = n.model_dump(mode="json")
    row["ref"] = n.ref
    return row


async def tree(args: argparse.Namespace, ctx: CliContext) -> int:
    fetched = None
    if args.offline:
        nodes, fetched = _offline(ctx, args.profile, "nodes")
    else:
        _, nodes = await _online(ctx, args.profile, lambda a: a.tree(depth=args.depth))
        await _save(ctx, args.profile, nodes=nodes)
    rows = [{**node_row(n), "fetched_at": fetched} for n in nodes]
    if args.format == "table":
        depth_of: dict[str, int] = {}
        for n, row in zip(nodes, rows):
            d = depth_of.get(n.parent, -1) + 1 if n.parent else 0
            depth_of[n.ref] = d
            row["name"] = "  " * d + n.name
    ctx.emit(rows, args.format, _columns(args, "tree", TREE_COLUMNS))
    return 0


# ---- latest --------------------------------------------------------------------------


def reading_row(r: Reading) -> dict[str, Any]:
    return r.model_dump(mode="json")


async def latest(args: argparse.Namespace, ctx: CliContext) -> int:
    name = args.profile
    device_ref = None
    if args.device:
        device_ref = args.device if args.device.startswith(f"{name}/") else f"{name}/device/{args.device}"
    fetched = None
    if args.offline:
        readings, fetched = _offline(ctx, name, "readings")
        if device_ref:
            readings = _of_device(ctx, name, readings, device_ref)
    else:
        _, readings = await _online(ctx, name, lambda a: a.latest([device_ref] if device_ref else None))
        if device_ref is None:
            await _save(ctx, name, readings=readings)
        else:
            await _merge(ctx, name, readings)
    readings = sorted(readings, key=lambda r: r.metric)
    rows = [{**reading_row(r), "fetched_at": fetched} for r in readings]
    if args.format == "table":
        for row in rows:
            row["metric"] = _short(row["metric"], name)
    ctx.emit(rows, args.format, _columns(args, "latest", LATEST_COLUMNS))
    return 0


def _of_device(ctx: CliContext, profile: str, readings: list[Reading], device_ref: str) -> list[Reading]:
    """The saved readings of one device: by the device ref each reading carries, as the
    vendor named it online. Readings saved without one (older snapshots) are placed by
    the saved tree, which may hold only the devices a console had expanded."""
    if all(r.device is not None for r in readings):
        return [r for r in readings if r.device == device_ref]
    below = _descendants(_offline(ctx, profile, "nodes")[0], device_ref)
    return [r for r in readings if r.device == device_ref or (r.device is None and r.metric in below)]


def _descendants(nodes: list[Node], ref: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for n in nodes:
        if n.parent:
            children.setdefault(n.parent, []).append(n.ref)
    out: set[str] = set()
    todo = [ref]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


# ---- history -------------------------------------------------------------------------


def _window(args: argparse.Namespace) -> tuple[datetime, datetime]:
    now = now_utc()
    if args.since and (args.start or args.end):
        raise CliError("use either --since or --from/--to, not both")
    end = parse_instant(args.end, now) if args.end else now
    if args.start:
        start = parse_instant(args.start, now)
    else:
        start = end - parse_duration(args.since or "1h")
    if start >= end:
        raise CliError("the window is empty: --from must be before --to")
    return start, end


def _nice_bucket(window: timedelta, buckets: int = 60) -> timedelta:
    target = window.total_seconds() / buckets
    for s in (60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400):
        if s >= target:
            return timedelta(seconds=s)
    return timedelta(days=1)


async def history(args: argparse.Namespace, ctx: CliContext) -> int:
    start, end = _window(args)
    aggregate = Aggregate(args.agg) if args.agg else None
    if args.every and not aggregate:
        raise CliError("--every needs --agg (avg, min, max, count, ...)")
    bucket = parse_duration(args.every) if args.every else (_nice_bucket(end - start) if aggregate else None)
    adapter = await ctx.adapter(args.profile)
    series = await adapter.history(args.metric, start, end, aggregate=aggregate, bucket=bucket)
    rows = [p.model_dump(mode="json") for p in series.points]
    for row in rows:
        row["metric"] = series.metric
        row["unit"] = series.unit
    columns = HISTORY_COLUMNS if aggregate else ["ts", "value"]
    if args.format != "table":
        columns = ["metric", *columns, "unit"]
    ctx.emit(rows, args.format, columns)
    return 0


# ---- alarms --------------------------------------------------------------------------


async def alarms(args: argparse.Namespace, ctx: CliContext) -> int:
    since = now_utc() - parse_duration(args.since)
    status = None if args.status == "all" else AlarmStatus(args.status)
    fetched = None
    if args.offline:
        # the snapshot keeps open alarms: closed ones are history, not state
        if status is AlarmStatus.closed:
            raise CliError("the snapshot keeps open alarms only; closed ones need the vendor", code=5)
        items, fetched = _offline(ctx, args.profile, "alarms")
    else:
        _, items = await _online(ctx, args.profile, lambda a: a.alarms(status=status, since=since))
        if status is not AlarmStatus.closed:
            await _save(ctx, args.profile, alarms=[a for a in items if a.status is AlarmStatus.open])
    items = sorted(items, key=lambda a: a.opened_at, reverse=True)
    rows = [{**a.model_dump(mode="json"), "fetched_at": fetched} for a in items]
    if args.format == "table":
        for row in rows:
            row["device"] = _short(row["device"], args.profile)
            row["metric"] = _short(row["metric"], args.profile)
    ctx.emit(rows, args.format, _columns(args, "alarms", ALARM_COLUMNS))
    return 0


async def alarm_close(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.check_writable(args.profile)
    adapter = await ctx.adapter(args.profile)
    if not ctx.confirm(f"Close alarm {args.id} on '{args.profile}'?", args.yes):
        ctx.say("not closed")
        return 1
    await adapter.close_alarm(args.id)
    ctx.say(f"closed alarm {args.id} on '{args.profile}'")
    return 0


# ---- rules ---------------------------------------------------------------------------


def rule_row(rule: Any) -> dict[str, Any]:
    row = rule.model_dump(mode="json")
    row["thresholds"] = [f"{t['condition']} → {t['severity']} ×{t['checks']}" for t in row["thresholds"]]
    return row


async def rules(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.action == "validate":
        if args.expr is None:
            raise CliError("rules validate needs a condition, e.g. tuiot rules validate 'metric > 30'")
        from tuiot.fleet.condition import validate_command

        code, message = validate_command(args.expr)
        if code:
            raise CliError(message, code=code)
        ctx.say(message)
        return 0
    if not args.profile:
        raise CliError("rules needs --profile NAME")
    adapter = await ctx.adapter(args.profile)
    items = await adapter.rules()
    rows = [rule_row(r) for r in items]
    if args.format == "table":
        for row in rows:
            row["thresholds"] = "; ".join(row["thresholds"])
    ctx.emit(rows, args.format, _columns(args, "rules", RULE_COLUMNS))
    return 0


# ---- identities ----------------------------------------------------------------------


async def identities(args: argparse.Namespace, ctx: CliContext) -> int:
    tags: dict[str, str] = {}
    for t in args.tag or []:
        name, sep, value = t.partition("=")
        if not sep or not name:
            raise CliError(f"--tag takes NAME=VALUE, got '{t}'")
        tags[name] = value
    if args.match:
        import re

        try:
            re.compile(args.match)
        except re.error as e:
            raise CliError(f"--match is not a valid regex: {e}") from None
    fetched = None
    if args.offline:
        items, fetched = _offline(ctx, args.profile, "identities")
        items = _filter_identities(items, args.status, args.match, tags)
    else:
        _, items = await _online(
            ctx, args.profile, lambda a: a.identities(status=args.status, match=args.match, tags=tags or None)
        )
        if not (args.status or args.match or tags):
            await _save(ctx, args.profile, identities=items)
    rows = [{**i.model_dump(mode="json"), "fetched_at": fetched} for i in items]
    ctx.emit(rows, args.format, _columns(args, "identities", IDENTITY_COLUMNS))
    return 0


def _filter_identities(items: list[Any], status: list[str] | None, match: str | None, tags: dict[str, str]) -> list[Any]:
    """The vendor's filters, applied to a snapshot the same way."""
    import re

    pattern = re.compile(match) if match else None
    out = []
    for i in items:
        st = getattr(i.status, "value", i.status)
        if status and st not in status:
            continue
        if pattern and not pattern.search(i.identity):
            continue
        if any(v not in i.tags.get(k, []) for k, v in tags.items()):
            continue
        out.append(i)
    return out
