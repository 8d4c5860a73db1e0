from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from pdz_plans.classifications import service
from pdz_plans.classifications.schemas import CodeOut, SchemeOut
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal
from pdz_shared.http import Page, PageParams, page_params

router = APIRouter(prefix="/v1/classifications", tags=["classifications"])


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
) -> Page[SchemeOut]:
    rows = await service.schemes(session)
    items = [SchemeOut.model_validate(r, from_attributes=True) for r in rows]
    return Page(
        items=items[page.offset : page.offset + page.limit],
        total=len(items),
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    "/{scheme}",
    response_model=Page[CodeOut],
    operation_id="list_classification_codes",
    summary="Elenca i codici di uno schema (macro-aree, LEPS, schede PPT, fondi...)",
)
async def list_codes(
    scheme: Annotated[str, Path(pattern=r"^[a-z0-9-]{1,50}$")],
    session: SessionDep,
    _: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    q: Annotated[str | None, Query(max_length=100, description="Parte dell'etichetta")] = None,
) -> Page[CodeOut]:
    rows, total = await service.codes(session, scheme, q=q, limit=page.limit, offset=page.offset)
    return Page(
        items=[CodeOut.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
