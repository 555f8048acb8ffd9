"""Local rules in `rules.toml`: read strictly, written back without losing the user's text.

    # rules.toml (beside config.toml, or `--rules FILE`)
    [[rules]]
    name = "cold room too warm"
    profile = "tv-demo"
    metric = "811617:temp"        # a metric id as printed by `tuiot tree`
    condition = "metric > 8"
    severity = "major"            # critical | major | minor | warning
    checks = 3                    # consecutive matching readings before the alarm opens
    enabled = true

    [[rules]]
    name = "gateway silent"
    kind = "offline"
    profile = "tv-demo"
    device = "2022634333"
    minutes = 15
    severity = "critical"

Reading is strict (a typo must not silently disable a rule): any fault is a
`RuleFileError` naming file and line. Writing goes through tomlkit so comments and the
other rules stay as the user wrote them; the result is re-read before it replaces the
file, the previous file is kept as `rules.toml.bak`, and the swap is atomic. A file
that does not parse is never overwritten.

A local rule's id is its name (names are unique in a file); its metric or device is
kept in `sources` as the ref `profile/metric/<id>` or `profile/device/<id>`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tuiot.config import PROFILE_NAME, default_config_path
from tuiot.domain import Origin, Rule, Severity, Threshold, make_ref, split_ref
from tuiot.fleet.condition import ConditionError, parse

FILE_NAME = "rules.toml"
KEYS = {"name", "profile", "kind", "metric", "condition", "severity", "checks", "enabled", "device", "minutes", "description"}
MAX_CHECKS = 1000
MAX_MINUTES = 60 * 24 * 365


class RuleFileError(Exception):
    """The rules file cannot be read or a rule in it is invalid; the text names file and line."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if path and line else (str(path) if path else (f"line {line}" if line else ""))
        super().__init__(f"{where}: {message}" if where else message)


class InvalidRule(ValueError):
    """One `[[rules]]` entry is invalid; the text is the reason, without file or line."""


def default_rules_path() -> Path:
    """`rules.toml` beside the config file (the platform config dir unless TUIOT_CONFIG moves it)."""
    return default_config_path().parent / FILE_NAME


def rules_path(path: Path | str | None = None) -> Path:
    return Path(path).expanduser() if path else default_rules_path()


# ---- reading ---------------------------------------------------------------------------------


def load_rules(path: Path | str | None = None, *, profile: str | None = None) -> list[Rule]:
    """Every rule in the file (of one profile if given); a missing file has none."""
    p = rules_path(path)
    if not p.exists():
        if path is not None:
            raise RuleFileError("rules file not found", p)
        return []
    rules = parse_rules(_read(p), p)
    return [r for r in rules if profile is None or r.profile == profile]


