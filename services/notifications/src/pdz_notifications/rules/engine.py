"""Which rules apply to an event, and whom they address (generic on type, ambito, payload)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.recipients.models import Recipient
from pdz_notifications.rules.models import Rule

FILTER_FIELDS = ("ambito_code", "comune_code", "pua_level", "source", "severity", "kind", "status")


def matches(filters: dict[str, list[str]], data: dict[str, Any]) -> bool:
    """Every filter field must hold one of its listed values (an empty filter matches all)."""
    for field, allowed in filters.items():
        if not allowed:
            continue
        value = data.get(field)
        if value is None or str(value) not in allowed:
            return False
    return True


async def rules_for(session: AsyncSession, event_type: str, ambito: str | None) -> list[Rule]:
    """Enabled rules of the event type, global or of the event's ambito; critical ones first."""
    scope: Any = col(Rule.ambito_code).is_(None)
    if ambito is not None:
        scope = or_(scope, col(Rule.ambito_code) == ambito)
    rows = await session.exec(
        select(Rule)
        .where(Rule.event_type == event_type, col(Rule.enabled).is_(True), scope)
        .order_by(col(Rule.critical).desc(), col(Rule.created_at))
    )
    return list(rows.all())


async def recipients_for(
    session: AsyncSession, rule: Rule, ambito: str, data: dict[str, Any]
) -> list[Recipient]:
    """Active recipients of the ambito holding one of the rule's roles or named by the payload.

    A subject named in the payload (e.g. the case manager) is notified only if they belong to
    the event's ambito: nobody learns about a case of an ambito they do not work for.
    """
    subs = [str(data[f]) for f in rule.recipient_fields if isinstance(data.get(f), str)]
    who = []
    if rule.roles:
        who.append(Recipient.__table__.c.roles.overlap(rule.roles))  # type: ignore[attr-defined]
    if subs:
        who.append(col(Recipient.sub).in_(subs))
    if not who:
        return []
    rows = await session.exec(
        select(Recipient)
        .where(
            col(Recipient.active).is_(True),
            col(Recipient.ambiti).contains([ambito]),
            or_(*who),
        )
        .order_by(col(Recipient.sub))
    )
    return list(rows.all())
