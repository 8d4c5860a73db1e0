from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from pdz_notifications.preferences import service
from pdz_notifications.preferences.models import Preference
from pdz_notifications.preferences.schemas import PreferenceIn, PreferenceOut
from pdz_notifications.schemas import EVENT_TYPE, RuleChannel
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal
from pdz_shared.http import Page

router = APIRouter(prefix="/v1/preferences", tags=["preferences"])
EventTypePath = Annotated[
    str,
    Path(
        pattern=EVENT_TYPE,
        max_length=200,
        description="Tipo di evento, o * per tutti",
    ),
]


def _out(p: Preference) -> PreferenceOut:
    return PreferenceOut.model_validate(p, from_attributes=True)


@router.get(
    "",
    response_model=Page[PreferenceOut],
    operation_id="list_preferences",
    summary="Le mie preferenze",
    description="Le scelte di chi chiama per tipo di evento e canale (il resto è attivo).",
)
async def list_preferences(session: SessionDep, principal: CurrentPrincipal) -> Page[PreferenceOut]:
    rows = await service.mine(session, principal.sub)
    items = [_out(r) for r in rows[:500]]
    return Page(items=items, total=len(rows), limit=500, offset=0)


@router.put(
    "/{channel}/{event_type}",
    response_model=PreferenceOut,
    operation_id="put_preference",
    summary="Imposta una mia preferenza",
    description="Attiva o disattiva un tipo di evento (o * per tutti) su un canale. Le notifiche "
    "critiche arrivano comunque. Ripetere la richiesta non cambia nulla.",
)
async def put_preference(
    channel: RuleChannel,
    event_type: EventTypePath,
    body: PreferenceIn,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> PreferenceOut:
    return _out(await service.put(session, principal.sub, event_type, channel, body.enabled))
