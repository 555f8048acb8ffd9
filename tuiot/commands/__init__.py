"""Headless sub-commands that live in their own module (vendor writes, watch, bench, ...).

Contract for a module here, listed in `tuiot.cli.COMMAND_MODULES`:

    def register(sub: argparse._SubParsersAction) -> None
        # add a parser; p.set_defaults(run=run)
    async def run(args: argparse.Namespace, ctx: tuiot.cli_context.CliContext) -> int

`ctx` gives `await ctx.adapter(profile_name)` (an opened adapter, closed when the
command ends), `ctx.emit(rows, fmt, columns)` for table/json/csv output,
`ctx.confirm(question, assume_yes)` and `ctx.check_writable(profile)`. Raise
`AdapterError`, `CliError`, `ConfigError` or `CredentialError` for a one-line failure;
never print a traceback.
"""