def _read(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RuleFileError(f"cannot read: {e}", p) from None


def parse_rules(text: str, path: Path | None = None) -> list[Rule]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RuleFileError(_toml_message(e), path, _toml_line(e, text)) from None
    unknown = sorted(set(raw) - {"rules"})
    if unknown:
        raise RuleFileError(f"unknown top-level key(s) {', '.join(unknown)} (rules go in [[rules]] tables)", path, _key_line(text, unknown[0]))
    entries = raw.get("rules", [])
    if not isinstance(entries, list):
        raise RuleFileError("'rules' must be an array of [[rules]] tables", path, _key_line(text, "rules"))
    lines = _entry_lines(text)
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        line = lines[i] if i < len(lines) else None
        if not isinstance(entry, dict):
            raise RuleFileError("each rule must be a table", path, line)
        try:
            rule = rule_from_entry(entry)
        except ValueError as e:
            raise RuleFileError(f"rule {i + 1}: {e}", path, line) from None
        if rule.name in seen:
            raise RuleFileError(f"rule '{rule.name}' appears twice (first at line {seen[rule.name]}); names must be unique", path, line)
        seen[rule.name] = line or 0
        rules.append(rule)
    return rules


def rule_from_entry(entry: dict[str, Any]) -> Rule:
    """One `[[rules]]` table as a domain Rule; ValueError with a short reason otherwise."""
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise InvalidRule(f"unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(KEYS))})")
    name = _text(entry, "name")
    profile = _text(entry, "profile")
    if not PROFILE_NAME.match(profile):
        raise InvalidRule(f"'{profile}' is not a profile name")
    kind = entry.get("kind", "threshold")
    if kind not in ("threshold", "offline"):
        raise InvalidRule(f"kind must be \"threshold\" or \"offline\", not {kind!r}")
    severity_text = entry.get("severity", "major")
    try:
        severity = Severity(severity_text)
    except ValueError:
        raise InvalidRule(f"severity must be one of critical, major, minor, warning, not {severity_text!r}") from None
    checks = _int(entry, "checks", 1, 1, MAX_CHECKS)
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidRule("enabled must be true or false")
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise InvalidRule("description must be text")
    attrs = {"description": description} if description else {}
    if kind == "offline":
        for k in ("metric", "condition"):
            if k in entry:
                raise InvalidRule(f"an offline rule has no '{k}' (it watches a device's silence)")
        device = _bare(_text(entry, "device"), profile, "device")
        minutes = _int(entry, "minutes", None, 1, MAX_MINUTES)
        return Rule(
            id=name, profile=profile, name=name, enabled=enabled, kind="offline",
            sources=[make_ref(profile, "device", device)], minutes=minutes,
            thresholds=[Threshold(condition=str(minutes), severity=severity, checks=checks)],
            origin=Origin.local, attrs=attrs,
        )
    for k in ("device", "minutes"):
        if k in entry:
            raise InvalidRule(f"'{k}' belongs to offline rules (set kind = \"offline\")")
    metric = _bare(_text(entry, "metric"), profile, "metric")
    condition = _text(entry, "condition")
    try:
        parse(condition)
    except ConditionError as e:
        raise InvalidRule(f"condition {condition!r}: {e}") from None
    return Rule(
        id=name, profile=profile, name=name, enabled=enabled, kind="threshold",
        sources=[make_ref(profile, "metric", metric)],
        thresholds=[Threshold(condition=condition, severity=severity, checks=checks)],
        origin=Origin.local, attrs=attrs,
    )


def entry_from_rule(rule: Rule) -> dict[str, Any]:
    """A local Rule as the fields of its `[[rules]]` table (the inverse of rule_from_entry)."""
    if not rule.sources:
        raise InvalidRule(f"rule '{rule.name}' has no {'device' if rule.kind == 'offline' else 'metric'}")
    if not rule.thresholds:
        raise InvalidRule(f"rule '{rule.name}' has no condition")
    t = rule.thresholds[0]
    _, _, source = split_ref(rule.sources[0]) if rule.sources[0].count("/") >= 2 else ("", "", rule.sources[0])
    entry: dict[str, Any] = {"name": rule.name, "profile": rule.profile}
    if rule.kind == "offline":
        minutes = rule.minutes if rule.minutes is not None else int(t.condition)
        entry.update(kind="offline", device=source, minutes=minutes)
    else:
        entry.update(metric=source, condition=t.condition)
    entry.update(severity=t.severity.value, checks=t.checks, enabled=rule.enabled)
    if rule.attrs.get("description"):
        entry["description"] = str(rule.attrs["description"])
    rule_from_entry(entry)  # the same checks as reading: never write what would not load
    return entry


def _text(entry: dict[str, Any], key: str) -> str:
    v = entry.get(key)
    if v is None:
        raise InvalidRule(f"'{key}' is missing")
    if not isinstance(v, str) or not v.strip():
        raise InvalidRule(f"'{key}' must be non-empty text")
    return v.strip()


def _int(entry: dict[str, Any], key: str, default: int | None, lo: int, hi: int) -> int:
    v = entry.get(key, default)
    if v is None:
        raise InvalidRule(f"'{key}' is missing")
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise InvalidRule(f"'{key}' must be a whole number from {lo} to {hi}")
    return v


def _bare(value: str, profile: str, kind: str) -> str:
    """Accept the id as `tuiot tree` prints it, or its full ref."""
    prefix = f"{profile}/{kind}/"
    value = value.removeprefix(prefix)
    if not value:
        raise InvalidRule(f"'{kind}' is empty")
    return value


_RULES_HEADER = re.compile(r"^\s*\[\[\s*(?:rules|\"rules\"|'rules')\s*\]\]")


def _entry_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), 1) if _RULES_HEADER.match(line)]


def _key_line(text: str, key: str) -> int | None:
    pat = re.compile(r"^\s*(?:\[+\s*)?" + re.escape(key) + r"\b")
    for i, line in enumerate(text.splitlines(), 1):
        if pat.match(line):
            return i
    return None


def _toml_line(e: tomllib.TOMLDecodeError, text: str) -> int:
    m = re.search(r"at line (\d+)", str(e))
    if m:
        return int(m.group(1))
    return max(1, len(text.splitlines()))  # "at end of document"


