"""Every table of the indicators database (imported by Alembic)."""

from pdz_indicators.reported.models import ReportedValue
from pdz_indicators.territories.models import Territory
from pdz_shared.events.inbox import InboxMessage
from pdz_shared.events.outbox import OutboxMessage

__all__ = ["InboxMessage", "OutboxMessage", "ReportedValue", "Territory"]
