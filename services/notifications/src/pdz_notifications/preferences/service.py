"""A recipient's own preferences (critical notifications ignore them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.preferences.models import Preference
from pdz_shared.db import utcnow
from pdz_shared.listing import paged


async def mine(
    session: AsyncSession, sub: str, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[Preference], int]:
    query = select(Preference).where(Preference.recipient_sub == sub)
    return await paged(session, query, order_by, limit, offset)


async def put(
    session: AsyncSession, sub: str, event_type: str, channel: str, enabled: bool
) -> Preference:
    now = utcnow()
    stmt = insert(Preference).values(
        recipient_sub=sub, event_type=event_type, channel=channel, enabled=enabled, updated_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["recipient_sub", "event_type", "channel"],
        set_={"enabled": enabled, "updated_at": now},
    )
    await session.execute(stmt)
    return Preference(
        recipient_sub=sub, event_type=event_type, channel=channel, enabled=enabled, updated_at=now
    )
