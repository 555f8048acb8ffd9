"""rules.toml: the user's local rules, read into domain `Rule`s and written back safely.

    [[rules]]
    name = "hot boiler"
    profile = "Thingsee"
    metric = "TSPR04:temp"          # a metric id as `tuiot tree` prints it
    condition = "metric > 80"
    severity = "major"              # critical / major / minor / warning
    checks = 3                      # consecutive matching readings
    enabled = true

    [[rules]]
    name = "gateway silent"
    kind = "offline"
    profile = "Thingsee"
    device = "TSPR04"
    minutes = 15
    severity = "critical"

Writing goes through tomlkit so the user's comments, order and other rules stay as they
were; the old file is copied to `rules.toml.bak` first and the new one replaces it in one
rename. A file that does not parse is reported with its line and never written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import AoT, Table

from tuiot.config import config_dir
from tuiot.domain import Origin, Rule, Severity, Threshold, make_ref, split_ref
from tuiot.fleet.rules.condition import ConditionError, parse

FILE_NAME = "rules.toml"
SEVERITIES = tuple(s.value for s in Severity)


class RuleFileError(Exception):
    """rules.toml cannot be used; `line` (1-based) says where, when known."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        self.message, self.path, self.line = message, path, line
        where = f"{path}" if path else "rules file"
        if line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")


def default_path() -> Path:
    return config_dir() / FILE_NAME


def rule_id(profile: str, name: str) -> str:
    """Deterministic: the same rule in the file gets the same id across restarts."""
    return f"local:{profile}:{name}"


def _entry_lines(text: str) -> list[int]:
    """The 1-based line of each `[[rules]]` header, in order."""
    return [i + 1 for i, ln in enumerate(text.splitlines()) if ln.strip().replace(" ", "").startswith("[[rules]]")]


