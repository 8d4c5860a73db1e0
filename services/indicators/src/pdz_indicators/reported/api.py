from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from pdz_indicators.reported import service
from pdz_indicators.reported.schemas import METRIC, PERIOD, ReportedValueIn, ReportedValueOut
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from pdz_shared.http import Page, PageParams, page_params

router = APIRouter(prefix="/v1/reported-values", tags=["reported-values"])
Reporter = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.udp_admin, Role.social_worker, Role.asst_system, Role.cartella_sociale_system
        )
    ),
]


@router.post(
    "",
    status_code=201,
    response_model=ReportedValueOut,
    operation_id="create_reported_value",
    summary="Riporta un valore",
)
async def create_reported_value(
    body: ReportedValueIn, session: SessionDep, principal: Reporter, response: Response
) -> ReportedValueOut:
    row = await service.record(session, principal, body)
    response.headers["Location"] = f"/v1/reported-values/{row.id}"
    return ReportedValueOut.model_validate(row, from_attributes=True)


@router.get(
    "",
    response_model=Page[ReportedValueOut],
    operation_id="list_reported_values",
    summary="Elenca i valori riportati nei tuoi ambiti",
)
async def list_reported_values(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    metric: Annotated[str | None, Query(pattern=METRIC)] = None,
    territory: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,50}$")] = None,
    period: Annotated[str | None, Query(pattern=PERIOD)] = None,
) -> Page[ReportedValueOut]:
    rows, total = await service.search(
        session,
        principal,
        metric=metric,
        territory=territory,
        period=period,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(
        items=[ReportedValueOut.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    "/{value_id}",
    response_model=ReportedValueOut,
    operation_id="get_reported_value",
    summary="Legge un valore riportato",
)
async def get_reported_value(
    value_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> ReportedValueOut:
    row = await service.get(session, principal, value_id)
    return ReportedValueOut.model_validate(row, from_attributes=True)
