from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from pdz_casework.access import ASSESSORS, CASE_READERS, Assessor, Purpose, Reader
from pdz_casework.cases import service as cases
from pdz_casework.pai import service
from pdz_casework.pai.models import PaiVersion
from pdz_casework.pai.schemas import PaiIn, PaiOut
from pdz_shared.app import SessionDep
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.idempotency import IdempotencyDep
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/cases/{case_id}/pai", tags=["pai"])
PAI_VERSIONS = Listing(
    PaiVersion,
    PaiOut,
    sort=("number", "status", "review_date", "approved_at", "created_at"),
    default="number",
)


@router.post(
    "",
    status_code=201,
    response_model=PaiOut,
    operation_id="create_pai",
    summary="Redige una nuova versione (bozza) del PAI",
)
async def create_pai(
    case_id: uuid.UUID,
    body: PaiIn,
    session: SessionDep,
    principal: Assessor,
    idem: IdempotencyDep,
    purpose: Purpose = None,
) -> PaiOut | JSONResponse:
    case = await cases.lock_case(session, principal, case_id)
    if (replayed := await idem.replay(session, body)) is not None:
        return replayed
    pai = await service.create(session, principal.sub, case, body)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="create_pai",
        purpose=purpose,
        roles=ASSESSORS,
    )
    out = await service.to_out(session, pai)
    headers = {"Location": f"/v1/cases/{case.id}/pai/{pai.id}", "ETag": etag_of(pai.version)}
    await idem.store(session, 201, out, headers)
    return JSONResponse(out.model_dump(mode="json"), status_code=201, headers=headers)


@router.get(
    "",
    response_model=Page[PaiOut],
    operation_id="list_pai",
    summary="Elenca le versioni del PAI",
)
async def list_pai(
    case_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(PAI_VERSIONS.query)],
    purpose: Purpose = None,
) -> Page[PaiOut] | JSONResponse:
    case = await cases.get_case(session, principal, case_id)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="read",
        operation="list_pai",
        purpose=purpose,
        roles=CASE_READERS,
    )
    rows, total = await service.list_versions(
        session, case, listing.order_by, page.limit, page.offset
    )
    items = [await service.to_out(session, p) for p in rows]
    return listing.page(items, total, page)


@router.get(
    "/{pai_id}",
    response_model=PaiOut,
    operation_id="get_pai",
    summary="Legge una versione del PAI",
)
async def get_pai(
    case_id: uuid.UUID,
    pai_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    response: Response,
    purpose: Purpose = None,
) -> PaiOut:
    case = await cases.get_case(session, principal, case_id)
    pai = await service.get(session, case, pai_id)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="read",
        operation="get_pai",
        purpose=purpose,
        roles=CASE_READERS,
    )
    response.headers["ETag"] = etag_of(pai.version)
    return await service.to_out(session, pai)


@router.post(
    "/{pai_id}/approval",
    response_model=PaiOut,
    operation_id="approve_pai",
    summary="Approva una versione del PAI (If-Match obbligatorio)",
    description="La versione diventa attiva e sostituisce la precedente; il caso passa a "
    "pai_active.",
)
async def approve_pai(
    case_id: uuid.UUID,
    pai_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Assessor,
    response: Response,
    purpose: Purpose = None,
) -> PaiOut:
    case = await cases.lock_case(session, principal, case_id)
    pai = await service.get(session, case, pai_id)
    check_if_match(request, pai.version)
    await service.approve(session, principal.sub, case, pai)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="approve_pai",
        purpose=purpose,
        roles=ASSESSORS,
    )
    response.headers["ETag"] = etag_of(pai.version)
    return await service.to_out(session, pai)
