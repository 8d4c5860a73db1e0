from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request

from pdz_indicators.expressions.checker import check, dependencies
from pdz_indicators.expressions.describe import describe
from pdz_indicators.expressions.schemas import (
    ExpressionDependencies,
    ExpressionIn,
    ExpressionOut,
    ExpressionProblem,
)
from pdz_indicators.expressions.syntax import ExpressionError, Node, Pos
from pdz_shared.auth import CurrentPrincipal
from pdz_shared.errors import wants_english

router = APIRouter(prefix="/v1/expressions", tags=["expressions"])


def tree_json(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {"node": type(node).__name__.lower()}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Pos):
            key = "position" if f.name == "pos" else f.name
            out[key] = {"line": value.line, "column": value.column}
        elif isinstance(value, Node):
            out[f.name] = tree_json(value)
        elif isinstance(value, tuple):
            out[f.name] = [tree_json(v) for v in value]
        elif isinstance(value, Decimal):
            out[f.name] = str(value)
        else:
            out[f.name] = value
    return out


def validate(formula: str, *, english: bool = False) -> ExpressionOut:
    try:
        tree = check(formula)
    except ExpressionError as exc:
        pos = exc.pos or Pos(1, 1, 0)
        return ExpressionOut(
            valid=False,
            formula=formula,
            error=ExpressionProblem(
                message=exc.message_en if english else exc.message_it,
                line=pos.line,
                column=pos.column,
            ),
        )
    deps = dependencies(tree)
    return ExpressionOut(
        valid=True,
        formula=formula,
        tree=tree_json(tree),
        dependencies=ExpressionDependencies(
            facts=sorted(deps.facts),
            reported=sorted(deps.reported),
            population=deps.population,
            counts_people=deps.counts_people,
        ),
        description=describe(tree),
    )


@router.post(
    "/validate",
    response_model=ExpressionOut,
    operation_id="validate_expression",
    summary="Valida una formula di indicatore",
    description=(
        "Analizza la formula (mai eseguita come codice), segnala il primo errore con riga e "
        "colonna, elenca le dipendenze e la descrive a parole."
    ),
)
async def validate_expression(
    body: ExpressionIn, request: Request, _: CurrentPrincipal
) -> ExpressionOut:
    return validate(body.formula, english=wants_english(request.headers.get("accept-language")))
