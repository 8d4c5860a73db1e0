"""Finding and rendering the template of a message."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.templates.models import Template
from pdz_notifications.templates.render import Rendered, RenderError, render

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


TemplateCache = dict[tuple[str, str, str], Template | None]


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
    else:
        if (key, channel, language) not in cache:
            cache[(key, channel, language)] = await find(session, key, channel, language)
        template = cache[(key, channel, language)]
    if template is not None:
        try:
            return render(template.subject, template.body, context)
        except RenderError:
            pass
    subject, body = _FALLBACK.get(language, _FALLBACK["it"])
    return render(subject, body, context)
