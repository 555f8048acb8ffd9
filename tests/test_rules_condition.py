"""The condition language: grammar, precedence, refusals with columns, total evaluation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuiot.fleet.rules.condition import ConditionError, check, parse


@pytest.mark.parametrize(
    ("expr", "value", "expected"),
    [
        ("metric > 30", 31, True),
        ("metric > 30", 30, False),
        ("metric >= -1.5", -1.5, True),
        ("metric < 0.5 || metric > 9", 10, True),
        ("metric > 1 && metric < 5", 3, True),
        ("metric > 1 && metric < 5", 7, False),
        ("!(metric > 1)", 0, True),
        ("!metric == false", True, True),  # ! binds tighter than ==: (!true) == false
        ("metric > 5 || metric < 1 && metric > 0", 6, True),  # && before ||
        ("(metric > 5 || metric < 1) && metric > 0", 6, True),
        ("metric == 'open'", "open", True),
        ('metric != "open"', "closed", True),
        ("metric == true", True, True),
        ("metric > 3", "abc", False),  # number vs string: false, not a crash
        ("metric == 3", "3", False),
        ("metric < 'b'", "a", True),
        ("true", 0, True),
        ("metric != 1", "x", True),
    ],
)
def test_evaluates(expr: str, value: object, expected: bool) -> None:
    assert parse(expr).evaluate(value) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expr", "column", "fragment"),
    [
        ("metric > 1 &&", 14, "dangling '&&'"),
        ("metric > 1 && && 2", 15, "unexpected '&&'"),
        ("", 1, "empty condition"),
        ("   ", 4, "empty condition"),
        ("temp > 1", 1, "unknown name 'temp'"),
        ("metric > 1 metric", 12, "unexpected 'metric'"),
        ("metric == 'abc", 11, "unterminated string"),
        ("(metric > 1", 1, "missing ')'"),
        ("metric > 1)", 11, "unexpected ')'"),
        ("metric = 1", 8, "'=='"),
        ("metric > 1 & metric", 12, "'&&'"),
        ("1 < metric < 3", 12, "chained"),
        ("metric > 1.2.3", 10, "bad number"),
        ("metric # 2", 8, "unexpected character"),
    ],
)
def test_refusals_point_at_column(expr: str, column: int, fragment: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse(expr)
    assert info.value.position == column
    msg = str(info.value)
    assert fragment in msg and msg.endswith(f"at column {column}") and "\n" not in msg


def test_check_helper() -> None:
    assert check("metric > 1") is None
    assert check("metric > 1 &&") == "dangling '&&': a value is missing at column 14"


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(ConditionError):
        parse("(" * 5000 + "metric" + ")" * 5000)
    with pytest.raises(ConditionError):
        parse("!" * 5000 + "metric")


_ALPHABET = st.sampled_from(
    ["metric", "true", "false", "1", "-2.5", "'s'", '"t"', "'", "==", "!=", "<", "<=", ">", ">=",
     "&&", "||", "!", "(", ")", " ", "x", "=", "&", "|", ".", "-", "9"]
)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_random_text_only_ever_raises_condition_error(text: str) -> None:
    try:
        c = parse(text)
    except ConditionError as e:
        assert 1 <= e.position <= len(text) + 1
        return
    c.evaluate(1.0)
    c.evaluate("x")


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=15), st.one_of(st.integers(), st.floats(), st.text(max_size=3), st.booleans()))
def test_random_token_soup_parses_or_refuses_and_evaluates_totally(parts: list[str], value: object) -> None:
    text = " ".join(parts)
    try:
        c = parse(text)
    except ConditionError as e:
        assert 1 <= e.position <= len(text) + 1
        return
    assert c.evaluate(value) in (True, False)  # type: ignore[arg-type]
