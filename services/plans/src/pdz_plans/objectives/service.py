"""Schede obiettivo with their actions and resources, and the plan budget."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_plans.classifications import service as classifications
from pdz_plans.common import assign, jsonable, require_writer
from pdz_plans.history import service as history
from pdz_plans.objectives.models import BudgetLine, Objective
from pdz_plans.objectives.schemas import (
    BudgetCell,
    BudgetOut,
    BudgetWarning,
    ObjectiveIn,
    ObjectiveOut,
    Resource,
)
from pdz_plans.plans.models import Plan
from pdz_plans.plans.service import visible
from pdz_shared.auth import Principal
from pdz_shared.contracts import plans as contract
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, NotFound, Unprocessable
from pdz_shared.events.outbox import emit

MEASURES = ("planned", "committed", "spent")


async def get(
    session: AsyncSession, principal: Principal, objective_id: uuid.UUID
) -> tuple[Objective, Plan]:
    objective = await session.get(Objective, objective_id)
    plan = await session.get(Plan, objective.plan_id) if objective else None
    if objective is None or plan is None or not visible(principal, plan):
        raise NotFound(
            f"Scheda obiettivo {objective_id} non trovata", f"Objective {objective_id} not found"
        )
    return objective, plan


async def for_plan(
    session: AsyncSession,
    plan_id: uuid.UUID,
    *,
    scheme: str | None,
    code: str | None,
    scope: str | None,
    q: str | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[Objective], int]:
    query = select(Objective).where(Objective.plan_id == plan_id)
    if scheme and code:
        query = query.where(
            col(Objective.classifications).contains([{"scheme": scheme, "code": code}])
        )
    elif scheme:
        query = query.where(col(Objective.classifications).contains([{"scheme": scheme}]))
    if scope:
        query = query.where(Objective.scope == scope)
    if q:
        query = query.where(col(Objective.title).ilike(f"%{q}%"))
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)


async def resources_of(
    session: AsyncSession, objective_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[BudgetLine]]:
    out: dict[uuid.UUID, list[BudgetLine]] = defaultdict(list)
    if not objective_ids:
        return out
    rows = await session.exec(
        select(BudgetLine)
        .where(col(BudgetLine.objective_id).in_(objective_ids))
        .order_by(col(BudgetLine.position))
    )
    for line in rows.all():
        if line.objective_id is not None:
            out[line.objective_id].append(line)
    return out


def to_out(objective: Objective, lines: list[BudgetLine]) -> ObjectiveOut:
    data = objective.model_dump()
    data["resources"] = [
        Resource(
            fund=x.fund,
            year=x.year,
            planned=None if x.planned is None else float(x.planned),
            committed=None if x.committed is None else float(x.committed),
            spent=None if x.spent is None else float(x.spent),
            note=x.note,
        )
        for x in lines
    ]
    return ObjectiveOut.model_validate(data)


async def emit_objective(session: AsyncSession, o: Objective, event_type: str) -> None:
    await emit(
        session,
        topic=contract.OBJECTIVE_TOPIC,
        type=event_type,
        source=contract.SOURCE,
        key=str(o.id),
        subject=o.code,
        data=contract.ObjectiveChanged(
            objective_id=o.id,
            plan_id=o.plan_id,
            ambito_code=o.ambito_code,
            code=o.code,
            title=o.title[:500],
            scope=o.scope,
            shared_with_ambiti=o.shared_with_ambiti,
            status=o.status,
            start_date=o.start_date,
            end_date=o.end_date,
            classifications=[contract.ClassificationRef(**c) for c in o.classifications],
            version=o.version,
            changed_at=o.updated_at,
        ),
    )


async def check_classifications(session: AsyncSession, refs: list[dict[str, str]]) -> None:
    known = await classifications.known(session)
    bad = [r for r in refs if (r["scheme"], r["code"]) not in known]
    if bad:
        raise Unprocessable(
            "Classificazioni sconosciute",
            "Unknown classifications",
            invalid_params=[
                {"name": "classifications", "reason": f"unknown {r['scheme']}:{r['code']}"}
                for r in bad
            ],
        )


def _resource_values(res: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "fund": r["fund"],
            "year": r.get("year"),
            "planned": r.get("planned"),
            "committed": r.get("committed"),
            "spent": r.get("spent"),
            "note": r.get("note"),
            "raw": r.get("raw") or {},
        }
        for r in res
    ]


async def replace_resources(
    session: AsyncSession, plan_id: uuid.UUID, objective_id: uuid.UUID, res: list[dict[str, Any]]
) -> bool:
    """Replaces the objective's resource lines; returns whether they changed."""
    current = (await resources_of(session, [objective_id])).get(objective_id, [])
    before = [
        jsonable(
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
        for x in current
    ]
    after = jsonable(_resource_values(res))
    if before == after:
        return False
    await session.exec(delete(BudgetLine).where(col(BudgetLine.objective_id) == objective_id))
    for pos, r in enumerate(_resource_values(res)):
        values: dict[str, Any] = {
            k: (Decimal(str(v)) if k in MEASURES and v is not None else v) for k, v in r.items()
        }
        session.add(BudgetLine(plan_id=plan_id, objective_id=objective_id, position=pos, **values))
    return True


def _values(data: dict[str, Any]) -> dict[str, Any]:
    keys = [
        "title",
        "section",
        "description",
        "rationale",
        "scope",
        "shared_with_ambiti",
        "target_population",
        "responsible_body",
        "partners",
        "start_date",
        "end_date",
        "status",
        "classifications",
        "actions",
        "answers",
        "details",
        "raw",
    ]
    json_columns = {"classifications", "actions", "answers", "details", "raw", "partners"}
    return {k: (jsonable(data[k]) if k in json_columns else data[k]) for k in keys if k in data}


async def upsert(
    session: AsyncSession,
    principal: Principal,
    plan: Plan,
    data: dict[str, Any],
    *,
    position: int = 0,
    existing: Objective | None = None,
) -> tuple[Objective, str]:
    """Creates or updates one objective from plain values; returns it and created/updated/same."""
    values = _values(data)
    if existing is None:
        objective = Objective(
            plan_id=plan.id,
            ambito_code=plan.ambito_code,
            code=data["code"],
            position=position,
            created_by=principal.sub,
            updated_by=principal.sub,
            **values,
        )
        session.add(objective)
        await session.flush()
        await replace_resources(session, plan.id, objective.id, data.get("resources", []))
        await history.record(
            session,
            entity="objective",
            entity_id=str(objective.id),
            plan_id=plan.id,
            version=1,
            action="created",
            actor=principal.sub,
            changes={"code": {"from": None, "to": objective.code}},
        )
        await emit_objective(session, objective, contract.OBJECTIVE_CREATED)
        return objective, "created"
    objective = existing
    changes = assign(objective, {**values, "position": position})
    if await replace_resources(session, plan.id, objective.id, data.get("resources", [])):
        changes["resources"] = {"from": "…", "to": jsonable(data.get("resources", []))}
    if not changes:
        return objective, "unchanged"
    objective.version += 1
    objective.updated_at = utcnow()
    objective.updated_by = principal.sub
    session.add(objective)
    await history.record(
        session,
        entity="objective",
        entity_id=str(objective.id),
        plan_id=plan.id,
        version=objective.version,
        action="updated",
        actor=principal.sub,
        changes=changes,
    )
    await emit_objective(session, objective, contract.OBJECTIVE_UPDATED)
    return objective, "updated"


async def create(
    session: AsyncSession, principal: Principal, plan: Plan, body: ObjectiveIn
) -> Objective:
    require_writer(principal, plan.ambito_code)
    data = body.model_dump(mode="python")
    await check_classifications(session, data["classifications"])
    exists = (
        await session.exec(
            select(Objective).where(Objective.plan_id == plan.id, Objective.code == body.code)
        )
    ).first()
    if exists is not None:
        raise Conflict(
            f"Il piano ha già una scheda {body.code}", f"The plan already has objective {body.code}"
        )
    count = (
        await session.exec(
            select(func.count()).select_from(Objective).where(Objective.plan_id == plan.id)
        )
    ).one()
    objective, _ = await upsert(session, principal, plan, data, position=int(count))
    return objective


async def update(
    session: AsyncSession, principal: Principal, plan: Plan, objective: Objective, body: ObjectiveIn
) -> Objective:
    require_writer(principal, plan.ambito_code)
    data = body.model_dump(mode="python")
    await check_classifications(session, data["classifications"])
    if body.code != objective.code:
        raise Unprocessable(
            "Il codice della scheda non si può cambiare",
            "The objective code cannot be changed",
            invalid_params=[{"name": "code", "reason": "immutable"}],
        )
    data["raw"] = objective.raw
    objective, _ = await upsert(
        session, principal, plan, data, position=objective.position, existing=objective
    )
    return objective


async def budget(session: AsyncSession, plan: Plan) -> BudgetOut:
    lines = list(
        (
            await session.exec(
                select(BudgetLine)
                .where(BudgetLine.plan_id == plan.id)
                .order_by(col(BudgetLine.position))
            )
        ).all()
    )
    warnings: list[BudgetWarning] = []

    def cell(fund: str, year: int | None, group: list[BudgetLine]) -> BudgetCell:
        sums: dict[str, float | None] = {}
        for m in MEASURES:
            values = [getattr(x, m) for x in group if getattr(x, m) is not None]
            sums[m] = round(float(sum(values)), 2) if values else None
        return BudgetCell(fund=fund, year=year, lines=len(group), **sums)

    groups: dict[tuple[str, int | None], list[BudgetLine]] = defaultdict(list)
    funds: dict[str, list[BudgetLine]] = defaultdict(list)
    years: dict[int | None, list[BudgetLine]] = defaultdict(list)
    for x in lines:
        groups[(x.fund, x.year)].append(x)
        funds[x.fund].append(x)
        years[x.year].append(x)
        where = f"budget_line {x.id}" + (f" (objective {x.objective_id})" if x.objective_id else "")
        if x.planned is None and x.committed is None and x.spent is None:
            warnings.append(
                BudgetWarning(
                    code="no-amount",
                    message=f"{x.fund} {x.year or ''}: nessun importo",
                    location=where,
                )
            )
        if x.committed is not None and x.planned is not None and x.committed > x.planned:
            warnings.append(
                BudgetWarning(
                    code="committed-exceeds-planned",
                    message=f"{x.fund} {x.year}: impegnato {x.committed} > previsto {x.planned}",
                    location=where,
                )
            )
        if x.spent is not None and x.committed is not None and x.spent > x.committed:
            warnings.append(
                BudgetWarning(
                    code="spent-exceeds-committed",
                    message=f"{x.fund} {x.year}: speso {x.spent} > impegnato {x.committed}",
                    location=where,
                )
            )
        if x.year is not None and not plan.cycle_start_year <= x.year <= plan.cycle_end_year:
            warnings.append(
                BudgetWarning(
                    code="year-outside-cycle",
                    message=f"{x.fund}: anno {x.year} fuori dal ciclo",
                    location=where,
                )
            )
        if x.raw:
            warnings.append(
                BudgetWarning(
                    code="raw-values",
                    message=f"{x.fund} {x.year or ''}: valori non numerici {x.raw}",
                    location=where,
                )
            )
    for i, d in enumerate(plan.declared_totals):
        amount, measure = d.get("amount"), d.get("measure", "planned")
        if amount is None or measure not in MEASURES:
            continue
        matching = [
            getattr(x, measure)
            for x in lines
            if (d.get("fund") is None or x.fund == d["fund"])
            and (d.get("year") is None or x.year == d["year"])
            and getattr(x, measure) is not None
        ]
        s = round(float(sum(matching)), 2)
        if matching and abs(s - float(amount)) > 0.005:
            warnings.append(
                BudgetWarning(
                    code="total-mismatch",
                    message=f"{d.get('label') or 'Totale'}: dichiarato {amount}, somma voci {s}",
                    location=f"plan.declared_totals[{i}]",
                )
            )
    return BudgetOut(
        plan_id=plan.id,
        cells=[
            cell(f, y, g)
            for (f, y), g in sorted(groups.items(), key=lambda k: (k[0][0], k[0][1] or 0))
        ],
        by_fund=[cell(f, None, g) for f, g in sorted(funds.items())],
        by_year=[cell("*", y, g) for y, g in sorted(years.items(), key=lambda k: k[0] or 0)],
        total=cell("*", None, lines),
        warnings=warnings,
    )
