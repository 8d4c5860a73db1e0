from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from pdz_casework.access import (
    CASE_READERS,
    CASE_WRITERS,
    DischargeReader,
    Purpose,
    Reader,
    Writer,
)
from pdz_casework.cases import service as cases
from pdz_casework.discharges import service
from pdz_casework.discharges.models import CaseTask, Discharge
from pdz_casework.discharges.schemas import (
    DischargeOut,
    TaskOut,
    TransitionIn,
    TransitionOut,
)
from pdz_casework.discharges.service import discharge_out
from pdz_shared.app import SessionDep
from pdz_shared.auth import Role
from pdz_shared.batching import GroupWriter
from pdz_shared.contracts.casework import Channel
from pdz_shared.errors import BadRequest, Forbidden, UnsupportedMediaType
from pdz_shared.http import (
    Page,
    PageParams,
    check_if_match,
    etag_of,
    loads_untrusted,
    page_params,
)
from pdz_shared.listing import Listing, ListQuery
from pdz_shared.modi import modi_authenticate

router = APIRouter(tags=["discharges"])
DISCHARGES = Listing(
    Discharge,
    DischargeOut,
    sort=(
        "received_at",
        "processed_at",
        "updated_at",
        "status",
        "channel",
        "ambito_code",
        "planned_discharge_date",
    ),
    default="-received_at",
)
TASKS = Listing(
    CaseTask,
    TaskOut,
    sort=("discharge_id", "step", "code", "status", "done_at"),
    default="discharge_id,step",
)
FHIR_JSON = "application/fhir+json"
# The Sebino sample (Anna Bianchi, discharged from the Iseo hospital) as the documented example.
_SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "dimissione-protetta-sebino.json"
_BUNDLE_EXAMPLE: dict[str, Any] = (
    {"example": json.loads(_SAMPLE.read_text(encoding="utf-8"))} if _SAMPLE.is_file() else {}
)
_BUNDLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Bundle FHIR R4 di tipo message (evento dimissione-protetta)",
    "additionalProperties": True,
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "type": {"type": "string", "enum": ["message"]},
        "entry": {"type": "array", "maxItems": 100, "items": {"type": "object"}},
    },
    "required": ["resourceType", "type", "entry"],
}


async def read_bundle(request: Request) -> Any:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != FHIR_JSON:
        raise UnsupportedMediaType(
            f"Il Bundle va inviato come {FHIR_JSON}", f"Send the Bundle as {FHIR_JSON}"
        )
    try:
        return loads_untrusted(await request.body())
    except ValueError as exc:
        raise BadRequest(
            "Il corpo non è JSON valido",
            "The body is not valid JSON",
            invalid_params=[{"name": "body", "reason": str(exc)}],
        ) from exc


@router.post(
    "/v1/discharges",
    status_code=202,
    response_model=DischargeOut,
    operation_id="receive_discharge",
    summary="Riceve una dimissione protetta (Bundle FHIR R4 message)",
    description="Il Bundle è letto e controllato subito in tutto ciò che la piattaforma usa "
    "(mittente, Ambito, paziente e codice fiscale, Encounter e date): ogni problema è elencato in "
    "un 422. Accettato, risponde 202 con Location e la dimissione in stato accepted; il caso si "
    "apre poco dopo (di norma entro un secondo), quando la dimissione passa a processed con il "
    "suo case_id, oppure a rejected con i motivi se il Bundle non è conforme a FHIR R4. "
    "Idempotente su (organizzazione mittente, identificativo dell'Encounter): lo stesso Bundle "
    "non crea nulla di nuovo; una nuova data prevista sposta la scadenza; un Encounter "
    "cancelled chiude il caso ancora aperto.",
    openapi_extra={
        "x-modi": True,
        "requestBody": {
            "required": True,
            "content": {FHIR_JSON: {"schema": _BUNDLE_SCHEMA, **_BUNDLE_EXAMPLE}},
        },
    },
    responses={
        202: {
            "description": "Dimissione accettata",
            "headers": {
                "Location": {
                    "description": "La risorsa della dimissione",
                    "schema": {"type": "string", "maxLength": 200},
                }
            },
        }
    },
)
async def receive_discharge(request: Request) -> JSONResponse:
    # The hot path of the platform. ModI at the ASST boundary (PDND voucher or ID_AUTH_REST_02,
    # and INTEGRITY_REST_01 on the body), then the Bundle: every check comes before the first
    # write, so a refused call writes nothing. Then the receipt and the call's token ids, written
    # with those of the calls arriving meanwhile: one statement and one commit per batch
    # (``service.receipt_writer``, created at startup).
    principal, used_tokens = await modi_authenticate(request)
    if not principal.has_any({Role.asst_system.value, Role.platform_admin.value}):
        raise Forbidden(
            "Solo i sistemi ASST possono inviare dimissioni protette",
            "Only ASST systems may send dimissioni protette",
        )
    data = await read_bundle(request)
    parsed = service.read(
        data,
        may_act_on=principal.can_act_on,
        default_ambito=next(iter(principal.ambiti)) if len(principal.ambiti) == 1 else None,
    )
    service.refuse_if_invalid(parsed)
    writer: GroupWriter[service.Intake, service.Receipt] = request.app.state.receipts
    receipt = await writer.submit(
        service.intake(parsed, data, channel="api", actor=principal.sub, tokens=used_tokens)
    )
    row = receipt.discharge
    return JSONResponse(
        row.model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/v1/discharges/{row.id}"},
    )


