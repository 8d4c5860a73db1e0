"""Tokenizer and recursive-descent parser: formula text → one immutable parse tree.

Grammar (whitespace and newlines are free)::

    expr       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := additive (("=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") additive)?
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | primary

The Unicode minus, multiplication and division signs (U+2212, U+00D7, U+00F7) and the
comparison signs U+2264, U+2265, U+2260 are accepted as their ASCII equivalents.
    primary    := NUMBER | STRING | "true" | "false" | "(" expr ")" | call | NAME
    call       := NAME "(" ... ")"  -- see the function table in ``parse_call``
    fact       := NAME ("->" NAME)? ("where" expr)?

Nothing is ever evaluated by Python: the tree is checked, described and compiled to SQL with
bound parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

MAX_LENGTH = 4000
MAX_DEPTH = 40
MAX_DIGITS = 30


@dataclass(frozen=True)
class Pos:
    line: int
    column: int
    offset: int


class ExpressionError(Exception):
    """A syntax or meaning error at a position of the formula."""

    def __init__(self, message_it: str, message_en: str, pos: Pos | None) -> None:
        super().__init__(message_en)
        self.message_it = message_it
        self.message_en = message_en
        self.pos = pos


# ------------------------------------------------------------------ tokens


@dataclass(frozen=True)
class Token:
    kind: str  # number | string | name | op | eof
    text: str
    pos: Pos


_OPS = ["->", "<=", ">=", "!=", "<>", "==", "=", "<", ">", "+", "-", "*", "/", "(", ")", ","]
_UNICODE_OPS = {
    "\u2212": "-",
    "\u00d7": "*",
    "\u00f7": "/",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+")
KEYWORDS = {"where", "and", "or", "not", "true", "false"}


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_LENGTH:
        raise ExpressionError(
            f"La formula supera {MAX_LENGTH} caratteri",
            f"The formula is longer than {MAX_LENGTH} characters",
            Pos(1, 1, 0),
        )
    tokens: list[Token] = []
    i, line, line_start = 0, 1, 0
    n = len(source)
    while i < n:
        ch = source[i]
        pos = Pos(line, i - line_start + 1, i)
        if ch == "\n":
            i += 1
            line += 1
            line_start = i
            continue
        if ch in " \t\r":
            i += 1
            continue
        if ch in _UNICODE_OPS:
            tokens.append(Token("op", _UNICODE_OPS[ch], pos))
            i += 1
            continue
        if ch == '"' or ch == "'":
            j = i + 1
            buf: list[str] = []
            while j < n and source[j] != ch:
                if source[j] == "\n":
                    break
                if source[j] == "\\" and j + 1 < n and source[j + 1] in ('"', "'", "\\"):
                    buf.append(source[j + 1])
                    j += 2
                    continue
                buf.append(source[j])
                j += 1
            if j >= n or source[j] != ch:
                raise ExpressionError("Stringa non chiusa", "Unterminated string", pos)
            if len(buf) > 200:
                raise ExpressionError(
                    "Stringa più lunga di 200 caratteri", "String longer than 200 characters", pos
                )
            tokens.append(Token("string", "".join(buf), pos))
            i = j + 1
            continue
        m = _NUMBER.match(source, i)
        if m and (ch.isdigit() or ch == "."):
            tokens.append(Token("number", m.group(), pos))
            i = m.end()
            continue
        m = _NAME.match(source, i)
        if m:
            tokens.append(Token("name", m.group(), pos))
            i = m.end()
            continue
        for op in _OPS:
            if source.startswith(op, i):
                tokens.append(Token("op", op, pos))
                i += len(op)
                break
        else:
            raise ExpressionError(f"Carattere inatteso {ch!r}", f"Unexpected character {ch!r}", pos)
    tokens.append(Token("eof", "", Pos(line, n - line_start + 1, n)))
    return tokens


# ------------------------------------------------------------------ parse tree


@dataclass(frozen=True)
class Node:
    pos: Pos = field(compare=False)  # trees compare by meaning, not by layout


@dataclass(frozen=True)
class Number(Node):
    value: Decimal


@dataclass(frozen=True)
class String(Node):
    value: str


@dataclass(frozen=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True)
class Attribute(Node):
    """An attribute of a fact (inside ``where``) or of the population (``age``, ``sex``)."""

    path: str


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" | "not"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / = != < <= > >= and or
    left: Node
    right: Node


@dataclass(frozen=True)
class Call(Node):
    """``if``, ``coalesce``, ``min``, ``max``."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Count(Node):
    fact: str
    fact_pos: Pos = field(compare=False)
    where: Node | None


