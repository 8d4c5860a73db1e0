"""Webhook endpoints of an ambito (or global, for the platform administrator)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.access import check_scope
from pdz_notifications.webhooks.models import Webhook
from pdz_notifications.webhooks.schemas import WebhookIn
from pdz_shared.auth import Principal
from pdz_shared.db import utcnow
from pdz_shared.errors import NotFound, Unprocessable
from pdz_shared.settings import common_settings


def _check_url(url: str) -> None:
    if not url.startswith("https://") and not common_settings().is_dev:
        raise Unprocessable(
            "L'indirizzo di un webhook deve essere https",
            "A webhook URL must be https",
            invalid_params=[{"name": "url", "reason": "https required"}],
        )


async def create(session: AsyncSession, principal: Principal, data: WebhookIn) -> Webhook:
    check_scope(principal, data.ambito_code)
    _check_url(data.url)
    hook = Webhook(**data.model_dump(), created_by=principal.sub)
    session.add(hook)
    await session.flush()
    return hook


async def get(session: AsyncSession, principal: Principal, hook_id: uuid.UUID) -> Webhook:
    hook = await session.get(Webhook, hook_id)
    if hook is None or not (principal.is_platform_admin or (hook.ambito_code in principal.ambiti)):
        raise NotFound(f"Webhook {hook_id} non trovato", f"Webhook {hook_id} not found")
    return hook


async def update(
    session: AsyncSession, principal: Principal, hook: Webhook, data: WebhookIn
) -> Webhook:
    check_scope(principal, data.ambito_code)
    _check_url(data.url)
    for key, value in data.model_dump().items():
        setattr(hook, key, value)
    hook.version += 1
    hook.updated_at = utcnow()
    session.add(hook)
    await session.flush()
    return hook


async def delete(session: AsyncSession, hook: Webhook) -> None:
    await session.delete(hook)


def _visible(principal: Principal) -> Any:
    if principal.is_platform_admin:
        return True
    return col(Webhook.ambito_code).in_(sorted(principal.ambiti))


async def search(
    session: AsyncSession,
    principal: Principal,
    *,
    ambito: str | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[Webhook], int]:
    query = select(Webhook).where(_visible(principal))
    if ambito:
        query = query.where(Webhook.ambito_code == ambito)
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)
