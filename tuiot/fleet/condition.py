"""The rule condition language (TeamViewer's, made precise), parsed without `eval`.

    condition  := or
    or         := and ("||" and)*
    and        := compare ("&&" compare)*
    compare    := unary (("==" | "!=" | "<" | "<=" | ">" | ">=") unary)?
    unary      := "!" unary | primary
    primary    := "(" or ")" | "metric" | number | string | "true" | "false"
    number     := "-"? digits ["." digits] [("e"|"E") ["+"|"-"] digits]   (also ".5", "5.")
    string     := '"' ... '"' | "'" ... "'"   (backslash escapes the next character)

Precedence, tightest first: `!`, comparison, `&&`, `||`. Comparisons do not chain
(`1 < metric < 5` is refused: write `metric > 1 && metric < 5`).

Semantics: numbers compare as numbers (a boolean counts as 0/1 against a number),
strings compare with strings, booleans with booleans (== and != only). Any other pair
(a number against a string, say) compares false, whatever the operator, so a rule on
a metric of the wrong type stays quiet instead of crashing. `!`, `&&` and `||` take
the truth of their operands: false, 0, "" and a missing value are false.

Every refusal is a `ConditionError` whose text is one line naming the 1-based column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_LENGTH = 1000
MAX_DEPTH = 64  # nesting of parentheses and "!": bounded so no input can exhaust the stack

Value = float | int | str | bool | None


class ConditionError(ValueError):
    """A condition refused by the parser; `position` is the 1-based column of the fault."""

    def __init__(self, message: str, position: int, hint: str | None = None) -> None:
        self.message = message
        self.position = position
        self.hint = hint
        super().__init__(f"{message} at column {position}" + (f" ({hint})" if hint else ""))

    def pointer(self, expr: str) -> str:
        """Two lines for a fixed-width display: the condition and a caret under the fault."""
        return f"{expr}\n{' ' * (self.position - 1)}^"


# ---- tokens ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    kind: str  # "num", "str", "bool", "metric", "op", "and", "or", "not", "(", ")", "-", "end"
    text: str
    col: int  # 1-based
    value: Value = None

    def describe(self) -> str:
        return "end of condition" if self.kind == "end" else f"'{self.text}'"


COMPARATORS = ("==", "!=", "<=", ">=", "<", ">")
_WS = " \t\r\n"
_DIGITS = "0123456789"


def tokenize(expr: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        col = i + 1
        if c in _WS:
            i += 1
            continue
        two = expr[i:i + 2]
        if two in ("==", "!=", "<=", ">="):
            tokens.append(Token("op", two, col))
            i += 2
        elif c in "<>":
            tokens.append(Token("op", c, col))
            i += 1
        elif two == "&&":
            tokens.append(Token("and", two, col))
            i += 2
        elif two == "||":
            tokens.append(Token("or", two, col))
            i += 2
        elif c == "!":
            tokens.append(Token("not", c, col))
            i += 1
        elif c in "()":
            tokens.append(Token(c, c, col))
            i += 1
        elif c == "-":
            tokens.append(Token("-", c, col))
            i += 1
        elif c in _DIGITS or (c == "." and i + 1 < n and expr[i + 1] in _DIGITS):
            i = _number(expr, i, tokens)
        elif c in "\"'":
            i = _string(expr, i, tokens)
        elif c.isalpha() or c == "_":
            # Scan the whole word (any script) so the message names what was typed.
            j = i
            while j < n and (expr[j].isalnum() or expr[j] == "_"):
                j += 1
            word = expr[i:j]
            if word == "metric":
                tokens.append(Token("metric", word, col))
            elif word in ("true", "false"):
                tokens.append(Token("bool", word, col, word == "true"))
            else:
                raise ConditionError(f"unknown name '{_clip(word)}'", col, "the only variable is 'metric'")
            i = j
        elif c == "=":
            raise ConditionError("unexpected '='", col, "compare with '=='")
        elif c in "&|":
            raise ConditionError(f"unexpected '{c}'", col, f"did you mean '{c * 2}'?")
        else:
            raise ConditionError(f"unexpected character {_show_char(c)}", col)
    tokens.append(Token("end", "", n + 1))
    return tokens


def _number(expr: str, i: int, out: list[Token]) -> int:
    start, n = i, len(expr)
    while i < n and expr[i] in _DIGITS:
        i += 1
    if i < n and expr[i] == ".":
        i += 1
        while i < n and expr[i] in _DIGITS:
            i += 1
    if i < n and expr[i] in "eE":
        j = i + 1
        if j < n and expr[j] in "+-":
            j += 1
        if j < n and expr[j] in _DIGITS:
            while j < n and expr[j] in _DIGITS:
                j += 1
            i = j
        else:
            raise ConditionError("malformed number", start + 1, "the exponent needs digits")
    if i < n and (expr[i].isalnum() or expr[i] in "_."):
        raise ConditionError(f"malformed number '{_clip(expr[start:i + 1])}'", start + 1)
    text = expr[start:i]
    value = float(text)
    if not math.isfinite(value):
        raise ConditionError(f"number '{_clip(text)}' is too large", start + 1)
    out.append(Token("num", text, start + 1, int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value))
    return i


def _string(expr: str, i: int, out: list[Token]) -> int:
    quote, start, n = expr[i], i, len(expr)
    chars: list[str] = []
    i += 1
    while i < n:
        c = expr[i]
        if c == "\\" and i + 1 < n:
            chars.append({"n": "\n", "t": "\t"}.get(expr[i + 1], expr[i + 1]))
            i += 2
            continue
        if c == quote:
            out.append(Token("str", expr[start:i + 1], start + 1, "".join(chars)))
            return i + 1
        chars.append(c)
        i += 1
    raise ConditionError("unterminated string", start + 1)


def _clip(text: str, width: int = 20) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _show_char(c: str) -> str:
    return f"'{c}'" if c.isprintable() else f"U+{ord(c):04X}"


# ---- syntax tree ------------------------------------------------------------------------

@dataclass(frozen=True)
class Literal:
    value: float | int | str | bool
    col: int


@dataclass(frozen=True)
class Metric:
    col: int


@dataclass(frozen=True)
class Not:
    operand: Node
    col: int


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node
    col: int


@dataclass(frozen=True)
class And:
    left: Node
    right: Node
    col: int


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node
    col: int


Node = Literal | Metric | Not | Compare | And | Or


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def nest(self, at: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(f"nested too deeply (at most {MAX_DEPTH} levels)", at.col)

    def condition(self) -> Node:
        if self.tok.kind == "end":
            raise ConditionError("empty condition", 1)
        node = self.or_()
        if self.tok.kind != "end":
            raise ConditionError(f"unexpected {self.tok.describe()}", self.tok.col, self._trailing_hint())
        return node

    def _trailing_hint(self) -> str:
        t = self.tok
        if t.kind == "op":
            return "comparisons do not chain; join them with '&&'"
        if t.kind == ")":
            return "no '(' to close"
        return "expected '&&', '||' or the end"

    def or_(self) -> Node:
        left = self.and_()
        while self.tok.kind == "or":
            op = self.take()
            left = Or(left, self.and_(), op.col)
        return left

    def and_(self) -> Node:
        left = self.compare()
        while self.tok.kind == "and":
            op = self.take()
            left = And(left, self.compare(), op.col)
        return left

    def compare(self) -> Node:
        left = self.unary()
        if self.tok.kind == "op":
            op = self.take()
            return Compare(op.text, left, self.unary(), op.col)
        return left

    def unary(self) -> Node:
        if self.tok.kind == "not":
            op = self.take()
            self.nest(op)
            node = Not(self.unary(), op.col)
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        t = self.take()
        if t.kind == "(":
            self.nest(t)
            inner = self.or_()
            self.depth -= 1
            if self.tok.kind != ")":
                raise ConditionError(f"unexpected {self.tok.describe()}", self.tok.col, f"expected ')' to close the '(' at column {t.col}")
            self.take()
            return inner
        if t.kind == "metric":
            return Metric(t.col)
        if t.kind in ("num", "str", "bool"):
            assert t.value is not None
            return Literal(t.value, t.col)
        if t.kind == "-":
            num = self.tok
            if num.kind != "num":
                raise ConditionError(f"unexpected {num.describe()}", num.col, "expected a number after '-'")
            self.take()
            assert isinstance(num.value, (int, float))
            return Literal(-num.value, t.col)
        raise ConditionError(f"unexpected {t.describe()}", t.col, "expected a value")


# ---- evaluation ---------------------------------------------------------------------------

def _truth(v: Value) -> bool:
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0 and not math.isnan(v)
    return v != ""


def _compare(op: str, a: Value, b: Value) -> bool:
    a_num = isinstance(a, (int, float))
    b_num = isinstance(b, (int, float))
    a_bool, b_bool = isinstance(a, bool), isinstance(b, bool)
    if a_bool and b_bool:
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        return False
    if a_num and b_num:
        x, y = float(a), float(b)  # type: ignore[arg-type]
    elif isinstance(a, str) and isinstance(b, str):
        x, y = a, b  # type: ignore[assignment]
    else:
        return False
    if op == "==":
        return x == y
    if op == "!=":
        return x != y
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    return x >= y


def _eval(node: Node, metric: Value) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Metric):
        return metric
    if isinstance(node, Not):
        return not _truth(_eval(node.operand, metric))
    if isinstance(node, Compare):
        return _compare(node.op, _eval(node.left, metric), _eval(node.right, metric))
    if isinstance(node, And):
        return _truth(_eval(node.left, metric)) and _truth(_eval(node.right, metric))
    return _truth(_eval(node.left, metric)) or _truth(_eval(node.right, metric))


def _show(node: Node) -> str:
    if isinstance(node, Literal):
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        if isinstance(node.value, str):
            return '"' + node.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return repr(node.value)
    if isinstance(node, Metric):
        return "metric"
    if isinstance(node, Not):
        return f"!{_show(node.operand)}"
    if isinstance(node, Compare):
        return f"({_show(node.left)} {node.op} {_show(node.right)})"
    if isinstance(node, And):
        return f"({_show(node.left)} && {_show(node.right)})"
    return f"({_show(node.left)} || {_show(node.right)})"


@dataclass(frozen=True)
class Condition:
    """A parsed condition; `evaluate(value)` says whether a reading matches."""

    source: str
    ast: Node

    def evaluate(self, metric_value: Value) -> bool:
        if isinstance(metric_value, float) and math.isnan(metric_value):
            metric_value = None
        return _truth(_eval(self.ast, metric_value))

    def __call__(self, metric_value: Value) -> bool:
        return self.evaluate(metric_value)

    def canonical(self) -> str:
        """Fully parenthesised form: shows how precedence grouped the source."""
        return _show(self.ast)

    def __str__(self) -> str:
        return self.source


def parse(expr: str) -> Condition:
    """Parse a condition, or raise `ConditionError` pointing at the fault."""
    if not isinstance(expr, str):
        raise ConditionError("a condition must be text", 1)
    if len(expr) > MAX_LENGTH:
        raise ConditionError(f"condition too long ({len(expr)} characters; at most {MAX_LENGTH})", MAX_LENGTH + 1)
    return Condition(expr, _Parser(tokenize(expr)).condition())


def check(expr: str) -> str | None:
    """None for a valid condition, else the one-line message (for forms and validators)."""
    try:
        parse(expr)
    except ConditionError as e:
        return str(e)
    return None


def validate_command(expr: str) -> tuple[int, str]:
    """What `tuiot rules validate EXPR` prints and returns: (0, "ok") or (2, message).

    2 is the CLI's documented usage/config exit code: a bad condition is bad input, and
    scripts that branch on the documented codes must not meet an undocumented 1.
    """
    message = check(expr)
    return (0, "ok") if message is None else (2, f"invalid condition: {message}")


__all__ = ["Condition", "ConditionError", "check", "parse", "tokenize", "validate_command"]