@dataclass(frozen=True)
class AvgDays(Node):
    start: str
    start_pos: Pos = field(compare=False)
    end: str
    end_pos: Pos = field(compare=False)
    where: Node | None


@dataclass(frozen=True)
class Reported(Node):
    metric: str


@dataclass(frozen=True)
class Population(Node):
    where: Node | None


SCALAR_FUNCTIONS = {"if": (3, 3), "coalesce": (1, 10), "min": (2, 10), "max": (2, 10)}
FACT_FUNCTIONS = {"count", "avg_days", "reported", "population"}
_COMPARISONS = {"=", "==", "!=", "<>", "<", "<=", ">", ">="}


class Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0

    # -------------------------------------------------------------- helpers

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    def at_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def at_word(self, *words: str) -> bool:
        return self.tok.kind == "name" and self.tok.text.lower() in words

    def expect_op(self, op: str) -> Token:
        if not self.at_op(op):
            raise self.unexpected(f"«{op}»", f"'{op}'")
        return self.advance()

    def unexpected(self, wanted_it: str, wanted_en: str) -> ExpressionError:
        t = self.tok
        found = "la fine della formula" if t.kind == "eof" else f"«{t.text}»"
        found_en = "the end of the formula" if t.kind == "eof" else f"'{t.text}'"
        return ExpressionError(
            f"Atteso {wanted_it}, trovato {found}", f"Expected {wanted_en}, found {found_en}", t.pos
        )

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                f"Formula annidata oltre {MAX_DEPTH} livelli",
                f"Formula nested deeper than {MAX_DEPTH} levels",
                self.tok.pos,
            )

    # -------------------------------------------------------------- grammar

    def parse(self) -> Node:
        if self.tok.kind == "eof":
            raise ExpressionError("La formula è vuota", "The formula is empty", self.tok.pos)
        node = self.expr()
        if self.tok.kind != "eof":
            raise self.unexpected("un operatore o la fine della formula", "an operator or the end")
        return node

    def expr(self) -> Node:
        self.enter()
        try:
            return self.or_()
        finally:
            self.depth -= 1

    def or_(self) -> Node:
        node = self.and_()
        while self.at_word("or"):
            pos = self.advance().pos
            node = Binary(pos, "or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.at_word("and"):
            pos = self.advance().pos
            node = Binary(pos, "and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.at_word("not"):
            pos = self.advance().pos
            self.enter()
            try:
                return Unary(pos, "not", self.not_())
            finally:
                self.depth -= 1
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        if self.tok.kind == "op" and self.tok.text in _COMPARISONS:
            t = self.advance()
            op = {"==": "=", "<>": "!="}.get(t.text, t.text)
            node = Binary(t.pos, op, node, self.additive())
            if self.tok.kind == "op" and self.tok.text in _COMPARISONS:
                raise ExpressionError(
                    "I confronti non si possono concatenare: usa «and»",
                    "Comparisons cannot be chained: use 'and'",
                    self.tok.pos,
                )
        return node

    def additive(self) -> Node:
        node = self.term()
        while self.at_op("+", "-"):
            t = self.advance()
            node = Binary(t.pos, t.text, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.at_op("*", "/"):
            t = self.advance()
            node = Binary(t.pos, t.text, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.at_op("-", "+"):
            t = self.advance()
            self.enter()
            try:
                operand = self.unary()
            finally:
                self.depth -= 1
            return operand if t.text == "+" else Unary(t.pos, "-", operand)
        return self.primary()

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "number":
            self.advance()
            return Number(t.pos, _number(t))
        if t.kind == "string":
            self.advance()
            return String(t.pos, t.text)
        if self.at_op("("):
            self.advance()
            node = self.expr()
            self.expect_op(")")
            return node
        if t.kind == "name":
            word = t.text.lower()
            if word in ("true", "false"):
                self.advance()
                return Boolean(t.pos, word == "true")
            if word in KEYWORDS:
                raise self.unexpected("un valore", "a value")
            self.advance()
            if self.at_op("("):
                return self.call(t)
            return Attribute(t.pos, t.text)
        raise self.unexpected("un numero, una funzione o «(»", "a number, a function or '('")

    def call(self, name: Token) -> Node:
        self.expect_op("(")
        fn = name.text.lower()
        self.enter()
        try:
            if fn == "count":
                fact, fact_pos = self.fact_name()
                where = self.where()
                node: Node = Count(name.pos, fact, fact_pos, where)
            elif fn == "avg_days":
                start, start_pos = self.fact_name()
                self.expect_op("->")
                end, end_pos = self.fact_name()
                node = AvgDays(name.pos, start, start_pos, end, end_pos, self.where())
            elif fn == "reported":
                if self.tok.kind != "string":
                    raise self.unexpected(
                        'il nome della misura tra virgolette, es. "posti_sad"',
                        'the metric name in quotes, e.g. "posti_sad"',
                    )
                node = Reported(name.pos, self.advance().text)
            elif fn == "population":
                where = None if self.at_op(")") else self.expr()
                node = Population(name.pos, where)
            elif fn in SCALAR_FUNCTIONS:
                args = [self.expr()]
                while self.at_op(","):
                    self.advance()
                    args.append(self.expr())
                low, high = SCALAR_FUNCTIONS[fn]
                if not low <= len(args) <= high:
                    wanted = str(low) if low == high else f"da {low} a {high}"
                    wanted_en = str(low) if low == high else f"{low} to {high}"
                    raise ExpressionError(
                        f"{fn}() vuole {wanted} argomenti, ne ha {len(args)}",
                        f"{fn}() takes {wanted_en} arguments, got {len(args)}",
                        name.pos,
                    )
                node = Call(name.pos, fn, tuple(args))
            else:
                known = ", ".join(sorted(FACT_FUNCTIONS | set(SCALAR_FUNCTIONS)))
                raise ExpressionError(
                    f"Funzione sconosciuta «{name.text}» (disponibili: {known})",
                    f"Unknown function '{name.text}' (available: {known})",
                    name.pos,
                )
            self.expect_op(")")
            return node
        finally:
            self.depth -= 1

    def fact_name(self) -> tuple[str, Pos]:
        t = self.tok
        if t.kind != "name" or t.text.lower() in KEYWORDS:
            raise self.unexpected(
                "un tipo di fatto, es. evm.completed", "a fact type, e.g. evm.completed"
            )
        self.advance()
        return t.text, t.pos

    def where(self) -> Node | None:
        if self.at_word("where"):
            self.advance()
            return self.expr()
        return None


def _number(t: Token) -> Decimal:
    try:
        value = Decimal(t.text)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid numbers
        raise ExpressionError("Numero non valido", "Invalid number", t.pos) from exc
    digits = len(value.as_tuple().digits)
    if not value.is_finite() or abs(value) > Decimal("1e15") or digits > MAX_DIGITS:
        raise ExpressionError(
            "Numero fuori intervallo (al massimo 10^15 e 30 cifre)",
            "Number out of range (at most 10^15 and 30 digits)",
            t.pos,
        )
    return value


def parse(source: str) -> Node:
    return Parser(source).parse()
