"""Every table of the plans database (imported by Alembic)."""

from pdz_plans.classifications.models import ClassificationCode, ClassificationScheme
from pdz_plans.evaluations.models import EvaluationItem
from pdz_plans.history.models import ChangeRecord
from pdz_plans.indicators_def.models import IndicatorDefinition
from pdz_plans.objectives.models import BudgetLine, Objective
from pdz_plans.plans.models import Plan
from pdz_plans.territories.models import TerritoryPopulation, TerritoryUnit
from pdz_shared.events.inbox import InboxMessage
from pdz_shared.events.outbox import OutboxMessage
from pdz_shared.idempotency import IdempotencyRecord

__all__ = [
    "BudgetLine",
    "ChangeRecord",
    "ClassificationCode",
    "ClassificationScheme",
    "EvaluationItem",
    "IdempotencyRecord",
    "InboxMessage",
    "IndicatorDefinition",
    "Objective",
    "OutboxMessage",
    "Plan",
    "TerritoryPopulation",
    "TerritoryUnit",
]
