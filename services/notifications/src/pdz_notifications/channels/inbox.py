"""The in-app inbox: a delivery becomes a row of the recipient's inbox (once per event)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.channels.base import Outgoing, SendResult
from pdz_shared.db import SessionFactory, transaction, utcnow

# The rows of several deliveries in one statement (one array per column).
_INSERT_MANY = text("""
    INSERT INTO notification (id, recipient_sub, event_id, event_type, ambito_code, title, body,
                              critical, created_at)
    SELECT * FROM unnest(CAST(:id AS uuid[]), CAST(:recipient_sub AS text[]),
        CAST(:event_id AS text[]), CAST(:event_type AS text[]), CAST(:ambito_code AS text[]),
        CAST(:title AS text[]), CAST(:body AS text[]), CAST(:critical AS boolean[]),
        CAST(:created_at AS timestamptz[]))
    ON CONFLICT ON CONSTRAINT uq_notification_event_recipient DO NOTHING
""")


class InboxChannel:
    """Transactional: the dispatcher writes the inbox row in the transaction that marks the
    delivery sent (``send_in``), so the row and the delivery's status commit together."""

    name = "inbox"
    transactional = True

    def __init__(self, factory: SessionFactory) -> None:
        self.factory = factory

    async def send(self, message: Outgoing) -> SendResult:
        async with transaction(self.factory) as session:
            return await self.send_in(session, message)

    async def send_in(self, session: AsyncSession, message: Outgoing) -> SendResult:
        return (await self.send_many_in(session, [message]))[0]

    async def send_many_in(
        self, session: AsyncSession, messages: list[Outgoing]
    ) -> list[SendResult]:
        """The rows of several deliveries in one statement."""
        now = utcnow()
        await session.execute(
            _INSERT_MANY,
            {
                "id": [uuid.uuid4() for _ in messages],
                "recipient_sub": [m.recipient for m in messages],
                "event_id": [m.event_id for m in messages],
                "event_type": [m.event_type for m in messages],
                "ambito_code": [m.ambito_code for m in messages],
                "title": [m.subject or m.event_type for m in messages],
                "body": [m.body or "" for m in messages],
                "critical": [m.critical for m in messages],
                "created_at": [now for _ in messages],
            },
        )
        return [SendResult(True) for _ in messages]

    async def close(self) -> None:
        return None
