"""Digest windows: one per (recipient, channel, window), race-free through a unique constraint."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_shared.db import utcnow

_UPSERT = text("""
    INSERT INTO digest (id, recipient_sub, channel, window_minutes, window_start, window_end,
                        status, item_count, created_at)
    VALUES (:id, :sub, :channel, :minutes, :start, :end, 'open', 1, now())
    ON CONFLICT ON CONSTRAINT uq_digest_window
    DO UPDATE SET item_count = digest.item_count + 1 WHERE digest.status = 'open'
    RETURNING id
""")


def window_of(moment: datetime, minutes: int) -> tuple[datetime, datetime]:
    """The window of ``minutes`` (aligned on the epoch, UTC) that holds ``moment``."""
    size = minutes * 60
    start = int(moment.timestamp()) // size * size
    begin = datetime.fromtimestamp(start, UTC)
    return begin, begin + timedelta(seconds=size)


async def add(
    session: AsyncSession,
    recipient_sub: str,
    channel: str,
    minutes: int,
    now: datetime | None = None,
) -> uuid.UUID:
    """Adds one item to the recipient's open digest of the current window (created if absent).

    Concurrent callers meet on the unique constraint: the loser of the INSERT turns into an
    UPDATE of the winner's row. A window already closed by the dispatcher sends the item to the
    next window.
    """
    moment = now or utcnow()
    for _ in range(3):
        start, end = window_of(moment, minutes)
        row = (
            await session.execute(
                _UPSERT,
                {
                    "id": uuid.uuid4(),
                    "sub": recipient_sub,
                    "channel": channel,
                    "minutes": minutes,
                    "start": start,
                    "end": end,
                },
            )
        ).first()
        if row is not None:
            return uuid.UUID(str(row[0]))
        moment = end
    raise RuntimeError("no open digest window")  # pragma: no cover
