"""The plan scorecard: every objective's indicators with value, target and status."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, select

from pdz_indicators.scorecard.schemas import (
    Scorecard,
    ScorecardIndicator,
    ScorecardObjective,
)
from pdz_indicators.targets import service as targets
from pdz_indicators.targets.models import Indicator, Objective, Plan, TargetStatus
from pdz_indicators.values import service as values
from pdz_indicators.values.periods import parse_period
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal
from pdz_shared.errors import NotFound, Unprocessable

router = APIRouter(prefix="/v1/plans", tags=["scorecard"])


@router.get(
    "/{plan_id}/scorecard",
    response_model=Scorecard,
    operation_id="get_plan_scorecard",
    summary="Cruscotto del piano: indicatori, target e stato",
    description=(
        "Per ogni scheda obiettivo: gli indicatori con il valore dell'ambito del piano, il "
        "target dell'anno e lo stato (achieved, on_track, at_risk, off_track, no_data). "
        "Anno corrente se period manca; qualsiasi anno del piano altrimenti."
    ),
)
async def scorecard(
    plan_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    period: Annotated[
        str | None, Query(pattern=r"^[0-9]{4}$", description="Anno (predefinito: corrente)")
    ] = None,
) -> Scorecard:
    plan = await session.get(Plan, plan_id)
    if plan is None or not principal.can_act_on(plan.ambito_code):
        raise NotFound("Piano non trovato", "Plan not found")
    year = int(period) if period else targets.today().year
    if not plan.cycle_start_year - 1 <= year <= plan.cycle_end_year:
        raise Unprocessable(
            f"Il piano copre gli anni {plan.cycle_start_year}-{plan.cycle_end_year}",
            f"The plan covers the years {plan.cycle_start_year}-{plan.cycle_end_year}",
            invalid_params=[{"name": "period", "reason": "outside the plan cycle"}],
        )
    objectives = (
        await session.exec(
            select(Objective).where(Objective.plan_id == plan_id).order_by(col(Objective.code))
        )
    ).all()
    indicators = (
        await session.exec(
            select(Indicator).where(Indicator.plan_id == plan_id).order_by(col(Indicator.code))
        )
    ).all()
    terr = await values.Territories.load(session)
    by_objective: dict[uuid.UUID | None, list[ScorecardIndicator]] = {}
    summary: dict[str, int] = {}
    label = str(year)
    for ind in indicators:
        value = await values.get_value(session, ind, plan.ambito_code, parse_period(label))
        shown, reason = values.visible(principal, value)
        item = ScorecardIndicator(
            indicator_id=ind.indicator_id,
            code=ind.code,
            name=ind.name,
            unit=ind.unit,
            value=shown,
            reason=reason,
            target=ind.target,
            computed_at=value.computed_at,
            watermark=value.watermark,
        )
        if ind.target:
            stored = await session.get(TargetStatus, (ind.indicator_id, plan.ambito_code, label))
            if stored is not None:
                status, target_value, progress, why = (
                    stored.status,
                    stored.target_value,
                    stored.progress,
                    stored.reason,
                )
            else:  # a year not judged yet: judged now, not stored (no event)
                j = await targets.judge_year(session, ind, plan.ambito_code, year, terr)
                status, target_value, progress, why = j.status, j.target_value, j.progress, j.reason
            item = item.model_copy(
                update={
                    "status": status,
                    "target_value": target_value,
                    "progress": progress,
                    "status_reason": why,
                }
            )
            summary[status] = summary.get(status, 0) + 1
        by_objective.setdefault(ind.objective_id, []).append(item)
    out = [
        ScorecardObjective(
            objective_id=o.objective_id,
            code=o.code,
            title=o.title,
            indicators=by_objective.pop(o.objective_id, []),
        )
        for o in objectives
    ]
    leftovers = [i for items in by_objective.values() for i in items]
    if leftovers:
        out.append(
            ScorecardObjective(title="Indicatori senza scheda obiettivo", indicators=leftovers)
        )
    return Scorecard(
        plan_id=plan.plan_id,
        plan_code=plan.code,
        title=plan.title,
        ambito_code=plan.ambito_code,
        period=label,
        objectives=out,
        summary=summary,
    )
