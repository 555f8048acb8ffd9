"""`tuiot`: the console, and its headless twin for scripts and jump hosts.

`tuiot` alone opens the console (on the configured profiles, or `--demo`); every
sub-command answers in the shell through the same adapters. Failures are one line on
stderr and a non-zero exit; a traceback is a bug.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import sys
from typing import Any, Sequence

from tuiot import __version__

# Sub-command modules, each with `register(sub)` and `async run(args, ctx)`.
COMMAND_MODULES = (
    "tuiot.commands.auth",
    "tuiot.commands.profile",
    "tuiot.commands.reads",
    "tuiot.commands.simulate",
    "tuiot.commands.thing",
    "tuiot.commands.identity",
    "tuiot.commands.tag",
    "tuiot.commands.watch",
    "tuiot.commands.bench",
    "tuiot.commands.screenshots",
)

EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_VENDOR = 4
EXIT_UNAVAILABLE = 5
EXIT_PIPE = 141  # 128 + SIGPIPE: see _closed_pipe


def _global_options(p: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options that work before or after the sub-command (`tuiot --demo tree ...`)."""
    d = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    p.add_argument("--config", metavar="PATH", default=d(None), help="config file (default: platform config dir, or TUIOT_CONFIG)")
    p.add_argument("--read-only", action="store_true", default=d(False), help="refuse every write")
    p.add_argument("--demo", action="store_true", default=d(False), help="use the built-in demo fleet (four simulators in process)")
    p.add_argument("--devices", type=_positive_int, default=d(400), metavar="N", help="demo fleet size (default 400)")
    p.add_argument("--seed", type=int, default=d(7), metavar="N", help="demo fleet seed (default 7)")
    p.add_argument("--offline", action="store_true", default=d(False), help="answer from the last snapshot, no network")


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def build_parser(*, commands: bool = True) -> argparse.ArgumentParser:
    """The whole parser; `commands=False` leaves the sub-commands out (and their imports), and
    raises on what it does not know instead of exiting: the whole parser then says it."""
    parser = argparse.ArgumentParser(
        prog="tuiot",
        allow_abbrev=commands,  # else `tuiot latest --device X` would read as `--devices X`
        exit_on_error=commands,
        description="A keyboard-first console for IoT fleets (TeamViewer IoT, Thingsee, Murano, ThingsPro Edge).",
        epilog="Run `tuiot` to open the console, `tuiot --demo` to try it on a simulated fleet.",
    )
    parser.add_argument("--version", action="version", version=f"tuiot {__version__}")
    _global_options(parser, suppress=False)
    parser.add_argument("--low-bandwidth", action="store_true", help="slow link: fewer frames, less polling, no animation")
    parser.add_argument("--rules", metavar="FILE", default=None, help="local rules file (default: rules.toml beside config.toml)")
    # `tuiot bench`: run headless and exit once the first fleet data is painted (start-up timing)
    parser.add_argument("--exit-on-data", action="store_true", help=argparse.SUPPRESS)
    if not commands:
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parent = argparse.ArgumentParser(add_help=False)
    _global_options(parent, suppress=True)
    sub.parent_options = parent  # type: ignore[attr-defined]  # modules pass it as parents=[...]
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            # A command whose module is absent must not take the others down.
            if e.name == name:
                continue
            raise
        module.register(sub)
    return parser


def _console_args(argv: Sequence[str] | None) -> argparse.Namespace | None:
    """The options of a bare `tuiot [options]`, or None when argv names a sub-command.

    The console needs none of the sub-commands' modules: importing them all (httpx among
    them) only to learn that none was named cost every console start ~60 ms.
    """
    tokens = list(sys.argv[1:] if argv is None else argv)
    if any(t in ("-h", "--help") for t in tokens):
        return None  # the full help lists the sub-commands
    try:
        args, rest = build_parser(commands=False).parse_known_args(tokens)
    except argparse.ArgumentError:
        return None  # the whole parser reports it, in its own words
    return None if rest else args


def main(argv: Sequence[str] | None = None) -> int:
    console = _console_args(argv)
    if console is not None:
        return _console(console)
    args = build_parser().parse_args(argv)
    if args.command is None:
        return _console(args)
    try:
        code = asyncio.run(_run(args))
        # Output that fitted the buffer meets a closed pipe only here, not in print().
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except KeyboardInterrupt:
        print("tuiot: interrupted", file=sys.stderr)
        return 130


def _closed_pipe() -> int:
    """The reader went away (`tuiot tree | head -3`): end quietly, as Unix tools do.

    141 (128 + SIGPIPE) is what the shell reports for `cat` or `grep` killed by the same
    closed pipe, so a `set -o pipefail` script treats tuiot like them, and a cut-short
    answer is never reported as a complete success.
    """
    # Python flushes stdout again at exit and would print "Exception ignored ...":
    # point the descriptor at /dev/null so that last flush has nowhere to fail.
    with contextlib.suppress(OSError, ValueError):  # a stdout without a descriptor has no pipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return EXIT_PIPE


