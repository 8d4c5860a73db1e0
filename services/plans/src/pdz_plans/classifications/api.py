from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from pdz_plans.classifications import service
from pdz_plans.classifications.models import ClassificationCode, ClassificationScheme
from pdz_plans.classifications.schemas import CodeIn, CodeOut, SchemeIn, SchemeOut
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/classifications", tags=["classifications"])
Admin = Annotated[Principal, Depends(require_roles(Role.platform_admin))]
Scheme = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,50}$", description="Codice dello schema")]
CodePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,50}$", description="Codice")]
SCHEMES = Listing(
    ClassificationScheme, SchemeOut, sort=("code", "name"), default="code", key=("code",)
)
CODES = Listing(
    ClassificationCode,
    CodeOut,
    sort=("position", "code", "label", "parent_code"),
    default="position",
    key=("code",),
)


@router.get(
    "",
    response_model=Page[SchemeOut],
    operation_id="list_classification_schemes",
    summary="Elenca gli schemi di classificazione",
)
async def list_schemes(
    session: SessionDep,
    _: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(SCHEMES.query)],
) -> Page[SchemeOut] | JSONResponse:
    rows, total = await service.schemes_page(session, listing.order_by, page.limit, page.offset)
    return listing.page(
        [SchemeOut.model_validate(r, from_attributes=True) for r in rows], total, page
    )


@router.get(
    "/{scheme}",
    response_model=Page[CodeOut],
    operation_id="list_classification_codes",
    summary="Elenca i codici di uno schema (macro-aree, LEPS, schede PPT, fondi...)",
)
async def list_codes(
    scheme: Scheme,
    session: SessionDep,
    _: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(CODES.query)],
    q: Annotated[str | None, Query(max_length=100, description="Parte dell'etichetta")] = None,
) -> Page[CodeOut] | JSONResponse:
    rows, total = await service.codes(
        session, scheme, q=q, order_by=listing.order_by, limit=page.limit, offset=page.offset
    )
    return listing.page(
        [CodeOut.model_validate(r, from_attributes=True) for r in rows], total, page
    )


@router.put(
    "/{scheme}",
    response_model=SchemeOut,
    operation_id="put_classification_scheme",
    summary="Crea uno schema di classificazione o lo modifica (If-Match se esiste)",
    responses={201: {"description": "Schema creato"}},
)
async def put_classification_scheme(
    scheme: Scheme,
    body: SchemeIn,
    request: Request,
    response: Response,
    session: SessionDep,
    _: Admin,
) -> SchemeOut:
    found, created = await service.put_scheme(
        session, scheme, body, lambda v: check_if_match(request, v)
    )
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag_of(found.version)
    return SchemeOut.model_validate(found, from_attributes=True)


@router.put(
    "/{scheme}/codes/{code}",
    response_model=CodeOut,
    operation_id="put_classification_code",
    summary="Aggiunge un codice a uno schema o lo modifica (If-Match se esiste)",
    responses={201: {"description": "Codice creato"}},
)
async def put_classification_code(
    scheme: Scheme,
    code: CodePath,
    body: CodeIn,
    request: Request,
    response: Response,
    session: SessionDep,
    _: Admin,
) -> CodeOut:
    found, created = await service.put_code(
        session, scheme, code, body, lambda v: check_if_match(request, v)
    )
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag_of(found.version)
    return CodeOut.model_validate(found, from_attributes=True)
