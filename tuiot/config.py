"""Profiles and settings from TOML, and where tuiot keeps its files.

Config lives at the platformdirs user config dir (`tuiot/config.toml`), or at
`--config PATH` / `TUIOT_CONFIG`. It never holds a secret: those are in the keyring.
Reading uses stdlib tomllib (fast); writing uses tomlkit so the user's comments and
layout survive.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tuiot.domain import VENDORS

APP_NAME = "tuiot"
PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Fields that would hold a secret: refused in the file, so nobody stores one there by mistake.
SECRET_FIELDS = {"api_key", "apikey", "password", "client_secret", "secret", "token"}
# Query parameters in a base_url or gateway URL that would carry a secret into the file
# (and into `profile list`): refused like the fields above.
SECRET_QUERY_NAMES = SECRET_FIELDS | {"key", "access_token", "auth", "passwd", "pwd", "sig", "signature"}
SECRET_QUERY_WORDS = {"key", "apikey", "token", "secret", "password", "passwd"}


class ConfigError(Exception):
    """The config file is missing, unreadable or invalid; the message names file and line."""


def config_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def data_dir() -> Path:
    from platformdirs import user_data_path

    return Path(os.environ.get("TUIOT_DATA_DIR") or user_data_path(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    from platformdirs import user_cache_path

    return Path(os.environ.get("TUIOT_CACHE_DIR") or user_cache_path(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    env = os.environ.get("TUIOT_CONFIG")
    return Path(env).expanduser() if env else config_dir() / "config.toml"


class Profile(BaseModel):
    """One vendor account, or one set of ThingsPro gateways."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    vendor: Literal["teamviewer", "thingsee", "murano", "thingspro"]
    base_url: str = ""
    # vendor non-secret fields
    client_id: str | None = None  # thingsee
    username: str | None = None  # murano (e-mail), thingspro
    solution_id: str | None = None  # murano
    verify: bool | str = True  # thingspro: True, False, or a CA bundle path
    gateways: list[str] = Field(default_factory=list)  # thingspro: several gateways, one credential
    group_by_tag: str = "site"  # murano: tree grouped by this tag
    live: bool = False  # thingspro: use the streaming monitor for live values
    paths: dict[str, str] = Field(default_factory=dict)  # teamviewer: override endpoint paths
    # behaviour
    read_only: bool = False
    poll_interval: float = Field(default=10.0, ge=1.0, le=3600.0)
    timeout: float = Field(default=15.0, gt=0, le=300)
    max_concurrency: int = Field(default=8, ge=1, le=64)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not PROFILE_NAME.match(v):
            raise ValueError("profile names use letters, digits, '-', '_' or '.' (at most 64)")
        return v

    @property
    def urls(self) -> list[str]:
        """Every base URL of the profile (ThingsPro may have several gateways)."""
        if self.gateways:
            return list(self.gateways)
        return [self.base_url] if self.base_url else []


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    read_only: bool = False
    theme: str = "textual-dark"
    poll_interval: float = Field(default=10.0, ge=1.0, le=3600.0)
    stale_after: float = Field(default=900.0, ge=10)  # seconds before a value is marked stale
    low_bandwidth: bool = False
    mouse: bool = True


