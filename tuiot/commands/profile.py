"""`tuiot profile add|list|remove`: edit config.toml without losing the user's comments."""

from __future__ import annotations

import argparse
from pathlib import Path

from tuiot.cli_context import CliContext, CliError
from tuiot.config import VENDORS, add_profile, default_config_path, remove_profile


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="add, list or remove profiles in the config file", parents=[sub.parent_options])
    ps = p.add_subparsers(dest="profile_action", metavar="ACTION", required=True)
    add = ps.add_parser("add", help="add a profile (--replace to overwrite one)", parents=[sub.parent_options])
    add.add_argument("name")
    add.add_argument("--replace", action="store_true", help="overwrite the profile of this name if it exists")
    add.add_argument("--vendor", required=True, choices=VENDORS)
    add.add_argument("--base-url", default=None)
    add.add_argument("--client-id", default=None, help="thingsee")
    add.add_argument("--username", default=None, help="murano (e-mail), thingspro")
    add.add_argument("--solution-id", default=None, help="murano")
    add.add_argument("--gateway", action="append", default=None, dest="gateways", help="thingspro, repeatable")
    add.add_argument("--verify", default=None, help="thingspro: true, false, or a CA bundle path")
    add.add_argument("--profile-read-only", action="store_true", help="this profile refuses writes")
    ps.add_parser("list", help="list profiles", parents=[sub.parent_options])
    rm = ps.add_parser("remove", help="remove a profile", parents=[sub.parent_options])
    rm.add_argument("name")
    p.set_defaults(run=run)


def _path(args: argparse.Namespace) -> Path:
    return Path(args.config).expanduser() if getattr(args, "config", None) else default_config_path()


async def run(args: argparse.Namespace, ctx: CliContext) -> int:
    path = _path(args)
    if args.profile_action == "list":
        rows = [
            {"name": p.name, "vendor": p.vendor, "url": ", ".join(p.urls), "read_only": p.read_only}
            for p in ctx.config.profiles.values()
        ]
        ctx.emit(rows, "table", ["name", "vendor", "url", "read_only"])
        return 0
    if args.profile_action == "remove":
        remove_profile(path, args.name)
        ctx.say(f"removed profile '{args.name}' from {path} (its keyring secret is kept: tuiot auth clear {args.name})")
        return 0
    verify: bool | str | None = None
    if args.verify is not None:
        verify = {"true": True, "false": False}.get(args.verify.lower(), args.verify)
    fields = {
        "vendor": args.vendor,
        "base_url": args.base_url,
        "client_id": args.client_id,
        "username": args.username,
        "solution_id": args.solution_id,
        "gateways": args.gateways,
        "verify": verify,
        "read_only": True if args.profile_read_only else None,
    }
    _check_required(args)
    add_profile(path, args.name, fields, replace=args.replace)
    ctx.say(f"saved profile '{args.name}' in {path}; now store its secret: tuiot auth set {args.name}")
    return 0


# The options a vendor cannot work without: named as the user types them, before the file.
REQUIRED = {"thingsee": ("base_url", "client_id"), "murano": ("base_url", "solution_id"), "teamviewer": ("base_url",)}


def _check_required(args: argparse.Namespace) -> None:
    for field in REQUIRED.get(args.vendor, ()):
        if not getattr(args, field):
            raise CliError(f"--{field.replace('_', '-')} is required for {args.vendor}")
