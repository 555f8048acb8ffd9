"""Secrets: env → keyring → session prompt; never plaintext; never hang; never printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuiot import credentials
from tuiot.credentials import CredentialError, SecretSource

CONFIG = '[profiles.plant]\nvendor = "teamviewer"\nbase_url = "http://127.0.0.1:9"\n'


def tuiot(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuiot.cli", *args],
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


async def test_lookup_order_env_then_keyring_then_prompt(monkeypatch) -> None:
    credentials.keyring_set("plant", "from-keyring")
    src = SecretSource(env={"TUIOT_SECRET_PLANT": "from-env"})
    assert (await src.get("plant")).get_secret_value() == "from-env"
    src = SecretSource(env={})
    assert (await src.get("plant")).get_secret_value() == "from-keyring"
    asked = []

    async def prompt(name: str) -> str:
        asked.append(name)
        return "typed"

    src = SecretSource(env={}, prompt=prompt)
    assert (await src.get("other")).get_secret_value() == "typed"
    assert (await src.get("other")).get_secret_value() == "typed"
    assert asked == ["other"]  # asked once, kept for the session only
    assert credentials.keyring_get("other") is None  # never written


async def test_missing_secret_says_what_to_do() -> None:
    with pytest.raises(CredentialError, match=r"tuiot auth set plant.*TUIOT_SECRET_PLANT"):
        await SecretSource(env={}).get("plant")


async def test_hanging_keyring_times_out(monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "memkeyring.HangingKeyring")
    import keyring

    from memkeyring import HangingKeyring

    keyring.set_keyring(HangingKeyring())
    src = SecretSource(env={}, timeout=0.2)
    with pytest.raises(CredentialError, match="did not answer within 0.2 s"):
        await src.get("plant")


def test_secret_repr_is_masked() -> None:
    import asyncio

    s = asyncio.run(SecretSource(fixed={"p": "hunter2"}, use_keyring=False).get("p"))
    assert "hunter2" not in repr(s) and "hunter2" not in str(s)


def test_auth_set_status_clear_round_trip(tmp_path: Path) -> None:
    Path(os.environ["TUIOT_CONFIG"]).write_text(CONFIG)
    r = tuiot("auth", "set", "plant", input="k3y-value\n")
    assert r.returncode == 0, r.stderr
    assert "stored the API key of 'plant'" in r.stdout and "k3y-value" not in r.stdout + r.stderr
    assert "k3y-value" in Path(os.environ["TUIOT_TEST_KEYRING"]).read_text()
    assert "k3y-value" not in Path(os.environ["TUIOT_CONFIG"]).read_text()
    r = tuiot("auth", "status", "plant")
    assert "stored in the keyring" in r.stdout and "k3y-value" not in r.stdout
    r = tuiot("auth", "clear", "plant")
    assert r.returncode == 0 and "removed" in r.stdout
    r = tuiot("auth", "status", "plant")
    assert "not stored" in r.stdout


def test_no_keyring_backend_is_one_clear_line() -> None:
    Path(os.environ["TUIOT_CONFIG"]).write_text(CONFIG)
    r = tuiot("auth", "set", "plant", input="abc\n", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert r.returncode == 3
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no secure keyring" in lines[0] and "Traceback" not in r.stderr


def test_plaintext_backend_refused() -> None:
    Path(os.environ["TUIOT_CONFIG"]).write_text(CONFIG)
    r = tuiot("auth", "set", "plant", input="abc\n", env={"PYTHON_KEYRING_BACKEND": "memkeyring.PlaintextKeyring"})
    assert r.returncode == 3 and "refusing the plaintext keyring" in r.stderr
    assert not Path(os.environ["TUIOT_TEST_KEYRING"]).exists()


def test_unknown_profile_is_refused_before_keyring() -> None:
    Path(os.environ["TUIOT_CONFIG"]).write_text(CONFIG)
    r = tuiot("auth", "set", "plnat", input="abc\n")
    assert r.returncode == 2 and "unknown profile 'plnat'" in r.stderr and "plant" in r.stderr
