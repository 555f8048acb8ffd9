"""`tuiot watch`: run the local rules of one profile headless, for scripts and jump hosts.

Every interval it asks the adapter for the newest readings (and, for offline rules,
each watched device's newest reading time), runs the rule engine, and prints one line
per alarm raised or cleared (and per new reading with `--values`): JSON objects by
default, so `tuiot watch ... | jq` works. Alarms are kept in the data dir like the
console's, so an alarm raised here is still open in the console's inbox.

It stops by itself after `--duration`, and Ctrl-C ends it cleanly (exit 0). A poll
that fails for a passing reason (timeout, 5xx, rate limit) is reported on stderr and
the next one is tried; a refused credential ends the command.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from typing import Any, TextIO

from tuiot.cli_context import CliContext, CliError
from tuiot.domain import Reading, Value, now_utc

FORMATS = ("json", "table")


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return v


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "watch",
        help="poll a profile and print local alarms as they are raised and cleared",
        description="Poll a profile, run its local rules (rules.toml) and print one line per alarm raised or "
                    "cleared. Stops after --duration, or on Ctrl-C.",
        parents=[sub.parent_options],
    )
    p.add_argument("--profile", required=True, metavar="NAME")
    p.add_argument("--rules", metavar="FILE", help="rules file (default: rules.toml beside the config)")
    p.add_argument("--interval", type=_seconds, metavar="S", help="seconds between polls (default: the profile's poll_interval)")
    p.add_argument("--duration", type=_seconds, metavar="S", help="stop after this many seconds (default: run until Ctrl-C)")
    p.add_argument("--format", choices=FORMATS, default="json", help="json: one object per line (default); table: one readable line")
    p.add_argument("--values", action="store_true", help="also print every new reading")
    p.set_defaults(run=run)


async def run(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        return await _watch(args, ctx)
    except (KeyboardInterrupt, asyncio.CancelledError):
        # Ctrl-C is how a watch is meant to end: no traceback, exit 0. asyncio.run turns
        # SIGINT into a cancellation of this task; consuming it lets the command finish.
        task = asyncio.current_task()
        if task is not None:
            while task.uncancel():
                pass
        print("tuiot: watch stopped", file=sys.stderr)
        return 0
    except BrokenPipeError:
        # The reader went away (`tuiot watch | head`): that ends the watch, quietly.
        if ctx.out is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 0


async def _watch(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuiot.adapters.base import AdapterError, AuthError, gather_limited
    from tuiot.fleet.engine import RuleEngine
    from tuiot.fleet.local_alarms import LocalAlarmStore
    from tuiot.fleet.rulefile import RuleFileError, load_rules, rules_path

    profile = ctx.profile(args.profile)
    try:
        rules = load_rules(args.rules, profile=profile.name)
    except RuleFileError as e:
        raise CliError(f"rules: {e}") from None
    active = [r for r in rules if r.enabled]
    if not active and not args.values:
        raise CliError(
            f"no enabled rules for profile '{profile.name}' in {rules_path(args.rules)}; "
            "add a [[rules]] table (or pass --values to print readings only)"
        )
    store = LocalAlarmStore()
    if store.warning:
        print(f"tuiot: warning: {store.warning}", file=sys.stderr)
    engine = RuleEngine(active, alarms=store.open_alarms(profile=profile.name))
    for message in engine.errors.values():
        print(f"tuiot: warning: {message}; rule skipped", file=sys.stderr)
    printer = _Printer(ctx.out, args.format)
    interval = args.interval or profile.poll_interval
    deadline = None if args.duration is None else time.monotonic() + args.duration
    adapter = await ctx.adapter(profile.name)
    seen: dict[str, Any] = {}  # metric ref -> ts of the last reading printed

    while True:
        events = []
        try:
            readings = await adapter.latest()
            events.extend(engine.feed(readings))
            if args.values:
                for r in readings:
                    if seen.get(r.metric) != r.ts:
                        seen[r.metric] = r.ts
                        printer.reading(r)
            devices = engine.offline_devices()
            answers = await gather_limited((adapter.latest([d]) for d in devices), limit=profile.max_concurrency)
            now = now_utc()
            for device, answer in zip(devices, answers):
                if isinstance(answer, AuthError):
                    raise answer
                if isinstance(answer, AdapterError):
                    # Not knowing is not the same as silence: this check is skipped, not counted.
                    print(f"tuiot: warning: {device}: {answer}", file=sys.stderr)
                    continue
                last = max((r.ts for r in answer), default=None)
                events.extend(engine.seen(device, last, now))
        except AuthError:
            raise
        except AdapterError as e:
            print(f"tuiot: warning: poll failed: {e}; trying again in {interval:g} s", file=sys.stderr)
        if events:
            store.apply(events)  # saved before printed: a reader that goes away loses no alarm
        for ev in events:
            printer.event(ev)
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return 0
            await asyncio.sleep(min(interval, remaining))
            if time.monotonic() >= deadline:
                return 0
        else:
            await asyncio.sleep(interval)


class _Printer:
    def __init__(self, out: TextIO, fmt: str) -> None:
        self.out = out
        self.fmt = fmt

    def _line(self, text: str) -> None:
        print(text, file=self.out, flush=True)  # one line at a time for pipes

    def event(self, ev: Any) -> None:
        if self.fmt == "json":
            self._line(json.dumps(ev.as_dict(), separators=(",", ":"), default=str))
            return
        a = ev.alarm
        what = "CLEARED" if ev.kind == "cleared" else "RAISED "
        where = a.metric or a.device or ""
        value = "" if a.value is None else f"  value={_show(a.value)}"
        self._line(f"{_time(ev.at)}  {what} {a.severity.value:<8} {a.rule}  {where}{value}{'  (by hand)' if ev.by_hand else ''}")

    def reading(self, r: Reading) -> None:
        if self.fmt == "json":
            row = {"event": "reading", **r.model_dump(mode="json")}
            self._line(json.dumps(row, separators=(",", ":"), default=str))
            return
        unit = f" {r.unit}" if r.unit else ""
        self._line(f"{_time(r.ts)}  {r.metric}  {_show(r.value)}{unit}")


def _time(dt: Any) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _show(v: Value) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
