"""The formula in words (Italian), from the same parse tree."""

from __future__ import annotations

from pdz_indicators.expressions.catalog import ATTRIBUTE_LABELS_IT, FACT_TYPES
from pdz_indicators.expressions.syntax import (
    Attribute,
    AvgDays,
    Binary,
    Boolean,
    Call,
    Count,
    Node,
    Number,
    Population,
    Reported,
    String,
    Unary,
)

_OPS = {
    "+": "più",
    "-": "meno",
    "*": "per",
    "/": "diviso",
    "=": "uguale a",
    "!=": "diverso da",
    "<": "minore di",
    "<=": "minore o uguale a",
    ">": "maggiore di",
    ">=": "maggiore o uguale a",
    "and": "e",
    "or": "oppure",
}


def _num(value: object) -> str:
    text = format(value, "f") if not isinstance(value, str) else value
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _fact(name: str) -> str:
    fact = FACT_TYPES.get(name)
    return fact.label_it if fact else name


def _condition(node: Node) -> str:
    if isinstance(node, Attribute):
        return ATTRIBUTE_LABELS_IT.get(node.path, node.path)
    return describe(node)


def describe(node: Node) -> str:
    if isinstance(node, Number):
        return _num(node.value)
    if isinstance(node, String):
        return f"«{node.value}»"
    if isinstance(node, Boolean):
        return "vero" if node.value else "falso"
    if isinstance(node, Attribute):
        return ATTRIBUTE_LABELS_IT.get(node.path, node.path)
    if isinstance(node, Unary):
        if node.op == "not":
            return f"non ({_condition(node.operand)})"
        return f"meno {describe(node.operand)}"
    if isinstance(node, Binary):
        if node.op == "/":
            return f"({describe(node.left)}) diviso ({describe(node.right)})"
        left = _condition(node.left) if node.op in ("and", "or") else describe(node.left)
        right = _condition(node.right) if node.op in ("and", "or") else describe(node.right)
        return f"{left} {_OPS[node.op]} {right}"
    if isinstance(node, Call):
        args = [describe(a) for a in node.args]
        if node.name == "if":
            return f"se {_condition(node.args[0])} allora {args[1]} altrimenti {args[2]}"
        if node.name == "coalesce":
            return "il primo valore disponibile tra " + ", ".join(args)
        what = "il minimo" if node.name == "min" else "il massimo"
        return f"{what} tra " + ", ".join(args)
    if isinstance(node, Count):
        text = f"numero di {_fact(node.fact)}"
        if node.where is not None:
            text += (
                f" {_condition(node.where)}"
                if isinstance(node.where, Attribute)
                else (f" in cui {_condition(node.where)}")
            )
        return text
    if isinstance(node, AvgDays):
        text = f"media dei giorni tra {_fact(node.start)} e {_fact(node.end)}"
        if node.where is not None:
            text += f", quando {_condition(node.where)}"
        return text
    if isinstance(node, Reported):
        return f"valore riportato «{node.metric}»"
    if isinstance(node, Population):
        if node.where is None:
            return "popolazione residente"
        return f"popolazione residente con {_condition(node.where)}"
    raise AssertionError(f"unknown node {node!r}")  # pragma: no cover
