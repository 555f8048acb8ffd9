"""Shared fixtures: an isolated environment per test, a fixed world, in-process simulators."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))

# Output of snapshots and screenshots depends on these; CI and developers must agree.
for var in ("NO_COLOR", "TEXTUAL_THEME", "TEXTUAL_COLOR_SYSTEM", "TEXTUAL_ANIMATIONS", "TEXTUAL_FPS", "SSH_CONNECTION"):
    os.environ.pop(var, None)

# A fixed present for the synthetic world: expectations in tests do not drift with the clock.
EPOCH = 1_780_000_000.0 - (1_780_000_000.0 % 3600)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """No test reads the user's config, data dir or real keyring."""
    import keyring

    from memkeyring import MemoryKeyring

    monkeypatch.setenv("TUIOT_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TUIOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TUIOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TUIOT_TEST_KEYRING", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "memkeyring.MemoryKeyring")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    for k in list(os.environ):
        if k.startswith("TUIOT_SECRET_"):
            monkeypatch.delenv(k)
    keyring.set_keyring(MemoryKeyring())
    yield


@pytest.fixture(scope="session")
def world():
    from tuiot.simulators.fleet import build_world

    return build_world(devices=120, seed=7, epoch=EPOCH)
