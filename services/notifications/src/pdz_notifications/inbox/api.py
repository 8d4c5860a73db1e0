from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from pdz_notifications.inbox import service
from pdz_notifications.inbox.models import Notification
from pdz_notifications.inbox.schemas import (
    InboxPage,
    MarkedRead,
    NotificationOut,
    NotificationPatch,
)
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal
from pdz_shared.errors import Unprocessable, UnsupportedMediaType
from pdz_shared.http import PageParams, loads_untrusted, page_params
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])
MERGE_PATCH = "application/merge-patch+json"
INBOX = Listing(
    Notification,
    NotificationOut,
    sort=("created_at", "read_at", "critical", "event_type", "title"),
    default="-created_at",
)


def _out(n: Notification) -> NotificationOut:
    return NotificationOut.model_validate(
        {**n.model_dump(), "read": n.read_at is not None}, from_attributes=False
    )


@router.get(
    "",
    response_model=InboxPage,
    operation_id="get_inbox",
    summary="La casella dei messaggi di chi chiama",
    description="I messaggi dell'utente autenticato, dal più recente, con il numero di non letti.",
)
async def get_inbox(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(INBOX.query)],
    unread: Annotated[bool, Query(description="Solo i messaggi non letti")] = False,
) -> InboxPage | JSONResponse:
    rows, total, unread_count = await service.page(
        session,
        principal,
        unread_only=unread,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    result = InboxPage(
        items=[_out(r) for r in rows],
        total=total,
        unread=unread_count,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.respond(result)


_PATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {MERGE_PATCH: {"schema": NotificationPatch.model_json_schema()}},
    }
}


async def _patch_body(request: Request) -> NotificationPatch:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in (MERGE_PATCH, "application/json"):
        raise UnsupportedMediaType(
            f"Usa Content-Type: {MERGE_PATCH}", f"Use Content-Type: {MERGE_PATCH}"
        )
    try:
        return NotificationPatch.model_validate(loads_untrusted(await request.body()))
    except (ValueError, ValidationError) as exc:
        params = (
            [{"name": ".".join(map(str, e["loc"])), "reason": e["msg"]} for e in exc.errors()]
            if isinstance(exc, ValidationError)
            else [{"name": "body", "reason": "not JSON"}]
        )
        raise Unprocessable(
            "Il corpo non è una merge patch valida",
            "The body is not a valid merge patch",
            invalid_params=params,
        ) from exc


@router.patch(
    "/{item_id}",
    response_model=NotificationOut,
    operation_id="patch_inbox_item",
    summary="Segna un messaggio come letto o non letto",
    description="Merge patch (RFC 7396) con il solo campo read. Ripeterla non cambia nulla.",
    openapi_extra=_PATCH_BODY,
)
async def patch_inbox_item(
    item_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: Annotated[NotificationPatch, Depends(_patch_body)],
) -> NotificationOut:
    item = await service.get(session, principal, item_id)
    return _out(await service.mark(session, item, body.read))


@router.post(
    "/mark-all-read",
    response_model=MarkedRead,
    operation_id="mark_inbox_read",
    summary="Segna come letti tutti i miei messaggi",
    description="Segna come letti tutti i messaggi non letti di chi chiama. Ripeterla non cambia "
    "nulla.",
)
async def mark_inbox_read(session: SessionDep, principal: CurrentPrincipal) -> MarkedRead:
    marked = await service.mark_all_read(session, principal)
    return MarkedRead(marked=marked, unread=0)
