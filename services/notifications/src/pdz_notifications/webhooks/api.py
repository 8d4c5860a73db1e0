from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from pdz_notifications.access import Admin
from pdz_notifications.schemas import CODE
from pdz_notifications.webhooks import service
from pdz_notifications.webhooks.models import Webhook
from pdz_notifications.webhooks.schemas import WebhookIn, WebhookOut
from pdz_shared.app import SessionDep
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.idempotency import IdempotencyDep
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
WEBHOOKS = Listing(
    Webhook,
    WebhookOut,
    sort=("created_at", "updated_at", "url", "ambito_code", "active"),
    default="created_at",
)


def _out(h: Webhook) -> WebhookOut:
    return WebhookOut.model_validate(h, from_attributes=True)


@router.post(
    "",
    status_code=201,
    response_model=WebhookOut,
    operation_id="create_webhook",
    summary="Registra un webhook",
    description="Gli eventi scelti dell'ambito sono inviati come CloudEvent (structured mode) "
    "firmati: X-PDZ-Timestamp e X-PDZ-Signature = sha256=HMAC-SHA256(secret, "
    "timestamp + '.' + corpo). Ritenta con backoff esponenziale e jitter.",
)
async def create_webhook(
    body: WebhookIn, session: SessionDep, principal: Admin, idem: IdempotencyDep
) -> WebhookOut | JSONResponse:
    if (replayed := await idem.replay(session, body)) is not None:
        return replayed
    hook = await service.create(session, principal, body)
    out = _out(hook)
    headers = {"Location": f"/v1/webhooks/{hook.id}", "ETag": etag_of(hook.version)}
    await idem.store(session, 201, out, headers)
    return JSONResponse(out.model_dump(mode="json"), status_code=201, headers=headers)


@router.get(
    "",
    response_model=Page[WebhookOut],
    operation_id="list_webhooks",
    summary="Elenca i webhook",
    description="I webhook degli ambiti di chi chiama (il segreto non è mai restituito).",
)
async def list_webhooks(
    session: SessionDep,
    principal: Admin,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(WEBHOOKS.query)],
    ambito: Annotated[str | None, Query(pattern=CODE)] = None,
) -> Page[WebhookOut] | JSONResponse:
    rows, total = await service.search(
        session,
        principal,
        ambito=ambito,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.page([_out(r) for r in rows], total, page)


@router.get(
    "/{webhook_id}",
    response_model=WebhookOut,
    operation_id="get_webhook",
    summary="Legge un webhook",
    description="Un webhook, con il suo ETag.",
)
async def get_webhook(
    webhook_id: uuid.UUID, session: SessionDep, principal: Admin, response: Response
) -> WebhookOut:
    hook = await service.get(session, principal, webhook_id)
    response.headers["ETag"] = etag_of(hook.version)
    return _out(hook)


@router.put(
    "/{webhook_id}",
    response_model=WebhookOut,
    operation_id="update_webhook",
    summary="Modifica un webhook (If-Match obbligatorio)",
    description="Sostituisce indirizzo, segreto, tipi di evento e stato.",
)
async def update_webhook(
    webhook_id: uuid.UUID,
    body: WebhookIn,
    request: Request,
    session: SessionDep,
    principal: Admin,
    response: Response,
) -> WebhookOut:
    hook = await service.get(session, principal, webhook_id)
    check_if_match(request, hook.version)
    hook = await service.update(session, principal, hook, body)
    response.headers["ETag"] = etag_of(hook.version)
    return _out(hook)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    operation_id="delete_webhook",
    summary="Elimina un webhook (If-Match obbligatorio)",
    description="Le consegne ancora in coda verso il webhook falliranno.",
)
async def delete_webhook(
    webhook_id: uuid.UUID, request: Request, session: SessionDep, principal: Admin
) -> Response:
    hook = await service.get(session, principal, webhook_id)
    check_if_match(request, hook.version)
    await service.delete(session, hook)
    return Response(status_code=204)
