from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from pdz_casework.access import CASE_READERS, CASE_WRITERS, Auditor, Purpose, Reader, Writer
from pdz_casework.cases import service
from pdz_casework.cases.models import Case, CaseAudit
from pdz_casework.cases.schemas import (
    CODE,
    AuditOut,
    CaseIn,
    CaseOut,
    CaseSummary,
    CaseUpdate,
    TransitionIn,
)
from pdz_shared.app import SessionDep
from pdz_shared.contracts.casework import CaseSource, CaseStatus, PuaLevel
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.idempotency import IdempotencyDep
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/cases", tags=["cases"])
Pages = Annotated[PageParams, Depends(page_params)]
CASES = Listing(
    Case,
    CaseSummary,
    sort=(
        "received_at",
        "updated_at",
        "status",
        "pua_level",
        "source",
        "comune_code",
        "ambito_code",
    ),
    default="-received_at",
)
AUDIT = Listing(
    CaseAudit, AuditOut, sort=("at", "sub", "role", "action", "operation"), default="at"
)


@router.post(
    "",
    status_code=201,
    response_model=CaseOut,
    operation_id="create_case",
    summary="Apre un caso (accesso al PUA)",
    description="Registra una richiesta di aiuto; la persona è riconosciuta dal codice fiscale "
    "nell'ambito (una sola anagrafica per codice fiscale per ambito).",
)
async def create_case(
    body: CaseIn,
    session: SessionDep,
    principal: Writer,
    idem: IdempotencyDep,
    purpose: Purpose = None,
) -> CaseOut | JSONResponse:
    principal.require_ambito(body.ambito_code)
    if (replayed := await idem.replay(session, body)) is not None:
        return replayed
    case, _ = await service.open_case(session, principal.sub, body)
    await service.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="create_case",
        purpose=purpose,
        roles=CASE_WRITERS,
    )
    out = await service.to_out(session, case)
    headers = {"Location": f"/v1/cases/{case.id}", "ETag": etag_of(case.version)}
    await idem.store(session, 201, out, headers)
    return JSONResponse(out.model_dump(mode="json"), status_code=201, headers=headers)


@router.get(
    "",
    response_model=Page[CaseSummary],
    operation_id="list_cases",
    summary="Elenca i casi dei tuoi ambiti",
)
async def list_cases(
    session: SessionDep,
    principal: Reader,
    page: Pages,
    listing: Annotated[ListQuery, Depends(CASES.query)],
    purpose: Purpose = None,
    status: CaseStatus | None = None,
    pua_level: PuaLevel | None = None,
    source: CaseSource | None = None,
    comune: Annotated[str | None, Query(pattern=CODE, description="Codice del comune")] = None,
    overdue: Annotated[bool | None, Query(description="Solo i casi con scadenze superate")] = None,
) -> Page[CaseSummary] | JSONResponse:
    rows, total = await service.search(
        session,
        principal,
        status=status,
        pua_level=pua_level,
        source=source,
        comune=comune,
        overdue=overdue,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    await service.audit(
        session,
        principal,
        [c.id for c, _ in rows],
        action="read",
        operation="list_cases",
        purpose=purpose,
        roles=CASE_READERS,
    )
    return listing.page(
        [CaseSummary.model_validate({**c.model_dump(), "overdue": late}) for c, late in rows],
        total,
        page,
    )


@router.get(
    "/{case_id}",
    response_model=CaseOut,
    operation_id="get_case",
    summary="Legge un caso",
)
async def get_case(
    case_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    response: Response,
    purpose: Purpose = None,
) -> CaseOut:
    case = await service.get_case(session, principal, case_id)
    await service.audit(
        session,
        principal,
        [case.id],
        action="read",
        operation="get_case",
        purpose=purpose,
        roles=CASE_READERS,
    )
    response.headers["ETag"] = etag_of(case.version)
    return await service.to_out(session, case)


@router.put(
    "/{case_id}",
    response_model=CaseOut,
    operation_id="update_case",
    summary="Modifica livello PUA, comune e case manager (If-Match obbligatorio)",
)
async def update_case(
    case_id: uuid.UUID,
    body: CaseUpdate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    response: Response,
    purpose: Purpose = None,
) -> CaseOut:
    case = await service.lock_case(session, principal, case_id)
    check_if_match(request, case.version)
    await service.update_case(session, principal, case, body)
    await service.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="update_case",
        purpose=purpose,
        roles=CASE_WRITERS,
    )
    response.headers["ETag"] = etag_of(case.version)
    return await service.to_out(session, case)


@router.post(
    "/{case_id}/transitions",
    response_model=CaseOut,
    operation_id="transition_case",
    summary="Cambia lo stato del caso (If-Match obbligatorio)",
    description="Le transizioni non previste dal percorso PUA rispondono 409.",
)
async def transition_case(
    case_id: uuid.UUID,
    body: TransitionIn,
    request: Request,
    session: SessionDep,
    principal: Writer,
    response: Response,
    purpose: Purpose = None,
) -> CaseOut:
    case = await service.lock_case(session, principal, case_id)
    check_if_match(request, case.version)
    await service.transition(session, principal.sub, case, body.to_status, reason=body.reason)
    await service.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="transition_case",
        purpose=purpose,
        roles=CASE_WRITERS,
    )
    response.headers["ETag"] = etag_of(case.version)
    return await service.to_out(session, case)


@router.get(
    "/{case_id}/audit",
    response_model=Page[AuditOut],
    operation_id="get_case_audit",
    summary="Registro degli accessi al caso (solo Ufficio di Piano)",
)
async def get_case_audit(
    case_id: uuid.UUID,
    session: SessionDep,
    principal: Auditor,
    page: Pages,
    listing: Annotated[ListQuery, Depends(AUDIT.query)],
) -> Page[AuditOut] | JSONResponse:
    await service.get_case(session, principal, case_id)
    rows, total = await service.audit_trail(
        session, case_id, listing.order_by, page.limit, page.offset
    )
    return listing.page(
        [AuditOut.model_validate(r, from_attributes=True) for r in rows], total, page
    )
