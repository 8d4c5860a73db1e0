from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from pdz_notifications.preferences import service
from pdz_notifications.preferences.models import Preference
from pdz_notifications.preferences.schemas import PreferenceIn, PreferenceOut
from pdz_notifications.schemas import EVENT_TYPE, RuleChannel
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal
from pdz_shared.http import Page, PageParams, page_params
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/preferences", tags=["preferences"])
EventTypePath = Annotated[
    str,
    Path(
        pattern=EVENT_TYPE,
        max_length=200,
        description="Tipo di evento, o * per tutti",
    ),
]
PREFERENCES = Listing(
    Preference,
    PreferenceOut,
    sort=("event_type", "channel", "enabled", "updated_at"),
    default="event_type,channel",
    key=("event_type", "channel"),
)


def _out(p: Preference) -> PreferenceOut:
    return PreferenceOut.model_validate(p, from_attributes=True)


@router.get(
    "",
    response_model=Page[PreferenceOut],
    operation_id="list_preferences",
    summary="Le mie preferenze",
    description="Le scelte di chi chiama per tipo di evento e canale (il resto è attivo).",
)
async def list_preferences(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(PREFERENCES.query)],
) -> Page[PreferenceOut] | JSONResponse:
    rows, total = await service.mine(
        session, principal.sub, listing.order_by, page.limit, page.offset
    )
    items = [_out(r) for r in rows]
    return listing.page(items, total, page)


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
