from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from pdz_plans.evaluations import service as evaluations
from pdz_plans.evaluations.schemas import EvaluationOut
from pdz_plans.history import service as history
from pdz_plans.history.models import ChangeRecord
from pdz_plans.objectives import service as objectives
from pdz_plans.objectives.models import Objective
from pdz_plans.objectives.schemas import BudgetOut, ObjectiveIn, ObjectiveOut
from pdz_plans.plans import service
from pdz_plans.plans.models import Plan
from pdz_plans.plans.schemas import CODE, ChangeOut, PlanIn, PlanOut, PlanUpdate
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from pdz_shared.contracts.plans import ObjectiveScope, PlanStatus
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.idempotency import IdempotencyDep
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/plans", tags=["plans"])
Writer = Annotated[Principal, Depends(require_roles(Role.udp_admin))]
Paging = Annotated[PageParams, Depends(page_params)]
PLANS = Listing(
    Plan,
    PlanOut,
    sort=(
        "ambito_code",
        "cycle_start_year",
        "title",
        "status",
        "approved_on",
        "created_at",
        "updated_at",
    ),
    default="ambito_code,-cycle_start_year",
)
HISTORY = Listing(
    ChangeRecord, ChangeOut, sort=("at", "entity", "action", "actor", "version"), default="-at"
)
OBJECTIVES = Listing(
    Objective,
    ObjectiveOut,
    sort=(
        "position",
        "code",
        "title",
        "status",
        "start_date",
        "end_date",
        "created_at",
        "updated_at",
    ),
    default="position,code",
)


def _out(plan: object) -> PlanOut:
    return PlanOut.model_validate(plan, from_attributes=True)


@router.post(
    "",
    status_code=201,
    response_model=PlanOut,
    operation_id="create_plan",
    summary="Crea un Piano di Zona (in bozza)",
)
async def create_plan(
    body: PlanIn, session: SessionDep, principal: Writer, idem: IdempotencyDep
) -> PlanOut | JSONResponse:
    if (replayed := await idem.replay(session, body)) is not None:
        return replayed
    plan = await service.create(session, principal, body)
    out = _out(plan)
    headers = {"Location": f"/v1/plans/{plan.id}", "ETag": etag_of(plan.version)}
    await idem.store(session, 201, out, headers)
    return JSONResponse(out.model_dump(mode="json"), status_code=201, headers=headers)


@router.get(
    "",
    response_model=Page[PlanOut],
    operation_id="list_plans",
    summary="Elenca i Piani di Zona visibili (pubblicati, e le bozze dei propri ambiti)",
)
async def list_plans(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: Paging,
    listing: Annotated[ListQuery, Depends(PLANS.query)],
    ambito: Annotated[str | None, Query(pattern=CODE)] = None,
    status: PlanStatus | None = None,
    year: Annotated[
        int | None, Query(ge=1990, le=2100, description="Anno di vigenza (proroghe incluse)")
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description="Parte del titolo")] = None,
) -> Page[PlanOut] | JSONResponse:
    rows, total = await service.search(
        session,
        principal,
        ambito=ambito,
        status=status,
        year=year,
        q=q,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.page([_out(r) for r in rows], total, page)


@router.get(
    "/{plan_id}", response_model=PlanOut, operation_id="get_plan", summary="Legge un Piano di Zona"
)
async def get_plan(
    plan_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> PlanOut:
    plan = await service.get(session, principal, plan_id)
    response.headers["ETag"] = etag_of(plan.version)
    return _out(plan)


@router.put(
    "/{plan_id}",
    response_model=PlanOut,
    operation_id="update_plan",
    summary="Modifica un Piano di Zona o ne cambia lo stato (If-Match obbligatorio)",
)
async def update_plan(
    plan_id: uuid.UUID,
    body: PlanUpdate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    response: Response,
) -> PlanOut:
    plan = await service.get(session, principal, plan_id)
    check_if_match(request, plan.version)
    plan, _ = await service.update(session, principal, plan, body)
    response.headers["ETag"] = etag_of(plan.version)
    return _out(plan)


@router.get(
    "/{plan_id}/history",
    response_model=Page[ChangeOut],
    operation_id="list_plan_history",
    summary="Storico delle modifiche del piano (chi, quando, cosa)",
)
async def list_plan_history(
    plan_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: Paging,
    listing: Annotated[ListQuery, Depends(HISTORY.query)],
    entity: Annotated[str | None, Query(pattern=r"^(plan|objective|indicator)$")] = None,
    entity_id: Annotated[
        uuid.UUID | None, Query(description="Solo le modifiche di questa scheda o indicatore")
    ] = None,
) -> Page[ChangeOut] | JSONResponse:
    await service.get(session, principal, plan_id)
    rows, total = await history.for_plan(
        session,
        plan_id,
        entity=entity,
        entity_id=str(entity_id) if entity_id else None,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.page(
        [ChangeOut.model_validate(r, from_attributes=True) for r in rows], total, page
    )


@router.get(
    "/{plan_id}/objectives",
    response_model=Page[ObjectiveOut],
    operation_id="list_plan_objectives",
    summary="Elenca le schede obiettivo del piano",
)
async def list_plan_objectives(
    plan_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: Paging,
    listing: Annotated[ListQuery, Depends(OBJECTIVES.query)],
    scheme: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,50}$")] = None,
    code: Annotated[str | None, Query(max_length=50, description="Codice nello schema")] = None,
    scope: ObjectiveScope | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[ObjectiveOut] | JSONResponse:
    await service.get(session, principal, plan_id)
    rows, total = await objectives.for_plan(
        session,
        plan_id,
        scheme=scheme,
        code=code,
        scope=scope,
        q=q,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    res = await objectives.resources_of(session, [r.id for r in rows])
    return listing.page([objectives.to_out(r, res.get(r.id, [])) for r in rows], total, page)


@router.post(
    "/{plan_id}/objectives",
    status_code=201,
    response_model=ObjectiveOut,
    operation_id="create_plan_objective",
    summary="Aggiunge una scheda obiettivo al piano",
)
async def create_plan_objective(
    plan_id: uuid.UUID,
    body: ObjectiveIn,
    session: SessionDep,
    principal: Writer,
    idem: IdempotencyDep,
) -> ObjectiveOut | JSONResponse:
    if (replayed := await idem.replay(session, body)) is not None:
        return replayed
    plan = await service.get(session, principal, plan_id)
    objective = await objectives.create(session, principal, plan, body)
    res = await objectives.resources_of(session, [objective.id])
    out = objectives.to_out(objective, res.get(objective.id, []))
    headers = {"Location": f"/v1/objectives/{objective.id}", "ETag": etag_of(objective.version)}
    await idem.store(session, 201, out, headers)
    return JSONResponse(out.model_dump(mode="json"), status_code=201, headers=headers)


@router.get(
    "/{plan_id}/budget",
    response_model=BudgetOut,
    operation_id="get_plan_budget",
    summary="Risorse del piano per fondo e anno, con avvisi di coerenza",
)
async def get_plan_budget(
    plan_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> BudgetOut:
    plan = await service.get(session, principal, plan_id)
    return await objectives.budget(session, plan)


@router.get(
    "/{plan_id}/evaluation",
    response_model=EvaluationOut,
    operation_id="get_plan_evaluation",
    summary="Esiti della programmazione precedente riportati nel piano",
)
async def get_plan_evaluation(
    plan_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> EvaluationOut:
    await service.get(session, principal, plan_id)
    return await evaluations.summary(session, plan_id)
