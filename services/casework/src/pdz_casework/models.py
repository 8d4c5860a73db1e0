"""Every table of the casework database (imported by Alembic)."""

from pdz_shared.events.inbox import InboxMessage
from pdz_shared.events.outbox import OutboxMessage

__all__ = ["InboxMessage", "OutboxMessage"]
