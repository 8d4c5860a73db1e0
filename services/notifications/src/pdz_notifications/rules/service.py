"""Rules: configured through the API; the defaults ship with the service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.access import check_scope
from pdz_notifications.rules.engine import FILTER_FIELDS
from pdz_notifications.rules.models import Rule
from pdz_notifications.rules.schemas import RuleIn
from pdz_shared.auth import Principal
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, NotFound, Unprocessable


def _values(data: RuleIn) -> dict[str, object]:
    bad = [f for f in data.recipient_fields if not f.endswith("_sub")]
    if bad:
        raise Unprocessable(
            "recipient_fields può nominare solo campi che contengono un sub (…_sub)",
            "recipient_fields may name only fields holding a subject (…_sub)",
            invalid_params=[
                {"name": "recipient_fields", "reason": f"not a *_sub field: {f}"} for f in bad
            ],
        )
    if not data.roles and not data.recipient_fields:
        raise Unprocessable(
            "Indica almeno un ruolo o un campo destinatario",
            "Give at least one role or recipient field",
            invalid_params=[{"name": "roles", "reason": "roles and recipient_fields are empty"}],
        )
    values = data.model_dump(exclude={"filters"})
    values["filters"] = {k: v for k, v in data.filters.stored().items() if k in FILTER_FIELDS}
    return values


def _visible(principal: Principal) -> Any:
    if principal.is_platform_admin:
        return True
    return or_(col(Rule.ambito_code).is_(None), col(Rule.ambito_code).in_(sorted(principal.ambiti)))


async def create(session: AsyncSession, principal: Principal, data: RuleIn) -> Rule:
    check_scope(principal, data.ambito_code)
    existing = (await session.exec(select(Rule).where(Rule.code == data.code))).first()
    if existing is not None:
        raise Conflict(
            f"Esiste già una regola con codice {data.code}",
            f"A rule with code {data.code} already exists",
        )
    rule = Rule(**_values(data), created_by=principal.sub)  # type: ignore[arg-type]
    session.add(rule)
    await session.flush()
    return rule


async def get(session: AsyncSession, principal: Principal, rule_id: uuid.UUID) -> Rule:
    rule = await session.get(Rule, rule_id)
    if rule is None or not (
        principal.is_platform_admin or rule.ambito_code in (None, *principal.ambiti)
    ):
        raise NotFound(f"Regola {rule_id} non trovata", f"Rule {rule_id} not found")
    return rule


async def update(session: AsyncSession, principal: Principal, rule: Rule, data: RuleIn) -> Rule:
    check_scope(principal, rule.ambito_code)
    check_scope(principal, data.ambito_code)
    if data.code != rule.code:
        raise Unprocessable(
            "Il codice di una regola non si cambia",
            "A rule's code cannot change",
            invalid_params=[{"name": "code", "reason": "immutable"}],
        )
    for key, value in _values(data).items():
        setattr(rule, key, value)
    rule.version += 1
    rule.updated_at = utcnow()
    session.add(rule)
    await session.flush()
    return rule


async def delete(session: AsyncSession, principal: Principal, rule: Rule) -> None:
    check_scope(principal, rule.ambito_code)
    if rule.is_default:
        raise Conflict(
            "Le regole predefinite non si eliminano: disattivale (enabled=false)",
            "Default rules cannot be deleted: disable them (enabled=false)",
            code="default-rule",
        )
    await session.delete(rule)


async def search(
    session: AsyncSession,
    principal: Principal,
    *,
    event_type: str | None,
    enabled: bool | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[Rule], int]:
    query = select(Rule).where(_visible(principal))
    if event_type:
        query = query.where(Rule.event_type == event_type)
    if enabled is not None:
        query = query.where(Rule.enabled == enabled)
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)
