from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from pdz_notifications.access import Admin
from pdz_notifications.rules import service
from pdz_notifications.rules.models import Rule
from pdz_notifications.rules.schemas import RuleFilters, RuleIn, RuleOut
from pdz_notifications.schemas import EVENT_TYPE
from pdz_shared.app import SessionDep
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.idempotency import IdempotencyDep
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/rules", tags=["rules"])
RULES = Listing(
    Rule,
    RuleOut,
    sort=("code", "event_type", "enabled", "critical", "created_at", "updated_at"),
    default="code",
)


def _out(rule: Rule) -> RuleOut:
    data = rule.model_dump()
    data["filters"] = RuleFilters.model_validate(rule.filters)
    return RuleOut.model_validate(data)


@router.post(
    "",
    status_code=201,
    response_model=RuleOut,
    operation_id="create_rule",
    summary="Crea una regola di notifica",
    description="Tipo di evento e filtri, destinatari per ruolo nell'ambito dell'evento, canali, "
    "modello, criticità e finestra di riepilogo.",
)
async def create_rule(
    body: RuleIn, session: SessionDep, principal: Admin, idem: IdempotencyDep
) -> RuleOut | JSONResponse:
    if (replayed := await idem.replay(session, body)) is not None:
        return replayed
    rule = await service.create(session, principal, body)
    out = _out(rule)
    headers = {"Location": f"/v1/rules/{rule.id}", "ETag": etag_of(rule.version)}
    await idem.store(session, 201, out, headers)
    return JSONResponse(out.model_dump(mode="json"), status_code=201, headers=headers)


@router.get(
    "",
    response_model=Page[RuleOut],
    operation_id="list_rules",
    summary="Elenca le regole",
    description="Le regole globali e quelle degli ambiti di chi chiama.",
)
async def list_rules(
    session: SessionDep,
    principal: Admin,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(RULES.query)],
    event_type: Annotated[str | None, Query(pattern=EVENT_TYPE, max_length=200)] = None,
    enabled: bool | None = None,
) -> Page[RuleOut] | JSONResponse:
    rows, total = await service.search(
        session,
        principal,
        event_type=event_type,
        enabled=enabled,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.page([_out(r) for r in rows], total, page)


@router.get(
    "/{rule_id}",
    response_model=RuleOut,
    operation_id="get_rule",
    summary="Legge una regola",
    description="Una regola, con il suo ETag.",
)
async def get_rule(
    rule_id: uuid.UUID, session: SessionDep, principal: Admin, response: Response
) -> RuleOut:
    rule = await service.get(session, principal, rule_id)
    response.headers["ETag"] = etag_of(rule.version)
    return _out(rule)


@router.put(
    "/{rule_id}",
    response_model=RuleOut,
    operation_id="update_rule",
    summary="Modifica una regola (If-Match obbligatorio)",
    description="Sostituisce la regola; per spegnere una regola predefinita usa enabled=false.",
)
async def update_rule(
    rule_id: uuid.UUID,
    body: RuleIn,
    request: Request,
    session: SessionDep,
    principal: Admin,
    response: Response,
) -> RuleOut:
    rule = await service.get(session, principal, rule_id)
    check_if_match(request, rule.version)
    rule = await service.update(session, principal, rule, body)
    response.headers["ETag"] = etag_of(rule.version)
    return _out(rule)


@router.delete(
    "/{rule_id}",
    status_code=204,
    operation_id="delete_rule",
    summary="Elimina una regola (If-Match obbligatorio)",
    description="Le regole predefinite non si eliminano: si disattivano.",
)
async def delete_rule(
    rule_id: uuid.UUID, request: Request, session: SessionDep, principal: Admin
) -> Response:
    rule = await service.get(session, principal, rule_id)
    check_if_match(request, rule.version)
    await service.delete(session, principal, rule)
    return Response(status_code=204)