class Config(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: Path | None = None
    settings: Settings = Field(default_factory=Settings)
    profiles: dict[str, Profile] = Field(default_factory=dict)

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none configured"
            where = f" in {self.path}" if self.path else ""
            raise ConfigError(f"unknown profile '{name}'{where} (known: {known})") from None


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate the config. A missing file is an empty config (the first run, which
    `tuiot profile add` writes), unless it was named with --config: that is a typo."""
    p = Path(path).expanduser() if path else default_config_path()
    if not p.exists():
        if path is not None:
            raise ConfigError(f"config file not found: {p}")
        return Config(path=p)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {p}: {e}") from None
    return parse_config(text, p)


def parse_config(text: str, path: Path | None = None) -> Config:
    import tomllib  # here, not at the top: `tuiot --demo` reads no config file

    where = str(path) if path else "config"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: {e}") from None
    unknown = set(raw) - {"settings", "profiles"}
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {', '.join(sorted(unknown))} (expected [settings], [profiles.NAME])")
    profiles: dict[str, Profile] = {}
    raw_profiles = raw.get("profiles", {})
    if not isinstance(raw_profiles, dict):
        raise ConfigError(f"{where}: 'profiles' must be a table of [profiles.NAME] tables")
    for name, body in raw_profiles.items():
        line = _line_of(text, f"profiles.{name}")
        at = f"{where}:{line}" if line else where
        if not isinstance(body, dict):
            raise ConfigError(f"{at}: [profiles.{name}] must be a table")
        secret = SECRET_FIELDS & {k.lower() for k in body}
        if secret:
            raise ConfigError(
                f"{at}: profile '{name}' has a secret field ({', '.join(sorted(secret))}); "
                f"secrets belong in the keyring: run `tuiot auth set {name}` and remove it from the file"
            )
        try:
            profiles[name] = Profile(name=name, **body)
        except ValidationError as e:
            raise ConfigError(f"{at}: profile '{name}': {_first_error(e)}") from None
        _check_profile(profiles[name], at)
    try:
        settings = Settings(**raw.get("settings", {}))
    except ValidationError as e:
        line = _line_of(text, "settings")
        raise ConfigError(f"{where}:{line or 1}: [settings]: {_first_error(e)}") from None
    return Config(path=path, settings=settings, profiles=profiles)


def _check_profile(p: Profile, at: str) -> None:
    if p.vendor == "thingspro":
        if not p.urls:
            raise ConfigError(f"{at}: profile '{p.name}' needs base_url or gateways = [...]")
    elif not p.base_url:
        raise ConfigError(f"{at}: profile '{p.name}' needs base_url")
    # Before the scheme check: its message quotes the URL, and the URL may hold the secret.
    for field, url in _url_fields(p):
        secret = secret_in_url(url)
        if secret:
            raise ConfigError(
                f"{at}: profile '{p.name}': {field} has {secret}; secrets belong in the keyring: "
                f"remove it from the URL and run `tuiot auth set {p.name}`"
            )
    for url in p.urls:
        if not re.match(r"^https?://", url):
            raise ConfigError(f"{at}: profile '{p.name}': '{url}' is not an http(s) URL")
    if p.vendor == "murano" and not p.solution_id:
        raise ConfigError(f"{at}: profile '{p.name}' (murano) needs solution_id")
    if p.vendor == "thingsee" and not p.client_id:
        # its token request cannot be made without one: say so here, not on every command
        raise ConfigError(f"{at}: profile '{p.name}' (thingsee) needs client_id")


def _url_fields(p: Profile) -> list[tuple[str, str]]:
    """Every URL of the profile with the name of the field that holds it."""
    fields = [("base_url", p.base_url)] if p.base_url else []
    return fields + [(f"gateways[{i}]", url) for i, url in enumerate(p.gateways)]


def secret_in_url(url: str) -> str | None:
    """What in `url` is a secret ("a password (user:password@)", "a secret query parameter
    'api_key'"), or None. Never the secret itself: the answer ends up in error messages."""
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # e.g. a bad port: the scheme check reports the URL as malformed
        password = None
        parts = None
    if password:
        return "a password (user:password@)"
    query = parts.query if parts is not None else url.partition("?")[2]
    for name, _ in parse_qsl(query, keep_blank_values=True):
        if _secret_name(name):
            return f"a secret query parameter '{name}'"
    return None


def _secret_name(name: str) -> bool:
    """api_key, apiKey, x-api-key, access_token, client_secret, password, key, ..."""
    words = [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]
    if not words:
        return False
    joined = "_".join(words)
    return joined in SECRET_QUERY_NAMES or words[-1] in SECRET_QUERY_WORDS


def _line_of(text: str, table: str) -> int | None:
    pat = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(re.escape(x) for x in table.split(".")) + r"\s*\]")
    for i, line in enumerate(text.splitlines(), 1):
        if pat.match(line):
            return i
    return None


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"unknown field '{loc}'"
    return f"{loc}: {err['msg']}" if loc else err["msg"]


def add_profile(path: Path, name: str, fields: dict[str, Any], *, replace: bool = False) -> Config:
    """Add `[profiles.NAME]` (or replace it, only with `replace=True`), keeping the rest of
    the file as the user wrote it."""
    import tomlkit

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    doc = tomlkit.parse(text) if text else tomlkit.document()
    profiles = doc.get("profiles")
    if profiles is None:
        profiles = tomlkit.table(is_super_table=True)
        doc["profiles"] = profiles
    _check_new_name(path, name, list(profiles), replace=replace)
    table = tomlkit.table()
    for k, v in fields.items():
        if v is not None:
            table[k] = v
    profiles[name] = table
    new_text = tomlkit.dumps(doc)
    cfg = parse_config(new_text, path)  # validate before anything is written
    _atomic_write(path, new_text)
    return cfg


def _check_new_name(path: Path, name: str, existing: list[str], *, replace: bool) -> None:
    """Refuse to overwrite a profile by accident, and a name whose secret another one uses."""
    if name in existing and not replace:
        raise ConfigError(f"profile '{name}' already exists in {path}: add --replace to overwrite it")
    env = env_secret_name(name)
    # `Plant` and `plant` (or `site-b` and `site_b`) would read one TUIOT_SECRET_ variable,
    # and a case-insensitive keyring would give them one entry.
    twin = next((other for other in existing if other != name and env_secret_name(other) == env), None)
    if twin is not None:
        raise ConfigError(f"profile '{name}' would share {env} with '{twin}': choose another name")


def remove_profile(path: Path, name: str) -> None:
    import tomlkit

    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    profiles = doc.get("profiles")
    if profiles is None or name not in profiles:
        raise ConfigError(f"unknown profile '{name}' in {path}")
    del profiles[name]
    _atomic_write(path, tomlkit.dumps(doc))


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def env_secret_name(profile: str) -> str:
    """`TUIOT_SECRET_<PROFILE>`: upper-cased, every other character `_`."""
    return "TUIOT_SECRET_" + re.sub(r"[^A-Z0-9]", "_", profile.upper())


def vendors() -> tuple[str, ...]:
    return VENDORS
