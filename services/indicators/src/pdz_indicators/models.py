"""Every table of the indicators database (imported by Alembic)."""

from pdz_indicators.facts.models import Fact, Population
from pdz_indicators.reported.models import ReportedValue
from pdz_indicators.targets.models import Indicator, Objective, Plan, TargetStatus
from pdz_indicators.territories.models import Territory
from pdz_indicators.values.models import FactSum, FactSumState, IndicatorValue
from pdz_shared.events.inbox import InboxMessage
from pdz_shared.events.outbox import OutboxMessage

__all__ = [
    "Fact",
    "FactSum",
    "FactSumState",
    "InboxMessage",
    "Indicator",
    "IndicatorValue",
    "Objective",
    "OutboxMessage",
    "Plan",
    "Population",
    "ReportedValue",
    "TargetStatus",
    "Territory",
]
