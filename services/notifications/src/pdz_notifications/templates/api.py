from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from pdz_notifications.access import Admin, PlatformAdmin
from pdz_notifications.schemas import EVENT_TYPE, Language, RuleChannel
from pdz_notifications.templates import service
from pdz_notifications.templates.models import Template
from pdz_notifications.templates.schemas import PreviewIn, PreviewOut, TemplateIn, TemplateOut
from pdz_shared.app import SessionDep
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.idempotency import IdempotencyDep
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/templates", tags=["templates"])
TEMPLATES = Listing(
    Template,
    TemplateOut,
    sort=("key", "channel", "language", "created_at", "updated_at"),
    default="key,channel,language",
)


def _out(t: Template) -> TemplateOut:
    return TemplateOut.model_validate(t, from_attributes=True)


@router.post(
    "",
    status_code=201,
    response_model=TemplateOut,
    operation_id="create_template",
    summary="Crea un modello di messaggio",
    description="Un modello Jinja2 per chiave (tipo di evento), canale e lingua.",
)
async def create_template(
    body: TemplateIn, session: SessionDep, _: PlatformAdmin, idem: IdempotencyDep
) -> TemplateOut | JSONResponse:
    if (replayed := await idem.replay(session, body)) is not None:
        return replayed
    template = await service.create(session, body)
    out = _out(template)
    headers = {"Location": f"/v1/templates/{template.id}", "ETag": etag_of(template.version)}
    await idem.store(session, 201, out, headers)
    return JSONResponse(out.model_dump(mode="json"), status_code=201, headers=headers)


@router.get(
    "",
    response_model=Page[TemplateOut],
    operation_id="list_templates",
    summary="Elenca i modelli",
    description="I modelli di messaggio, filtrabili per chiave, canale e lingua.",
)
async def list_templates(
    session: SessionDep,
    _: Admin,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(TEMPLATES.query)],
    key: Annotated[str | None, Query(pattern=EVENT_TYPE, max_length=200)] = None,
    channel: RuleChannel | None = None,
    language: Language | None = None,
) -> Page[TemplateOut] | JSONResponse:
    rows, total = await service.search(
        session,
        key=key,
        channel=channel,
        language=language,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.page([_out(r) for r in rows], total, page)


@router.get(
    "/{template_id}",
    response_model=TemplateOut,
    operation_id="get_template",
    summary="Legge un modello",
    description="Un modello, con il suo ETag.",
)
async def get_template(
    template_id: uuid.UUID, session: SessionDep, _: Admin, response: Response
) -> TemplateOut:
    template = await service.get(session, template_id)
    response.headers["ETag"] = etag_of(template.version)
    return _out(template)


@router.put(
    "/{template_id}",
    response_model=TemplateOut,
    operation_id="update_template",
    summary="Modifica un modello (If-Match obbligatorio)",
    description="Cambia oggetto, testo e descrizione; chiave, canale e lingua restano.",
)
async def update_template(
    template_id: uuid.UUID,
    body: TemplateIn,
    request: Request,
    session: SessionDep,
    _: PlatformAdmin,
    response: Response,
) -> TemplateOut:
    template = await service.get(session, template_id)
    check_if_match(request, template.version)
    template = await service.update(session, template, body)
    response.headers["ETag"] = etag_of(template.version)
    return _out(template)


@router.post(
    "/{template_id}/preview",
    response_model=PreviewOut,
    operation_id="preview_template",
    summary="Anteprima di un modello",
    description="Compone il modello con un payload di esempio, senza inviare nulla.",
)
async def preview_template(
    template_id: uuid.UUID, body: PreviewIn, session: SessionDep, _: Admin
) -> PreviewOut:
    template = await service.get(session, template_id)
    rendered = service.preview(template, body)
    return PreviewOut(subject=rendered.subject, body=rendered.body)
