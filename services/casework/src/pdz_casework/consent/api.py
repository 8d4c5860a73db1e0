from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from pdz_casework.access import CASE_READERS, CASE_WRITERS, Purpose, Reader, Writer
from pdz_casework.cases import service as cases
from pdz_casework.consent import service
from pdz_casework.consent.models import ConsentRecord
from pdz_casework.consent.schemas import ConsentIn, ConsentOut
from pdz_shared.app import SessionDep
from pdz_shared.http import Page, PageParams, page_params
from pdz_shared.idempotency import IdempotencyDep
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/cases/{case_id}/consents", tags=["consents"])
CONSENTS = Listing(
    ConsentRecord,
    ConsentOut,
    sort=("recorded_at", "purpose", "state", "legal_basis"),
    default="recorded_at",
)


@router.post(
    "",
    status_code=201,
    response_model=ConsentOut,
    operation_id="record_consent",
    summary="Registra un consenso o la sua revoca (mai modificati, solo aggiunti)",
)
async def record_consent(
    case_id: uuid.UUID,
    body: ConsentIn,
    session: SessionDep,
    principal: Writer,
    idem: IdempotencyDep,
    purpose: Purpose = None,
) -> ConsentOut | JSONResponse:
    case = await cases.lock_case(session, principal, case_id)
    if (replayed := await idem.replay(session, body)) is not None:
        return replayed
    row = await service.record(session, principal.sub, case, body)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="record_consent",
        purpose=purpose,
        roles=CASE_WRITERS,
    )
    out = ConsentOut.model_validate({**row.model_dump(), "current": True})
    headers = {"Location": f"/v1/cases/{case.id}/consents"}
    await idem.store(session, 201, out, headers)
    return JSONResponse(out.model_dump(mode="json"), status_code=201, headers=headers)


@router.get(
    "",
    response_model=Page[ConsentOut],
    operation_id="list_consents",
    summary="La storia dei consensi del caso",
)
async def list_consents(
    case_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(CONSENTS.query)],
    purpose: Purpose = None,
) -> Page[ConsentOut] | JSONResponse:
    case = await cases.get_case(session, principal, case_id)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="read",
        operation="list_consents",
        purpose=purpose,
        roles=CASE_READERS,
    )
    items, total = await service.history_page(
        session, case, listing.order_by, page.limit, page.offset
    )
    return listing.page(items, total, page)
