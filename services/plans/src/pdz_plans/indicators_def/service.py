"""Indicator definitions (with optional typed targets) attached to objectives or plans."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_plans.common import assign
from pdz_plans.history import service as history
from pdz_plans.indicators_def.models import IndicatorDefinition
from pdz_plans.indicators_def.schemas import IndicatorOut
from pdz_plans.plans.models import Plan
from pdz_plans.plans.service import PUBLISHED
from pdz_shared.auth import Principal
from pdz_shared.contracts import plans as contract
from pdz_shared.db import utcnow
from pdz_shared.errors import NotFound
from pdz_shared.events.outbox import emit

_TARGET: TypeAdapter[Any] = TypeAdapter(contract.Target)


def to_out(ind: IndicatorDefinition) -> IndicatorOut:
    return IndicatorOut.model_validate(ind.model_dump())


async def emit_indicator(session: AsyncSession, ind: IndicatorDefinition, event_type: str) -> None:
    await emit(
        session,
        topic=contract.INDICATOR_DEFINITION_TOPIC,
        type=event_type,
        source=contract.SOURCE,
        key=str(ind.id),
        subject=ind.code,
        data=contract.IndicatorDefinitionChanged(
            indicator_id=ind.id,
            code=ind.code,
            name=ind.name,
            kind=ind.kind,
            unit=ind.unit,
            data_source=ind.data_source,
            frequency=ind.frequency,
            formula=ind.formula,
            target=_TARGET.validate_python(ind.target) if ind.target else None,
            objective_id=ind.objective_id,
            plan_id=ind.plan_id,
            ambito_code=ind.ambito_code,
            version=ind.version,
            changed_at=ind.updated_at,
        ),
    )


_FIELDS = ("name", "kind", "unit", "data_source", "frequency", "formula", "target", "notes", "raw")


async def upsert(
    session: AsyncSession,
    principal: Principal,
    plan: Plan,
    objective_id: uuid.UUID | None,
    data: dict[str, Any],
    *,
    position: int = 0,
    existing: IndicatorDefinition | None = None,
) -> tuple[IndicatorDefinition, str]:
    values: dict[str, Any] = {k: data.get(k) for k in _FIELDS if k in data}
    if values.get("raw") is None:
        values["raw"] = {}
    if existing is None:
        ind = IndicatorDefinition(
            code=data["code"],
            plan_id=plan.id,
            objective_id=objective_id,
            ambito_code=plan.ambito_code,
            position=position,
            created_by=principal.sub,
            updated_by=principal.sub,
            **values,
        )
        session.add(ind)
        await session.flush()
        await history.record(
            session,
            entity="indicator",
            entity_id=str(ind.id),
            plan_id=plan.id,
            version=1,
            action="created",
            actor=principal.sub,
            changes={
                "code": {"from": None, "to": ind.code},
                "target": {"from": None, "to": ind.target},
            },
        )
        await emit_indicator(session, ind, contract.INDICATOR_DEFINITION_CREATED)
        return ind, "created"
    ind = existing
    changes = assign(ind, {**values, "position": position})
    if not changes:
        return ind, "unchanged"
    ind.version += 1
    ind.updated_at = utcnow()
    ind.updated_by = principal.sub
    session.add(ind)
    await history.record(
        session,
        entity="indicator",
        entity_id=str(ind.id),
        plan_id=plan.id,
        version=ind.version,
        action="updated",
        actor=principal.sub,
        changes=changes,
    )
    await emit_indicator(session, ind, contract.INDICATOR_DEFINITION_UPDATED)
    return ind, "updated"


async def get(
    session: AsyncSession, principal: Principal, indicator_id: uuid.UUID
) -> tuple[IndicatorDefinition, Plan | None]:
    ind = await session.get(IndicatorDefinition, indicator_id)
    plan = await session.get(Plan, ind.plan_id) if ind and ind.plan_id else None
    if ind is None or (
        plan is not None
        and plan.status not in PUBLISHED
        and not principal.can_act_on(plan.ambito_code)
    ):
        raise NotFound(
            f"Indicatore {indicator_id} non trovato", f"Indicator {indicator_id} not found"
        )
    return ind, plan


async def search(
    session: AsyncSession,
    principal: Principal,
    *,
    plan_id: uuid.UUID | None,
    objective_id: uuid.UUID | None,
    ambito: str | None,
    kind: str | None,
    has_target: bool | None,
    target_kind: str | None,
    q: str | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[IndicatorDefinition], int]:
    query = select(IndicatorDefinition).join(
        Plan, col(Plan.id) == col(IndicatorDefinition.plan_id), isouter=True
    )
    if not principal.is_platform_admin:
        query = query.where(
            or_(
                col(Plan.status).in_(PUBLISHED),
                col(IndicatorDefinition.ambito_code).in_(sorted(principal.ambiti)),
                col(IndicatorDefinition.plan_id).is_(None),
            )
        )
    if plan_id:
        query = query.where(IndicatorDefinition.plan_id == plan_id)
    if objective_id:
        query = query.where(IndicatorDefinition.objective_id == objective_id)
    if ambito:
        query = query.where(IndicatorDefinition.ambito_code == ambito)
    if kind:
        query = query.where(IndicatorDefinition.kind == kind)
    if has_target is not None:
        query = query.where(
            col(IndicatorDefinition.target).is_not(None)
            if has_target
            else col(IndicatorDefinition.target).is_(None)
        )
    if target_kind:
        query = query.where(col(IndicatorDefinition.target)["kind"].astext == target_kind)
    if q:
        query = query.where(col(IndicatorDefinition.name).ilike(f"%{q}%"))
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)
