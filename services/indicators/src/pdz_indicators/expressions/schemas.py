from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ExpressionIn(BaseModel):
    formula: str = Field(
        min_length=1,
        max_length=4000,
        examples=["count(pai.approved) / count(evm.completed) * 100"],
    )
    missing_value_policy: Literal["skip_if_any_missing", "skip_if_all_missing", "zero"] = (
        "skip_if_all_missing"
    )


class ExpressionProblem(BaseModel):
    message: str = Field(max_length=2000)
    line: int = Field(ge=1, le=100_000)
    column: int = Field(ge=1, le=100_000)


class ExpressionDependencies(BaseModel):
    facts: list[str] = Field(max_length=100, description="Tipi di fatto (eventi dei casi) usati")
    reported: list[str] = Field(max_length=100, description="Misure riportate usate")
    population: bool = Field(description="Usa la popolazione residente")
    counts_people: bool = Field(description="Conta persone (soggetto a oscuramento 1-4)")


class ExpressionOut(BaseModel):
    valid: bool
    formula: str = Field(max_length=4000)
    error: ExpressionProblem | None = None
    tree: dict[str, object] | None = Field(None, description="Albero sintattico")
    dependencies: ExpressionDependencies | None = None
    description: str | None = Field(None, max_length=8000, description="La formula a parole")
