"""Events of the indicators service: a target's judgement changed.

A target is judged for an indicator, a territory (the plan's ambito) and a period (a year of
the plan cycle). ``target.achieved`` is emitted when the status becomes ``achieved``;
``target.at-risk`` when it becomes ``at_risk`` or ``off_track``. Values are in the indicator's
unit (percent points for percentages). No personal data.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from pdz_shared.contracts.spec import EventSpec, TopicSpec

SOURCE = "/pdz/indicators"

TARGET_TOPIC = "pdz.indicators.target.v1"

TARGET_AT_RISK = "it.pdz.indicators.target.at-risk"
TARGET_ACHIEVED = "it.pdz.indicators.target.achieved"

TargetStatusName = Literal["achieved", "on_track", "at_risk", "off_track", "no_data"]


class TargetStatusChanged(BaseModel):
    """The judgement of a target changed (key: indicator id)."""

    indicator_id: uuid.UUID
    indicator_code: str = Field(max_length=50)
    indicator_name: str = Field(max_length=1000)
    plan_id: uuid.UUID | None = None
    objective_id: uuid.UUID | None = None
    ambito_code: str | None = Field(None, max_length=50)
    territory_code: str = Field(max_length=50)
    period: str = Field(max_length=20, examples=["2026"])
    status: TargetStatusName
    previous_status: TargetStatusName | None = None
    value: float | None = Field(None, description="The value the target was judged on")
    target_value: float | None = Field(None, description="The value the target asks for")
    progress: float | None = Field(
        None, description="Share of the way from the baseline to the target (1 = reached)"
    )
    unit: str | None = Field(None, max_length=50)
    reason: str | None = Field(None, max_length=500)
    judged_at: datetime


TOPICS = [
    TopicSpec(
        TARGET_TOPIC,
        "indicators",
        "Target degli indicatori raggiunti o a rischio",
        key="indicator id",
    ),
]

EVENTS = [
    EventSpec(
        TARGET_AT_RISK,
        TARGET_TOPIC,
        TargetStatusChanged,
        "Target a rischio o fuori traiettoria",
        ("notifications",),
    ),
    EventSpec(
        TARGET_ACHIEVED, TARGET_TOPIC, TargetStatusChanged, "Target raggiunto", ("notifications",)
    ),
]
