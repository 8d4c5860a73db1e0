"""Every table of the plans database (imported by Alembic)."""

from pdz_plans.territories.models import TerritoryUnit
from pdz_shared.events.inbox import InboxMessage
from pdz_shared.events.outbox import OutboxMessage
from pdz_shared.idempotency import IdempotencyRecord

__all__ = ["IdempotencyRecord", "InboxMessage", "OutboxMessage", "TerritoryUnit"]
