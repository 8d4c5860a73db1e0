"""The import/export file format (pdz-plan/1), as pydantic models: the JSON Schema source.

The format is deliberately tolerant: numbers and dates may be written as text ("1.234,56",
"N.D.", "31/12/2024", "72% - sufficiente"), because that is what Uffici di Piano have in their
documents. The importer reads them, and reports every value it could not type as a warning
instead of refusing the file; the export writes such values back exactly as they were.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pdz_shared.contracts.plans import Target

Num = float | str | None
Day = date | str | None
Text = str | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TerritoryDoc(_Model):
    code: str = Field(description="Codice stabile (ISTAT per i comuni, se noto)")
    name: str
    kind: Literal["regione", "ats", "asst", "distretto", "ambito", "comune"]
    parent_codes: list[str] = Field(default_factory=list)
    ambito_code: Text = None
    istat_code: Text = None
    valid_from: Day = None
    valid_to: Day = None


class PopulationDoc(_Model):
    territory: str = Field(description="Codice o nome dell'unità (i nomi di comune sono risolti)")
    year: int | str
    reference_date: Day = None
    total: Num = None
    male: Num = None
    female: Num = None
    foreign_total: Num = None
    foreign_male: Num = None
    foreign_female: Num = None
    foreign_pct: Num = Field(None, description="Percentuale dichiarata, verificata sui conteggi")
    age_bands: dict[str, Any] | None = Field(None, examples=[{"0-14": 151, "15-64": 1006}])
    area_km2: Num = None
    density: Num = Field(None, description="Densità dichiarata (ab/km²), verificata")
    source: Text = None


class SignatoryDoc(_Model):
    name: str
    kind: Text = Field(None, examples=["comune", "ats", "asst", "terzo_settore"])
    territory_code: Text = None
    role: Text = None
    note: Text = None


class MemberDoc(_Model):
    role: Text = None
    organisation: Text = None
    count: Num = None
    note: Text = None


class GovernanceBodyDoc(_Model):
    code: Text = None
    name: str
    level: Text = Field(None, examples=["ambito", "asst", "ats"])
    role: Text = None
    parent_code: Text = Field(None, description="Codice di un altro organismo del piano")
    max_members: Num = None
    valid_from: Day = None
    valid_to: Day = None
    members: list[MemberDoc] = Field(default_factory=list)
    powers: list[str] | str = Field(default_factory=list)
    note: Text = None


class DeclaredTotalDoc(_Model):
    label: Text = None
    fund: Text = None
    year: int | str | None = None
    measure: Literal["planned", "committed", "spent"] = "planned"
    amount: Num = None


class PlanDoc(_Model):
    code: str = Field(pattern=r"^[A-Za-z0-9._-]{1,50}$")
    title: str
    ambito_code: str = Field(pattern=r"^[A-Za-z0-9._-]{1,50}$")
    cycle: Text = Field(None, examples=["2025-2027"], description="O cycle_start/end_year")
    cycle_start_year: int | str | None = None
    cycle_end_year: int | str | None = None
    valid_from: Day = None
    valid_to: Day = None
    extension_note: Text = Field(None, examples=["prorogato al 31/12/2024"])
    status: Literal["draft", "approved", "in_force", "closed"] | str = "draft"
    approval_body: Text = None
    approved_on: Day = None
    approval_act: Text = None
    capofila_code: Text = None
    capofila_name: Text = None
    legal_basis: Text = None
    comuni: list[str] = Field(default_factory=list, description="Codici o nomi dei comuni")
    signatories: list[SignatoryDoc] = Field(default_factory=list)
    governance_bodies: list[GovernanceBodyDoc] = Field(default_factory=list)
    declared_totals: list[DeclaredTotalDoc] = Field(default_factory=list)
    notes: Text = None
    source: Text = None


class ActionDoc(_Model):
    code: Text = None
    title: str
    description: Text = None
    owner: Text = None
    start_date: Day = None
    end_date: Day = None
    timeline: Text = None
    status: Text = None


class ResourceDoc(_Model):
    fund: str = Field(examples=["FNPS", "FNA", "FSR", "Fondo Povertà", "PNRR", "Comuni"])
    year: int | str | None = None
    planned: Num = None
    committed: Num = None
    spent: Num = None
    note: Text = None


class IndicatorDoc(_Model):
    code: str = Field(pattern=r"^[A-Za-z0-9._-]{1,50}$")
    name: str
    kind: Literal["input", "process", "output", "outcome"] | str = "output"
    unit: Text = None
    data_source: Text = None
    frequency: str = "yearly"
    formula: Text = None
    target: Target | dict[str, Any] | None = Field(
        None, description="Target tipizzato (vedi AsyncAPI, IndicatorDefinitionChanged.target)"
    )
    notes: Text = None


class ClassificationDoc(_Model):
    scheme: str = Field(examples=["macroarea-2025", "area-2021-2023", "leps", "ppt-franciacorta"])
    code: str


class ObjectiveDoc(_Model):
    code: str = Field(pattern=r"^[A-Za-z0-9._-]{1,50}$")
    title: Text = None
    section: Text = None
    description: Text = None
    rationale: Text = None
    scope: Literal["ambito", "sovra_ambito", "polo_territoriale", "regionale"] | str = "ambito"
    shared_with_ambiti: list[str] = Field(default_factory=list)
    target_population: Text = None
    responsible_body: Text = None
    partners: list[str] | str = Field(default_factory=list)
    start_date: Day = None
    end_date: Day = None
    status: str = "planned"
    classifications: list[ClassificationDoc] = Field(default_factory=list)
    actions: list[ActionDoc] = Field(default_factory=list)
    answers: dict[str, Any] = Field(
        default_factory=dict, description="Le domande della scheda con le risposte come scritte"
    )
    details: dict[str, Any] = Field(default_factory=dict)
    resources: list[ResourceDoc] = Field(default_factory=list)
    indicators: list[IndicatorDoc] = Field(default_factory=list)


class EvaluationDoc(_Model):
    cycle: Text = Field(None, examples=["2021-2023"])
    code: Text = None
    title: str
    area: Text = None
    dimension: Text = None
    achievement: Num = Field(None, examples=["72% - sufficiente"])
    spending: Num = Field(None, examples=["60% - non realizzato come programmato"])
    user_evaluation: Text = None
    resources_adequacy: Text = None
    critical_issues: Text = None
    need_met: Text = None
    continuity_previous: Text = None
    reproposed: Text = None
    notes: Text = None
    answers: dict[str, Any] = Field(default_factory=dict)


class PlanDocument(_Model):
    """A Piano di Zona with its territory, schede, indicators, budget and esiti."""

    model_config = ConfigDict(extra="forbid", title="Piano di Zona (pdz-plan/1)")

    format: Literal["pdz-plan/1"] = "pdz-plan/1"
    territories: list[TerritoryDoc] = Field(default_factory=list)
    population: list[PopulationDoc] = Field(default_factory=list)
    plan: PlanDoc
    objectives: list[ObjectiveDoc] = Field(default_factory=list)
    indicators: list[IndicatorDoc] = Field(
        default_factory=list, description="Indicatori del piano non legati a una scheda"
    )
    budget: list[ResourceDoc] = Field(
        default_factory=list, description="Risorse del piano non legate a una scheda"
    )
    evaluation: list[EvaluationDoc] = Field(
        default_factory=list, description="Esiti della programmazione precedente"
    )


def json_schema() -> dict[str, Any]:
    schema = PlanDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://pdz.example/schemas/pdz-plan-1.json"
    return schema


def render() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
