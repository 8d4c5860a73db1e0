"""What an expression may refer to: casework facts, their attributes, population attributes.

Each fact type names a casework CloudEvent type, an Italian label for descriptions, the payload
attribute that dates it (``dated_by``) and the attributes a ``where`` condition may test, each
with its type. Attribute paths are validated against this catalogue before any SQL is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pdz_shared.contracts import casework as cw

AttrType = Literal["bool", "number", "text"]


@dataclass(frozen=True)
class FactType:
    name: str
    ce_type: str
    label_it: str
    dated_by: str
    attributes: dict[str, AttrType] = field(default_factory=dict)
    natural_key: tuple[str, ...] = ()


_COMMON: dict[str, AttrType] = {
    "age_band": "text",
    "sex": "text",
    "pua_level": "text",
    "source": "text",
    "comune_code": "text",
}

FACT_TYPES: dict[str, FactType] = {
    f.name: f
    for f in (
        FactType("case.opened", cw.CASE_OPENED, "casi aperti", "occurred_at", {"status": "text"}),
        FactType(
            "case.triaged", cw.CASE_TRIAGED, "triage completati", "triaged_at", {"outcome": "text"}
        ),
        FactType(
            "case.status_changed",
            cw.CASE_STATUS_CHANGED,
            "cambi di stato dei casi",
            "occurred_at",
            {"from_status": "text", "to_status": "text"},
        ),
        FactType("case.closed", cw.CASE_CLOSED, "casi chiusi", "occurred_at", {"reason": "text"}),
        FactType(
            "evm.scheduled",
            cw.EVM_SCHEDULED,
            "valutazioni multidimensionali programmate",
            "occurred_at",
            {"kind": "text"},
            ("evm_id",),
        ),
        FactType(
            "evm.completed",
            cw.EVM_COMPLETED,
            "valutazioni multidimensionali completate",
            "evaluated_at",
            {
                "kind": "text",
                "outcome": "text",
                "non_self_sufficiency_level": "text",
                "team.has_ambito_social_worker": "bool",
                "team.has_asst_staff": "bool",
                "team.size": "number",
            },
            ("evm_id",),
        ),
        FactType(
            "pai.approved",
            cw.PAI_APPROVED,
            "progetti individualizzati (PAI) approvati",
            "approved_at",
            {"version": "number"},
            ("pai_id", "version"),
        ),
        FactType(
            "intervention.started",
            cw.INTERVENTION_STARTED,
            "interventi avviati",
            "occurred_at",
            {"intervention_type": "text", "funding_source": "text"},
            ("intervention_id",),
        ),
        FactType(
            "intervention.ended",
            cw.INTERVENTION_ENDED,
            "interventi conclusi",
            "occurred_at",
            {"intervention_type": "text", "funding_source": "text"},
            ("intervention_id",),
        ),
        FactType(
            "discharge.received",
            cw.DISCHARGE_RECEIVED,
            "dimissioni protette ricevute",
            "received_at",
            {"channel": "text", "sending_organization": "text"},
            ("discharge_id",),
        ),
        FactType(
            "transition.completed",
            cw.TRANSITION_COMPLETED,
            "transizioni ospedale-territorio completate",
            "arrived_on",
            {
                "destination": "text",
                "origin_setting": "text",
                "outcome": "text",
                "readmitted_within_30_days": "bool",
            },
            ("discharge_id",),
        ),
        FactType(
            "sla.breached",
            cw.SLA_BREACHED,
            "scadenze superate",
            "occurred_at",
            {"kind": "text"},
            ("sla_id",),
        ),
    )
}
for _f in FACT_TYPES.values():
    for _k, _v in _COMMON.items():
        _f.attributes.setdefault(_k, _v)

BY_CE_TYPE: dict[str, FactType] = {f.ce_type: f for f in FACT_TYPES.values()}

POPULATION_ATTRIBUTES: dict[str, AttrType] = {"age": "number", "sex": "text"}

ATTRIBUTE_LABELS_IT: dict[str, str] = {
    "team.has_ambito_social_worker": "con l'assistente sociale del comune o dell'Ambito",
    "team.has_asst_staff": "con personale ASST",
    "team.size": "numero di componenti dell'équipe",
    "destination": "destinazione",
    "channel": "canale",
    "age": "età",
    "sex": "sesso",
    "age_band": "fascia d'età",
    "readmitted_within_30_days": "con riammissione entro 30 giorni",
}
