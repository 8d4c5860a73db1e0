"""Turning an event into deliveries: rules, recipients and channels, then webhooks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import func, or_, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.deliveries.models import Delivery, DeliveryAttempt
from pdz_notifications.digests import service as digests
from pdz_notifications.preferences.models import Preference
from pdz_notifications.recipients.models import Recipient
from pdz_notifications.rules.engine import matches, recipients_for, rules_for
from pdz_notifications.rules.models import Rule
from pdz_notifications.templates.lookup import TemplateCache, render_message
from pdz_notifications.webhooks.models import Webhook
from pdz_shared.auth import Principal
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, NotFound
from pdz_shared.events.cloudevents import CloudEvent

log = structlog.get_logger("pdz.notifications")

NOTIFY_CHANNEL = "pdz_deliveries"
RULE_CHANNELS = ("email", "inbox")


@dataclass
class Planned:
    created: int = 0
    skipped: int = 0
    digested: int = 0


def _context(event: CloudEvent, recipient: Recipient | None) -> dict[str, Any]:
    return {
        "event": {
            "id": event.id,
            "type": event.type,
            "source": event.source,
            "subject": event.subject,
            "time": event.time.isoformat(),
        },
        "data": event.data,
        "ambito": event.data.get("ambito_code"),
        "recipient": {"sub": recipient.sub, "language": recipient.language} if recipient else {},
    }


async def _opted_out(
    session: AsyncSession, subs: list[str], event_type: str
) -> set[tuple[str, str]]:
    """(sub, channel) pairs that turned this event type (or every type) off."""
    if not subs:
        return set()
    rows = await session.exec(
        select(Preference).where(
            col(Preference.recipient_sub).in_(subs),
            col(Preference.event_type).in_([event_type, "*"]),
        )
    )
    specific: dict[tuple[str, str], bool] = {}
    general: dict[tuple[str, str], bool] = {}
    for p in rows.all():
        target = specific if p.event_type == event_type else general
        target[(p.recipient_sub, p.channel)] = p.enabled
    return {k for k in {*specific, *general} if not specific.get(k, general.get(k, True))}


async def _insert(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    stmt = (
        insert(Delivery)
        .values(id=uuid.uuid4(), **values)
        .on_conflict_do_nothing(constraint="uq_delivery_once")
        .returning(col(Delivery.id))
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else uuid.UUID(str(row[0]))


@dataclass
class _Row:
    """A delivery to insert, with what to do once it exists."""

    values: dict[str, Any]
    digest_minutes: int | None  # set: the delivery waits in a digest of this window


async def _insert_many(session: AsyncSession, rows: list[_Row]) -> dict[uuid.UUID, _Row]:
    """One INSERT for all the event's deliveries; the rows that already existed are left out."""
    if not rows:
        return {}
    by_id = {uuid.uuid4(): r for r in rows}
    # executemany with RETURNING: SQLAlchemy sends it as one INSERT ... VALUES (...), (...)
    # ("insertmanyvalues") from a statement compiled once, not once per row count.
    stmt = (
        insert(Delivery)
        .on_conflict_do_nothing(constraint="uq_delivery_once")
        .returning(col(Delivery.id))
    )
    result = await session.execute(stmt, [{"id": i, **r.values} for i, r in by_id.items()])
    created = {uuid.UUID(str(r[0])) for r in result.all()}
    return {i: r for i, r in by_id.items() if i in created}


async def plan(session: AsyncSession, event: CloudEvent) -> Planned:
    """Creates the deliveries of ``event`` in the caller's transaction (exactly once each)."""
    result = Planned()
    data = event.data
    ambito = data.get("ambito_code") if isinstance(data.get("ambito_code"), str) else None
    seen: set[tuple[str, str]] = set()
    # Rules, webhooks and templates are read once per session: the consumer handles a group
    # of events in one session (one transaction), as if they had all arrived at its start.
    memo: dict[Any, Any] = session.info.setdefault("pdz_plan_memo", {})
    cache = TemplateCache(templates=memo.setdefault("templates", {}))
    planned: list[_Row] = []
    if ambito is not None:
        if ("rules", event.type, ambito) not in memo:
            memo[("rules", event.type, ambito)] = await rules_for(session, event.type, ambito)
        for rule in memo[("rules", event.type, ambito)]:
            if not matches(rule.filters, data):
                continue
            planned += await _plan_rule(session, event, rule, ambito, seen, cache)
    for delivery_id, row in (await _insert_many(session, planned)).items():
        if row.digest_minutes is not None:
            digest_id = await digests.add(
                session, row.values["recipient"], row.values["channel"], row.digest_minutes
            )
            await session.execute(
                text("UPDATE delivery SET digest_id = :d WHERE id = :id"),
                {"d": digest_id, "id": delivery_id},
            )
            result.digested += 1
        elif row.values["status"] == "skipped":
            result.skipped += 1
        else:
            result.created += 1
    await _plan_webhooks(session, event, ambito, result, memo)
    if result.created:
        await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return result


