"""Templates: stored in the database, edited through the API, previewed before use."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.templates.models import Template
from pdz_notifications.templates.render import Rendered, RenderError, check, render
from pdz_notifications.templates.schemas import PreviewIn, TemplateIn
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, NotFound, Unprocessable


def _check(data: TemplateIn) -> None:
    problems = []
    for name in ("subject", "body"):
        try:
            check(getattr(data, name))
        except RenderError as exc:
            problems.append({"name": name, "reason": str(exc)})
    if problems:
        raise Unprocessable(
            "Il modello non è Jinja2 valido",
            "The template is not valid Jinja2",
            invalid_params=problems,
        )


async def create(session: AsyncSession, data: TemplateIn) -> Template:
    _check(data)
    clash = await session.exec(
        select(Template).where(
            Template.key == data.key,
            Template.channel == data.channel,
            Template.language == data.language,
        )
    )
    if clash.first() is not None:
        raise Conflict(
            "Esiste già un modello per questa chiave, canale e lingua",
            "A template for this key, channel and language already exists",
        )
    template = Template(**data.model_dump())
    session.add(template)
    await session.flush()
    return template


async def get(session: AsyncSession, template_id: uuid.UUID) -> Template:
    template = await session.get(Template, template_id)
    if template is None:
        raise NotFound(f"Modello {template_id} non trovato", f"Template {template_id} not found")
    return template


async def update(session: AsyncSession, template: Template, data: TemplateIn) -> Template:
    _check(data)
    if (data.key, data.channel, data.language) != (
        template.key,
        template.channel,
        template.language,
    ):
        raise Unprocessable(
            "Chiave, canale e lingua di un modello non si cambiano",
            "A template's key, channel and language cannot change",
            invalid_params=[{"name": "key", "reason": "immutable"}],
        )
    template.subject = data.subject
    template.body = data.body
    template.description = data.description
    template.version += 1
    template.updated_at = utcnow()
    session.add(template)
    await session.flush()
    return template


async def search(
    session: AsyncSession,
    *,
    key: str | None,
    channel: str | None,
    language: str | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[Template], int]:
    query = select(Template)
    if key:
        query = query.where(Template.key == key)
    if channel:
        query = query.where(Template.channel == channel)
    if language:
        query = query.where(Template.language == language)
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)


def preview(template: Template, sample: PreviewIn) -> Rendered:
    context: dict[str, Any] = {
        "event": {
            "id": "00000000-0000-0000-0000-000000000000",
            "type": template.key,
            "source": "/pdz/preview",
            "subject": None,
            "time": datetime.now(UTC).isoformat(),
        },
        "data": sample.data,
        "ambito": sample.data.get("ambito_code"),
        "recipient": {"sub": "preview", "language": template.language},
        "items": sample.items,
    }
    try:
        return render(template.subject, template.body, context)
    except RenderError as exc:
        raise Unprocessable(
            f"Il modello non si compone con questi dati: {exc}",
            f"The template does not render with this data: {exc}",
            invalid_params=[{"name": "data", "reason": str(exc)}],
        ) from exc
