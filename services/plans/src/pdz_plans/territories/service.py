"""Territory units: who may create and change them, and the events they emit."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_plans.territories.models import TerritoryUnit
from pdz_plans.territories.schemas import TerritoryIn, TerritoryUpdate
from pdz_shared.auth import Principal, Role
from pdz_shared.contracts import plans as contract
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from pdz_shared.events.outbox import emit

LOCAL_KINDS = {"ambito", "comune"}


def _check_writer(principal: Principal, kind: str, ambito_code: str | None) -> None:
    """platform_admin writes any unit; udp_admin writes ambiti and comuni of its own ambiti."""
    if principal.is_platform_admin:
        return
    if Role.udp_admin not in principal.roles or kind not in LOCAL_KINDS:
        raise Forbidden(
            "Solo l'amministratore della piattaforma può modificare questa unità",
            "Only the platform administrator may change this unit",
        )
    if ambito_code is None or ambito_code not in principal.ambiti:
        raise Forbidden(
            "Puoi modificare solo le unità dei tuoi ambiti",
            "You may change only the units of your ambiti",
        )


async def _emit(session: AsyncSession, unit: TerritoryUnit, event_type: str) -> None:
    payload = contract.TerritoryChanged(
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        parent_codes=unit.parent_codes,
        ambito_code=unit.ambito_code,
        istat_code=unit.istat_code,
        version=unit.version,
        changed_at=unit.updated_at,
    )
    await emit(
        session,
        topic=contract.TERRITORY_TOPIC,
        type=event_type,
        source=contract.SOURCE,
        key=unit.code,
        subject=unit.code,
        data=payload,
    )


async def _check_parents(session: AsyncSession, codes: list[str]) -> None:
    if not codes:
        return
    found = set(
        (
            await session.exec(select(TerritoryUnit.code).where(col(TerritoryUnit.code).in_(codes)))
        ).all()
    )
    missing = [c for c in codes if c not in found]
    if missing:
        raise Unprocessable(
            f"Unità padre sconosciute: {', '.join(missing)}",
            f"Unknown parent units: {', '.join(missing)}",
            invalid_params=[{"name": "parent_codes", "reason": f"unknown: {c}"} for c in missing],
        )


async def create(session: AsyncSession, principal: Principal, data: TerritoryIn) -> TerritoryUnit:
    ambito = data.code if data.kind == "ambito" else data.ambito_code
    _check_writer(principal, data.kind, ambito)
    if await get_or_none(session, data.code) is not None:
        raise Conflict(
            f"Esiste già un'unità con codice {data.code}",
            f"A unit with code {data.code} already exists",
        )
    await _check_parents(session, data.parent_codes)
    unit = TerritoryUnit(
        **data.model_dump(exclude={"ambito_code"}), ambito_code=ambito, created_by=principal.sub
    )
    session.add(unit)
    await _emit(session, unit, contract.TERRITORY_CREATED)
    return unit


async def update(
    session: AsyncSession, principal: Principal, unit: TerritoryUnit, data: TerritoryUpdate
) -> TerritoryUnit:
    _check_writer(principal, unit.kind, unit.ambito_code)
    await _check_parents(session, data.parent_codes)
    for key, value in data.model_dump().items():
        setattr(unit, key, value)
    unit.version += 1
    unit.updated_at = utcnow()
    session.add(unit)
    await _emit(session, unit, contract.TERRITORY_UPDATED)
    return unit


async def get_or_none(session: AsyncSession, code: str) -> TerritoryUnit | None:
    return (await session.exec(select(TerritoryUnit).where(TerritoryUnit.code == code))).first()


async def get(session: AsyncSession, code: str) -> TerritoryUnit:
    unit = await get_or_none(session, code)
    if unit is None:
        raise NotFound(f"Unità territoriale {code} non trovata", f"Territory unit {code} not found")
    return unit


async def search(
    session: AsyncSession,
    *,
    kind: str | None,
    parent: str | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[TerritoryUnit], int]:
    query = select(TerritoryUnit)
    if kind:
        query = query.where(TerritoryUnit.kind == kind)
    if parent:
        query = query.where(col(TerritoryUnit.parent_codes).contains([parent]))
    if q:
        query = query.where(col(TerritoryUnit.name).ilike(f"%{q}%"))
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(TerritoryUnit.code).limit(limit).offset(offset))
    return list(rows.all()), int(total)
