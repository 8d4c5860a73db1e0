from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from pdz_casework.access import LINK_READERS, LINK_ROLES, Auditor, Linker, LinkReader, Purpose
from pdz_casework.cases import service as cases
from pdz_casework.cases.schemas import CODE
from pdz_casework.links import service
from pdz_casework.links.models import ExternalLink, ExternalSystem
from pdz_casework.links.schemas import (
    SYSTEM,
    ExternalLinkIn,
    ExternalLinkOut,
    ExternalSystemIn,
    ExternalSystemOut,
)
from pdz_shared.app import SessionDep
from pdz_shared.errors import NotFound
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(tags=["external-links"])
System = Annotated[str, Path(pattern=SYSTEM, description="Codice del software di Cartella Sociale")]
Comune = Annotated[str, Path(pattern=CODE, description="Codice ISTAT del comune")]
EXTERNAL_SYSTEMS = Listing(
    ExternalSystem,
    ExternalSystemOut,
    sort=("comune_code", "system", "name", "ambito_code", "created_at"),
    default="comune_code,system",
    key=("comune_code", "system"),
)
EXTERNAL_LINKS = Listing(
    ExternalLink,
    ExternalLinkOut,
    sort=("system", "external_id", "comune_code", "created_at", "updated_at"),
    default="system,external_id",
    identifier=("system", "external_id"),
)


@router.put(
    "/v1/external-systems/{system}/comuni/{comune_code}",
    response_model=ExternalSystemOut,
    operation_id="register_external_system",
    summary="Registra la Cartella Sociale usata da un comune",
    responses={201: {"description": "Registrato", "model": ExternalSystemOut}},
)
async def register_external_system(
    system: System,
    comune_code: Comune,
    body: ExternalSystemIn,
    session: SessionDep,
    principal: Auditor,
) -> JSONResponse:
    row, created = await service.register(session, principal, system, comune_code, body)
    out = ExternalSystemOut.model_validate(row, from_attributes=True)
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=201 if created else 200,
        headers={"ETag": etag_of(row.version)},
    )


@router.get(
    "/v1/external-systems",
    response_model=Page[ExternalSystemOut],
    operation_id="list_external_systems",
    summary="Le Cartelle Sociali registrate per comune",
)
async def list_external_systems(
    session: SessionDep,
    principal: LinkReader,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(EXTERNAL_SYSTEMS.query)],
    comune: Annotated[str | None, Query(pattern=CODE)] = None,
) -> Page[ExternalSystemOut] | JSONResponse:
    rows, total = await service.systems(
        session, principal, comune, listing.order_by, page.limit, page.offset
    )
    return listing.page(
        [ExternalSystemOut.model_validate(r, from_attributes=True) for r in rows], total, page
    )


@router.put(
    "/v1/cases/{case_id}/external-links/{system}",
    response_model=ExternalLinkOut,
    operation_id="put_external_link",
    summary="Collega il caso alla Cartella Sociale (If-Match per modificare)",
    responses={201: {"description": "Collegamento creato", "model": ExternalLinkOut}},
)
async def put_external_link(
    case_id: uuid.UUID,
    system: System,
    body: ExternalLinkIn,
    request: Request,
    session: SessionDep,
    principal: Linker,
    purpose: Purpose = None,
) -> JSONResponse:
    service.check_system_scope(principal, system)
    case = await service.case_for_link(session, principal, case_id)
    link = await service.get_link(session, case, system)
    if link is not None:
        check_if_match(request, link.version)
    link, created = await service.put_link(session, principal, case, system, body, link)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="put_external_link",
        purpose=purpose,
        roles=LINK_ROLES,
    )
    out = ExternalLinkOut.model_validate(link, from_attributes=True)
    headers = {"ETag": etag_of(link.version)}
    if created:
        headers["Location"] = f"/v1/cases/{case.id}/external-links/{system}"
    return JSONResponse(
        out.model_dump(mode="json"), status_code=201 if created else 200, headers=headers
    )


@router.get(
    "/v1/cases/{case_id}/external-links/{system}",
    response_model=ExternalLinkOut,
    operation_id="get_external_link",
    summary="Legge il collegamento del caso a una Cartella Sociale",
)
async def get_external_link(
    case_id: uuid.UUID,
    system: System,
    session: SessionDep,
    principal: LinkReader,
    response: Response,
    purpose: Purpose = None,
) -> ExternalLinkOut:
    service.check_system_scope(principal, system)
    case = await service.case_for_link(session, principal, case_id)
    link = await service.get_link(session, case, system)
    if link is None:
        raise NotFound("Collegamento non trovato", "Link not found")
    await cases.audit(
        session,
        principal,
        [case.id],
        action="read",
        operation="get_external_link",
        purpose=purpose,
        roles=LINK_READERS,
    )
    response.headers["ETag"] = etag_of(link.version)
    return ExternalLinkOut.model_validate(link, from_attributes=True)


@router.delete(
    "/v1/cases/{case_id}/external-links/{system}",
    status_code=204,
    operation_id="delete_external_link",
    summary="Scollega il caso dalla Cartella Sociale",
)
async def delete_external_link(
    case_id: uuid.UUID,
    system: System,
    request: Request,
    session: SessionDep,
    principal: Linker,
    purpose: Purpose = None,
) -> Response:
    service.check_system_scope(principal, system)
    case = await service.case_for_link(session, principal, case_id)
    link = await service.get_link(session, case, system)
    if link is None:
        raise NotFound("Collegamento non trovato", "Link not found")
    check_if_match(request, link.version, required=False)
    await service.delete_link(session, case, link)
    await cases.audit(
        session,
        principal,
        [case.id],
        action="write",
        operation="delete_external_link",
        purpose=purpose,
        roles=LINK_ROLES,
    )
    return Response(status_code=204)


@router.get(
    "/v1/external-links",
    response_model=Page[ExternalLinkOut],
    operation_id="find_external_links",
    summary="Trova il caso a partire dall'identificativo nella Cartella Sociale",
)
async def find_external_links(
    session: SessionDep,
    principal: LinkReader,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(EXTERNAL_LINKS.query)],
    system: Annotated[str | None, Query(pattern=SYSTEM)] = None,
    external_id: Annotated[
        str | None, Query(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    ] = None,
    purpose: Purpose = None,
) -> Page[ExternalLinkOut] | JSONResponse:
    rows, total = await service.find(
        session,
        principal,
        system=system,
        external_id=external_id,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    await cases.audit(
        session,
        principal,
        [r.case_id for r in rows],
        action="read",
        operation="find_external_links",
        purpose=purpose,
        roles=LINK_READERS,
    )
    return listing.page(
        [ExternalLinkOut.model_validate(r, from_attributes=True) for r in rows], total, page
    )
