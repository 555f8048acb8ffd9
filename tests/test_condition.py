"""The condition language: grammar, precedence, semantics, refusals with their column."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuiot.fleet.condition import MAX_DEPTH, ConditionError, check, parse, validate_command


@pytest.mark.parametrize(
    ("expr", "value", "expected"),
    [
        ("metric > 5", 6, True),
        ("metric > 5", 5, False),
        ("metric>=60", 60, True),
        ("metric == 1", 1.0, True),
        ("metric != 1", 2, True),
        ("metric < -2.5", -3, True),
        ("metric <= -2.5", -2.5, True),
        ("metric > - 2", -1, True),
        ("metric > .5", 0.6, True),
        ("metric > 1e3", 1001, True),
        ("metric == 'on'", "on", True),
        ('metric == "on"', "off", False),
        ('metric < "b"', "a", True),
        ("metric == true", True, True),
        ("metric != false", True, True),
        ("metric == 1", True, True),  # a boolean is 0/1 against a number
        ("metric", True, True),
        ("!metric", False, True),
        ("!(metric > 5)", 3, True),
        ("metric > 1 && metric < 5", 3, True),
        ("metric > 1 && metric < 5", 7, False),
        ("metric < 1 || metric > 5", 7, True),
        ("true", 0, True),
        ("false || metric == 0", 0, True),
        ('metric == "say \\"hi\\""', 'say "hi"', True),
    ],
)
def test_evaluates(expr: str, value: object, expected: bool) -> None:
    assert parse(expr).evaluate(value) is expected


def test_precedence() -> None:
    # || binds loosest: a || b && c is a || (b && c)
    assert parse("metric == 1 || metric == 2 && false").canonical() == "((metric == 1) || ((metric == 2) && false))"
    assert parse("metric == 1 || metric == 2 && false").evaluate(1) is True
    # ! binds tighter than comparison: !metric == false is (!metric) == false
    assert parse("!metric == false").canonical() == "(!metric == false)"
    assert parse("!metric == false").evaluate(True) is True
    assert parse("(metric == 1 || metric == 2) && false").evaluate(1) is False


@pytest.mark.parametrize("value", ["abc", "10", None, float("nan")])
def test_number_against_string_is_false(value: object) -> None:
    for op in ("==", "!=", "<", "<=", ">", ">="):
        assert parse(f"metric {op} 10").evaluate(value) is False
    assert parse("metric == 'x'").evaluate(3) is False
    assert parse("metric > true").evaluate(True) is False  # booleans do not order


@pytest.mark.parametrize(
    ("expr", "column", "start"),
    [
        ("metric > && 5", 10, "unexpected '&&'"),
        ("metric >", 9, "unexpected end of condition"),
        ("", 1, "empty condition"),
        ("   ", 1, "empty condition"),
        ("foo > 1", 1, "unknown name 'foo'"),
        ("metric > temp", 10, "unknown name 'temp'"),
        ("metric > 5 metric", 12, "unexpected 'metric'"),
        ("1 < metric < 5", 12, "unexpected '<'"),
        ("(metric > 1", 12, "unexpected end of condition"),
        ("metric > 1)", 11, "unexpected ')'"),
        ("metric == 'abc", 11, "unterminated string"),
        ('metric == "abc', 11, "unterminated string"),
        ("metric = 1", 8, "unexpected '='"),
        ("metric & 1", 8, "unexpected '&'"),
        ("metric | 1", 8, "unexpected '|'"),
        ("metric > 1 &&", 14, "unexpected end of condition"),
        ("|| metric", 1, "unexpected '||'"),
        ("metric > -x", 11, "unknown name 'x'"),
        ("metric > - 'a'", 12, "unexpected ''a''"),
        ("metric > 5x", 10, "malformed number '5x'"),
        ("metric > 1.2.3", 10, "malformed number '1.2.'"),
        ("metric > 1e", 10, "malformed number"),
        ("metric > 1e999", 10, "number '1e999' is too large"),
        ("metric # 1", 8, "unexpected character '#'"),
        ("()", 2, "unexpected ')'"),
        ("!", 2, "unexpected end of condition"),
        ("metric > 5;", 11, "unexpected character ';'"),
    ],
)
def test_refusals_point_at_the_column(expr: str, column: int, start: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse(expr)
    err = info.value
    assert err.position == column
    assert str(err).startswith(f"{start} at column {column}")
    assert "\n" not in str(err)
    caret = err.pointer(expr).splitlines()[1]
    assert caret.index("^") == column - 1


def test_nesting_and_length_are_bounded() -> None:
    assert parse("(" * MAX_DEPTH + "metric" + ")" * MAX_DEPTH).evaluate(1) is True
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse("(" * 400 + "metric" + ")" * 400)
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse("!" * 900 + "metric")
    with pytest.raises(ConditionError, match="too long"):
        parse("metric > 1 && " * 200 + "true")


def test_validate_command_and_check() -> None:
    assert validate_command("metric > 30 && metric < 90") == (0, "ok")
    code, message = validate_command("metric > && 5")
    assert code != 0 and message == "invalid condition: unexpected '&&' at column 10 (expected a value)"
    assert check("metric > 1") is None
    assert check("x") == "unknown name 'x' at column 1 (the only variable is 'metric')"


def test_rules_validate_exits_with_the_documented_usage_code(capsys: pytest.CaptureFixture[str]) -> None:
    from tuiot.cli import EXIT_USAGE, main

    assert main(["rules", "validate", "bad condition"]) == EXIT_USAGE == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("tuiot: invalid condition: unknown name 'bad' at column 1")
    assert main(["rules", "validate", "metric > 30 && metric <= 90"]) == 0
    assert capsys.readouterr().out == "ok\n"


def test_no_eval() -> None:
    with pytest.raises(ConditionError):
        parse("__import__('os').system('true')")


# ---- property tests: the parser refuses with ConditionError, never anything else -----------

ALPHABET = st.sampled_from(list("metric truefals0123456789.-+eE=!<>&|()'\"\\ \t_xé#;") + ["metric", "&&", "||", "==", "true", "(", ")"])


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=60))
def test_random_text_never_crashes(text: str) -> None:
    _parse_or_refuse(text)


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_near_miss_text_never_crashes(text: str) -> None:
    cond = _parse_or_refuse(text)
    if cond is not None:
        for v in (0, -1.5, 7, "x", "", True, False, None, float("nan")):
            assert cond.evaluate(v) in (True, False)


_VALUES = st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False), st.booleans(), st.text("abc", max_size=3))
_LITERALS = st.one_of(
    st.just("metric"),
    st.integers(-1000, 1000).map(str),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["true", "false", "'a'", '"bc"', "''"]),
)


def _expressions() -> st.SearchStrategy[str]:
    return st.recursive(
        _LITERALS,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "&&", "||"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda e: f"!({e})"),
        ),
        max_leaves=12,
    )


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(_expressions(), _VALUES)
def test_generated_valid_expressions_parse_and_evaluate(expr: str, value: object) -> None:
    cond = parse(expr)
    assert cond.evaluate(value) in (True, False)
    # The canonical form means the same thing.
    assert parse(cond.canonical()).evaluate(value) == cond.evaluate(value)


def _parse_or_refuse(text: str):
    try:
        return parse(text)
    except ConditionError as e:
        assert 1 <= e.position <= len(text) + 1
        assert "\n" not in str(e)
        return None
