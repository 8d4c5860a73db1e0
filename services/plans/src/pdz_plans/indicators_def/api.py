from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from pdz_plans.common import require_writer
from pdz_plans.indicators_def import service
from pdz_plans.indicators_def.models import IndicatorDefinition
from pdz_plans.indicators_def.schemas import CODE, IndicatorIn, IndicatorOut
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from pdz_shared.contracts.plans import IndicatorKind
from pdz_shared.errors import Forbidden, Unprocessable
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/indicator-definitions", tags=["indicators"])
Writer = Annotated[Principal, Depends(require_roles(Role.udp_admin))]
INDICATOR_DEFINITIONS = Listing(
    IndicatorDefinition,
    IndicatorOut,
    sort=("position", "code", "name", "kind", "ambito_code", "created_at", "updated_at"),
    default="position,code",
)
TargetKind = Literal[
    "threshold",
    "yearly_series",
    "trend",
    "milestone",
    "share_of_comuni",
    "floor_per_subterritory",
    "range",
]


@router.get(
    "",
    response_model=Page[IndicatorOut],
    operation_id="list_indicator_definitions",
    summary="Elenca le definizioni di indicatori visibili",
)
async def list_indicator_definitions(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(INDICATOR_DEFINITIONS.query)],
    plan_id: uuid.UUID | None = None,
    objective_id: uuid.UUID | None = None,
    ambito: Annotated[str | None, Query(pattern=CODE)] = None,
    kind: IndicatorKind | None = None,
    has_target: bool | None = None,
    target_kind: TargetKind | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[IndicatorOut] | JSONResponse:
    rows, total = await service.search(
        session,
        principal,
        plan_id=plan_id,
        objective_id=objective_id,
        ambito=ambito,
        kind=kind,
        has_target=has_target,
        target_kind=target_kind,
        q=q,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.page([service.to_out(r) for r in rows], total, page)


@router.get(
    "/{indicator_id}",
    response_model=IndicatorOut,
    operation_id="get_indicator_definition",
    summary="Legge una definizione di indicatore",
)
async def get_indicator_definition(
    indicator_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> IndicatorOut:
    ind, _ = await service.get(session, principal, indicator_id)
    response.headers["ETag"] = etag_of(ind.version)
    return service.to_out(ind)


@router.put(
    "/{indicator_id}",
    response_model=IndicatorOut,
    operation_id="update_indicator_definition",
    summary="Modifica una definizione di indicatore e il suo target (If-Match obbligatorio)",
)
async def update_indicator_definition(
    indicator_id: uuid.UUID,
    body: IndicatorIn,
    request: Request,
    session: SessionDep,
    principal: Writer,
    response: Response,
) -> IndicatorOut:
    ind, plan = await service.get(session, principal, indicator_id)
    if plan is None:
        raise Forbidden("Indicatore senza piano", "Indicator without a plan")
    require_writer(principal, plan.ambito_code)
    check_if_match(request, ind.version)
    if body.code != ind.code:
        raise Unprocessable(
            "Il codice dell'indicatore non si può cambiare",
            "The indicator code cannot be changed",
            invalid_params=[{"name": "code", "reason": "immutable"}],
        )
    data = body.model_dump(mode="json")
    data["target"] = body.target.model_dump(mode="json", exclude_none=True) if body.target else None
    data["raw"] = ind.raw
    ind, _ = await service.upsert(
        session, principal, plan, ind.objective_id, data, position=ind.position, existing=ind
    )
    response.headers["ETag"] = etag_of(ind.version)
    return service.to_out(ind)
