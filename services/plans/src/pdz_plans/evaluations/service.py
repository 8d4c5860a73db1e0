"""Esiti of the previous cycle, as reported in a plan."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_plans.common import jsonable
from pdz_plans.evaluations.models import EvaluationItem
from pdz_plans.evaluations.schemas import EvaluationItemOut, EvaluationOut

FIELDS = [
    "cycle",
    "code",
    "title",
    "area",
    "dimension",
    "achievement_pct",
    "achievement_text",
    "spending_pct",
    "spending_text",
    "user_evaluation",
    "resources_adequacy",
    "critical_issues",
    "need_met",
    "continuity_previous",
    "reproposed",
    "notes",
    "answers",
    "raw",
]


async def items(session: AsyncSession, plan_id: uuid.UUID) -> list[EvaluationItem]:
    rows = await session.exec(
        select(EvaluationItem)
        .where(EvaluationItem.plan_id == plan_id)
        .order_by(col(EvaluationItem.position))
    )
    return list(rows.all())


async def replace(session: AsyncSession, plan_id: uuid.UUID, records: list[dict[str, Any]]) -> int:
    """Replaces the plan's esiti; returns how many changed (0 when identical)."""
    current = await items(session, plan_id)
    before = [jsonable({k: getattr(x, k) for k in FIELDS}) for x in current]
    after = [jsonable({k: r.get(k) for k in FIELDS}) for r in records]
    for rec in after:
        rec["answers"] = rec["answers"] or {}
        rec["raw"] = rec["raw"] or {}
    if before == after:
        return 0
    await session.exec(delete(EvaluationItem).where(col(EvaluationItem.plan_id) == plan_id))
    for pos, r in enumerate(records):
        values: dict[str, Any] = {k: r.get(k) for k in FIELDS}
        for k in ("achievement_pct", "spending_pct"):
            if values[k] is not None:
                values[k] = Decimal(str(values[k]))
        values["answers"] = values["answers"] or {}
        values["raw"] = values["raw"] or {}
        session.add(EvaluationItem(plan_id=plan_id, position=pos, **values))
    return len(records)


async def summary(session: AsyncSession, plan_id: uuid.UUID) -> EvaluationOut:
    rows = await items(session, plan_id)
    out = [EvaluationItemOut.model_validate(jsonable(r.model_dump())) for r in rows]
    ach = [x.achievement_pct for x in out if x.achievement_pct is not None]
    spe = [x.spending_pct for x in out if x.spending_pct is not None]
    return EvaluationOut(
        plan_id=plan_id,
        items=out,
        count=len(out),
        mean_achievement_pct=round(sum(ach) / len(ach), 2) if ach else None,
        mean_spending_pct=round(sum(spe) / len(spe), 2) if spe else None,
    )