def _read_doc(path: Path) -> tuple[tomlkit.TOMLDocument, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return tomlkit.document(), ""
    except (OSError, UnicodeDecodeError) as e:
        raise RuleFileError(f"cannot read: {e}", path) from None
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as e:
        raise RuleFileError(f"not valid TOML ({e.args[0] if e.args else e})".split(" at line")[0].rstrip(")") + ")",
                            path, e.line) from None
    rules = doc.get("rules")
    if rules is not None and not isinstance(rules, (AoT, list)):
        raise RuleFileError("'rules' must be an array of [[rules]] tables", path, _key_line(text, "rules"))
    return doc, text


def _key_line(text: str, key: str) -> int | None:
    for i, ln in enumerate(text.splitlines()):
        if ln.strip().startswith(key):
            return i + 1
    return None


def entry_to_rule(entry: dict[str, Any]) -> Rule:
    """One [[rules]] table → Rule; ValueError with a short reason when it is not a rule."""
    known = {"name", "profile", "metric", "condition", "severity", "checks", "enabled", "kind", "device", "minutes"}
    extra = sorted(set(entry) - known)
    if extra:
        raise ValueError(f"unknown key '{extra[0]}'")
    name, profile = entry.get("name"), entry.get("profile")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("'name' is missing")
    if not isinstance(profile, str) or not profile.strip():
        raise ValueError(f"rule '{name}': 'profile' is missing")
    kind = entry.get("kind", "threshold")
    if kind not in ("threshold", "offline"):
        raise ValueError(f"rule '{name}': kind must be threshold or offline, not {kind!r}")
    severity = entry.get("severity", "major")
    if severity not in SEVERITIES:
        raise ValueError(f"rule '{name}': severity must be one of {', '.join(SEVERITIES)}")
    checks = entry.get("checks", 1)
    if not isinstance(checks, int) or isinstance(checks, bool) or checks < 1:
        raise ValueError(f"rule '{name}': checks must be a whole number ≥ 1")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValueError(f"rule '{name}': enabled must be true or false")  # noqa: TRY004 - a fault in the user's file
    if kind == "offline":
        device, minutes = entry.get("device"), entry.get("minutes")
        if not isinstance(device, str) or not device:
            raise ValueError(f"rule '{name}': offline rules need 'device'")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
            raise ValueError(f"rule '{name}': 'minutes' must be a whole number ≥ 1")
        source = device if device.startswith(f"{profile}/device/") else make_ref(profile, "device", device)
        # The engine feeds an offline rule the device's silence in minutes as `metric`.
        threshold = Threshold(condition=f"metric >= {minutes}", severity=Severity(severity), checks=1)
        return Rule(id=rule_id(profile, name), profile=profile, name=name, enabled=enabled, kind="offline",
                    sources=[source], thresholds=[threshold], origin=Origin.local, minutes=minutes)
    metric, condition = entry.get("metric"), entry.get("condition")
    if not isinstance(metric, str) or not metric:
        raise ValueError(f"rule '{name}': 'metric' is missing")
    if not isinstance(condition, str):
        raise ValueError(f"rule '{name}': 'condition' is missing")  # noqa: TRY004 - a fault in the user's file
    try:
        parse(condition)
    except ConditionError as e:
        raise ValueError(f"rule '{name}': condition {e}") from None
    source = metric if metric.startswith(f"{profile}/metric/") else make_ref(profile, "metric", metric)
    return Rule(id=rule_id(profile, name), profile=profile, name=name, enabled=enabled, kind="threshold",
                sources=[source], thresholds=[Threshold(condition=condition, severity=Severity(severity), checks=checks)],
                origin=Origin.local)


def rule_to_entry(rule: Rule) -> dict[str, Any]:
    """Rule → the keys of its [[rules]] table (bare ids, as the user writes them)."""
    t = rule.thresholds[0] if rule.thresholds else Threshold(condition="", severity=Severity.major)
    source = rule.sources[0] if rule.sources else ""
    bare = split_ref(source)[2] if source.count("/") >= 2 else source
    if rule.kind == "offline":
        return {"name": rule.name, "kind": "offline", "profile": rule.profile, "device": bare,
                "minutes": int(rule.minutes or 1), "severity": t.severity.value, "enabled": rule.enabled}
    return {"name": rule.name, "profile": rule.profile, "metric": bare, "condition": t.condition,
            "severity": t.severity.value, "checks": t.checks, "enabled": rule.enabled}


def load_rules(path: Path | str | None = None) -> list[Rule]:
    """Every rule in the file (a missing file is no rules); RuleFileError names the line."""
    p = Path(path) if path is not None else default_path()
    doc, text = _read_doc(p)
    lines = _entry_lines(text)
    out: list[Rule] = []
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(doc.get("rules") or []):
        line = lines[i] if i < len(lines) else None
        if not isinstance(entry, dict):
            raise RuleFileError("each rule must be a [[rules]] table", p, line)
        try:
            rule = entry_to_rule(entry.unwrap() if hasattr(entry, "unwrap") else dict(entry))
        except ValueError as e:
            raise RuleFileError(str(e), p, line) from None
        if (rule.profile, rule.name) in seen:
            raise RuleFileError(f"rule '{rule.name}' appears twice for profile {rule.profile}", p, line)
        seen.add((rule.profile, rule.name))
        out.append(rule)
    return out


def _write(p: Path, doc: tomlkit.TOMLDocument) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.exists():
        shutil.copy2(p, p.with_name(p.name + ".bak"))
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(tomlkit.dumps(doc))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _find(rules: Any, profile: str, name: str) -> int | None:
    for i, entry in enumerate(rules or []):
        if isinstance(entry, dict) and entry.get("profile") == profile and entry.get("name") == name:
            return i
    return None


def save_rule(rule: Rule, path: Path | str | None = None, *, replaces: str | None = None) -> None:
    """Add `rule`, or update the rule named `replaces` (default: its own name) in place."""
    p = Path(path) if path is not None else default_path()
    load_rules(p)  # a malformed file is reported, never overwritten
    entry = rule_to_entry(rule)
    entry_to_rule(entry)  # refuse to write what could not be read back
    doc, _ = _read_doc(p)
    rules = doc.get("rules")
    if rules is None:
        rules = tomlkit.aot()
        doc.append("rules", rules)
    at = _find(rules, rule.profile, replaces or rule.name)
    if replaces and replaces != rule.name and _find(rules, rule.profile, rule.name) is not None:
        raise RuleFileError(f"a rule named '{rule.name}' already exists for {rule.profile}", p)
    if at is None:
        table = tomlkit.table()
        for k, v in entry.items():
            table[k] = v
        rules.append(table)
    else:
        table = rules[at]
        for k in [k for k in list(table.keys()) if k not in entry]:
            del table[k]
        for k, v in entry.items():
            if k in table:
                if table[k] != v:
                    table[k] = v
            elif _DEFAULTS.get(k, _MISSING) != v:
                _add_key(table, k, v)
    _write(p, doc)


_MISSING = object()
_DEFAULTS: dict[str, Any] = {"kind": "threshold", "checks": 1, "enabled": True, "severity": "major"}


def _add_key(table: Table, key: str, value: Any) -> None:
    """Put a new key after the table's last key, so a comment that introduces the next
    [[rules]] table stays above that table instead of above the new key."""
    keys = list(table)
    try:
        table.value._insert_after(keys[-1], key, value)  # tomlkit has no public "insert after"
    except (AttributeError, IndexError, KeyError, ValueError):
        table[key] = value


def delete_rule(profile: str, name: str, path: Path | str | None = None) -> bool:
    p = Path(path) if path is not None else default_path()
    load_rules(p)
    doc, _ = _read_doc(p)
    rules = doc.get("rules")
    at = _find(rules, profile, name)
    if at is None:
        return False
    del rules[at]
    _write(p, doc)
    return True