def _toml_message(e: tomllib.TOMLDecodeError) -> str:
    return re.sub(r"\s*\((?:at line \d+, column \d+|at end of document)\)", "", str(e)) or "not valid TOML"


# ---- writing -------------------------------------------------------------------------------


def save_rule(rule: Rule, path: Path | str | None = None, *, replace: str | None = None, new: bool = False) -> Path:
    """Add `rule`, or replace the rule named `replace` (default: the rule's own name).

    Other rules, comments and layout stay as they were. Refuses (RuleFileError) when the
    current file does not parse, when another rule already has the new name, or (`new`)
    when a rule of that name exists at all: a new rule never overwrites an old one.
    """
    p = rules_path(path)
    entry = _entry_or_error(rule, p)
    doc, text, current = _document(p)
    target = replace if replace is not None else rule.name
    names = [r.name for r in current]
    if (new or rule.name != target) and rule.name in names:
        raise RuleFileError(f"a rule named '{rule.name}' already exists", p, _entry_lines(text)[names.index(rule.name)])
    tables = _rules_array(doc)
    index = names.index(target) if target in names else None
    if index is None:
        import tomlkit

        table = tomlkit.table()
        if len(tables):
            table.trivia.indent = "\n"  # a blank line between rules, as people write them
        for k, v in entry.items():
            table[k] = v
        tables.append(table)
    else:
        table = tables[index]
        for k in [k for k in table if k not in entry]:
            del table[k]  # e.g. `metric` and `condition` when a rule becomes an offline rule
        for k, v in entry.items():
            if k in table:
                if table[k] != v:
                    table[k] = v
            else:
                _add_key(table, k, v)
    _write(p, doc)
    return p


def _add_key(table: Any, key: str, value: Any) -> None:
    """Add a key after the table's last key, not after the comments that trail it.

    tomlkit counts the comment and blank lines before the next `[[rules]]` as part of
    this table; appending would put the new key under a comment meant for the next rule.
    """
    container = getattr(table, "value", None)
    body = getattr(container, "body", None)
    insert_at = getattr(container, "_insert_at", None)  # tomlkit has no public insert; 0.15 dropped _insert_after
    if body and insert_at is not None:
        last = max((i for i, (k, _) in enumerate(body) if k is not None), default=None)
        if last is not None:
            try:
                insert_at(last + 1, key, value)
                return
            except Exception:  # noqa: BLE001,S110  (tomlkit internals moved: appending is still correct TOML)
                pass
    table[key] = value


def delete_rule(name: str, path: Path | str | None = None) -> Path:
    p = rules_path(path)
    doc, _, current = _document(p)
    names = [r.name for r in current]
    if name not in names:
        raise RuleFileError(f"no rule named '{name}'", p)
    rules = _rules_array(doc)
    if len(rules) == 1:
        # tomlkit turns an emptied array of tables into 'rules = []' above the file's
        # comments; with no rules left the key goes, and the comments stay where they were
        del doc["rules"]
    else:
        del rules[names.index(name)]
    _write(p, doc)
    return p


def save_rules(rules: Iterable[Rule], path: Path | str | None = None) -> Path:
    """Upsert several rules in one write (one backup)."""
    p = rules_path(path)
    for rule in rules:
        save_rule(rule, p)
    return p


def _entry_or_error(rule: Rule, p: Path) -> dict[str, Any]:
    try:
        return entry_from_rule(rule)
    except ValueError as e:
        raise RuleFileError(f"rule '{rule.name}': {e}", p) from None


def _document(p: Path) -> tuple[Any, str, list[Rule]]:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    text = _read(p) if p.exists() else ""
    current = parse_rules(text, p) if text else []  # a file we cannot read back is left alone
    try:
        doc = tomlkit.parse(text) if text else tomlkit.document()
    except (ValueError, TOMLKitError) as e:  # tomlkit's own parse errors: the file is left untouched
        raise RuleFileError(f"cannot edit: {e}", p) from None
    return doc, text, current


def _rules_array(doc: Any) -> Any:
    import tomlkit

    if "rules" not in doc:
        doc.append("rules", tomlkit.aot())
    return doc["rules"]


def _write(p: Path, doc: Any) -> None:
    import tomlkit

    new_text = tomlkit.dumps(doc)
    parse_rules(new_text, p)  # never write a file that would not load
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.exists():
        shutil.copy2(p, p.with_name(p.name + ".bak"))
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new_text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = [
    "InvalidRule", "RuleFileError", "default_rules_path", "delete_rule", "entry_from_rule", "load_rules",
    "parse_rules", "rule_from_entry", "rules_path", "save_rule", "save_rules",
]
