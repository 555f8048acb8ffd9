"""What a headless command needs: config, secrets, opened adapters, output, confirmation.

Imports nothing of Textual: `tuiot tree` on a jump host starts in a fraction of the
console's time, and a test checks that `sys.modules` stays free of it.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import TYPE_CHECKING, Any, TextIO

from tuiot.config import Config, ConfigError, Profile, load_config
from tuiot.credentials import SecretSource
from tuiot.output import render

if TYPE_CHECKING:
    from tuiot.adapters.base import Adapter
    from tuiot.simulators.demo import Demo


class CliError(Exception):
    """A one-line failure of the command itself (bad arguments, refused write)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


async def _tty_prompt(profile: str) -> str | None:
    """Ask for a secret on the terminal, without echo; kept in memory for this run only."""

    def ask() -> str:
        return getpass.getpass(f"Secret for profile '{profile}' (not stored): ")

    answer = await asyncio.to_thread(ask)
    return answer.strip() or None


class CliContext:
    def __init__(self, args: argparse.Namespace, *, out: TextIO | None = None) -> None:
        self.args = args
        self.out = out or sys.stdout
        self.read_only: bool = bool(getattr(args, "read_only", False))
        self._config: Config | None = None
        self._demo: Demo | None = None
        self._secrets: SecretSource | None = None
        self._adapters: list[Adapter] = []

    # ---- configuration -----------------------------------------------------------

    @property
    def demo(self) -> Demo | None:
        if getattr(self.args, "demo", False) and self._demo is None:
            from tuiot.simulators.demo import build_demo

            self._demo = build_demo(devices=self.args.devices, seed=self.args.seed)
        return self._demo

    @property
    def config(self) -> Config:
        if self._config is None:
            if self.demo is not None:
                self._config = Config(profiles={p.name: p for p in self.demo.profiles})
            else:
                self._config = load_config(getattr(self.args, "config", None))
        return self._config

    def profile(self, name: str) -> Profile:
        return self.config.profile(name)

    @property
    def secrets(self) -> SecretSource:
        if self._secrets is None:
            if self.demo is not None:
                self._secrets = SecretSource(fixed=self.demo.secrets, use_keyring=False)
            else:
                prompt = _tty_prompt if sys.stdin.isatty() else None
                self._secrets = SecretSource(prompt=prompt)
        return self._secrets

    # ---- adapters -----------------------------------------------------------------

    async def adapter(self, name: str) -> Adapter:
        from tuiot.adapters import load_adapter

        profile = self.profile(name)
        cls = load_adapter(profile.vendor)
        transport = self.demo.transport if self.demo is not None else None
        adapter = cls(profile, self.secrets, transport=transport)
        self._adapters.append(adapter)
        for warning in getattr(adapter, "warnings", []):  # e.g. TLS verification switched off
            print(f"tuiot: warning: {warning}", file=sys.stderr)
        return adapter

    async def aclose(self) -> None:
        for a in self._adapters:
            try:
                await a.aclose()
            except Exception:  # closing must never mask the command's own result
                pass
        self._adapters.clear()

    # ---- output and safety ----------------------------------------------------------

    def emit(self, rows: list[dict[str, Any]], fmt: str, columns: list[str]) -> None:
        import shutil

        width = shutil.get_terminal_size((80, 24)).columns if self.out.isatty() else 80
        print(render(rows, fmt, columns, width=width), file=self.out)

    def say(self, line: str) -> None:
        print(line, file=self.out)

    def confirm(self, question: str, assume_yes: bool) -> bool:
        if assume_yes:
            return True
        if not sys.stdin.isatty():
            raise CliError(f"{question.rstrip('?')}: not on a terminal, so pass --yes to confirm")
        answer = input(f"{question} [y/N] ").strip().lower()
        return answer in ("y", "yes")

    def check_writable(self, profile: Profile | str) -> None:
        p = self.profile(profile) if isinstance(profile, str) else profile
        if self.read_only or p.read_only:
            why = "--read-only is set" if self.read_only else f"profile '{p.name}' has read_only = true"
            raise CliError(f"refused: {why}; no change was made", code=2)


__all__ = ["CliContext", "CliError", "ConfigError"]
