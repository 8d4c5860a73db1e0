from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from pdz_plans.territories import service
from pdz_plans.territories.models import TerritoryPopulation, TerritoryUnit
from pdz_plans.territories.schemas import (
    CODE,
    PopulationIn,
    PopulationOut,
    TerritoryIn,
    TerritoryOut,
    TerritoryUpdate,
)
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from pdz_shared.contracts.plans import TerritoryKind
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.idempotency import IdempotencyDep
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/territories", tags=["territories"])
Writer = Annotated[Principal, Depends(require_roles(Role.udp_admin))]
Code = Annotated[str, Path(pattern=CODE, description="Codice dell'unità")]
TERRITORIES = Listing(
    TerritoryUnit,
    TerritoryOut,
    sort=("code", "name", "kind", "ambito_code", "istat_code", "created_at", "updated_at"),
    default="code",
    key=("code",),
)
POPULATION = Listing(
    TerritoryPopulation,
    PopulationOut,
    sort=("year", "reference_date", "total", "foreign_total", "updated_at"),
    default="year",
    key=("year",),
)


@router.post(
    "",
    status_code=201,
    response_model=TerritoryOut,
    operation_id="create_territory",
    summary="Crea un'unità territoriale",
)
async def create_territory(
    body: TerritoryIn, session: SessionDep, principal: Writer, idem: IdempotencyDep
) -> TerritoryOut | JSONResponse:
    if (replayed := await idem.replay(session, body)) is not None:
        return replayed
    unit = await service.create(session, principal, body)
    out = TerritoryOut.model_validate(unit, from_attributes=True)
    headers = {"Location": f"/v1/territories/{unit.code}", "ETag": etag_of(unit.version)}
    await idem.store(session, 201, out, headers)
    return JSONResponse(out.model_dump(mode="json"), status_code=201, headers=headers)


@router.get(
    "",
    response_model=Page[TerritoryOut],
    operation_id="list_territories",
    summary="Elenca le unità territoriali",
)
async def list_territories(
    session: SessionDep,
    _: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(TERRITORIES.query)],
    kind: TerritoryKind | None = None,
    parent: Annotated[str | None, Query(pattern=CODE)] = None,
    q: Annotated[str | None, Query(max_length=100, description="Parte del nome")] = None,
) -> Page[TerritoryOut] | JSONResponse:
    rows, total = await service.search(
        session,
        kind=kind,
        parent=parent,
        q=q,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.page(
        [TerritoryOut.model_validate(r, from_attributes=True) for r in rows], total, page
    )


@router.get(
    "/{code}",
    response_model=TerritoryOut,
    operation_id="get_territory",
    summary="Legge un'unità territoriale",
)
async def get_territory(
    code: Code, session: SessionDep, _: CurrentPrincipal, response: Response
) -> TerritoryOut:
    unit = await service.get(session, code)
    response.headers["ETag"] = etag_of(unit.version)
    return TerritoryOut.model_validate(unit, from_attributes=True)


@router.put(
    "/{code}",
    response_model=TerritoryOut,
    operation_id="update_territory",
    summary="Modifica un'unità territoriale (If-Match obbligatorio)",
)
async def update_territory(
    code: Code,
    body: TerritoryUpdate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    response: Response,
) -> TerritoryOut:
    unit = await service.get(session, code)
    check_if_match(request, unit.version)
    unit = await service.update(session, principal, unit, body)
    response.headers["ETag"] = etag_of(unit.version)
    return TerritoryOut.model_validate(unit, from_attributes=True)


@router.get(
    "/{code}/population",
    response_model=Page[PopulationOut],
    operation_id="list_territory_population",
    summary="Popolazione residente dell'unità per anno",
)
async def list_territory_population(
    code: Code,
    session: SessionDep,
    _: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(POPULATION.query)],
) -> Page[PopulationOut] | JSONResponse:
    unit = await service.get(session, code)
    rows, total = await service.population_page(
        session, unit.code, listing.order_by, page.limit, page.offset
    )
    return listing.page(
        [PopulationOut.model_validate(r, from_attributes=True) for r in rows], total, page
    )


@router.put(
    "/{code}/population/{year}",
    response_model=PopulationOut,
    operation_id="put_territory_population",
    summary="Registra la popolazione di un anno (If-Match obbligatorio se esiste già)",
)
async def put_territory_population(
    code: Code,
    year: Annotated[int, Path(ge=1900, le=2100)],
    body: PopulationIn,
    request: Request,
    session: SessionDep,
    principal: Writer,
    response: Response,
) -> PopulationOut:
    unit = await service.get(session, code)
    service.check_writer(principal, unit.kind, unit.ambito_code)
    current = next((p for p in await service.population_of(session, code) if p.year == year), None)
    if current is not None:
        check_if_match(request, current.version)
    rec = {**body.model_dump(), "territory_code": code, "year": year}
    await service.upsert_population(session, principal, rec)
    row = next(p for p in await service.population_of(session, code) if p.year == year)
    response.headers["ETag"] = etag_of(row.version)
    return PopulationOut.model_validate(row, from_attributes=True)
