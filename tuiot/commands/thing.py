"""`tuiot thing status|group|command`: the writes a Thingsee profile allows on one thing.

    tuiot thing status  --profile NAME TUID new|installed|uninstalled|quarantine|retired
    tuiot thing group   --profile NAME TUID GROUP_ID
    tuiot thing command --profile NAME TUID --tsm-id N [--tsm-ev N] [--json '{"threshold": 120}']

Input the vendor would refuse (a group id with whitespace or named "unassigned", a
tsmId outside 1500/1501/12200/13200, a body that is not a JSON object) is refused here,
before any request. Each success prints one confirmation line.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tuiot.cli_context import CliContext, CliError

STATUSES = ("new", "installed", "uninstalled", "quarantine", "retired")
CONFIG_REQUEST = 30  # tsmEv of a configuration request (VENDORS.md §2.3)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("thing", help="Thingsee writes: installation status, deployment group, commands", parents=[sub.parent_options])
    actions = p.add_subparsers(dest="thing_action", metavar="ACTION", required=True)

    def common(name: str, help: str) -> argparse.ArgumentParser:
        a = actions.add_parser(name, help=help, parents=[sub.parent_options])
        a.add_argument("--profile", required=True, metavar="NAME")
        a.add_argument("tuid", metavar="TUID", help="the thing's TUID (or its device ref)")
        return a

    s = common("status", "set the thing's installation status")
    s.add_argument("status", choices=STATUSES)
    g = common("group", "move the thing to a deployment group")
    g.add_argument("group_id", metavar="GROUP_ID", help="a full group id, e.g. prfi00oulu-office-4")
    c = common("command", "send a command message to the thing")
    c.add_argument("--tsm-id", type=int, required=True, metavar="N", help="message id: 1500, 1501, 12200 or 13200")
    c.add_argument("--tsm-ev", type=int, default=None, metavar="N", help=f"event id (default {CONFIG_REQUEST}, a config request)")
    c.add_argument("--json", dest="body", default=None, metavar="OBJECT", help="further fields of the message, a JSON object")
    p.set_defaults(run=run)


def _command(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if args.body is not None:
        try:
            fields = json.loads(args.body)
        except ValueError as e:
            raise CliError(f"--json is not valid JSON: {e}") from None
        if not isinstance(fields, dict):
            raise CliError("--json must be a JSON object, e.g. '{\"threshold\": 120}'")
    cmd = {**fields, "tsmId": args.tsm_id}
    if args.tsm_ev is not None:
        cmd["tsmEv"] = args.tsm_ev
    else:
        cmd.setdefault("tsmEv", CONFIG_REQUEST)
    return cmd


async def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuiot.adapters.thingsee import check_command, check_group_id

    ctx.check_writable(args.profile)
    profile = ctx.profile(args.profile)
    if profile.vendor != "thingsee":
        raise CliError(f"profile '{args.profile}' is {profile.vendor}; `tuiot thing` is for thingsee profiles")
    # Refuse what the vendor would refuse before a token is even asked for.
    if args.thing_action == "group":
        check_group_id(args.group_id)
    cmd = _command(args) if args.thing_action == "command" else None
    if cmd is not None:
        check_command(cmd)
    adapter: Any = await ctx.adapter(args.profile)
    tuid = adapter.tuid_of(args.tuid)
    if args.thing_action == "status":
        status = await adapter.set_installation_status(tuid, args.status)
        ctx.say(f"{tuid}: installation status is now {status} ('{args.profile}')")
    elif args.thing_action == "group":
        group = await adapter.set_group(tuid, args.group_id)
        ctx.say(f"{tuid}: moved to group {group} ('{args.profile}')")
    else:
        assert cmd is not None
        sent = await adapter.send_command(tuid, cmd)
        ts = sent[0].get("tsmTs") if sent else None
        when = f" at {ts}" if ts is not None else ""
        ctx.say(f"{tuid}: sent command tsmId {cmd['tsmId']} tsmEv {cmd['tsmEv']}{when} ('{args.profile}')")
    return 0
