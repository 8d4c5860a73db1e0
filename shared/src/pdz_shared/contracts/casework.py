"""Events of the casework service, and the hospitals' inbound topic it consumes.

No event that leaves casework carries a name or a codice fiscale: only the case id, the
territory, an age band, sex, the PUA level, the source, intervention types, team composition
flags and dates. Consumers (indicators, notifications) build only on these fields.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from pdz_shared.contracts.spec import EventSpec, TopicSpec

SOURCE = "/pdz/casework"
ASST_DIMISSIONI_TOPIC = "asst.dimissioni.v1"  # inbound: FHIR R4 message Bundle as CloudEvent
ASST_DIMISSIONE_TYPE = "it.asst.dimissione-protetta"

CASE_TOPIC = "pdz.casework.case.v1"
EVM_TOPIC = "pdz.casework.evm.v1"
PAI_TOPIC = "pdz.casework.pai.v1"
DISCHARGE_TOPIC = "pdz.casework.discharge.v1"
SLA_TOPIC = "pdz.casework.sla.v1"
LINK_TOPIC = "pdz.casework.external-link.v1"

CASE_OPENED = "it.pdz.casework.case.opened"
CASE_TRIAGED = "it.pdz.casework.case.triaged"
CASE_STATUS_CHANGED = "it.pdz.casework.case.status-changed"
CASE_CLOSED = "it.pdz.casework.case.closed"
EVM_SCHEDULED = "it.pdz.casework.evm.scheduled"
EVM_COMPLETED = "it.pdz.casework.evm.completed"
PAI_APPROVED = "it.pdz.casework.pai.approved"
INTERVENTION_STARTED = "it.pdz.casework.intervention.started"
INTERVENTION_ENDED = "it.pdz.casework.intervention.ended"
DISCHARGE_RECEIVED = "it.pdz.casework.discharge.received"
TRANSITION_COMPLETED = "it.pdz.casework.transition.completed"
SLA_DUE_SOON = "it.pdz.casework.sla.due-soon"
SLA_BREACHED = "it.pdz.casework.sla.breached"
EXTERNAL_LINK_CREATED = "it.pdz.casework.external-link.created"
EXTERNAL_LINK_REMOVED = "it.pdz.casework.external-link.removed"

AgeBand = Literal["0-17", "18-64", "65-74", "75-84", "85+", "unknown"]
Sex = Literal["M", "F", "unknown"]
PuaLevel = Literal["front_office", "back_office_1", "back_office_2"]
CaseSource = Literal["sportello", "mmg", "comune", "asst_dimissione", "online", "terzo_settore"]
CaseStatus = Literal[
    "received",
    "triaged",
    "closed_with_orientation",
    "simple_service_activated",
    "evm_scheduled",
    "assessed",
    "pai_active",
    "closed",
]
Channel = Literal["api", "kafka"]
Destination = Literal[
    "domicilio",
    "struttura_residenziale",
    "ospedale_di_comunita",
    "cure_intermedie",
    "hospice",
    "altro",
]
SlaKind = Literal["first_contact", "triage", "evm", "pai", "discharge"]

_CODE = r"^[A-Za-z0-9._-]{1,50}$"


def age_band(birth: date, on: date) -> AgeBand:
    """The age band of a person born on ``birth``, on the day ``on``."""
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    if age < 18:
        return "0-17"
    if age < 65:
        return "18-64"
    if age < 75:
        return "65-74"
    if age < 85:
        return "75-84"
    return "85+"


class CaseFacts(BaseModel):
    """What every casework event says about its case (never who the person is)."""

    case_id: uuid.UUID
    ambito_code: str = Field(pattern=_CODE)
    comune_code: str | None = Field(None, pattern=_CODE)
    age_band: AgeBand = "unknown"
    sex: Sex = "unknown"
    pua_level: PuaLevel | None = None
    source: CaseSource
    case_manager_sub: str | None = Field(
        None, max_length=200, description="Subject of the case manager, if assigned"
    )
    occurred_at: datetime


class CaseOpened(CaseFacts):
    status: CaseStatus = "received"


class CaseTriaged(CaseFacts):
    outcome: Literal["simple", "complex"]
    triaged_at: datetime


class CaseStatusChanged(CaseFacts):
    from_status: CaseStatus
    to_status: CaseStatus


class CaseClosed(CaseFacts):
    reason: str = Field(max_length=200)


class TeamComposition(BaseModel):
    has_ambito_social_worker: bool = Field(
        description="A social worker employed by the comune or the Ambito took part"
    )
    has_asst_staff: bool
    professions: list[str] = Field(default_factory=list, max_length=20)
    size: int = Field(ge=0, le=50)


class EvmScheduled(CaseFacts):
    evm_id: uuid.UUID
    scheduled_for: datetime
    kind: Literal["preliminary", "multidimensional"]


class EvmCompleted(CaseFacts):
    evm_id: uuid.UUID
    evaluated_at: datetime
    kind: Literal["preliminary", "multidimensional"]
    team: TeamComposition
    non_self_sufficiency_level: str | None = Field(None, max_length=50)
    outcome: str = Field(max_length=200)


class PaiApproved(CaseFacts):
    pai_id: uuid.UUID
    version: int = Field(ge=1)
    approved_at: datetime
    intervention_types: list[str] = Field(default_factory=list, max_length=50)
    review_date: date | None = None


class InterventionChanged(CaseFacts):
    intervention_id: uuid.UUID
    intervention_type: str = Field(max_length=50, examples=["SAD", "C-DOM", "MISURA_B2"])
    funding_source: str | None = Field(None, max_length=50)
    start_date: date | None = None
    end_date: date | None = None


class DischargeReceived(CaseFacts):
    discharge_id: uuid.UUID
    channel: Channel
    sending_organization: str = Field(max_length=200)
    admission_date: date | None = None
    planned_discharge_date: date
    received_at: datetime
    readmission_of: uuid.UUID | None = Field(
        None,
        description="Earlier discharge of the same person whose transition ended less than 30 "
        "days before this admission (a 30-day readmission); None otherwise",
    )


class TransitionCompleted(CaseFacts):
    discharge_id: uuid.UUID | None = None
    origin_setting: str = Field(max_length=100)
    destination: Destination
    discharged_on: date
    arrived_on: date
    outcome: str = Field(max_length=200)
    readmitted_within_30_days: bool | None = None


class SlaEvent(CaseFacts):
    sla_id: uuid.UUID
    kind: SlaKind
    due_at: datetime


class ExternalLinkChanged(CaseFacts):
    system: str = Field(max_length=100)
    external_id: str = Field(max_length=200)


def _topic(name: str, description: str) -> TopicSpec:
    return TopicSpec(name, "casework", description, key="case id")


TOPICS = [
    TopicSpec(
        ASST_DIMISSIONI_TOPIC,
        "asst",
        "Dimissioni protette inviate dai sistemi ospedalieri delle ASST "
        "(Bundle FHIR R4 come CloudEvent)",
        key="encounter identifier",
    ),
    _topic(CASE_TOPIC, "Ciclo di vita dei casi dell'accesso integrato (PUA)"),
    _topic(EVM_TOPIC, "Valutazioni multidimensionali (EVM/UVM)"),
    _topic(PAI_TOPIC, "Progetti individualizzati (PAI) e interventi"),
    _topic(DISCHARGE_TOPIC, "Dimissioni protette ricevute e transizioni completate"),
    _topic(SLA_TOPIC, "Scadenze (SLA) in avvicinamento o superate"),
    _topic(LINK_TOPIC, "Collegamenti con la Cartella Sociale dei comuni"),
]

_ALL = ("indicators", "notifications")
EVENTS = [
    EventSpec(CASE_OPENED, CASE_TOPIC, CaseOpened, "Caso aperto", _ALL),
    EventSpec(CASE_TRIAGED, CASE_TOPIC, CaseTriaged, "Triage completato", _ALL),
    EventSpec(CASE_STATUS_CHANGED, CASE_TOPIC, CaseStatusChanged, "Stato del caso cambiato", _ALL),
    EventSpec(CASE_CLOSED, CASE_TOPIC, CaseClosed, "Caso chiuso", _ALL),
    EventSpec(EVM_SCHEDULED, EVM_TOPIC, EvmScheduled, "Valutazione programmata", _ALL),
    EventSpec(EVM_COMPLETED, EVM_TOPIC, EvmCompleted, "Valutazione completata", _ALL),
    EventSpec(PAI_APPROVED, PAI_TOPIC, PaiApproved, "PAI approvato", _ALL),
    EventSpec(INTERVENTION_STARTED, PAI_TOPIC, InterventionChanged, "Intervento avviato", _ALL),
    EventSpec(INTERVENTION_ENDED, PAI_TOPIC, InterventionChanged, "Intervento concluso", _ALL),
    EventSpec(
        DISCHARGE_RECEIVED, DISCHARGE_TOPIC, DischargeReceived, "Dimissione protetta ricevuta", _ALL
    ),
    EventSpec(
        TRANSITION_COMPLETED,
        DISCHARGE_TOPIC,
        TransitionCompleted,
        "Transizione ospedale-territorio completata",
        _ALL,
    ),
    EventSpec(SLA_DUE_SOON, SLA_TOPIC, SlaEvent, "Scadenza vicina", ("notifications",)),
    EventSpec(SLA_BREACHED, SLA_TOPIC, SlaEvent, "Scadenza superata", _ALL),
    EventSpec(
        EXTERNAL_LINK_CREATED,
        LINK_TOPIC,
        ExternalLinkChanged,
        "Collegamento alla Cartella Sociale creato",
        ("notifications",),
    ),
    EventSpec(
        EXTERNAL_LINK_REMOVED,
        LINK_TOPIC,
        ExternalLinkChanged,
        "Collegamento alla Cartella Sociale rimosso",
        ("notifications",),
    ),
]
