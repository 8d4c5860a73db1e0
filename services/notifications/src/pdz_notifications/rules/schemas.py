from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from pdz_notifications.schemas import Code, EventType, RoleName, RuleChannel


class RuleFilters(BaseModel):
    """Each listed field of the event payload must hold one of the values (empty = any)."""

    ambito_code: list[Code] = Field(default_factory=list, max_length=100)
    comune_code: list[Code] = Field(default_factory=list, max_length=200)
    pua_level: list[Code] = Field(default_factory=list, max_length=10, examples=[["back_office_1"]])
    source: list[Code] = Field(default_factory=list, max_length=20, examples=[["asst_dimissione"]])
    severity: list[Code] = Field(default_factory=list, max_length=10)
    kind: list[Code] = Field(default_factory=list, max_length=20, examples=[["discharge"]])
    status: list[Code] = Field(default_factory=list, max_length=20, examples=[["off_track"]])

    def stored(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.model_dump().items() if v}


class RuleIn(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$", examples=["discharge-back-office"])
    description: str = Field(min_length=1, max_length=500)
    event_type: EventType = Field(examples=["it.pdz.casework.discharge.received"])
    filters: RuleFilters = Field(default_factory=RuleFilters)
    roles: list[RoleName] = Field(
        default_factory=list, max_length=10, description="Ruoli dei destinatari nell'ambito"
    )
    recipient_fields: list[str] = Field(
        default_factory=list,
        max_length=5,
        description="Campi dell'evento che contengono il sub di un destinatario",
        examples=[["case_manager_sub"]],
    )
    channels: list[RuleChannel] = Field(min_length=1, max_length=5, examples=[["email", "inbox"]])
    template_key: EventType = Field(description="Chiave dei modelli (di solito il tipo di evento)")
    critical: bool = Field(False, description="Le notifiche critiche ignorano le preferenze")
    digest_minutes: int | None = Field(
        None, ge=1, le=10080, description="Raggruppa le e-mail non critiche in questa finestra"
    )
    enabled: bool = True
    ambito_code: Code | None = Field(
        None, description="La regola vale solo per gli eventi di questo ambito (vuoto = tutti)"
    )


class RuleOut(RuleIn):
    id: uuid.UUID
    is_default: bool
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_by: str = Field(max_length=200)
    created_at: datetime
    updated_at: datetime
