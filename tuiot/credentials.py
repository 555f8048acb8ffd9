"""Secrets: looked up in the environment, then the keyring, then asked for this session.

Stored only in the keyring (service `tuiot`, user = profile name). The backend is
chosen deliberately: an explicit PYTHON_KEYRING_BACKEND is honoured, plaintext
backends are refused, and when no secure store exists (a bare SSH host) the user is
told how to get one instead of tuiot silently writing a file. Keyring calls run in a
thread with a timeout because an SSH session can hang on a locked Secret Service.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import SecretStr

from tuiot.config import env_secret_name

SERVICE = "tuiot"
KEYRING_TIMEOUT = 5.0

NO_STORE_HELP = (
    "no secure keyring on this host (no Secret Service/D-Bus, e.g. a bare SSH session). "
    "Either pass the secret per run in {env}, or enable a store: run tuiot inside "
    "`dbus-run-session` with `gnome-keyring-daemon --unlock`, or install the encrypted-file "
    "store (`pip install 'tuiot[cryptfile]'`, then "
    "PYTHON_KEYRING_BACKEND=keyrings.cryptfile.cryptfile.CryptFileKeyring)"
)


class CredentialError(Exception):
    """No secret could be found or stored; the message says what to do."""


class NoSecureStore(CredentialError):
    pass


Prompt = Callable[[str], Awaitable[str | None]]


def _backend() -> Any:
    """The keyring backend to use, or raise NoSecureStore with the way out."""
    import keyring
    from keyring.backends import fail, null

    explicit = bool(os.environ.get("PYTHON_KEYRING_BACKEND"))
    kr = keyring.get_keyring()
    if not explicit:
        # Never let an installed keyrings.alt chain us to a plaintext file.
        def secure(b: Any) -> bool:
            mod = type(b).__module__
            return getattr(b, "priority", 0) >= 1 and not mod.startswith("keyrings.alt")

        if not secure(kr) or type(kr).__name__ == "ChainerBackend":
            keyring.core.init_backend(limit=secure)
            kr = keyring.get_keyring()
    name = type(kr).__name__
    if isinstance(kr, (fail.Keyring, null.Keyring)):
        raise NoSecureStore(NO_STORE_HELP.format(env="TUIOT_SECRET_<PROFILE>"))
    if "plaintext" in name.lower() or type(kr).__module__.startswith("keyrings.alt.file"):
        raise NoSecureStore(f"refusing the plaintext keyring backend {name}: secrets are never stored unencrypted")
    return kr


def backend_name() -> str:
    try:
        kr = _backend()
    except NoSecureStore:
        return "none"
    return f"{type(kr).__module__}.{type(kr).__name__}"


async def _in_thread(fn: Callable[[], Any], timeout: float) -> Any:
    try:
        return await asyncio.wait_for(asyncio.to_thread(fn), timeout)
    except TimeoutError:
        raise CredentialError(
            f"the keyring did not answer within {timeout:g} s (locked? over SSH the unlock prompt "
            "cannot appear); unlock it, or pass the secret in TUIOT_SECRET_<PROFILE>"
        ) from None


def _keyring_error(e: Exception) -> CredentialError:
    from keyring.errors import KeyringLocked, NoKeyringError

    if isinstance(e, NoKeyringError):
        return NoSecureStore(NO_STORE_HELP.format(env="TUIOT_SECRET_<PROFILE>"))
    if isinstance(e, KeyringLocked):
        return CredentialError("the keyring is locked; unlock it (macOS over SSH: `security unlock-keychain`)")
    return CredentialError(f"keyring error: {type(e).__name__}: {e}")


def keyring_get(profile: str) -> str | None:
    from keyring.errors import KeyringError

    kr = _backend()
    try:
        return kr.get_password(SERVICE, profile)
    except KeyringError as e:
        raise _keyring_error(e) from None


def keyring_set(profile: str, secret: str) -> str:
    from keyring.errors import KeyringError

    if not secret:
        raise CredentialError("an empty secret was not stored")
    kr = _backend()
    try:
        kr.set_password(SERVICE, profile, secret)
    except KeyringError as e:
        raise _keyring_error(e) from None
    return type(kr).__name__


def keyring_clear(profile: str) -> bool:
    from keyring.errors import KeyringError, PasswordDeleteError

    kr = _backend()
    try:
        kr.delete_password(SERVICE, profile)
    except PasswordDeleteError:
        return False
    except KeyringError as e:
        raise _keyring_error(e) from None
    return True


class SecretSource:
    """Resolves a profile's secret: environment → keyring → session prompt.

    What a prompt returns lives in this object only, for this session; it is never
    written anywhere. `fixed` supplies secrets directly (the demo fleet's known keys,
    tests) and is consulted first.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        prompt: Prompt | None = None,
        fixed: Mapping[str, str] | None = None,
        use_keyring: bool = True,
        timeout: float = KEYRING_TIMEOUT,
    ) -> None:
        self._env = os.environ if env is None else env
        self._prompt = prompt
        self._session: dict[str, SecretStr] = {k: SecretStr(v) for k, v in (fixed or {}).items()}
        self._use_keyring = use_keyring
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self.last_problem: str | None = None

    def where(self, profile: str) -> str | None:
        if profile in self._session:
            return "session"
        if self._env.get(env_secret_name(profile)):
            return "environment"
        return None

    async def get(self, profile: str) -> SecretStr:
        if profile in self._session:
            return self._session[profile]
        env = self._env.get(env_secret_name(profile))
        if env:
            return SecretStr(env)
        async with self._lock:  # one prompt at a time, and no double keyring look-ups
            if profile in self._session:
                return self._session[profile]
            problem = None
            if self._use_keyring:
                try:
                    found = await _in_thread(lambda: keyring_get(profile), self._timeout)
                except CredentialError as e:
                    found, problem = None, str(e)
                if found:
                    secret = SecretStr(found)
                    self._session[profile] = secret
                    return secret
            self.last_problem = problem
            if self._prompt is not None:
                answer = await self._prompt(profile)
                if answer:
                    secret = SecretStr(answer)
                    self._session[profile] = secret
                    return secret
        hint = f"run `tuiot auth set {profile}` or set {env_secret_name(profile)}"
        raise CredentialError(f"no secret for profile '{profile}': {hint}" + (f" ({problem})" if problem else ""))

    def forget(self, profile: str) -> None:
        """Drop a session secret (after the vendor refused it, so the next try asks again)."""
        self._session.pop(profile, None)
