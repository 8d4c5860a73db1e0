"""Every table of the casework database (imported by Alembic)."""

from pdz_casework.assessments.models import Evaluation, Triage
from pdz_casework.cases.models import Case, CaseAudit, CaseStatusChange, Person
from pdz_casework.consent.models import ConsentRecord
from pdz_casework.discharges.models import CareTransition, CaseTask, Discharge
from pdz_casework.links.models import ExternalLink, ExternalSystem
from pdz_casework.pai.models import PaiIntervention, PaiVersion
from pdz_casework.sla.models import SlaDeadline, SlaPolicy
from pdz_shared.events.inbox import InboxMessage
from pdz_shared.events.outbox import OutboxMessage
from pdz_shared.idempotency import IdempotencyRecord
from pdz_shared.modi import ModiJti

__all__ = [
    "CareTransition",
    "Case",
    "CaseAudit",
    "CaseStatusChange",
    "CaseTask",
    "ConsentRecord",
    "Discharge",
    "Evaluation",
    "ExternalLink",
    "ExternalSystem",
    "IdempotencyRecord",
    "InboxMessage",
    "ModiJti",
    "OutboxMessage",
    "PaiIntervention",
    "PaiVersion",
    "Person",
    "SlaDeadline",
    "SlaPolicy",
    "Triage",
]
