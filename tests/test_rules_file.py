"""rules.toml: reading, round trips that keep the user's text, backups, malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuiot.domain import Origin, Rule, Severity, Threshold
from tuiot.fleet.rules.rulefile import RuleFileError, default_path, delete_rule, load_rules, save_rule

TEXT = """\
# my plant rules
[[rules]]
name = "hot"   # boiler room
profile = "Thingsee"
metric = "TS1:temp"
condition = "metric > 80"
severity = "critical"
checks = 3

# the gateway in the basement
[[rules]]
name = "silent"
kind = "offline"
profile = "Thingsee"
device = "TS9"
minutes = 15
severity = "minor"
"""


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "rules.toml"
    p.write_text(TEXT)
    return p


def test_reads_threshold_and_offline_rules(path: Path) -> None:
    hot, silent = load_rules(path)
    assert hot.origin is Origin.local and hot.kind == "threshold"
    assert hot.sources == ["Thingsee/metric/TS1:temp"]
    assert hot.thresholds == [Threshold(condition="metric > 80", severity=Severity.critical, checks=3)]
    assert silent.kind == "offline" and silent.minutes == 15 and silent.sources == ["Thingsee/device/TS9"]
    assert load_rules(path)[0].id == hot.id  # deterministic across reads


def test_missing_file_is_no_rules(tmp_path: Path) -> None:
    assert load_rules(tmp_path / "none.toml") == []
    assert load_rules() == [] and default_path().name == "rules.toml"


def test_edit_keeps_comments_and_other_rules_and_backs_up(path: Path) -> None:
    hot = load_rules(path)[0]
    edited = hot.model_copy(update={"thresholds": [Threshold(condition="metric > 90", severity=Severity.major, checks=2)]})
    save_rule(edited, path)
    text = path.read_text()
    assert "# my plant rules" in text and "# boiler room" in text and "# the gateway in the basement" in text
    assert 'condition = "metric > 90"' in text and "checks = 2" in text
    assert text.index("# the gateway") < text.index('name = "silent"')
    assert (path.parent / "rules.toml.bak").read_text() == TEXT
    hot2, silent = load_rules(path)
    assert hot2.thresholds[0].condition == "metric > 90" and silent.minutes == 15


def test_add_rename_delete(path: Path) -> None:
    new = Rule(id="x", profile="Murano", name="low battery", sources=["Murano/metric/dev1:battery"],
               thresholds=[Threshold(condition="metric < 10", severity=Severity.warning)], origin=Origin.local)
    save_rule(new, path)
    assert [r.name for r in load_rules(path)] == ["hot", "silent", "low battery"]
    save_rule(new.model_copy(update={"name": "battery"}), path, replaces="low battery")
    assert [r.name for r in load_rules(path)] == ["hot", "silent", "battery"]
    with pytest.raises(RuleFileError):
        # renaming onto an existing rule's name is refused
        save_rule(Rule(**{**new.model_dump(), "profile": "Thingsee", "name": "silent"}), path, replaces="hot")
    assert delete_rule("Murano", "battery", path) is True
    assert delete_rule("Murano", "battery", path) is False
    assert "# the gateway in the basement" in path.read_text()


@pytest.mark.parametrize(
    ("bad", "line", "fragment"),
    [
        (TEXT + "[[rules]]\nname = \n", 19, "not valid TOML"),
        (TEXT + '[[rules]]\nname = "x"\nprofile = "P"\nmetric = "m"\ncondition = "metric >"\n', 18, "dangling"),
        (TEXT + '[[rules]]\nname = "x"\nprofile = "P"\nmetric = "m"\ncondition = "metric > 1"\nseverity = "huge"\n',
         18, "severity"),
        (TEXT + '[[rules]]\nname = "y"\nkind = "offline"\nprofile = "P"\ndevice = "d"\n', 18, "minutes"),
        (TEXT + '[[rules]]\nname = "hot"\nprofile = "Thingsee"\nmetric = "m"\ncondition = "metric > 1"\n', 18, "twice"),
    ],
)
def test_malformed_file_names_its_line_and_is_never_overwritten(tmp_path: Path, bad: str, line: int, fragment: str) -> None:
    p = tmp_path / "rules.toml"
    p.write_text(bad)
    with pytest.raises(RuleFileError) as info:
        load_rules(p)
    assert info.value.line == line and fragment in str(info.value) and f"line {line}" in str(info.value)
    rule = Rule(id="z", profile="P", name="z", sources=["P/metric/m"],
                thresholds=[Threshold(condition="metric > 1", severity=Severity.minor)], origin=Origin.local)
    with pytest.raises(RuleFileError):
        save_rule(rule, p)
    assert p.read_text() == bad and not (tmp_path / "rules.toml.bak").exists()
