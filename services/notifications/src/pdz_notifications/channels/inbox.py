"""The in-app inbox: a delivery becomes a row of the recipient's inbox (once per event)."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.channels.base import Outgoing, SendResult
from pdz_notifications.inbox.models import Notification
from pdz_shared.db import SessionFactory, transaction, utcnow

# One statement for every row: compiled once (values bound at execution).
_INSERT = insert(Notification).on_conflict_do_nothing(constraint="uq_notification_event_recipient")


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
        """The rows of several deliveries in one statement (executemany, one round trip)."""
        now = utcnow()
        await session.execute(
            _INSERT,
            [
                {
                    "id": uuid.uuid4(),
                    "recipient_sub": m.recipient,
                    "event_id": m.event_id,
                    "event_type": m.event_type,
                    "ambito_code": m.ambito_code,
                    "title": m.subject or m.event_type,
                    "body": m.body or "",
                    "critical": m.critical,
                    "created_at": now,
                }
                for m in messages
            ],
        )
        return [SendResult(True) for _ in messages]

    async def close(self) -> None:
        return None
