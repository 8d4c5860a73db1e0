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
        await session.execute(
            _INSERT,
            {
                "id": uuid.uuid4(),
                "recipient_sub": message.recipient,
                "event_id": message.event_id,
                "event_type": message.event_type,
                "ambito_code": message.ambito_code,
                "title": message.subject or message.event_type,
                "body": message.body or "",
                "critical": message.critical,
                "created_at": utcnow(),
            },
        )
        return SendResult(True)

    async def close(self) -> None:
        return None
