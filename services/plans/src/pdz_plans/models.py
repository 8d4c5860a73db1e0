"""Every table of the plans database (imported by Alembic)."""

from pdz_plans.territories.models import TerritoryUnit
from pdz_shared.events.inbox import InboxMessage
from pdz_shared.events.outbox import OutboxMessage

__all__ = ["InboxMessage", "OutboxMessage", "TerritoryUnit"]
