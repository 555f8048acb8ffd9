"""`tuiot auth set|clear|status PROFILE`: the profile's secret, in the keyring only."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from tuiot.cli_context import CliContext, CliError
from tuiot.config import env_secret_name

_WHAT = {
    "teamviewer": "API key",
    "thingsee": "client secret",
    "murano": "password",
    "thingspro": "password",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("auth", help="store, remove or check a profile's secret (keyring)", parents=[sub.parent_options])
    p.add_argument("action", choices=("set", "clear", "status"))
    p.add_argument("profile")
    p.set_defaults(run=run)


def _read_secret(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    # Piped: `pass show x | tuiot auth set NAME` — one line, no echo to worry about.
    return sys.stdin.readline().rstrip("\r\n")


async def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuiot import credentials

    profile = ctx.profile(args.profile)  # refuses typos before touching the keyring
    what = _WHAT.get(profile.vendor, "secret")
    if args.action == "set":
        secret = await asyncio.to_thread(_read_secret, f"{what} for '{profile.name}': ")
        if not secret:
            raise CliError("nothing was typed; the keyring was not changed")
        backend = await _keyring(lambda: credentials.keyring_set(profile.name, secret))
        ctx.say(f"stored the {what} of '{profile.name}' in the keyring ({backend})")
        return 0
    if args.action == "clear":
        removed = await _keyring(lambda: credentials.keyring_clear(profile.name))
        ctx.say(f"removed the {what} of '{profile.name}' from the keyring" if removed else f"no {what} stored for '{profile.name}'")
        return 0
    env = env_secret_name(profile.name)
    lines = []
    import os

    if os.environ.get(env):
        lines.append(f"{profile.name}: {what} from the environment ({env}), used first")
    try:
        found = await _keyring(lambda: credentials.keyring_get(profile.name))
    except credentials.CredentialError as e:
        lines.append(f"{profile.name}: keyring unavailable: {e}")
    else:
        backend = credentials.backend_name()
        lines.append(f"{profile.name}: {what} {'stored' if found else 'not stored'} in the keyring ({backend})")
    for line in lines:
        ctx.say(line)
    return 0


async def _keyring(fn):  # type: ignore[no-untyped-def]
    from tuiot.credentials import KEYRING_TIMEOUT, _in_thread

    return await _in_thread(fn, KEYRING_TIMEOUT)
