from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

# The Scheda Unica di Triage, as scored here: seven items, each 0 (no need), 1 (partial), 2
# (severe). Four describe the health side, three the social side.
HEALTH_ITEMS = (
    "autonomia_funzionale",
    "patologie_croniche",
    "deficit_cognitivo",
    "bisogno_sanitario",
)
SOCIAL_ITEMS = ("rete_familiare", "condizione_abitativa", "situazione_economica")
TriageItem = Literal[
    "autonomia_funzionale",
    "patologie_croniche",
    "deficit_cognitivo",
    "bisogno_sanitario",
    "rete_familiare",
    "condizione_abitativa",
    "situazione_economica",
]
Outcome = Literal["simple", "complex"]


class TriageAnswer(BaseModel):
    item: TriageItem
    value: int = Field(ge=0, le=2, json_schema_extra={"format": "int32"})


class TriageIn(BaseModel):
    answers: list[TriageAnswer] = Field(min_length=1, max_length=20)
    notes: str | None = Field(None, max_length=2000)


class TriageOut(BaseModel):
    case_id: uuid.UUID
    answers: dict[str, int] = Field(description="Risposta (0-2) per voce della scheda")
    health_score: int = Field(ge=0, le=8, json_schema_extra={"format": "int32"})
    social_score: int = Field(ge=0, le=6, json_schema_extra={"format": "int32"})
    total_score: int = Field(ge=0, le=14, json_schema_extra={"format": "int32"})
    outcome: Outcome
    notes: str | None = Field(None, max_length=2000)
    by_sub: str = Field(max_length=200)
    triaged_at: datetime


EvmKind = Literal["preliminary", "multidimensional"]
Employer = Literal["asst", "comune", "ambito"]
Profession = Literal[
    "assistente_sociale",
    "medico",
    "mmg",
    "infermiere",
    "fisioterapista",
    "psicologo",
    "educatore",
    "terapista_occupazionale",
    "altro",
]
Instrument = Literal["ADL", "IADL", "BARTHEL", "INTERRAI_HC", "ICF", "SCALA_SOCIALE", "ALTRO"]
NssLevel = Literal["autosufficiente", "lieve", "moderata", "grave", "gravissima"]
SCORE_RANGES = {"ADL": (0, 6), "IADL": (0, 8), "BARTHEL": (0, 100)}
ICF_CODE = r"^[bdes][0-9]{1,5}(\.[0-9]{1,3})?$"


class EvmScheduleIn(BaseModel):
    kind: EvmKind
    scheduled_for: datetime
    place: str | None = Field(None, max_length=200, examples=["Casa di Comunità di Iseo"])


class TeamMember(BaseModel):
    profession: Profession
    employer: Employer
    sub: str | None = Field(None, max_length=200, description="Utente della piattaforma, se c'è")


class InstrumentScore(BaseModel):
    instrument: Instrument
    score: float | None = Field(None, ge=0, le=1000)
    code: str | None = Field(None, pattern=ICF_CODE, description="Codice ICF (solo per ICF)")
    label: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _check(self) -> InstrumentScore:
        if self.instrument == "ICF":
            if self.code is None:
                raise ValueError("an ICF entry needs its code")
        elif self.score is None:
            raise ValueError(f"{self.instrument} needs a score")
        bounds = SCORE_RANGES.get(self.instrument)
        if bounds and self.score is not None and not bounds[0] <= self.score <= bounds[1]:
            raise ValueError(f"{self.instrument} score must be between {bounds[0]} and {bounds[1]}")
        return self


class DimensionAssessment(BaseModel):
    level: Literal["nessun_bisogno", "lieve", "moderato", "grave"]
    notes: str | None = Field(None, max_length=1000)


class Dimensions(BaseModel):
    """The five dimensions of the multidimensional evaluation, all required."""

    clinical: DimensionAssessment
    psychological: DimensionAssessment
    cognitive: DimensionAssessment
    social: DimensionAssessment
    functional: DimensionAssessment


class EvmCompleteIn(BaseModel):
    evaluated_at: datetime
    team: list[TeamMember] = Field(min_length=1, max_length=50)
    instruments: list[InstrumentScore] = Field(default_factory=list, max_length=50)
    dimensions: Dimensions
    outcome: str = Field(min_length=1, max_length=200, examples=["Bisogno complesso: PAI"])
    non_self_sufficiency_level: NssLevel | None = None


class TeamFlags(BaseModel):
    has_ambito_social_worker: bool
    has_asst_staff: bool
    size: int = Field(ge=0, le=50, json_schema_extra={"format": "int32"})


class EvmOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: EvmKind
    status: Literal["scheduled", "completed"]
    scheduled_for: datetime
    place: str | None = Field(None, max_length=200)
    evaluated_at: datetime | None = None
    team: list[TeamMember] = Field(max_length=50)
    team_flags: TeamFlags
    instruments: list[InstrumentScore] = Field(max_length=50)
    dimensions: Dimensions | None = None
    outcome: str | None = Field(None, max_length=200)
    non_self_sufficiency_level: NssLevel | None = None
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_at: datetime
    updated_at: datetime
