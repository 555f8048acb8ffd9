"""rules.toml: strict reading with line numbers, writes that keep the user's text, backups."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuiot.domain import Origin, Rule, Severity, Threshold
from tuiot.fleet.rulefile import RuleFileError, default_rules_path, delete_rule, load_rules, save_rule

TEXT = '''# Rules for the cold rooms.
[[rules]]
name = "hot"   # the one that pages
profile = "tv"
metric = "811617:temp"
condition = "metric > 8"
severity = "major"
checks = 3

# gateways must talk
[[rules]]
name = "silent"
kind = "offline"
profile = "tv"
device = "tv/device/2022634333"
minutes = 15
severity = "critical"
enabled = false
'''


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "rules.toml"
    p.write_text(TEXT, encoding="utf-8")
    return p


def test_load(path: Path) -> None:
    hot, silent = load_rules(path)
    assert hot.id == hot.name == "hot" and hot.origin == Origin.local and hot.kind == "threshold" and hot.enabled
    assert hot.sources == ["tv/metric/811617:temp"]
    assert hot.thresholds == [Threshold(condition="metric > 8", severity=Severity.major, checks=3)]
    assert silent.kind == "offline" and silent.minutes == 15 and not silent.enabled
    assert silent.sources == ["tv/device/2022634333"]  # a full ref is accepted and kept as a ref
    assert silent.thresholds[0].severity == Severity.critical and silent.thresholds[0].checks == 1
    assert load_rules(path, profile="other") == []


def test_default_path_beside_the_config_and_missing_file_is_empty(tmp_path: Path) -> None:
    assert default_rules_path() == tmp_path / "rules.toml"  # conftest points TUIOT_CONFIG into tmp_path
    assert load_rules() == []
    with pytest.raises(RuleFileError, match="not found"):
        load_rules(tmp_path / "nope.toml")


def test_round_trip_keeps_comments_and_other_rules(path: Path) -> None:
    hot, silent = load_rules(path)
    changed = hot.model_copy(update={"thresholds": [Threshold(condition="metric >= 9", severity=Severity.critical, checks=2)]})
    save_rule(changed, path)
    text = path.read_text()
    assert "# Rules for the cold rooms." in text and "# the one that pages" in text and "# gateways must talk" in text
    assert 'condition = "metric >= 9"' in text and 'severity = "critical"' in text
    assert text.index("enabled = true") < text.index("# gateways must talk")  # new keys stay in their own table
    assert (path.with_name("rules.toml.bak")).read_text() == TEXT
    assert load_rules(path) == [changed, silent]


def test_add_rename_switch_kind_and_delete(path: Path) -> None:
    new = Rule(id="x", profile="tv", name="damp", sources=["tv/metric/811617:hum"], origin=Origin.local,
               thresholds=[Threshold(condition="metric > 80", severity=Severity.warning)])
    save_rule(new, path)
    names = [r.name for r in load_rules(path)]
    assert names == ["hot", "silent", "damp"]
    assert load_rules(path)[2].id == "damp"
    renamed = load_rules(path)[0].model_copy(update={"name": "too warm", "id": "too warm"})
    save_rule(renamed, path, replace="hot")
    assert [r.name for r in load_rules(path)] == ["too warm", "silent", "damp"]
    assert "# the one that pages" in path.read_text()
    with pytest.raises(RuleFileError, match="already exists"):
        save_rule(renamed.model_copy(update={"name": "damp"}), path, replace="too warm")
    text = path.read_text()
    with pytest.raises(RuleFileError, match="a rule named 'damp' already exists"):
        save_rule(new.model_copy(update={"profile": "other"}), path, new=True)  # a new rule never overwrites
    assert path.read_text() == text
    offline = Rule(id="damp", profile="tv", name="damp", kind="offline", sources=["tv/device/d9"], minutes=30, origin=Origin.local,
                   thresholds=[Threshold(condition="30", severity=Severity.minor)])
    save_rule(offline, path)
    damp = load_rules(path)[2]
    assert damp.kind == "offline" and damp.minutes == 30 and damp.sources == ["tv/device/d9"]
    assert "metric > 80" not in path.read_text()
    delete_rule("damp", path)
    assert [r.name for r in load_rules(path)] == ["too warm", "silent"]
    with pytest.raises(RuleFileError, match="no rule named"):
        delete_rule("damp", path)


def test_first_save_creates_the_file_without_backup(tmp_path: Path) -> None:
    r = Rule(id="a", profile="tv", name="a", sources=["tv/metric/1"], origin=Origin.local,
             thresholds=[Threshold(condition="metric == 'on'", severity=Severity.minor)])
    p = save_rule(r)
    assert p == tmp_path / "rules.toml" and load_rules() == [r]
    assert not (tmp_path / "rules.toml.bak").exists()


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('[[rules]]\nname = "a"\nprofile = "tv"\nmetric = "1"\ncondition = "metric >"\n', 1, "unexpected end of condition at column 9"),
        (('[[rules]]\nname = "a"\nprofile = "tv"\nmetric = "1"\ncondition = "metric > 1"\n\n[[rules]]\nname = "b"\nprofile = "tv"\n'
          'metric = "2"\ncondition = "metric > 1"\nseverity = "high"\n'), 7, "severity must be one of"),
        ('[[rules]]\nname = "a"\nprofile = "tv"\nmetric = "1"\ncondition = "metric > 1"\nchecks = 0\n', 1, "'checks' must be a whole number"),
        ('[[rules]]\nname = "a"\nprofile = "tv"\nmetric = "1"\nconditon = "metric > 1"\n', 1, "unknown field(s) conditon"),
        ('[[rules]]\nname = "a"\nprofile = "tv"\ncondition = "metric > 1"\n', 1, "'metric' is missing"),
        ('[[rules]]\nname = "a"\nkind = "offline"\nprofile = "tv"\ndevice = "d"\n', 1, "'minutes' is missing"),
        ('[[rules]]\nname = "a"\nprofile = "tv"\nmetric = "1"\ncondition = "metric > 1"\nminutes = 5\n', 1, "belongs to offline rules"),
        (('[[rules]]\nname = "a"\nprofile = "tv"\nmetric = "1"\ncondition = "metric > 1"\n\n[[rules]]\nname = "a"\nprofile = "tv"\n'
          'metric = "2"\ncondition = "metric > 1"\n'), 7, "appears twice"),
        ('# header\n\n[[rules]]\nname = "a"\nprofile = "tv"\nmetric = "1\n', 6, ""),
        ('[[rules]]\nname = "a"\nprofile = "tv"\nenabled = yes\n', 4, ""),
        ('rules = 3\n', 1, "array of [[rules]]"),
        ('[rule]\nname = "a"\n', 1, "unknown top-level key(s) rule"),
    ],
)
def test_malformed_file_names_its_line_and_is_never_overwritten(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    p = tmp_path / "rules.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as info:
        load_rules(p)
    err = info.value
    assert err.line == line and str(err).startswith(f"{p}:{line}: ") and fragment in str(err)
    assert "\n" not in str(err)
    r = Rule(id="z", profile="tv", name="z", sources=["tv/metric/1"], origin=Origin.local,
             thresholds=[Threshold(condition="metric > 1", severity=Severity.minor)])
    with pytest.raises(RuleFileError):
        save_rule(r, p)
    assert p.read_text(encoding="utf-8") == text
    assert not p.with_name("rules.toml.bak").exists()


def test_invalid_rule_is_refused_before_writing(path: Path) -> None:
    bad = Rule(id="b", profile="tv", name="b", sources=["tv/metric/1"], origin=Origin.local,
               thresholds=[Threshold(condition="metric >> 1", severity=Severity.minor)])
    with pytest.raises(RuleFileError, match="column 9"):
        save_rule(bad, path)
    assert path.read_text() == TEXT
    empty = bad.model_copy(update={"sources": []})
    with pytest.raises(RuleFileError, match="has no metric"):
        save_rule(empty, path)


def test_deleting_the_last_rule_keeps_the_files_comments_on_top(tmp_path: Path) -> None:
    p = tmp_path / "rules.toml"
    p.write_text('# my rules\n\n[[rules]]\nname = "hot"\nprofile = "P"\nmetric = "m"\n'
                 'condition = "metric > 1"\nseverity = "major"\n', encoding="utf-8")
    delete_rule("hot", p)
    assert p.read_text(encoding="utf-8").startswith("# my rules")
    assert load_rules(p) == []
