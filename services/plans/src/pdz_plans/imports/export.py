"""Export of a plan in the import format, so that export → re-import gives the same plan.

Values that could not be typed on import (N.D., impossible dates, text in number fields, HTML)
are exported exactly as they were written, from each record's ``raw`` map.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_plans.common import jsonable
from pdz_plans.evaluations import service as evaluations
from pdz_plans.imports.normalize import FORMAT
from pdz_plans.indicators_def.models import IndicatorDefinition
from pdz_plans.objectives import service as objectives
from pdz_plans.objectives.models import BudgetLine, Objective
from pdz_plans.plans.models import Plan
from pdz_plans.territories import service as territories
from pdz_plans.territories.models import TerritoryUnit


def restore(record: dict[str, Any]) -> dict[str, Any]:
    """Puts the original text of odd values back in their fields; drops empty values."""
    out: dict[str, Any] = {}
    raw = record.get("raw") or {}
    for key, value in record.items():
        if key == "raw":
            continue
        if isinstance(value, list):
            value = [restore(v) if isinstance(v, dict) else v for v in value]
        out[key] = value
    for key, value in raw.items():
        out[key] = value
    return {k: jsonable(v) for k, v in out.items() if v is not None and v != [] and v != {}}


async def _units(session: AsyncSession, plan: Plan) -> list[TerritoryUnit]:
    wanted: list[str] = [plan.ambito_code, *plan.comune_codes]
    seen: dict[str, TerritoryUnit] = {}
    while wanted:
        code = wanted.pop(0)
        if code in seen:
            continue
        unit = await territories.get_or_none(session, code)
        if unit is None:
            continue
        seen[code] = unit
        wanted.extend(unit.parent_codes)
    order = {"regione": 0, "ats": 1, "asst": 2, "distretto": 3, "ambito": 4, "comune": 5}
    return sorted(seen.values(), key=lambda u: (order.get(u.kind, 9), u.code))


def _indicator(ind: IndicatorDefinition) -> dict[str, Any]:
    return restore(
        {
            "code": ind.code,
            "name": ind.name,
            "kind": ind.kind,
            "unit": ind.unit,
            "data_source": ind.data_source,
            "frequency": ind.frequency,
            "formula": ind.formula,
            "target": ind.target,
            "notes": ind.notes,
            "raw": ind.raw,
        }
    )


def _resource(x: BudgetLine) -> dict[str, Any]:
    return restore(
        {
            "fund": x.fund,
            "year": x.year,
            "planned": x.planned,
            "committed": x.committed,
            "spent": x.spent,
            "note": x.note,
            "raw": x.raw,
        }
    )


async def export_plan(session: AsyncSession, plan: Plan) -> dict[str, Any]:
    units = await _units(session, plan)
    population = []
    for unit in units:
        for row in await territories.population_of(session, unit.code):
            population.append(
                restore(
                    {
                        "territory": unit.code,
                        "year": row.year,
                        "reference_date": row.reference_date,
                        **{k: getattr(row, k) for k in territories._POP},
                        "source": row.source,
                        "raw": row.raw,
                    }
                )
            )
    objs = list(
        (
            await session.exec(
                select(Objective)
                .where(Objective.plan_id == plan.id)
                .order_by(col(Objective.position), col(Objective.code))
            )
        ).all()
    )
    res = await objectives.resources_of(session, [o.id for o in objs])
    inds = list(
        (
            await session.exec(
                select(IndicatorDefinition)
                .where(IndicatorDefinition.plan_id == plan.id)
                .order_by(col(IndicatorDefinition.position), col(IndicatorDefinition.code))
            )
        ).all()
    )
    budget = (
        await session.exec(
            select(BudgetLine)
            .where(BudgetLine.plan_id == plan.id, col(BudgetLine.objective_id).is_(None))
            .order_by(col(BudgetLine.position))
        )
    ).all()
    plan_doc = restore(
        {
            "code": plan.code,
            "title": plan.title,
            "ambito_code": plan.ambito_code,
            "cycle_start_year": plan.cycle_start_year,
            "cycle_end_year": plan.cycle_end_year,
            "valid_from": plan.valid_from,
            "valid_to": plan.valid_to,
            "extension_note": plan.extension_note,
            "status": plan.status,
            "approval_body": plan.approval_body,
            "approved_on": plan.approved_on,
            "approval_act": plan.approval_act,
            "capofila_code": plan.capofila_code,
            "capofila_name": plan.capofila_name,
            "legal_basis": plan.legal_basis,
            "comuni": plan.comune_codes,
            "signatories": plan.signatories,
            "governance_bodies": plan.governance_bodies,
            "declared_totals": plan.declared_totals,
            "notes": plan.notes,
            "source": plan.source,
            "raw": plan.raw,
        }
    )
    return {
        "format": FORMAT,
        "territories": [
            restore(
                {
                    "code": u.code,
                    "name": u.name,
                    "kind": u.kind,
                    "parent_codes": u.parent_codes,
                    "ambito_code": u.ambito_code if u.kind != "ambito" else None,
                    "istat_code": u.istat_code,
                    "valid_from": u.valid_from,
                    "valid_to": u.valid_to,
                }
            )
            for u in units
        ],
        "population": population,
        "plan": plan_doc,
        "objectives": [
            restore(
                {
                    "code": o.code,
                    "title": o.title,
                    "section": o.section,
                    "description": o.description,
                    "rationale": o.rationale,
                    "scope": o.scope,
                    "shared_with_ambiti": o.shared_with_ambiti,
                    "target_population": o.target_population,
                    "responsible_body": o.responsible_body,
                    "partners": o.partners,
                    "start_date": o.start_date,
                    "end_date": o.end_date,
                    "status": o.status,
                    "classifications": o.classifications,
                    "actions": o.actions,
                    "answers": o.answers,
                    "details": o.details,
                    "resources": [_resource(x) for x in res.get(o.id, [])],
                    "indicators": [_indicator(i) for i in inds if i.objective_id == o.id],
                    "raw": o.raw,
                }
            )
            for o in objs
        ],
        "indicators": [_indicator(i) for i in inds if i.objective_id is None],
        "budget": [_resource(x) for x in budget],
        "evaluation": [
            restore(
                {
                    "cycle": e.cycle,
                    "code": e.code,
                    "title": e.title,
                    "area": e.area,
                    "dimension": e.dimension,
                    "achievement": e.achievement_text
                    if e.achievement_text is not None
                    else e.achievement_pct,
                    "spending": e.spending_text if e.spending_text is not None else e.spending_pct,
                    "user_evaluation": e.user_evaluation,
                    "resources_adequacy": e.resources_adequacy,
                    "critical_issues": e.critical_issues,
                    "need_met": e.need_met,
                    "continuity_previous": e.continuity_previous,
                    "reproposed": e.reproposed,
                    "notes": e.notes,
                    "answers": e.answers,
                    "raw": {k: v for k, v in e.raw.items() if k not in ("achievement", "spending")},
                }
            )
            for e in await evaluations.items(session, plan.id)
        ],
    }
