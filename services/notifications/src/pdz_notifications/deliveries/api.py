from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from pdz_notifications.access import Admin
from pdz_notifications.deliveries import service
from pdz_notifications.deliveries.models import Delivery
from pdz_notifications.deliveries.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryStatus,
)
from pdz_notifications.schemas import EVENT_TYPE, SUB, ChannelName
from pdz_shared.app import SessionDep
from pdz_shared.http import Page, PageParams, page_params
from pdz_shared.idempotency import IdempotencyDep
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])
DELIVERIES = Listing(
    Delivery,
    DeliveryOut,
    sort=(
        "created_at",
        "sent_at",
        "next_attempt_at",
        "status",
        "channel",
        "event_type",
        "recipient",
        "attempts",
    ),
    default="-created_at",
)


def _out(d: Delivery) -> DeliveryOut:
    return DeliveryOut.model_validate(d, from_attributes=True)


@router.get(
    "",
    response_model=Page[DeliveryOut],
    operation_id="list_deliveries",
    summary="Registro delle consegne",
    description="Le consegne degli ambiti di chi chiama, dalla più recente; ad esempio "
    "status=failed per quelle fallite definitivamente.",
)
async def list_deliveries(
    session: SessionDep,
    principal: Admin,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(DELIVERIES.query)],
    status: DeliveryStatus | None = None,
    channel: ChannelName | None = None,
    event_type: Annotated[str | None, Query(pattern=EVENT_TYPE, max_length=200)] = None,
    recipient: Annotated[str | None, Query(pattern=SUB)] = None,
) -> Page[DeliveryOut] | JSONResponse:
    rows, total = await service.search(
        session,
        principal,
        status=status,
        channel=channel,
        event_type=event_type,
        recipient=recipient,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.page([_out(r) for r in rows], total, page)


@router.get(
    "/{delivery_id}",
    response_model=DeliveryDetail,
    operation_id="get_delivery",
    summary="Legge una consegna con i suoi tentativi",
    description="La consegna e ogni tentativo di invio, con esito ed errore.",
)
async def get_delivery(
    delivery_id: uuid.UUID, session: SessionDep, principal: Admin
) -> DeliveryDetail:
    delivery = await service.get(session, principal, delivery_id)
    attempts = await service.attempts(session, delivery_id)
    return DeliveryDetail(
        **_out(delivery).model_dump(),
        attempt_log=[AttemptOut.model_validate(a, from_attributes=True) for a in attempts],
    )


@router.post(
    "/{delivery_id}/retry",
    response_model=DeliveryOut,
    operation_id="retry_delivery",
    summary="Ritenta una consegna fallita",
    description="Rimette in coda una consegna fallita con un nuovo budget di tentativi.",
)
async def retry_delivery(
    delivery_id: uuid.UUID, session: SessionDep, principal: Admin, idem: IdempotencyDep
) -> DeliveryOut | JSONResponse:
    if (replayed := await idem.replay(session, {"retry": str(delivery_id)})) is not None:
        return replayed
    out = _out(await service.retry(session, principal, delivery_id))
    await idem.store(session, 200, out)
    return out
