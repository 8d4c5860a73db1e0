"""Reported values: figures entered per territory and period, scoped to the caller's ambiti."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_indicators.reported.models import ReportedValue
from pdz_indicators.reported.schemas import ReportedValueIn
from pdz_indicators.territories.models import Territory
from pdz_indicators.values import service as values
from pdz_shared.auth import Principal
from pdz_shared.errors import Conflict, NotFound, Unprocessable


def _ambito_of(territory: Territory) -> str | None:
    ambito: str | None = territory.code if territory.kind == "ambito" else territory.ambito_code
    return ambito


async def record(
    session: AsyncSession, principal: Principal, data: ReportedValueIn
) -> ReportedValue:
    territory = await session.get(Territory, data.territory_code)
    if territory is None:
        raise Unprocessable(
            f"Territorio {data.territory_code} sconosciuto",
            f"Unknown territory {data.territory_code}",
            invalid_params=[{"name": "territory_code", "reason": "unknown territory"}],
        )
    ambito = _ambito_of(territory)
    if ambito is None:
        raise Unprocessable(
            "Si possono riportare valori solo per ambiti e comuni",
            "Values can be reported only for ambiti and comuni",
            invalid_params=[{"name": "territory_code", "reason": "not in an ambito"}],
        )
    principal.require_ambito(ambito)
    existing = (
        await session.exec(
            select(ReportedValue).where(
                ReportedValue.metric == data.metric,
                ReportedValue.territory_code == data.territory_code,
                ReportedValue.period == data.period,
            )
        )
    ).first()
    if existing is not None:
        raise Conflict(
            f"Valore già riportato per {data.metric} / {data.territory_code} / {data.period}",
            f"A value was already reported for {data.metric} / {data.territory_code} / "
            f"{data.period}",
        )
    row = ReportedValue(**data.model_dump(), ambito_code=ambito, reported_by=principal.sub)
    session.add(row)
    await session.flush()
    # The values that use this metric change in the same transaction.
    await values.refresh_for_reported(
        session, data.metric, data.territory_code, ambito, data.period
    )
    return row


async def get(session: AsyncSession, principal: Principal, value_id: uuid.UUID) -> ReportedValue:
    row = await session.get(ReportedValue, value_id)
    if row is None or not principal.can_act_on(row.ambito_code):
        raise NotFound("Valore non trovato", "Value not found")
    return row


async def search(
    session: AsyncSession,
    principal: Principal,
    *,
    metric: str | None,
    territory: str | None,
    period: str | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[ReportedValue], int]:
    query = select(ReportedValue)
    if not principal.is_platform_admin:
        query = query.where(col(ReportedValue.ambito_code).in_(sorted(principal.ambiti)))
    if metric:
        query = query.where(ReportedValue.metric == metric)
    if territory:
        query = query.where(ReportedValue.territory_code == territory)
    if period:
        query = query.where(ReportedValue.period == period)
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)
