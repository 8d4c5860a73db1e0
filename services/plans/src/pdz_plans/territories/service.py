"""Territory units: who may create and change them, and the events they emit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_plans.common import assign
from pdz_plans.territories.models import TerritoryPopulation, TerritoryUnit
from pdz_plans.territories.schemas import TerritoryIn, TerritoryUpdate
from pdz_shared.auth import Principal, Role
from pdz_shared.contracts import plans as contract
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from pdz_shared.events.outbox import emit
from pdz_shared.listing import paged

LOCAL_KINDS = {"ambito", "comune"}


def check_writer(principal: Principal, kind: str, ambito_code: str | None) -> None:
    _check_writer(principal, kind, ambito_code)


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
        valid_from=unit.valid_from,
        valid_to=unit.valid_to,
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
    order_by: Sequence[Any],
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
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)


# ------------------------------------------------------------------ import and population


async def upsert_from_import(
    session: AsyncSession, principal: Principal, rec: dict[str, Any]
) -> str:
    """created / updated / unchanged, or forbidden when the caller may not write the unit."""
    unit = await get_or_none(session, rec["code"])
    ambito = rec["code"] if rec["kind"] == "ambito" else rec.get("ambito_code")
    try:
        _check_writer(principal, rec["kind"], unit.ambito_code if unit else ambito)
    except Forbidden:
        return "unchanged" if unit is not None else "forbidden"
    parents = [c for c in rec.get("parent_codes", []) if await get_or_none(session, c)]
    rec["missing_parents"] = [c for c in rec.get("parent_codes", []) if c not in parents]
    values = {
        "name": rec["name"],
        "parent_codes": parents,
        "istat_code": rec.get("istat_code"),
        "valid_from": rec.get("valid_from"),
        "valid_to": rec.get("valid_to"),
    }
    if unit is None:
        unit = TerritoryUnit(
            code=rec["code"],
            kind=rec["kind"],
            ambito_code=ambito,
            created_by=principal.sub,
            **values,
        )
        session.add(unit)
        await session.flush()
        await _emit(session, unit, contract.TERRITORY_CREATED)
        return "created"
    if not assign(unit, values):
        return "unchanged"
    unit.version += 1
    unit.updated_at = utcnow()
    session.add(unit)
    await _emit(session, unit, contract.TERRITORY_UPDATED)
    return "updated"


_POP = ("total", "male", "female", "foreign_total", "foreign_male", "foreign_female")


async def population_of(session: AsyncSession, code: str) -> list[TerritoryPopulation]:
    rows = await session.exec(
        select(TerritoryPopulation)
        .where(TerritoryPopulation.territory_code == code)
        .order_by(col(TerritoryPopulation.year))
    )
    return list(rows.all())


async def population_page(
    session: AsyncSession, code: str, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[TerritoryPopulation], int]:
    query = select(TerritoryPopulation).where(TerritoryPopulation.territory_code == code)
    return await paged(session, query, order_by, limit, offset)


def _age_bands(value: Any) -> dict[str, int] | None:
    if not isinstance(value, dict) or not value:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value.values()):
        return None
    return {str(k): int(v) for k, v in value.items()}


async def upsert_population(
    session: AsyncSession, principal: Principal, rec: dict[str, Any]
) -> str:
    unit = await get(session, rec["territory_code"])
    row = (
        await session.exec(
            select(TerritoryPopulation).where(
                TerritoryPopulation.territory_code == unit.code,
                TerritoryPopulation.year == rec["year"],
            )
        )
    ).first()
    values: dict[str, Any] = {k: rec.get(k) for k in _POP}
    values["reference_date"] = rec.get("reference_date") or date(rec["year"], 1, 1)
    values["source"] = rec.get("source")
    raw = dict(rec.get("raw") or {})
    for key in ("foreign_pct", "age_bands", "area_km2", "density"):
        if rec.get(key) is not None and key not in raw:
            raw[key] = rec[key]
    values["raw"] = raw
    if row is None:
        row = TerritoryPopulation(
            territory_code=unit.code, year=rec["year"], updated_by=principal.sub, **values
        )
        session.add(row)
        outcome = "created"
    else:
        if not assign(row, values):
            return "unchanged"
        row.version += 1
        row.updated_at = utcnow()
        row.updated_by = principal.sub
        session.add(row)
        outcome = "updated"
    await session.flush()
    await emit(
        session,
        topic=contract.TERRITORY_TOPIC,
        type=contract.TERRITORY_POPULATION_UPDATED,
        source=contract.SOURCE,
        key=unit.code,
        subject=unit.code,
        data=contract.TerritoryPopulationUpdated(
            code=unit.code,
            kind=unit.kind,
            ambito_code=unit.ambito_code,
            year=row.year,
            reference_date=row.reference_date,
            total=row.total,
            male=row.male,
            female=row.female,
            foreign_total=row.foreign_total,
            foreign_male=row.foreign_male,
            foreign_female=row.foreign_female,
            source=row.source,
            age_bands=_age_bands(row.raw.get("age_bands")),
            version=row.version,
            changed_at=row.updated_at,
        ),
    )
    return outcome
