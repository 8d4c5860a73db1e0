from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from pdz_notifications.recipients import service
from pdz_notifications.recipients.models import Recipient
from pdz_notifications.recipients.schemas import RecipientIn, RecipientOut
from pdz_notifications.schemas import CODE, SUB, RoleName
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/recipients", tags=["recipients"])
RECIPIENTS = Listing(
    Recipient,
    RecipientOut,
    sort=("sub", "email", "language", "active", "created_at", "updated_at"),
    default="sub",
    key=("sub",),
)
Writer = Annotated[Principal, Depends(require_roles(Role.udp_admin))]
Sub = Annotated[str, Path(pattern=SUB, description="Soggetto (sub del token) del destinatario")]


def _out(r: object) -> RecipientOut:
    return RecipientOut.model_validate(r, from_attributes=True)


@router.put(
    "/{sub}",
    response_model=RecipientOut,
    operation_id="put_recipient",
    summary="Crea o sostituisce un destinatario",
    description="Sincronizza un destinatario dal sistema delle identità: e-mail, ruoli, ambiti e "
    "lingua. La prima volta crea (201); poi sostituisce e richiede If-Match con l'ETag.",
    responses={201: {"model": RecipientOut, "description": "Destinatario creato"}},
)
async def put_recipient(
    sub: Sub,
    body: RecipientIn,
    request: Request,
    session: SessionDep,
    principal: Writer,
) -> JSONResponse:
    existing = await service.get_or_none(session, sub)
    if existing is None:
        recipient = await service.create(session, principal, sub, body)
        status = 201
    else:
        check_if_match(request, existing.version)
        recipient = await service.replace(session, principal, existing, body)
        status = 200
    headers = {"ETag": etag_of(recipient.version), "Location": f"/v1/recipients/{sub}"}
    return JSONResponse(
        _out(recipient).model_dump(mode="json"), status_code=status, headers=headers
    )


@router.get(
    "",
    response_model=Page[RecipientOut],
    operation_id="list_recipients",
    summary="Elenca i destinatari",
    description="I destinatari che condividono almeno un ambito con chi chiama.",
)
async def list_recipients(
    session: SessionDep,
    principal: Writer,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(RECIPIENTS.query)],
    role: RoleName | None = None,
    ambito: Annotated[str | None, Query(pattern=CODE)] = None,
) -> Page[RecipientOut] | JSONResponse:
    rows, total = await service.search(
        session,
        principal,
        role=role,
        ambito=ambito,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.page([_out(r) for r in rows], total, page)


@router.get(
    "/{sub}",
    response_model=RecipientOut,
    operation_id="get_recipient",
    summary="Legge un destinatario",
    description="Un destinatario del proprio ambito, o sé stessi.",
)
async def get_recipient(
    sub: Sub, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> RecipientOut:
    recipient = await service.get(session, principal, sub)
    response.headers["ETag"] = etag_of(recipient.version)
    return _out(recipient)