async def _plan_rule(
    session: AsyncSession,
    event: CloudEvent,
    rule: Rule,
    ambito: str,
    seen: set[tuple[str, str]],
    cache: TemplateCache,
) -> list[_Row]:
    planned: list[_Row] = []
    recipients = await recipients_for(session, rule, ambito, event.data)
    opted_out = await _opted_out(session, [r.sub for r in recipients], event.type)
    for recipient in recipients:
        for channel in rule.channels:
            if channel not in RULE_CHANNELS or (recipient.sub, channel) in seen:
                continue
            seen.add((recipient.sub, channel))
            status, reason = "pending", None
            if not rule.critical and (recipient.sub, channel) in opted_out:
                status, reason = "skipped", "opted-out"
            elif channel == "email" and not recipient.email:
                status, reason = "skipped", "no e-mail address"
            digest = (
                status == "pending"
                and channel == "email"
                and not rule.critical
                and rule.digest_minutes is not None
            )
            message = await render_message(
                session,
                rule.template_key,
                channel,
                recipient.language,
                _context(event, recipient),
                cache,
            )
            planned.append(
                _Row(
                    {
                        "event_id": event.id,
                        "event_type": event.type,
                        "ambito_code": ambito,
                        "recipient": recipient.sub,
                        "channel": channel,
                        "rule_id": rule.id,
                        "critical": rule.critical,
                        "status": "digested" if digest else status,
                        "language": recipient.language,
                        "address": recipient.email if channel == "email" else None,
                        "subject": message.subject,
                        "body": message.body,
                        "last_error": reason,
                        "next_attempt_at": utcnow(),
                        "created_at": utcnow(),
                        "updated_at": utcnow(),
                    },
                    rule.digest_minutes if digest else None,
                )
            )
    return planned


async def _plan_webhooks(
    session: AsyncSession,
    event: CloudEvent,
    ambito: str | None,
    result: Planned,
    memo: dict[Any, Any],
) -> None:
    if ("webhooks", event.type, ambito) not in memo:
        memo[("webhooks", event.type, ambito)] = await _webhooks(session, event, ambito)
    for hook in memo[("webhooks", event.type, ambito)]:
        delivery_id = await _insert(
            session,
            {
                "event_id": event.id,
                "event_type": event.type,
                "ambito_code": ambito,
                "recipient": f"webhook:{hook.id}",
                "channel": "webhook",
                "webhook_id": hook.id,
                "critical": False,
                "status": "pending",
                "language": "it",
                "address": hook.url,
                "payload": event.structured(),
                "next_attempt_at": utcnow(),
                "created_at": utcnow(),
                "updated_at": utcnow(),
            },
        )
        if delivery_id is not None:
            result.created += 1


async def _webhooks(session: AsyncSession, event: CloudEvent, ambito: str | None) -> list[Webhook]:
    scope: Any = col(Webhook.ambito_code).is_(None)
    if ambito is not None:
        scope = or_(scope, col(Webhook.ambito_code) == ambito)
    hooks = await session.exec(
        select(Webhook).where(
            col(Webhook.active).is_(True),
            scope,
            or_(
                col(Webhook.event_types).contains([event.type]),
                col(Webhook.event_types).contains(["*"]),
            ),
        )
    )
    return list(hooks.all())


# ------------------------------------------------------------------ reading and retrying


def _visible(principal: Principal) -> Any:
    if principal.is_platform_admin:
        return True
    return col(Delivery.ambito_code).in_(sorted(principal.ambiti))


async def search(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    channel: str | None,
    event_type: str | None,
    recipient: str | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[Delivery], int]:
    query = select(Delivery).where(_visible(principal))
    if status:
        query = query.where(Delivery.status == status)
    if channel:
        query = query.where(Delivery.channel == channel)
    if event_type:
        query = query.where(Delivery.event_type == event_type)
    if recipient:
        query = query.where(Delivery.recipient == recipient)
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)


async def get(session: AsyncSession, principal: Principal, delivery_id: uuid.UUID) -> Delivery:
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None or not (
        principal.is_platform_admin or delivery.ambito_code in principal.ambiti
    ):
        raise NotFound(f"Consegna {delivery_id} non trovata", f"Delivery {delivery_id} not found")
    return delivery


async def attempts(session: AsyncSession, delivery_id: uuid.UUID) -> list[DeliveryAttempt]:
    rows = await session.exec(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(col(DeliveryAttempt.id))
    )
    return list(rows.all())


async def retry(session: AsyncSession, principal: Principal, delivery_id: uuid.UUID) -> Delivery:
    """A failed delivery goes back to pending, with a fresh attempt budget."""
    delivery = await get(session, principal, delivery_id)
    await session.refresh(delivery, with_for_update=True)
    if delivery.status != "failed":
        raise Conflict(
            f"Si può ritentare solo una consegna fallita (stato attuale: {delivery.status})",
            f"Only a failed delivery can be retried (current status: {delivery.status})",
            code="delivery-not-failed",
        )
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.lease_until = None
    delivery.updated_at = utcnow()
    session.add(delivery)
    await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return delivery
