from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from pdz_casework.access import (
    ASSESSORS,
    CASE_READERS,
    CASE_WRITERS,
    Assessor,
    Purpose,
    Reader,
    Writer,
)
from pdz_casework.assessments import service
from pdz_casework.assessments.models import Evaluation
from pdz_casework.assessments.schemas import (
    EvmCompleteIn,
    EvmOut,
    EvmScheduleIn,
    TriageIn,
    TriageOut,
)
from pdz_casework.cases import service as cases
from pdz_shared.app import SessionDep
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.idempotency import IdempotencyDep
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/cases/{case_id}", tags=["assessments"])
EVALUATIONS = Listing(
    Evaluation,
    EvmOut,
    sort=("scheduled_for", "evaluated_at", "status", "kind", "created_at", "updated_at"),
    default="scheduled_for,created_at",
)


@router.post(
    "/triage",
    status_code=201,
    response_model=TriageOut,
    operation_id="triage_case",
    summary="Registra la Scheda Unica di Triage (If-Match del caso obbligatorio)",
    description="Calcola l'esito (bisogno semplice o complesso), porta il caso in stato triaged "
    "e al livello PUA di back office corrispondente.",
)
async def triage_case(
    case_id: uuid.UUID,
    body: TriageIn,
    request: Request,
    session: SessionDep,
    principal: Writer,
    purpose: Purpose = None,
) -> JSONResponse:
    case = await cases.lock_case(session, principal, case_id)
    check_if_match(request, case.version)
    record = await service.triage(session, principal.sub, case, body)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="triage_case",
        purpose=purpose,
        roles=CASE_WRITERS,
    )
    out = TriageOut.model_validate(record, from_attributes=True)
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/v1/cases/{case.id}/triage", "ETag": etag_of(case.version)},
    )


@router.get(
    "/triage",
    response_model=TriageOut,
    operation_id="get_triage",
    summary="Legge il triage del caso",
)
async def get_triage(
    case_id: uuid.UUID, session: SessionDep, principal: Reader, purpose: Purpose = None
) -> TriageOut:
    case = await cases.get_case(session, principal, case_id)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="read",
        operation="get_triage",
        purpose=purpose,
        roles=CASE_READERS,
    )
    return TriageOut.model_validate(await service.get_triage(session, case), from_attributes=True)


@router.post(
    "/evaluations",
    status_code=201,
    response_model=EvmOut,
    operation_id="schedule_evaluation",
    summary="Programma una valutazione (preliminare o multidimensionale)",
)
async def schedule_evaluation(
    case_id: uuid.UUID,
    body: EvmScheduleIn,
    session: SessionDep,
    principal: Reader,
    idem: IdempotencyDep,
    purpose: Purpose = None,
) -> EvmOut | JSONResponse:
    case = await cases.lock_case(session, principal, case_id)
    if (replayed := await idem.replay(session, body)) is not None:
        return replayed
    evm = await service.schedule(session, principal.sub, case, body)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="schedule_evaluation",
        purpose=purpose,
        roles=CASE_READERS,
    )
    out = service.evm_out(evm)
    headers = {
        "Location": f"/v1/cases/{case.id}/evaluations/{evm.id}",
        "ETag": etag_of(evm.version),
    }
    await idem.store(session, 201, out, headers)
    return JSONResponse(out.model_dump(mode="json"), status_code=201, headers=headers)


@router.get(
    "/evaluations",
    response_model=Page[EvmOut],
    operation_id="list_evaluations",
    summary="Elenca le valutazioni del caso",
)
async def list_evaluations(
    case_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(EVALUATIONS.query)],
    purpose: Purpose = None,
) -> Page[EvmOut] | JSONResponse:
    case = await cases.get_case(session, principal, case_id)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="read",
        operation="list_evaluations",
        purpose=purpose,
        roles=CASE_READERS,
    )
    rows, total = await service.list_evm(session, case, listing.order_by, page.limit, page.offset)
    items = [service.evm_out(e) for e in rows]
    return listing.page(items, total, page)


@router.get(
    "/evaluations/{evm_id}",
    response_model=EvmOut,
    operation_id="get_evaluation",
    summary="Legge una valutazione",
)
async def get_evaluation(
    case_id: uuid.UUID,
    evm_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    response: Response,
    purpose: Purpose = None,
) -> EvmOut:
    case = await cases.get_case(session, principal, case_id)
    evm = await service.get_evm(session, case, evm_id)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="read",
        operation="get_evaluation",
        purpose=purpose,
        roles=CASE_READERS,
    )
    response.headers["ETag"] = etag_of(evm.version)
    return service.evm_out(evm)


@router.put(
    "/evaluations/{evm_id}",
    response_model=EvmOut,
    operation_id="complete_evaluation",
    summary="Registra l'esito della valutazione (If-Match obbligatorio)",
    description="Équipe con professione ed ente di appartenenza, strumenti e punteggi, le cinque "
    "dimensioni, esito e livello di non autosufficienza. La valutazione multidimensionale porta "
    "il caso in stato assessed.",
)
async def complete_evaluation(
    case_id: uuid.UUID,
    evm_id: uuid.UUID,
    body: EvmCompleteIn,
    request: Request,
    session: SessionDep,
    principal: Assessor,
    response: Response,
    purpose: Purpose = None,
) -> EvmOut:
    case = await cases.lock_case(session, principal, case_id)
    evm = await service.get_evm(session, case, evm_id)
    check_if_match(request, evm.version)
    await service.complete(session, principal.sub, case, evm, body)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="complete_evaluation",
        purpose=purpose,
        roles=ASSESSORS,
    )
    response.headers["ETag"] = etag_of(evm.version)
    return service.evm_out(evm)