@router.get(
    "/v1/discharges",
    response_model=Page[DischargeOut],
    operation_id="list_discharges",
    summary="Elenca le dimissioni protette ricevute per i tuoi ambiti",
)
async def list_discharges(
    session: SessionDep,
    principal: DischargeReader,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(DISCHARGES.query)],
    status: Literal["accepted", "processed", "rejected"] | None = None,
    channel: Channel | None = None,
    purpose: Purpose = None,
) -> Page[DischargeOut] | JSONResponse:
    rows, total = await service.search(
        session,
        None if principal.is_platform_admin else principal.ambiti,
        status=status,
        channel=channel,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    await cases.audit(
        session,
        principal,
        [r.case_id for r in rows if r.case_id is not None],
        action="read",
        operation="list_discharges",
        purpose=purpose,
        roles=(*CASE_READERS, Role.asst_system),
    )
    return listing.page([discharge_out(r) for r in rows], total, page)


@router.get(
    "/v1/discharges/{discharge_id}",
    response_model=DischargeOut,
    operation_id="get_discharge",
    summary="Stato di una dimissione protetta (accepted, processed, rejected)",
)
async def get_discharge(
    discharge_id: uuid.UUID,
    session: SessionDep,
    principal: DischargeReader,
    purpose: Purpose = None,
) -> DischargeOut:
    row = await service.get(session, discharge_id, principal.can_act_on)
    await cases.audit(
        session,
        principal,
        [row.case_id] if row.case_id is not None else [],
        action="read",
        operation="get_discharge",
        purpose=purpose,
        roles=(*CASE_READERS, Role.asst_system),
    )
    return discharge_out(row)


@router.get(
    "/v1/discharges/{discharge_id}/transition",
    response_model=TransitionOut,
    operation_id="get_care_transition",
    summary="La transizione ospedale-territorio della dimissione",
)
async def get_care_transition(
    discharge_id: uuid.UUID,
    session: SessionDep,
    principal: DischargeReader,
    response: Response,
    purpose: Purpose = None,
) -> TransitionOut:
    row = await service.get(session, discharge_id, principal.can_act_on)
    tr = await service.transition_of(session, row)
    await cases.audit(
        session,
        principal,
        [tr.case_id],
        action="read",
        operation="get_care_transition",
        purpose=purpose,
        roles=(*CASE_READERS, Role.asst_system),
    )
    response.headers["ETag"] = etag_of(tr.version)
    return TransitionOut.model_validate(tr, from_attributes=True)


@router.put(
    "/v1/discharges/{discharge_id}/transition",
    response_model=TransitionOut,
    operation_id="complete_care_transition",
    summary="Registra l'esito della transizione (If-Match obbligatorio)",
    description="Destinazione (domicilio, struttura residenziale, ospedale di comunità...), date "
    "di dimissione e di arrivo, esito. Chiude i passi 5 e 6 del protocollo.",
)
async def complete_care_transition(
    discharge_id: uuid.UUID,
    body: TransitionIn,
    request: Request,
    session: SessionDep,
    principal: Writer,
    response: Response,
    purpose: Purpose = None,
) -> TransitionOut:
    row = await service.get(session, discharge_id, principal.can_act_on)
    tr = await service.transition_of(session, row)
    check_if_match(request, tr.version)
    case = await cases.lock_case(session, principal, tr.case_id)
    await service.complete_transition(session, principal.sub, case, tr, body)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="complete_care_transition",
        purpose=purpose,
        roles=CASE_WRITERS,
    )
    response.headers["ETag"] = etag_of(tr.version)
    return TransitionOut.model_validate(tr, from_attributes=True)


@router.get(
    "/v1/cases/{case_id}/tasks",
    response_model=Page[TaskOut],
    operation_id="list_case_tasks",
    summary="Le attività del caso (i sei passi delle dimissioni protette)",
)
async def list_case_tasks(
    case_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(TASKS.query)],
    purpose: Purpose = None,
) -> Page[TaskOut] | JSONResponse:
    case = await cases.get_case(session, principal, case_id)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="read",
        operation="list_case_tasks",
        purpose=purpose,
        roles=CASE_READERS,
    )
    tasks, total = await service.tasks_page(
        session, case.id, listing.order_by, page.limit, page.offset
    )
    return listing.page(
        [TaskOut.model_validate(t, from_attributes=True) for t in tasks], total, page
    )


@router.post(
    "/v1/cases/{case_id}/tasks/{task_id}/completion",
    response_model=TaskOut,
    operation_id="complete_case_task",
    summary="Segna come svolta un'attività del caso",
)
async def complete_case_task(
    case_id: uuid.UUID,
    task_id: uuid.UUID,
    session: SessionDep,
    principal: Writer,
    purpose: Purpose = None,
) -> TaskOut:
    case = await cases.lock_case(session, principal, case_id)
    task = await service.complete_task(session, principal.sub, case, task_id)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="complete_case_task",
        purpose=purpose,
        roles=CASE_WRITERS,
    )
    return TaskOut.model_validate(task, from_attributes=True)
