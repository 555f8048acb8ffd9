"""A keyring backend for tests: a JSON file named by TUIOT_TEST_KEYRING (or memory).

Tests never touch the developer's real keyring; subprocess CLI tests point
PYTHON_KEYRING_BACKEND at this class and share the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._mem: dict[str, str] = {}

    def _path(self) -> Path | None:
        p = os.environ.get("TUIOT_TEST_KEYRING")
        return Path(p) if p else None

    def _load(self) -> dict[str, str]:
        p = self._path()
        if p is None:
            return self._mem
        return json.loads(p.read_text()) if p.exists() else {}

    def _save(self, data: dict[str, str]) -> None:
        p = self._path()
        if p is None:
            self._mem = data
        else:
            p.write_text(json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}:{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        d = self._load()
        d[f"{service}:{username}"] = password
        self._save(d)

    def delete_password(self, service: str, username: str) -> None:
        d = self._load()
        if d.pop(f"{service}:{username}", None) is None:
            raise PasswordDeleteError("not found")
        self._save(d)


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt's plaintext file backend: tuiot must refuse it."""


class HangingKeyring(MemoryKeyring):
    """A Secret Service waiting for an unlock prompt nobody can see (SSH)."""

    def get_password(self, service: str, username: str) -> str | None:
        import time

        time.sleep(30)
        return None