async def _run(args: argparse.Namespace) -> int:
    from tuiot.cli_context import CliContext

    ctx = CliContext(args)
    try:
        return int(await args.run(args, ctx) or 0)
    except BrokenPipeError:
        raise  # not a failure of the command: main() ends quietly
    except Exception as e:  # every failure becomes one line; see _exit_code
        code, message = _describe(e)
        print(f"tuiot: {message}", file=sys.stderr)
        return code
    finally:
        await ctx.aclose()


def _describe(e: BaseException) -> tuple[int, str]:
    from tuiot.adapters.base import AdapterError, AuthError, InvalidRequest, NotFound, NotSupported, RateLimited, Unavailable
    from tuiot.cli_context import CliError
    from tuiot.config import ConfigError
    from tuiot.credentials import CredentialError

    if isinstance(e, CliError):
        return e.code, str(e)
    if isinstance(e, ConfigError):
        return EXIT_USAGE, f"config: {e}"
    if isinstance(e, (CredentialError, AuthError)):
        return EXIT_AUTH, str(e)
    if isinstance(e, (Unavailable, RateLimited)):
        return EXIT_UNAVAILABLE, str(e)
    if isinstance(e, (InvalidRequest, NotSupported, NotFound)):
        return EXIT_USAGE, str(e)
    if isinstance(e, AdapterError):
        return EXIT_VENDOR, str(e)
    if isinstance(e, ValueError):
        return EXIT_USAGE, str(e)
    # Unexpected: still one line, with the type so a bug report is useful.
    return 1, f"internal error ({type(e).__name__}): {e}"


def _console(args: argparse.Namespace) -> int:
    from tuiot.fleet.collector import CollectorHold

    # Start-up allocates for half a second (imports, the first tree) and leaves almost no
    # garbage: the collector's passes over it were ~10% of the time to first data. The
    # console turns it back on once its first trees are in (tuiot.fleet.collector).
    hold = CollectorHold()
    hold.start()
    try:
        return _open_console(args, hold)
    finally:
        hold.thaw()


def _open_console(args: argparse.Namespace, hold: Any) -> int:
    from tuiot.config import ConfigError, load_config

    try:
        demo_factory = None
        if args.demo:
            from tuiot.config import Config

            devices, seed = args.devices, args.seed

            def demo_factory() -> Any:
                # imported and built in the app's worker thread, behind the first screen:
                # the simulators' imports and a 100,000-device world never delay it
                from tuiot.simulators.demo import build_demo

                return build_demo(devices=devices, seed=seed)

            config = Config()
            # The demo's rules, local alarms, audit log and exports live apart from the user's own
            from tuiot.config import data_dir

            demo_home = data_dir() / "demo"
            os.environ["TUIOT_DATA_DIR"] = str(demo_home)
            if args.rules is None:
                demo_rules = demo_home / "rules.toml"
                try:
                    demo_home.mkdir(parents=True, exist_ok=True)
                    if not demo_rules.exists():
                        demo_rules.write_text("# Local rules of the demo fleet (tuiot --demo)\n", encoding="utf-8")
                    args.rules = str(demo_rules)
                except OSError as e:
                    print(f"tuiot: demo rules not kept apart ({e})", file=sys.stderr)
        else:
            config = load_config(args.config)
    except (ConfigError, ValueError) as e:
        print(f"tuiot: config: {e}", file=sys.stderr)
        return EXIT_USAGE
    if not sys.stdout.isatty() and not os.environ.get("TUIOT_FORCE_CONSOLE") and not args.exit_on_data:
        print("tuiot: the console needs a terminal; for scripts use a sub-command (tuiot --help)", file=sys.stderr)
        return EXIT_USAGE
    # Textual reads its frame rate and animation settings once, at import: decide first.
    from tuiot.fleet.linkmode import apply_env, detect

    low_bandwidth = args.low_bandwidth or config.settings.low_bandwidth
    apply_env(detect(low_bandwidth=low_bandwidth))

    from tuiot.ui.app import run_console
    from tuiot.ui.loading import INLINE_DEMO

    return run_console(
        demo_inline=demo_factory is not None and args.devices <= INLINE_DEMO,
        config=config, demo_factory=demo_factory, read_only=args.read_only, offline=args.offline,
        low_bandwidth=low_bandwidth, rules_path=args.rules, exit_on_data=args.exit_on_data, collector=hold,
    )


if __name__ == "__main__":
    sys.exit(main())
