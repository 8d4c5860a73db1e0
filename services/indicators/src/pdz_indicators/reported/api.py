from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from pdz_indicators.reported import service
from pdz_indicators.reported.models import ReportedValue
from pdz_indicators.reported.schemas import METRIC, PERIOD, ReportedValueIn, ReportedValueOut
from pdz_indicators.reported.upload import UploadReport, upload
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from pdz_shared.errors import UnsupportedMediaType, wants_english
from pdz_shared.http import Page, PageParams, page_params
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/reported-values", tags=["reported-values"])
Reporter = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.udp_admin, Role.social_worker, Role.asst_system, Role.cartella_sociale_system
        )
    ),
]
REPORTED_VALUES = Listing(
    ReportedValue,
    ReportedValueOut,
    sort=("created_at", "metric", "territory_code", "period", "value"),
    default="-created_at",
)


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
    listing: Annotated[ListQuery, Depends(REPORTED_VALUES.query)],
    metric: Annotated[str | None, Query(pattern=METRIC)] = None,
    territory: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,50}$")] = None,
    period: Annotated[str | None, Query(pattern=PERIOD)] = None,
) -> Page[ReportedValueOut] | JSONResponse:
    rows, total = await service.search(
        session,
        principal,
        metric=metric,
        territory=territory,
        period=period,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.page(
        [ReportedValueOut.model_validate(r, from_attributes=True) for r in rows], total, page
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


_UPLOAD_TYPES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@router.post(
    "/upload",
    response_model=UploadReport,
    operation_id="upload_reported_values",
    summary="Carica valori da CSV o XLSX",
    description=(
        "Il corpo è il file (Content-Type text/csv o XLSX) con le colonne metric, "
        "territory_code, period, value e facoltativa note. Ogni riga è salvata o rifiutata "
        "con i motivi (report riga per riga); dry_run=true controlla senza salvare."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string", "maxLength": 5_000_000},
                    "example": "metric,territory_code,period,value,note\n"
                    "posti_sad,017085,2025,42,Iseo: posti SAD attivi al 31/12\n"
                    "posti_sad,017104,2025,18,\n",
                },
                _UPLOAD_TYPES[1]: {
                    "schema": {"type": "string", "format": "binary", "maxLength": 5_000_000}
                },
            },
        }
    },
)
async def upload_reported_values(
    request: Request,
    session: SessionDep,
    principal: Reporter,
    dry_run: Annotated[bool, Query(description="Controlla senza salvare")] = False,
) -> UploadReport:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _UPLOAD_TYPES:
        raise UnsupportedMediaType(
            "Invia il file come text/csv o XLSX", "Send the file as text/csv or XLSX"
        )
    content = await request.body()
    return await upload(
        session,
        principal,
        content,
        media,
        dry_run=dry_run,
        english=wants_english(request.headers.get("accept-language")),
    )
