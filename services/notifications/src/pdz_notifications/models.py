"""Every table of the notifications database (imported by Alembic)."""

from pdz_shared.events.inbox import InboxMessage
from pdz_shared.events.outbox import OutboxMessage

__all__ = ["InboxMessage", "OutboxMessage"]
