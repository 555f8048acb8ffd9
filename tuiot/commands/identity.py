"""`tuiot identity …`: Murano Device2 identity and tag writes.

    tuiot identity add        --profile P IDENTITY [--locked]
    tuiot identity remove     --profile P IDENTITY [--yes]
    tuiot identity lock       --profile P IDENTITY
    tuiot identity unlock     --profile P IDENTITY
    tuiot identity tag-add    --profile P IDENTITY NAME VALUE [--replace]
    tuiot identity tag-remove --profile P IDENTITY NAME [VALUE ...]
    tuiot identity set-state  --profile P IDENTITY RESOURCE VALUE

Every action is refused under `--read-only` (or a read-only profile) before any
request. Removal deletes the identity's state, tags and credentials, so it asks on a
terminal and needs `--yes` otherwise. Success is one line on stdout; a failure is one
line on stderr (a resource that is not settable, an identity that does not exist, …).
"""

from __future__ import annotations

import argparse
from typing import Any

from tuiot.cli_context import CliContext, CliError

ACTIONS = ("add", "remove", "lock", "unlock", "tag-add", "tag-remove", "set-state")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("identity", help="add, remove, lock, tag or set state of a Murano identity", parents=[sub.parent_options])
    actions = p.add_subparsers(dest="identity_action", metavar="ACTION", required=True)

    def action(name: str, help: str) -> argparse.ArgumentParser:
        a = actions.add_parser(name, help=help, parents=[sub.parent_options])
        a.add_argument("--profile", required=True, metavar="NAME")
        a.add_argument("identity", metavar="IDENTITY")
        return a

    a = action("add", "add (whitelist) an identity")
    a.add_argument("--locked", action="store_true", help="add it locked: it may not connect until unlocked")
    a = action("remove", "remove an identity with its state, tags and credentials")
    a.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    action("lock", "lock an identity: its device may not connect")
    action("unlock", "unlock an identity")
    a = action("tag-add", "add a tag value to an identity")
    a.add_argument("name", metavar="NAME")
    a.add_argument("value", metavar="VALUE")
    a.add_argument("--replace", action="store_true", help="replace the tag's existing values instead of adding one")
    a = action("tag-remove", "remove a tag (all its values, or the ones given)")
    a.add_argument("name", metavar="NAME")
    a.add_argument("values", metavar="VALUE", nargs="*")
    a = action("set-state", "set a settable resource's value (the device applies it when it next syncs)")
    a.add_argument("resource", metavar="RESOURCE")
    a.add_argument("value", metavar="VALUE")
    p.set_defaults(run=run)


def _needs_identities(adapter: Any) -> None:
    if not all(hasattr(adapter, m) for m in ("add_identity", "remove_identity", "set_locked", "tag_add", "tag_remove", "set_state")):
        raise CliError(f"profile '{adapter.name}' ({adapter.vendor}) has no Device2 identities; `tuiot identity` is for murano profiles")


def _tags(values: list[str]) -> str:
    return ", ".join(values) if values else "(none)"


async def run(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.check_writable(args.profile)
    adapter = await ctx.adapter(args.profile)
    _needs_identities(adapter)
    ident = args.identity
    act = args.identity_action
    if act == "add":
        added = await adapter.add_identity(ident, locked=args.locked)
        ctx.say(f"added identity {ident} to {args.profile} (status {_status(added)})")
    elif act == "remove":
        question = f"Remove identity {ident} from {args.profile}, with its state, tags and credentials?"
        if not ctx.confirm(question, args.yes):
            ctx.say("not removed")
            return 1
        await adapter.remove_identity(ident)
        ctx.say(f"removed identity {ident} from {args.profile}")
    elif act in ("lock", "unlock"):
        changed = await adapter.set_locked(ident, act == "lock")
        ctx.say(f"{act}ed identity {ident} (status {_status(changed)})")
    elif act == "tag-add":
        changed = await adapter.tag_add(ident, args.name, args.value, replace=args.replace)
        verb = "set" if args.replace else "added"
        ctx.say(f"{verb} tag {args.name}={args.value} on {ident} ({args.name}: {_tags(changed.tags.get(args.name, []))})")
    elif act == "tag-remove":
        changed = await adapter.tag_remove(ident, args.name, args.values or None)
        what = f"{args.name}={','.join(args.values)}" if args.values else args.name
        ctx.say(f"removed tag {what} from {ident} ({args.name}: {_tags(changed.tags.get(args.name, []))})")
    elif act == "set-state":
        changed = await adapter.set_state(ident, args.resource, args.value)
        state = changed.state.get(args.resource)
        shown = state.set if state is not None else args.value
        ctx.say(f"set {ident} {args.resource} = {shown!r} (the device applies it when it next syncs)")
    else:  # argparse limits the choices; this guards a parser change
        raise CliError(f"unknown identity action '{act}' (known: {', '.join(ACTIONS)})")
    return 0


def _status(identity: Any) -> str:
    s = identity.status
    return str(getattr(s, "value", s))
