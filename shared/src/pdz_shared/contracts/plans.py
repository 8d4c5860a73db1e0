"""Events of the plans service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from pdz_shared.contracts.spec import EventSpec, TopicSpec

TERRITORY_TOPIC = "pdz.plans.territory.v1"
SOURCE = "/pdz/plans"

TERRITORY_CREATED = "it.pdz.plans.territory.created"
TERRITORY_UPDATED = "it.pdz.plans.territory.updated"

TerritoryKind = Literal["regione", "ats", "asst", "distretto", "ambito", "comune"]


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


TOPICS = [
    TopicSpec(
        TERRITORY_TOPIC,
        "plans",
        "Unità territoriali (regione, ATS, ASST, distretto, ambito, comune)",
        key="territory code",
    ),
]

EVENTS = [
    EventSpec(
        TERRITORY_CREATED,
        TERRITORY_TOPIC,
        TerritoryChanged,
        "Unità territoriale creata",
        consumers=("indicators",),
    ),
    EventSpec(
        TERRITORY_UPDATED,
        TERRITORY_TOPIC,
        TerritoryChanged,
        "Unità territoriale modificata",
        consumers=("indicators",),
    ),
]
