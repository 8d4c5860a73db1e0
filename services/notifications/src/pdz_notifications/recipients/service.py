"""The recipients directory, kept in step with the identity system through the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.recipients.models import Recipient
from pdz_notifications.recipients.schemas import RecipientIn
from pdz_shared.auth import Principal, Role
from pdz_shared.db import utcnow
from pdz_shared.errors import Forbidden, NotFound


def _check_writer(principal: Principal, ambiti: list[str], roles: list[str]) -> None:
    """udp_admin manages the recipients of its own ambiti only, and never grants platform_admin."""
    if principal.is_platform_admin:
        return
    foreign = sorted(set(ambiti) - principal.ambiti)
    if foreign:
        raise Forbidden(
            f"Puoi gestire solo i destinatari dei tuoi ambiti (non {', '.join(foreign)})",
            f"You may manage only the recipients of your ambiti (not {', '.join(foreign)})",
        )
    if Role.platform_admin in roles:
        raise Forbidden(
            "Solo l'amministratore della piattaforma assegna quel ruolo",
            "Only the platform administrator grants that role",
        )


def _can_see(principal: Principal, recipient: Recipient) -> bool:
    return (
        principal.is_platform_admin
        or principal.sub == recipient.sub
        or bool(principal.ambiti.intersection(recipient.ambiti))
    )


async def get(session: AsyncSession, principal: Principal, sub: str) -> Recipient:
    recipient = await session.get(Recipient, sub)
    if recipient is None or not _can_see(principal, recipient):
        raise NotFound(f"Destinatario {sub} non trovato", f"Recipient {sub} not found")
    return recipient


async def get_or_none(session: AsyncSession, sub: str) -> Recipient | None:
    return await session.get(Recipient, sub)


async def create(
    session: AsyncSession, principal: Principal, sub: str, data: RecipientIn
) -> Recipient:
    _check_writer(principal, data.ambiti, list(data.roles))
    recipient = Recipient(sub=sub, **data.model_dump())
    session.add(recipient)
    await session.flush()
    return recipient


async def replace(
    session: AsyncSession, principal: Principal, recipient: Recipient, data: RecipientIn
) -> Recipient:
    _check_writer(principal, [*recipient.ambiti, *data.ambiti], list(data.roles))
    for key, value in data.model_dump().items():
        setattr(recipient, key, value)
    recipient.version += 1
    recipient.updated_at = utcnow()
    session.add(recipient)
    await session.flush()
    return recipient


async def search(
    session: AsyncSession,
    principal: Principal,
    *,
    role: str | None,
    ambito: str | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[Recipient], int]:
    query = select(Recipient)
    if not principal.is_platform_admin:
        query = query.where(
            Recipient.__table__.c.ambiti.overlap(sorted(principal.ambiti))  # type: ignore[attr-defined]
        )
    if role:
        query = query.where(col(Recipient.roles).contains([role]))
    if ambito:
        query = query.where(col(Recipient.ambiti).contains([ambito]))
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)
