"""The rule condition language (TeamViewer's, made precise), parsed without `eval`.

Grammar, loosest binding first:

    or      := and ('||' and)*
    and     := cmp ('&&' cmp)*
    cmp     := unary (('=='|'!='|'<'|'<='|'>'|'>=') unary)?
    unary   := '!' unary | primary
    primary := 'metric' | NUMBER | STRING | 'true' | 'false' | '(' or ')'

Every refusal is a `ConditionError` carrying the 1-based column it points at.
"""

from __future__ import annotations

from dataclasses import dataclass

Value = float | int | str | bool | None

_OPS2 = ("==", "!=", "<=", ">=", "&&", "||")
_OPS1 = ("<", ">", "!", "(", ")")
_COMPARE = ("==", "!=", "<", "<=", ">", ">=")
_NAMES = ("metric", "true", "false")
_MAX_DEPTH = 100  # deep nesting would hit Python's recursion limit, not our error


class ConditionError(ValueError):
    """A refused condition; `position` is the 1-based column of the fault."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} at column {self.position}"


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "str", "name", "op", "end"
    text: str
    pos: int  # 1-based column
    value: Value = None


def _show(text: str) -> str:
    return repr(text if len(text) <= 20 else text[:17] + "...")


def tokenize(expr: str) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c.isspace():
            i += 1
            continue
        if expr.startswith(_OPS2, i):
            out.append(Token("op", expr[i : i + 2], i + 1))
            i += 2
            continue
        if c in _OPS1:
            out.append(Token("op", c, i + 1))
            i += 1
            continue
        if c in "\"'":
            j = expr.find(c, i + 1)
            if j < 0:
                raise ConditionError("unterminated string", i + 1)
            out.append(Token("str", expr[i : j + 1], i + 1, expr[i + 1 : j]))
            i = j + 1
            continue
        if c.isascii() and (c.isdigit() or c in "-."):
            j = i + 1 if c == "-" else i
            while j < n and expr[j].isascii() and (expr[j].isdigit() or expr[j] == "."):
                j += 1
            text = expr[i:j]
            try:
                num: float | int = int(text) if text.lstrip("-").isdigit() else float(text)
            except ValueError:
                raise ConditionError(f"bad number {_show(text)}", i + 1) from None
            if j < n and (expr[j].isalnum() or expr[j] == "_"):
                raise ConditionError(f"bad number {_show(expr[i:j + 1])}", i + 1)
            out.append(Token("num", text, i + 1, num))
            i = j
            continue
        if c.isalpha() or c == "_":
            j = i
            while j < n and (expr[j].isalnum() or expr[j] == "_"):
                j += 1
            word = expr[i:j]
            if word not in _NAMES:
                raise ConditionError(f"unknown name {_show(word)} (only 'metric', true, false)", i + 1)
            out.append(Token("name", word, i + 1, {"true": True, "false": False}.get(word)))
            i = j
            continue
        if c in "=&|":
            raise ConditionError(f"unexpected {_show(c)} (did you mean {_show(c * 2)}?)", i + 1)
        raise ConditionError(f"unexpected character {_show(c)}", i + 1)
    out.append(Token("end", "", n + 1))
    return out


# AST: tuples keep it small and hashable: ("lit", v) ("metric",) ("not", x)
# ("cmp", op, a, b) ("and", a, b) ("or", a, b)
Node = tuple


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

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise ConditionError("empty condition", self.tok.pos)
        node = self.or_()
        if self.tok.kind != "end":
            raise ConditionError(f"unexpected {_show(self.tok.text)}", self.tok.pos)
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.is_op("||"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.cmp()
        while self.is_op("&&"):
            self.take()
            node = ("and", node, self.cmp())
        return node

    def cmp(self) -> Node:
        node = self.unary()
        if self.is_op(*_COMPARE):
            op = self.take().text
            node = ("cmp", op, node, self.unary())
            if self.is_op(*_COMPARE):
                raise ConditionError(f"unexpected {_show(self.tok.text)} (chained comparison; use &&)", self.tok.pos)
        return node

    def unary(self) -> Node:
        if self.is_op("!"):
            self.take()
            self._enter()
            node = ("not", self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ConditionError("condition nested too deeply", self.tok.pos)

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "end":
            prev = self.tokens[self.i - 1].text if self.i else ""
            raise ConditionError(f"dangling {_show(prev)}: a value is missing", t.pos)
        if t.kind in ("num", "str"):
            self.take()
            return ("lit", t.value)
        if t.kind == "name":
            self.take()
            return ("metric",) if t.text == "metric" else ("lit", t.value)
        if t.text == "(":
            self.take()
            self._enter()
            node = self.or_()
            self.depth -= 1
            if not self.is_op(")"):
                if self.tok.kind == "end":
                    raise ConditionError("missing ')' for '('", t.pos)
                raise ConditionError(f"unexpected {_show(self.tok.text)} (expected ')')", self.tok.pos)
            self.take()
            return node
        raise ConditionError(f"unexpected {_show(t.text)}", t.pos)


def _truth(v: Value) -> bool:
    if isinstance(v, str):
        return v != ""
    return bool(v)


def _is_num(v: Value) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _compare(op: str, a: Value, b: Value) -> bool:
    # Only like with like: a number never equals or orders against a string or bool.
    same = (_is_num(a) and _is_num(b)) or (type(a) is type(b) and a is not None)
    if op in ("==", "!="):
        eq = same and a == b
        return eq if op == "==" else not eq
    if not same or isinstance(a, bool):
        return False
    try:
        if op == "<":
            return a < b  # type: ignore[operator]
        if op == "<=":
            return a <= b  # type: ignore[operator]
        if op == ">":
            return a > b  # type: ignore[operator]
        return a >= b  # type: ignore[operator]
    except TypeError:
        return False


def _eval(node: Node, metric: Value) -> Value:
    tag = node[0]
    if tag == "lit":
        return node[1]
    if tag == "metric":
        return metric
    if tag == "not":
        return not _truth(_eval(node[1], metric))
    if tag == "and":
        return _truth(_eval(node[1], metric)) and _truth(_eval(node[2], metric))
    if tag == "or":
        return _truth(_eval(node[1], metric)) or _truth(_eval(node[2], metric))
    return _compare(node[1], _eval(node[2], metric), _eval(node[3], metric))


@dataclass(frozen=True)
class Condition:
    text: str
    ast: Node

    def evaluate(self, value: Value) -> bool:
        """Whether the condition holds for this metric value (never raises)."""
        return _truth(_eval(self.ast, value))

    def __call__(self, value: Value) -> bool:
        return self.evaluate(value)


def parse(expr: str) -> Condition:
    if not isinstance(expr, str):
        raise ConditionError("condition must be text", 1)
    return Condition(expr, _Parser(tokenize(expr)).parse())


def check(expr: str) -> str | None:
    """None when valid, else the one-line message (for live form validation)."""
    try:
        parse(expr)
    except ConditionError as e:
        return str(e)
    return None
