"""Visitors over the parse tree: type checking with positions, and dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pdz_indicators.expressions.catalog import FACT_TYPES, POPULATION_ATTRIBUTES, AttrType
from pdz_indicators.expressions.syntax import (
    Attribute,
    AvgDays,
    Binary,
    Boolean,
    Call,
    Count,
    ExpressionError,
    Node,
    Number,
    Population,
    Pos,
    Reported,
    String,
    Unary,
    parse,
)

Type = Literal["number", "bool", "text"]
_TYPE_IT = {"number": "un numero", "bool": "una condizione", "text": "un testo"}
_TYPE_EN = {"number": "a number", "bool": "a condition", "text": "a text"}
_ARITH = {"+", "-", "*", "/"}
_ORDER = {"<", "<=", ">", ">="}


@dataclass
class Scope:
    """The attributes visible where a node sits (none at the top level)."""

    attributes: dict[str, AttrType] = field(default_factory=dict)
    what_it: str = ""


def _error(pos: Pos, it: str, en: str) -> ExpressionError:
    return ExpressionError(it, en, pos)


def _expect(node: Node, got: Type, wanted: Type) -> None:
    if got != wanted:
        raise _error(
            node.pos,
            f"Qui serve {_TYPE_IT[wanted]}, non {_TYPE_IT[got]}",
            f"{_TYPE_EN[wanted].capitalize()} is needed here, not {_TYPE_EN[got]}",
        )


def _fact(name: str, pos: Pos) -> dict[str, AttrType]:
    fact = FACT_TYPES.get(name)
    if fact is None:
        known = ", ".join(sorted(FACT_TYPES))
        raise _error(
            pos,
            f"Tipo di fatto sconosciuto «{name}» (disponibili: {known})",
            f"Unknown fact type '{name}' (available: {known})",
        )
    return fact.attributes


def type_of(node: Node, scope: Scope) -> Type:
    """The type of ``node``; raises ExpressionError at the first problem."""
    if isinstance(node, Number):
        return "number"
    if isinstance(node, String):
        return "text"
    if isinstance(node, Boolean):
        return "bool"
    if isinstance(node, Attribute):
        attr = scope.attributes.get(node.path)
        if attr is None:
            if not scope.attributes:
                raise _error(
                    node.pos,
                    f"«{node.path}» non è una funzione né un valore: gli attributi si usano "
                    "solo dentro «where» o population()",
                    f"'{node.path}' is neither a function nor a value: attributes can be used "
                    "only inside 'where' or population()",
                )
            known = ", ".join(sorted(scope.attributes))
            raise _error(
                node.pos,
                f"Attributo sconosciuto «{node.path}» per {scope.what_it} (disponibili: {known})",
                f"Unknown attribute '{node.path}' for {scope.what_it} (available: {known})",
            )
        return attr
    if isinstance(node, Unary):
        if node.op == "not":
            _expect(node.operand, type_of(node.operand, scope), "bool")
            return "bool"
        _expect(node.operand, type_of(node.operand, scope), "number")
        return "number"
    if isinstance(node, Binary):
        left, right = type_of(node.left, scope), type_of(node.right, scope)
        if node.op in _ARITH:
            _expect(node.left, left, "number")
            _expect(node.right, right, "number")
            return "number"
        if node.op in ("and", "or"):
            _expect(node.left, left, "bool")
            _expect(node.right, right, "bool")
            return "bool"
        if node.op in _ORDER:
            _expect(node.left, left, "number")
        _expect(node.right, right, left)
        return "bool"
    if isinstance(node, Call):
        types = [type_of(a, scope) for a in node.args]
        if node.name == "if":
            _expect(node.args[0], types[0], "bool")
            _expect(node.args[1], types[1], "number")
            _expect(node.args[2], types[2], "number")
            return "number"
        for a, t in zip(node.args, types, strict=True):
            _expect(a, t, "number")
        return "number"
    if isinstance(node, Count | AvgDays | Reported | Population):
        if scope.attributes:
            raise _error(
                node.pos,
                "Le funzioni sui fatti non si possono usare dentro una condizione «where»",
                "Fact functions cannot be used inside a 'where' condition",
            )
        if isinstance(node, Count):
            _check_where(node.where, Scope(_fact(node.fact, node.fact_pos), node.fact))
        elif isinstance(node, AvgDays):
            start = _fact(node.start, node.start_pos)
            end = _fact(node.end, node.end_pos)
            if node.start == node.end:
                raise _error(
                    node.end_pos,
                    "avg_days() misura i giorni tra due fatti diversi",
                    "avg_days() measures the days between two different facts",
                )
            _check_where(node.where, Scope({**start, **end}, f"{node.start} -> {node.end}"))
        elif isinstance(node, Reported):
            if (
                not node.metric
                or len(node.metric) > 100
                or not node.metric.replace("_", "a").isalnum()
                or not node.metric[0].isalpha()
                or node.metric != node.metric.lower()
            ):
                raise _error(
                    node.pos,
                    f"Nome di misura non valido «{node.metric}» (minuscole, cifre e _)",
                    f"Invalid metric name '{node.metric}' (lowercase letters, digits and _)",
                )
        else:
            _check_where(node.where, Scope(dict(POPULATION_ATTRIBUTES), "population"))
        return "number"
    raise AssertionError(f"unknown node {node!r}")  # pragma: no cover


def _check_where(where: Node | None, scope: Scope) -> None:
    if where is None:
        return
    _expect(where, type_of(where, scope), "bool")
    if scope.what_it == "population":
        _check_population_condition(where)


def _check_population_condition(node: Node) -> None:
    """Population is kept by age bands: age compares only with a whole number literal."""
    if isinstance(node, Binary) and node.op in ("and", "or"):
        _check_population_condition(node.left)
        _check_population_condition(node.right)
        return
    if isinstance(node, Unary) and node.op == "not":
        _check_population_condition(node.operand)
        return
    if (
        isinstance(node, Binary)
        and isinstance(node.left, Attribute)
        and (
            (
                node.left.path == "age"
                and isinstance(node.right, Number)
                and node.right.value == node.right.value.to_integral_value()
            )
            or (node.left.path == "sex" and isinstance(node.right, String))
        )
        and node.op in ("=", "!=", "<", "<=", ">", ">=")
    ):
        return
    raise _error(
        node.pos,
        "In population() si confrontano solo age con un numero intero o sex con un testo, "
        'es. population(age >= 65 and sex = "F")',
        "population() compares only age with a whole number or sex with a text, "
        'e.g. population(age >= 65 and sex = "F")',
    )


@dataclass
class Dependencies:
    facts: set[str] = field(default_factory=set)
    reported: set[str] = field(default_factory=set)
    population: bool = False
    counts_people: bool = False


def dependencies(node: Node, deps: Dependencies | None = None) -> Dependencies:
    deps = deps or Dependencies()
    if isinstance(node, Count):
        deps.facts.add(node.fact)
        deps.counts_people = True
    elif isinstance(node, AvgDays):
        deps.facts.update((node.start, node.end))
        deps.counts_people = True
    elif isinstance(node, Reported):
        deps.reported.add(node.metric)
    elif isinstance(node, Population):
        deps.population = True
    elif isinstance(node, Unary):
        dependencies(node.operand, deps)
    elif isinstance(node, Binary):
        dependencies(node.left, deps)
        dependencies(node.right, deps)
    elif isinstance(node, Call):
        for a in node.args:
            dependencies(a, deps)
    return deps


def check(source: str) -> Node:
    """Parses and type-checks an indicator formula (it must yield a number)."""
    tree = parse(source)
    _expect(tree, type_of(tree, Scope()), "number")
    return tree
