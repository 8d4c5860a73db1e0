"""Links between cases and the comuni's Cartella Sociale, and the systems registered per comune.

A ``cartella_sociale_system`` caller acts only on the comuni in its token's ``comuni`` claim (and,
when the token names one, only for its ``system``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.access import CASE_READERS
from pdz_casework.cases import service as cases
from pdz_casework.cases.models import Case
from pdz_casework.links.models import ExternalLink, ExternalSystem
from pdz_casework.links.schemas import ExternalLinkIn, ExternalSystemIn
from pdz_shared.auth import Principal, Role
from pdz_shared.contracts import casework as contract
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, NotFound, Unprocessable
from pdz_shared.listing import paged


def comune_scope(principal: Principal) -> frozenset[str] | None:
    """The comuni a Cartella Sociale system may act on; None when not limited by comune."""
    if principal.is_platform_admin or principal.has_any(CASE_READERS):
        return None
    if Role.cartella_sociale_system in principal.roles:
        comuni = principal.claims.get("comuni", [])
        return frozenset(str(c) for c in comuni) if isinstance(comuni, list) else frozenset()
    return frozenset()


def check_system_scope(principal: Principal, system: str) -> None:
    own = principal.claims.get("system")
    if comune_scope(principal) is not None and own is not None and own != system:
        raise NotFound(f"Sistema {system} non trovato", f"System {system} not found")


async def case_for_link(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> Case:
    case = await cases.lock_case(session, principal, case_id)
    scope = comune_scope(principal)
    if scope is not None and case.comune_code not in scope:
        raise NotFound(f"Caso {case_id} non trovato", f"Case {case_id} not found")
    return case


async def register(
    session: AsyncSession, principal: Principal, system: str, comune: str, data: ExternalSystemIn
) -> tuple[ExternalSystem, bool]:
    principal.require_ambito(data.ambito_code)
    row = await session.get(ExternalSystem, (system, comune), with_for_update=True)
    created = row is None
    if row is None:
        row = ExternalSystem(
            system=system,
            comune_code=comune,
            ambito_code=data.ambito_code,
            name=data.name,
            registered_by=principal.sub,
        )
    else:
        principal.require_ambito(row.ambito_code)
        row.ambito_code, row.name = data.ambito_code, data.name
        row.version += 1
    session.add(row)
    return row, created


async def systems(
    session: AsyncSession,
    principal: Principal,
    comune: str | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[ExternalSystem], int]:
    query = select(ExternalSystem)
    if not principal.is_platform_admin:
        query = query.where(col(ExternalSystem.ambito_code).in_(sorted(principal.ambiti)))
    if comune:
        query = query.where(ExternalSystem.comune_code == comune)
    return await paged(session, query, order_by, limit, offset)


async def get_link(session: AsyncSession, case: Case, system: str) -> ExternalLink | None:
    query = select(ExternalLink).where(
        ExternalLink.case_id == case.id, ExternalLink.system == system
    )
    return (await session.exec(query.with_for_update())).first()


async def _emit(
    session: AsyncSession, case: Case, type_: str, system: str, external_id: str
) -> None:
    person = await cases.get_person(session, case)
    await cases.emit_case_event(
        session,
        contract.LINK_TOPIC,
        type_,
        contract.ExternalLinkChanged(
            **cases.facts(case, person), system=system, external_id=external_id
        ),
    )


async def put_link(
    session: AsyncSession,
    principal: Principal,
    case: Case,
    system: str,
    data: ExternalLinkIn,
    link: ExternalLink | None,
) -> tuple[ExternalLink, bool]:
    if case.comune_code is None or (
        await session.get(ExternalSystem, (system, case.comune_code)) is None
    ):
        raise Unprocessable(
            f"Il sistema {system} non è registrato per il comune del caso",
            f"System {system} is not registered for the case's comune",
            invalid_params=[{"name": "system", "reason": f"not registered for {case.comune_code}"}],
        )
    taken = (
        await session.exec(
            select(ExternalLink).where(
                ExternalLink.system == system,
                ExternalLink.external_id == data.external_id,
                ExternalLink.case_id != case.id,
            )
        )
    ).first()
    if taken is not None:
        raise Conflict(
            f"L'identificativo {data.external_id} è già collegato a un altro caso",
            f"Identifier {data.external_id} is already linked to another case",
            code="external-id-taken",
        )
    now = utcnow()
    if link is None:
        link = ExternalLink(
            case_id=case.id,
            system=system,
            external_id=data.external_id,
            url=data.url,
            comune_code=case.comune_code,
            ambito_code=case.ambito_code,
            created_by=principal.sub,
            created_at=now,
            updated_at=now,
        )
        session.add(link)
        await _emit(session, case, contract.EXTERNAL_LINK_CREATED, system, data.external_id)
        return link, True
    if link.external_id != data.external_id:
        await _emit(session, case, contract.EXTERNAL_LINK_REMOVED, system, link.external_id)
        await _emit(session, case, contract.EXTERNAL_LINK_CREATED, system, data.external_id)
    link.external_id, link.url = data.external_id, data.url
    link.version += 1
    link.updated_at = now
    session.add(link)
    return link, False


async def delete_link(session: AsyncSession, case: Case, link: ExternalLink) -> None:
    await session.delete(link)
    await _emit(session, case, contract.EXTERNAL_LINK_REMOVED, link.system, link.external_id)


async def find(
    session: AsyncSession,
    principal: Principal,
    *,
    system: str | None,
    external_id: str | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[ExternalLink], int]:
    query = select(ExternalLink)
    if not principal.is_platform_admin:
        query = query.where(col(ExternalLink.ambito_code).in_(sorted(principal.ambiti)))
    scope = comune_scope(principal)
    if scope is not None:
        query = query.where(col(ExternalLink.comune_code).in_(sorted(scope)))
        own = principal.claims.get("system")
        if own is not None:
            query = query.where(ExternalLink.system == str(own))
    if system:
        query = query.where(ExternalLink.system == system)
    if external_id:
        query = query.where(ExternalLink.external_id == external_id)
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)
