"""Finding and rendering the template of a message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.templates.models import Template
from pdz_notifications.templates.render import Rendered, RenderError, render, uses

_FALLBACK = {
    "it": ("Notifica: {{ event.type }}", "Evento {{ event.type }} per l'ambito {{ ambito }}."),
    "en": ("Notification: {{ event.type }}", "Event {{ event.type }} for ambito {{ ambito }}."),
}


async def find(session: AsyncSession, key: str, channel: str, language: str) -> Template | None:
    """The template in the recipient's language, else the Italian one."""
    rows = (
        await session.exec(
            select(Template).where(
                Template.key == key,
                Template.channel == channel,
                col(Template.language).in_([language, "it"]),
            )
        )
    ).all()
    by_lang = {t.language: t for t in rows}
    return by_lang.get(language) or by_lang.get("it")


@dataclass
class TemplateCache:
    """Per event: the templates found, and the messages that do not depend on the recipient.

    Only the ``recipient`` part of the context changes between the recipients of one event, so
    a template (and its fallback) that never reads ``recipient`` renders the same message for
    every recipient of a language: it is rendered once per (key, channel, language).
    """

    templates: dict[tuple[str, str, str], Template | None] = field(default_factory=dict)
    rendered: dict[tuple[str, str, str], Rendered] = field(default_factory=dict)


async def render_message(
    session: AsyncSession,
    key: str,
    channel: str,
    language: str,
    context: dict[str, Any],
    cache: TemplateCache | None = None,
) -> Rendered:
    """Renders the stored template; a broken template falls back to a neutral message."""
    if cache is None:
        template = await find(session, key, channel, language)
        return _render(template, language, context)
    ident = (key, channel, language)
    if ident in cache.rendered:
        return cache.rendered[ident]
    if ident not in cache.templates:
        cache.templates[ident] = await find(session, key, channel, language)
    template = cache.templates[ident]
    message = _render(template, language, context)
    sources = list(_FALLBACK.get(language, _FALLBACK["it"]))
    if template is not None:
        sources += [template.subject, template.body]
    if not uses("recipient", *sources):
        cache.rendered[ident] = message
    return message


def _render(template: Template | None, language: str, context: dict[str, Any]) -> Rendered:
    if template is not None:
        try:
            return render(template.subject, template.body, context)
        except RenderError:
            pass
    subject, body = _FALLBACK.get(language, _FALLBACK["it"])
    return render(subject, body, context)
