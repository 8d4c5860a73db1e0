"""The caller's in-app inbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.inbox.models import Notification
from pdz_shared.auth import Principal
from pdz_shared.db import utcnow
from pdz_shared.errors import NotFound


async def page(
    session: AsyncSession,
    principal: Principal,
    *,
    unread_only: bool,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[Notification], int, int]:
    mine = select(Notification).where(Notification.recipient_sub == principal.sub)
    unread_q = mine.where(col(Notification.read_at).is_(None))
    query = unread_q if unread_only else mine
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    unread = (await session.exec(select(func.count()).select_from(unread_q.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total), int(unread)


async def get(session: AsyncSession, principal: Principal, item_id: uuid.UUID) -> Notification:
    item = await session.get(Notification, item_id)
    if item is None or item.recipient_sub != principal.sub:
        raise NotFound(f"Messaggio {item_id} non trovato", f"Message {item_id} not found")
    return item


async def mark(session: AsyncSession, item: Notification, read: bool) -> Notification:
    if read and item.read_at is None:
        item.read_at = utcnow()
    elif not read:
        item.read_at = None
    session.add(item)
    await session.flush()
    return item


async def mark_all_read(session: AsyncSession, principal: Principal) -> int:
    result = await session.execute(
        update(Notification)
        .where(
            col(Notification.recipient_sub) == principal.sub,
            col(Notification.read_at).is_(None),
        )
        .values(read_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
