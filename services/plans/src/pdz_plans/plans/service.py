"""Piani di Zona: visibility, the status workflow, events and history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_plans.common import assign, jsonable, require_writer
from pdz_plans.history import service as history
from pdz_plans.plans.models import Plan
from pdz_plans.plans.schemas import PlanIn, PlanUpdate
from pdz_plans.territories.models import TerritoryUnit
from pdz_shared.auth import Principal
from pdz_shared.contracts import plans as contract
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, NotFound, Unprocessable
from pdz_shared.events.outbox import emit

TRANSITIONS = {
    "draft": {"draft", "approved", "in_force"},
    "approved": {"approved", "in_force", "closed"},
    "in_force": {"in_force", "closed"},
    "closed": {"closed"},
}
PUBLISHED = ("approved", "in_force", "closed")


def visible(principal: Principal, plan: Plan) -> bool:
    """Published plans are readable by everyone; drafts only by their ambito."""
    return plan.status in PUBLISHED or principal.can_act_on(plan.ambito_code)


async def get(session: AsyncSession, principal: Principal, plan_id: uuid.UUID) -> Plan:
    plan = await session.get(Plan, plan_id)
    if plan is None or not visible(principal, plan):
        raise NotFound(f"Piano {plan_id} non trovato", f"Plan {plan_id} not found")
    return plan


async def by_code(session: AsyncSession, code: str) -> Plan | None:
    return (await session.exec(select(Plan).where(Plan.code == code))).first()


async def search(
    session: AsyncSession,
    principal: Principal,
    *,
    ambito: str | None,
    status: str | None,
    year: int | None,
    q: str | None = None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[Plan], int]:
    query = select(Plan)
    if not principal.is_platform_admin:
        query = query.where(
            or_(
                col(Plan.status).in_(PUBLISHED),
                col(Plan.ambito_code).in_(sorted(principal.ambiti)),
            )
        )
    if ambito:
        query = query.where(Plan.ambito_code == ambito)
    if status:
        query = query.where(Plan.status == status)
    if year:
        # A plan extended beyond its cycle ("prorogato al 31/12/2024") is in force until valid_to.
        query = query.where(
            Plan.cycle_start_year <= year,
            or_(
                col(Plan.cycle_end_year) >= year,
                func.extract("year", col(Plan.valid_to)) >= year,
            ),
        )
    if q:
        query = query.where(col(Plan.title).ilike(f"%{q}%"))
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)


async def emit_plan(session: AsyncSession, plan: Plan, event_type: str) -> None:
    await emit(
        session,
        topic=contract.PLAN_TOPIC,
        type=event_type,
        source=contract.SOURCE,
        key=str(plan.id),
        subject=plan.code,
        data=contract.PlanChanged(
            plan_id=plan.id,
            code=plan.code,
            title=plan.title,
            ambito_code=plan.ambito_code,
            cycle_start_year=plan.cycle_start_year,
            cycle_end_year=plan.cycle_end_year,
            valid_from=plan.valid_from,
            valid_to=plan.valid_to,
            status=plan.status,
            comune_codes=plan.comune_codes,
            capofila_code=plan.capofila_code,
            approved_on=plan.approved_on,
            extension_note=plan.extension_note,
            version=plan.version,
            changed_at=plan.updated_at,
        ),
    )


def _check_cycle(start: int, end: int) -> None:
    if end < start:
        raise Unprocessable(
            "Il ciclo termina prima di iniziare",
            "The cycle ends before it starts",
            invalid_params=[{"name": "cycle_end_year", "reason": "before cycle_start_year"}],
        )


def _values(data: PlanIn | PlanUpdate) -> dict[str, Any]:
    values = data.model_dump(mode="python", exclude={"code", "ambito_code", "status"})
    for key in ("signatories", "governance_bodies", "declared_totals"):
        values[key] = jsonable(values[key])
    return values


async def create(
    session: AsyncSession,
    principal: Principal,
    data: PlanIn,
    *,
    status: str = "draft",
    raw: dict[str, Any] | None = None,
) -> Plan:
    require_writer(principal, data.ambito_code)
    _check_cycle(data.cycle_start_year, data.cycle_end_year)
    ambito = (
        await session.exec(select(TerritoryUnit).where(TerritoryUnit.code == data.ambito_code))
    ).first()
    if ambito is None or ambito.kind != "ambito":
        raise Unprocessable(
            f"{data.ambito_code} non è un ambito territoriale registrato",
            f"{data.ambito_code} is not a registered ambito",
            invalid_params=[{"name": "ambito_code", "reason": "unknown ambito"}],
        )
    if await by_code(session, data.code) is not None:
        raise Conflict(
            f"Esiste già un piano con codice {data.code}",
            f"A plan with code {data.code} already exists",
        )
    values = _values(data)
    plan = Plan(
        code=data.code,
        ambito_code=data.ambito_code,
        status=status,
        created_by=principal.sub,
        updated_by=principal.sub,
        raw=raw or {},
        **values,
    )
    session.add(plan)
    await session.flush()
    await history.record(
        session,
        entity="plan",
        entity_id=str(plan.id),
        plan_id=plan.id,
        version=1,
        action="created",
        actor=principal.sub,
        changes={"code": {"from": None, "to": plan.code}, "status": {"from": None, "to": status}},
    )
    if status in PUBLISHED:
        await emit_plan(session, plan, contract.PLAN_PUBLISHED)
        if status == "closed":
            await emit_plan(session, plan, contract.PLAN_CLOSED)
    return plan


async def update(
    session: AsyncSession,
    principal: Principal,
    plan: Plan,
    data: PlanUpdate,
    *,
    raw: dict[str, Any] | None = None,
) -> tuple[Plan, bool]:
    """Applies the change; returns (plan, changed)."""
    require_writer(principal, plan.ambito_code)
    _check_cycle(data.cycle_start_year, data.cycle_end_year)
    if data.status not in TRANSITIONS[plan.status]:
        raise Conflict(
            f"Passaggio di stato non consentito: {plan.status} → {data.status}",
            f"Status change not allowed: {plan.status} → {data.status}",
            code="invalid-transition",
        )
    before = plan.status
    values = _values(data)
    values["status"] = data.status
    if raw is not None:
        values["raw"] = raw
    changes = assign(plan, values)
    if not changes:
        return plan, False
    plan.version += 1
    plan.updated_at = utcnow()
    plan.updated_by = principal.sub
    session.add(plan)
    await history.record(
        session,
        entity="plan",
        entity_id=str(plan.id),
        plan_id=plan.id,
        version=plan.version,
        action="status-changed" if before != plan.status else "updated",
        actor=principal.sub,
        changes=changes,
    )
    if before == "draft" and plan.status in PUBLISHED:
        await emit_plan(session, plan, contract.PLAN_PUBLISHED)
    elif plan.status == "closed" and before != "closed":
        await emit_plan(session, plan, contract.PLAN_CLOSED)
    elif plan.status in PUBLISHED:
        await emit_plan(session, plan, contract.PLAN_UPDATED)
    return plan, True
