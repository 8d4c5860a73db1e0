"""Random formulas: the engine never crashes, and every formula it accepts runs in PostgreSQL."""

from __future__ import annotations

import random

import pytest
from sqlalchemy.exc import DBAPIError

from pdz_indicators.expressions.api import validate
from pdz_indicators.expressions.catalog import FACT_TYPES
from pdz_indicators.expressions.checker import check
from pdz_indicators.expressions.sql import compile_sql
from pdz_indicators.expressions.syntax import ExpressionError
from pdz_indicators.values.periods import parse_period
from pdz_indicators.values.service import Scope, _context
from pdz_shared.testing.plugin import Harness

FACTS = sorted(FACT_TYPES)


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def num(self, d: int) -> str:
        r = self.r
        if d <= 0:
            return r.choice([str(r.randint(0, 1000)), f"{r.randint(0, 99)}.{r.randint(0, 9)}"])
        k = r.randint(0, 9)
        if k == 0:
            return self.count(d)
        if k == 1:
            a, b = r.sample(FACTS, 2)
            return f"avg_days({a} -> {b}{self.where(d, [a, b])})"
        if k == 2:
            return f'reported("{r.choice(["posti_sad", "utenti"])}")'
        if k == 3:
            cond = r.choice(["", "age >= 65", 'sex = "F"', 'not (age < 18) or sex != "M"'])
            return f"population({cond})"
        if k == 4:
            return f"if({self.boolean(d - 1)}, {self.num(d - 1)}, {self.num(d - 1)})"
        if k == 5:
            fn = r.choice(["min", "max", "coalesce"])
            return f"{fn}({self.num(d - 1)}, {self.num(d - 1)})"
        if k == 6:
            return f"-({self.num(d - 1)})"
        op = r.choice(["+", "-", "*", "/", "\u00d7", "\u00f7"])
        return f"({self.num(d - 1)} {op} {self.num(d - 1)})"

    def count(self, d: int) -> str:
        fact = self.r.choice(FACTS)
        return f"count({fact}{self.where(d, [fact])})"

    def where(self, d: int, facts: list[str]) -> str:
        if self.r.random() < 0.4:
            return ""
        return " where " + self.cond(d, facts)

    def cond(self, d: int, facts: list[str]) -> str:
        r = self.r
        attrs = {k: v for f in facts for k, v in FACT_TYPES[f].attributes.items()}
        name, kind = r.choice(sorted(attrs.items()))
        if kind == "bool":
            base = r.choice([name, f"{name} = true", f"not {name}"])
        elif kind == "number":
            base = f"{name} {r.choice(['>', '<=', '='])} {r.randint(0, 9)}"
            if r.random() < 0.3:
                base = f"if({name} > 2, {name}, 0) >= 1"
        else:
            base = f'{name} {r.choice(["=", "!="])} "{r.choice(["api", "x", "domicilio"])}"'
        if d > 0 and r.random() < 0.4:
            return f"({base} {r.choice(['and', 'or'])} {self.cond(d - 1, facts)})"
        return base

    def boolean(self, d: int) -> str:
        r = self.r
        k = r.randint(0, 3)
        if k == 0:
            return f"{self.num(d)} {r.choice(['<', '>=', '=', '!='])} {self.num(d)}"
        if k == 1:
            return r.choice(["true", "false", '"a" = "b"'])
        if k == 2:
            return f"not ({self.boolean(d - 1)})" if d > 0 else "true"
        return f"({self.boolean(d - 1)} and {self.boolean(d - 1)})" if d > 0 else "false"


async def test_generated_formulas_compile_and_run(harness: Harness) -> None:
    scope = Scope("A", "ambito", ("A",), None, ("C1", "C2"))
    period = parse_period("2025")
    accepted = 0
    async with harness.factory() as s:
        for seed in range(150):
            formula = Gen(seed).num(3)
            try:
                tree = check(formula)
            except ExpressionError:
                continue
            accepted += 1
            stmt = compile_sql(tree).batch_statement([_context(0, scope, period)])
            try:
                rows = (await s.execute(stmt)).all()
            except DBAPIError as exc:  # pragma: no cover - the assertion shows the formula
                pytest.fail(f"{formula}: {exc}")
            assert len(rows) == 1
            await s.rollback()
    assert accepted > 100


def test_token_soup_never_crashes() -> None:
    r = random.Random(7)
    vocabulary = [
        "count",
        "avg_days",
        "reported",
        "population",
        "if",
        "min",
        "max",
        "coalesce",
        "(",
        ")",
        ",",
        "->",
        "where",
        "and",
        "or",
        "not",
        "true",
        "false",
        "1",
        "2.5",
        "1e9",
        '"x"',
        "'y",
        "+",
        "-",
        "*",
        "/",
        "=",
        "<=",
        ">",
        "evm.completed",
        "team.size",
        "age",
        "sex",
        "\u00f7",
        "#",
        "$",
        "\\",
        "\n",
        "  ",
    ]
    for _ in range(3000):
        formula = " ".join(r.choice(vocabulary) for _ in range(r.randint(0, 25)))
        if not formula.strip():
            continue
        out = validate(formula)
        if out.valid:
            compile_sql(check(formula))
        else:
            assert out.error is not None and out.error.line >= 1 and out.error.column >= 1
