"""Events of the plans service: territory, plans, objectives, indicator definitions.

Consumers (indicators, notifications, casework) build only on these models. Every event carries
the full state of its aggregate after the change (not a diff) and a ``version`` that grows by one
at each change, so a consumer can keep the newest and ignore a replayed older one.

Targets are typed (a union discriminated on ``kind``) and always keep the wording of the source
document in ``text``, so that nothing written in a Piano di Zona is lost when it is made
computable. Percentages are expressed in percent points (``50`` means 50%), with ``unit`` on the
indicator definition.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from pdz_shared.contracts.spec import EventSpec, TopicSpec

SOURCE = "/pdz/plans"

TERRITORY_TOPIC = "pdz.plans.territory.v1"
PLAN_TOPIC = "pdz.plans.plan.v1"
OBJECTIVE_TOPIC = "pdz.plans.objective.v1"
INDICATOR_DEFINITION_TOPIC = "pdz.plans.indicator-definition.v1"

TERRITORY_CREATED = "it.pdz.plans.territory.created"
TERRITORY_UPDATED = "it.pdz.plans.territory.updated"
TERRITORY_POPULATION_UPDATED = "it.pdz.plans.territory.population-updated"
PLAN_PUBLISHED = "it.pdz.plans.plan.published"
PLAN_UPDATED = "it.pdz.plans.plan.updated"
PLAN_CLOSED = "it.pdz.plans.plan.closed"
OBJECTIVE_CREATED = "it.pdz.plans.objective.created"
OBJECTIVE_UPDATED = "it.pdz.plans.objective.updated"
INDICATOR_DEFINITION_CREATED = "it.pdz.plans.indicator-definition.created"
INDICATOR_DEFINITION_UPDATED = "it.pdz.plans.indicator-definition.updated"

TerritoryKind = Literal["regione", "ats", "asst", "distretto", "ambito", "comune"]
PlanStatus = Literal["draft", "approved", "in_force", "closed"]
ObjectiveScope = Literal["ambito", "sovra_ambito", "polo_territoriale", "regionale"]
ObjectiveStatus = Literal["planned", "active", "completed", "suspended", "cancelled"]
IndicatorKind = Literal["input", "process", "output", "outcome"]
Frequency = Literal["monthly", "quarterly", "half_yearly", "yearly", "once", "unknown"]
Direction = Literal["increase", "decrease", "maintain"]
Comparator = Literal[">=", ">", "<=", "<", "="]
SubTerritoryLevel = Literal["comune", "ambito", "distretto"]

_CODE = r"^[A-Za-z0-9._-]{1,50}$"
_TEXT = 2000


class Baseline(BaseModel):
    """The starting point a target is measured against (often not stated: then null)."""

    value: float | None = Field(None, description="Baseline value, in the indicator's unit")
    year: int | None = Field(None, ge=1990, le=2100)
    note: str | None = Field(None, max_length=_TEXT, description="As written in the source")


class _Target(BaseModel):
    baseline: Baseline | None = None
    direction: Direction = Field(
        "increase", description="Which way is better for the indicator (decrease: less is better)"
    )
    text: str | None = Field(
        None, max_length=_TEXT, description="The target as written in the document, verbatim"
    )


class ThresholdTarget(_Target):
    """``value`` compared with ``comparator`` (e.g. ≥ 80%), reached by ``due_date``/``year``."""

    kind: Literal["threshold"] = "threshold"
    comparator: Comparator
    value: float
    due_date: date | None = None
    year: int | None = Field(None, ge=1990, le=2100, description="When only the year is given")


class YearStep(BaseModel):
    """One year of a yearly series.

    Exactly one shape applies: a threshold (``comparator`` + ``value``), a range (``min_value``
    and/or ``max_value``, e.g. "dal 40% al 60%"), a comparison with the previous year's value
    (``relative_to: previous_year`` + ``comparator``, e.g. "anno 2026 > anno 2025"), a milestone
    (``milestone``), or nothing (``none``: the document leaves the year empty, "—").
    """

    year: int = Field(ge=1990, le=2100)
    relative_to: Literal["absolute", "previous_year", "baseline", "none", "milestone"] = "absolute"
    comparator: Comparator | None = None
    value: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    milestone: str | None = Field(None, max_length=_TEXT)
    text: str | None = Field(None, max_length=_TEXT, description="The cell as written")


class YearlySeriesTarget(_Target):
    """A target per year, e.g. ≥ 50% in 2025, ≥ 75% in 2026, 100% in 2027 (LEPS ranges)."""

    kind: Literal["yearly_series"] = "yearly_series"
    steps: list[YearStep] = Field(min_length=1, max_length=20)


class TrendTarget(_Target):
    """Better than the baseline or than the previous year ("riduzione tempo medio")."""

    kind: Literal["trend"] = "trend"
    reference: Literal["baseline", "previous_year"]
    from_year: int | None = Field(None, ge=1990, le=2100)
    to_year: int | None = Field(None, ge=1990, le=2100)
    min_change: float | None = Field(None, description="Least change required, if any")
    change_unit: Literal["absolute", "percent"] = "absolute"


class MilestoneStage(BaseModel):
    label: str = Field(max_length=_TEXT)
    due_date: date | None = None
    year: int | None = Field(None, ge=1990, le=2100)


class MilestoneTarget(_Target):
    """Something done by a date (a protocol defined, then activated)."""

    kind: Literal["milestone"] = "milestone"
    description: str = Field(max_length=_TEXT)
    due_date: date | None = None
    stages: list[MilestoneStage] = Field(default_factory=list, max_length=20)


class ShareOfComuniTarget(_Target):
    """A share of the comuni of the ambito meets ``condition`` (e.g. ≥ 80% with a PUA desk)."""

    kind: Literal["share_of_comuni"] = "share_of_comuni"
    condition: str = Field(max_length=_TEXT, description="Expression or wording of the condition")
    comparator: Comparator = ">="
    share: float = Field(ge=0, le=100, description="Percent of the comuni")
    due_date: date | None = None
    year: int | None = Field(None, ge=1990, le=2100)


class FloorPerSubTerritoryTarget(_Target):
    """Every sub-territory (each comune, ...) reaches at least ``value``."""

    kind: Literal["floor_per_subterritory"] = "floor_per_subterritory"
    level: SubTerritoryLevel = "comune"
    comparator: Comparator = ">="
    value: float
    due_date: date | None = None
    year: int | None = Field(None, ge=1990, le=2100)


class RangeTarget(_Target):
    """The value stays between ``min_value`` and ``max_value`` (either bound may be open)."""

    kind: Literal["range"] = "range"
    min_value: float | None = None
    max_value: float | None = None
    due_date: date | None = None
    year: int | None = Field(None, ge=1990, le=2100)


Target = Annotated[
    ThresholdTarget
    | YearlySeriesTarget
    | TrendTarget
    | MilestoneTarget
    | ShareOfComuniTarget
    | FloorPerSubTerritoryTarget
    | RangeTarget,
    Field(discriminator="kind"),
]


class TerritoryChanged(BaseModel):
    """A territorial unit was created or changed (full state after the change)."""

    code: str = Field(max_length=50, description="Stable code (ISTAT code for comuni)")
    name: str = Field(max_length=200)
    kind: TerritoryKind
    parent_codes: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Parent units (an ASST may cover distretti...)",
    )
    ambito_code: str | None = Field(
        None, max_length=50, description="The ambito the unit belongs to, if any"
    )
    istat_code: str | None = Field(None, max_length=10)
    version: int = Field(ge=1)
    changed_at: datetime
    valid_from: date | None = Field(None, description="First day the unit is valid (optional)")
    valid_to: date | None = Field(None, description="Last day the unit is valid (optional)")


class TerritoryPopulationUpdated(BaseModel):
    """The resident population of a unit on a reference date (usually 1 January of ``year``).

    Counts are null where the source does not give them (or gives something that is not a
    count, which the plans service keeps as a warning).
    """

    code: str = Field(max_length=50)
    kind: TerritoryKind
    ambito_code: str | None = Field(None, max_length=50)
    year: int = Field(ge=1900, le=2100)
    reference_date: date
    total: int | None = Field(None, ge=0)
    male: int | None = Field(None, ge=0)
    female: int | None = Field(None, ge=0)
    foreign_total: int | None = Field(None, ge=0)
    foreign_male: int | None = Field(None, ge=0)
    foreign_female: int | None = Field(None, ge=0)
    source: str | None = Field(None, max_length=200)
    age_bands: dict[str, int] | None = Field(
        None,
        description="Residents per age band as the source gives them (e.g. '0-14', '15-64', "
        "'65+'); null when not given",
    )
    version: int = Field(ge=1)
    changed_at: datetime


class PlanChanged(BaseModel):
    """A Piano di Zona was published (approved or in force), changed or closed."""

    plan_id: uuid.UUID
    code: str = Field(max_length=50, pattern=_CODE, examples=["PDZ-AMBITO-05-SEBINO-2025-2027"])
    title: str = Field(max_length=300)
    ambito_code: str = Field(max_length=50)
    cycle_start_year: int = Field(ge=1990, le=2100)
    cycle_end_year: int = Field(ge=1990, le=2100)
    valid_from: date | None = None
    valid_to: date | None = Field(
        None, description="Last day in force, extensions included (prorogato al 31/12/2024)"
    )
    status: PlanStatus
    comune_codes: list[str] = Field(
        default_factory=list, max_length=500, description="Comuni the plan covers"
    )
    capofila_code: str | None = Field(None, max_length=50)
    approved_on: date | None = None
    extension_note: str | None = Field(None, max_length=500, examples=["prorogato al 31/12/2024"])
    version: int = Field(ge=1)
    changed_at: datetime


class ClassificationRef(BaseModel):
    scheme: str = Field(max_length=50, examples=["macroarea-2025", "leps", "ppt-franciacorta"])
    code: str = Field(max_length=50)


class ObjectiveChanged(BaseModel):
    """A scheda obiettivo was created or changed (full state, without its long texts)."""

    objective_id: uuid.UUID
    plan_id: uuid.UUID
    ambito_code: str = Field(max_length=50)
    code: str = Field(max_length=50)
    title: str = Field(max_length=500)
    scope: ObjectiveScope
    shared_with_ambiti: list[str] = Field(default_factory=list, max_length=50)
    status: ObjectiveStatus
    start_date: date | None = None
    end_date: date | None = None
    classifications: list[ClassificationRef] = Field(default_factory=list, max_length=50)
    version: int = Field(ge=1)
    changed_at: datetime


class IndicatorDefinitionChanged(BaseModel):
    """An indicator definition was created or changed, with its full target (if any)."""

    indicator_id: uuid.UUID
    code: str = Field(max_length=50)
    name: str = Field(max_length=1000)
    kind: IndicatorKind
    unit: str | None = Field(None, max_length=50, examples=["%", "n.", "giorni"])
    data_source: str | None = Field(None, max_length=500)
    frequency: Frequency = "yearly"
    formula: str | None = Field(
        None,
        max_length=_TEXT,
        description="Expression the indicators service evaluates (e.g. 'count(a) / count(b)')",
    )
    target: Target | None = None
    objective_id: uuid.UUID | None = None
    plan_id: uuid.UUID | None = None
    ambito_code: str | None = Field(None, max_length=50)
    version: int = Field(ge=1)
    changed_at: datetime


TOPICS = [
    TopicSpec(
        TERRITORY_TOPIC,
        "plans",
        "Unità territoriali (regione, ATS, ASST, distretto, ambito, comune) e popolazione",
        key="territory code",
    ),
    TopicSpec(PLAN_TOPIC, "plans", "Piani di Zona pubblicati, modificati, chiusi", key="plan id"),
    TopicSpec(OBJECTIVE_TOPIC, "plans", "Schede obiettivo dei Piani di Zona", key="objective id"),
    TopicSpec(
        INDICATOR_DEFINITION_TOPIC,
        "plans",
        "Definizioni degli indicatori con i loro target tipizzati",
        key="indicator id",
    ),
]

_IND = ("indicators",)
_ALL = ("indicators", "notifications")
EVENTS = [
    EventSpec(
        TERRITORY_CREATED,
        TERRITORY_TOPIC,
        TerritoryChanged,
        "Unità territoriale creata",
        consumers=_IND,
    ),
    EventSpec(
        TERRITORY_UPDATED,
        TERRITORY_TOPIC,
        TerritoryChanged,
        "Unità territoriale modificata",
        consumers=_IND,
    ),
    EventSpec(
        TERRITORY_POPULATION_UPDATED,
        TERRITORY_TOPIC,
        TerritoryPopulationUpdated,
        "Popolazione di un'unità territoriale aggiornata",
        consumers=_IND,
    ),
    EventSpec(PLAN_PUBLISHED, PLAN_TOPIC, PlanChanged, "Piano di Zona pubblicato", _ALL),
    EventSpec(PLAN_UPDATED, PLAN_TOPIC, PlanChanged, "Piano di Zona modificato", _ALL),
    EventSpec(PLAN_CLOSED, PLAN_TOPIC, PlanChanged, "Piano di Zona chiuso", _ALL),
    EventSpec(
        OBJECTIVE_CREATED, OBJECTIVE_TOPIC, ObjectiveChanged, "Scheda obiettivo creata", _IND
    ),
    EventSpec(
        OBJECTIVE_UPDATED, OBJECTIVE_TOPIC, ObjectiveChanged, "Scheda obiettivo modificata", _IND
    ),
    EventSpec(
        INDICATOR_DEFINITION_CREATED,
        INDICATOR_DEFINITION_TOPIC,
        IndicatorDefinitionChanged,
        "Definizione di indicatore creata",
        _IND,
    ),
    EventSpec(
        INDICATOR_DEFINITION_UPDATED,
        INDICATOR_DEFINITION_TOPIC,
        IndicatorDefinitionChanged,
        "Definizione di indicatore modificata",
        _IND,
    ),
]
