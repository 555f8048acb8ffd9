"""`tuiot tag read|write`: a ThingsPro gateway tag, read directly or written with its dataType.

    tuiot tag write --profile plant modbus_tcp_master/pump-1/setpoint 4.5 [--gateway URL] [--yes]
    tuiot tag read  --profile plant modbus_tcp_master/pump-1/setpoint [--gateway URL]

The tag is named PROVIDER/SOURCE/TAG (or by the metric id `tuiot tree` prints). With
several gateways the tag is looked up on each; a name found on more than one needs
`--gateway`. The value is converted to the tag's dataType before anything is sent; a
read-only tag is refused without a request.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tuiot.cli_context import CliContext, CliError
from tuiot.output import FORMATS

COLUMNS = ["metric", "value", "unit", "ts", "gateway", "dataType"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tag", help="read or write a ThingsPro gateway tag", parents=[sub.parent_options])
    actions = p.add_subparsers(dest="tag_action", metavar="ACTION", required=True)

    def common(name: str, help: str) -> argparse.ArgumentParser:
        a = actions.add_parser(name, help=help, parents=[sub.parent_options])
        a.add_argument("--profile", required=True, metavar="NAME")
        a.add_argument("tag", metavar="PROVIDER/SOURCE/TAG", help="tag path, or the metric id printed by `tuiot tree`")
        a.add_argument("--gateway", metavar="URL", default=None, help="the gateway (URL or host:port) when several have the tag")
        a.add_argument("--format", choices=FORMATS, default="table")
        return a

    w = common("write", "write a value to a writable (w/rw) tag")
    w.add_argument("value", help="the new value; converted to the tag's dataType (int, float, boolean, string)")
    w.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    common("read", "read a tag's current value")
    p.set_defaults(run=run)


def _adapter_can_tag(adapter: Any) -> None:
    if not hasattr(adapter, "write_tag") or not hasattr(adapter, "find_tag"):
        raise CliError(f"profile '{adapter.name}' ({adapter.vendor}) has no gateway tags; `tuiot tag` is for thingspro profiles")


def _warn(adapter: Any) -> None:
    for line in getattr(adapter, "warnings", []) or []:
        print(f"tuiot: warning: {line}", file=sys.stderr)


def _row(reading: Any, gateway: str, data_type: str, fmt: str) -> dict[str, Any]:
    row = reading.model_dump(mode="json")
    if fmt == "table":  # the gateway has its own column; the tag path is what a person reads
        row["metric"] = row["metric"].split("|", 1)[-1]
    row["gateway"] = gateway
    row["dataType"] = data_type
    return row


async def run(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.tag_action == "write":
        ctx.check_writable(args.profile)
    adapter = await ctx.adapter(args.profile)
    _adapter_can_tag(adapter)
    _warn(adapter)
    gw, info = await adapter.find_tag(args.tag, gateway=args.gateway)
    if args.tag_action == "read":
        readings = await adapter.latest([adapter.ref("metric", _id(info, gw.key))])
        if not readings:
            raise CliError(f"{info.provider}/{info.source}/{info.name} on {gw.key} returned no value", code=4)
        ctx.emit([_row(readings[0], gw.key, info.data_type, args.format)], args.format, COLUMNS)
        return 0
    if "w" not in info.access:
        raise CliError(f"{info.provider}/{info.source}/{info.name} on {gw.key} is read-only (access '{info.access}'); no change was made")
    from tuiot.adapters.thingspro import coerce

    value = coerce(info.data_type, args.value)  # refuse a bad value before asking
    question = f"Write {value!r} ({info.data_type}) to {info.provider}/{info.source}/{info.name} on {gw.key}?"
    if not ctx.confirm(question, args.yes):
        ctx.say("not written")
        return 1
    reading = await adapter.write_tag(_id(info, gw.key), value)
    ctx.emit([_row(reading, gw.key, info.data_type, args.format)], args.format, COLUMNS)
    return 0


def _id(info: Any, key: str) -> str:
    from tuiot.adapters.thingspro import tag_path

    return f"{key}|{tag_path(info.provider, info.source, info.name)}"
