"""The change history: every write records who, when and which fields changed (old → new)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_plans.history.models import ChangeRecord


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Fields whose value changed, as ``{field: {"from": old, "to": new}}``."""
    out: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            out[key] = {"from": before.get(key), "to": after.get(key)}
    return out


async def record(
    session: AsyncSession,
    *,
    entity: str,
    entity_id: str,
    plan_id: uuid.UUID | None,
    version: int,
    action: str,
    actor: str,
    changes: dict[str, Any],
) -> None:
    session.add(
        ChangeRecord(
            entity=entity,
            entity_id=entity_id,
            plan_id=plan_id,
            version=version,
            action=action,
            actor=actor,
            changes=changes,
        )
    )


async def for_plan(
    session: AsyncSession,
    plan_id: uuid.UUID,
    *,
    entity: str | None,
    entity_id: str | None = None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[ChangeRecord], int]:
    query = select(ChangeRecord).where(ChangeRecord.plan_id == plan_id)
    if entity:
        query = query.where(ChangeRecord.entity == entity)
    if entity_id:
        query = query.where(ChangeRecord.entity_id == entity_id)
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)
