from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlmodel import func, select

from pdz_plans.common import require_writer
from pdz_plans.indicators_def import service as indicators
from pdz_plans.indicators_def.api import INDICATOR_DEFINITIONS
from pdz_plans.indicators_def.models import IndicatorDefinition
from pdz_plans.indicators_def.schemas import IndicatorIn, IndicatorOut
from pdz_plans.objectives import service
from pdz_plans.objectives.schemas import ObjectiveIn, ObjectiveOut
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from pdz_shared.errors import Conflict
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.idempotency import IdempotencyDep
from pdz_shared.listing import ListQuery

router = APIRouter(prefix="/v1/objectives", tags=["objectives"])
Writer = Annotated[Principal, Depends(require_roles(Role.udp_admin))]


@router.get(
    "/{objective_id}",
    response_model=ObjectiveOut,
    operation_id="get_objective",
    summary="Legge una scheda obiettivo",
)
async def get_objective(
    objective_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> ObjectiveOut:
    objective, _ = await service.get(session, principal, objective_id)
    res = await service.resources_of(session, [objective.id])
    response.headers["ETag"] = etag_of(objective.version)
    return service.to_out(objective, res.get(objective.id, []))


@router.put(
    "/{objective_id}",
    response_model=ObjectiveOut,
    operation_id="update_objective",
    summary="Modifica una scheda obiettivo (If-Match obbligatorio)",
)
async def update_objective(
    objective_id: uuid.UUID,
    body: ObjectiveIn,
    request: Request,
    session: SessionDep,
    principal: Writer,
    response: Response,
) -> ObjectiveOut:
    objective, plan = await service.get(session, principal, objective_id)
    require_writer(principal, plan.ambito_code)
    check_if_match(request, objective.version)
    objective = await service.update(session, principal, plan, objective, body)
    res = await service.resources_of(session, [objective.id])
    response.headers["ETag"] = etag_of(objective.version)
    return service.to_out(objective, res.get(objective.id, []))


@router.get(
    "/{objective_id}/indicators",
    response_model=Page[IndicatorOut],
    operation_id="list_objective_indicators",
    summary="Elenca gli indicatori di una scheda obiettivo",
)
async def list_objective_indicators(
    objective_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(INDICATOR_DEFINITIONS.query)],
) -> Page[IndicatorOut] | JSONResponse:
    await service.get(session, principal, objective_id)
    rows, total = await indicators.search(
        session,
        principal,
        plan_id=None,
        objective_id=objective_id,
        ambito=None,
        kind=None,
        has_target=None,
        target_kind=None,
        q=None,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.page([indicators.to_out(r) for r in rows], total, page)


@router.post(
    "/{objective_id}/indicators",
    status_code=201,
    response_model=IndicatorOut,
    operation_id="create_objective_indicator",
    summary="Aggiunge un indicatore (con target tipizzato facoltativo) alla scheda",
)
async def create_objective_indicator(
    objective_id: uuid.UUID,
    body: IndicatorIn,
    session: SessionDep,
    principal: Writer,
    idem: IdempotencyDep,
) -> IndicatorOut | JSONResponse:
    if (replayed := await idem.replay(session, body)) is not None:
        return replayed
    objective, plan = await service.get(session, principal, objective_id)
    require_writer(principal, plan.ambito_code)
    dup = (
        await session.exec(
            select(func.count())
            .select_from(IndicatorDefinition)
            .where(
                IndicatorDefinition.objective_id == objective.id,
                IndicatorDefinition.code == body.code,
            )
        )
    ).one()
    if dup:
        raise Conflict(
            f"La scheda ha già un indicatore {body.code}",
            f"The objective already has indicator {body.code}",
        )
    data = body.model_dump(mode="json", exclude_none=False)
    data["target"] = body.target.model_dump(mode="json", exclude_none=True) if body.target else None
    ind, _ = await indicators.upsert(session, principal, plan, objective.id, data, position=100)
    out = indicators.to_out(ind)
    headers = {"Location": f"/v1/indicator-definitions/{ind.id}", "ETag": etag_of(ind.version)}
    await idem.store(session, 201, out, headers)
    return JSONResponse(out.model_dump(mode="json"), status_code=201, headers=headers)
