"""Turning an event into deliveries: rules, recipients and channels, then webhooks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import func, or_, text
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
from pdz_shared.wakeup import notify_after_commit

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


@dataclass
class _Row:
    """A delivery to insert, with what to do once it exists."""

    values: dict[str, Any]
    digest_minutes: int | None  # set: the delivery waits in a digest of this window


# Every delivery of a group of events in one statement: one array per column, a statement text
# that never changes (prepared once per connection, whatever the number of rows).
_INSERT_MANY = text("""
    INSERT INTO delivery (id, event_id, event_type, ambito_code, recipient, channel, rule_id,
        webhook_id, critical, status, language, address, subject, body, payload, last_error,
        attempts, next_attempt_at, created_at, updated_at)
    SELECT r.id, r.event_id, r.event_type, r.ambito_code, r.recipient, r.channel, r.rule_id,
        r.webhook_id, r.critical, r.status, r.language, r.address, r.subject, r.body,
        CAST(r.payload AS jsonb), r.last_error, 0, r.at, r.at, r.at
    FROM unnest(CAST(:id AS uuid[]), CAST(:event_id AS text[]), CAST(:event_type AS text[]),
        CAST(:ambito_code AS text[]), CAST(:recipient AS text[]), CAST(:channel AS text[]),
        CAST(:rule_id AS uuid[]), CAST(:webhook_id AS uuid[]), CAST(:critical AS boolean[]),
        CAST(:status AS text[]), CAST(:language AS text[]), CAST(:address AS text[]),
        CAST(:subject AS text[]), CAST(:body AS text[]), CAST(:payload AS text[]),
        CAST(:last_error AS text[]), CAST(:at AS timestamptz[]))
        AS r(id, event_id, event_type, ambito_code, recipient, channel, rule_id, webhook_id,
             critical, status, language, address, subject, body, payload, last_error, at)
    ON CONFLICT ON CONSTRAINT uq_delivery_once DO NOTHING
    RETURNING id
""")
_COLUMNS = (
    "event_id",
    "event_type",
    "ambito_code",
    "recipient",
    "channel",
    "rule_id",
    "webhook_id",
    "critical",
    "status",
    "language",
    "address",
    "subject",
    "body",
    "last_error",
)


async def _insert_many(session: AsyncSession, rows: list[_Row]) -> dict[uuid.UUID, _Row]:
    """One INSERT for all the deliveries; the rows that already existed are left out."""
    if not rows:
        return {}
    by_id = {uuid.uuid4(): r for r in rows}
    params: dict[str, list[Any]] = {c: [r.values.get(c) for r in rows] for c in _COLUMNS}
    params["id"] = list(by_id)
    params["payload"] = [
        None if r.values.get("payload") is None else json.dumps(r.values["payload"]) for r in rows
    ]
    params["at"] = [r.values["created_at"] for r in rows]
    result = await session.execute(_INSERT_MANY, params)
    created = {uuid.UUID(str(r[0])) for r in result.all()}
    return {i: r for i, r in by_id.items() if i in created}


async def plan(session: AsyncSession, event: CloudEvent) -> Planned:
    """Creates the deliveries of ``event`` in the caller's transaction (exactly once each)."""
    return (await plan_many(session, [event]))[0]


async def plan_many(session: AsyncSession, events: list[CloudEvent]) -> list[Planned]:
    """Creates the deliveries of several events in the caller's transaction (exactly once
    each): one INSERT for all their deliveries (the dispatcher woken at commit). Rules, recipients,
    preferences, webhooks and templates are read once per session: the consumer handles a
    group of events in one session (one transaction), as if they had all arrived at its
    start."""
    memo: dict[Any, Any] = session.info.setdefault("pdz_plan_memo", {})
    results = [Planned() for _ in events]
    planned: list[tuple[Planned, _Row]] = []
    for event, result in zip(events, results, strict=True):
        data = event.data
        ambito = data.get("ambito_code") if isinstance(data.get("ambito_code"), str) else None
        seen: set[tuple[str, str]] = set()
        cache = TemplateCache(templates=memo.setdefault("templates", {}))
        if ambito is not None:
            if ("rules", event.type, ambito) not in memo:
                memo[("rules", event.type, ambito)] = await rules_for(session, event.type, ambito)
            for rule in memo[("rules", event.type, ambito)]:
                if not matches(rule.filters, data):
                    continue
                for row in await _plan_rule(session, event, rule, ambito, seen, cache, memo):
                    planned.append((result, row))
        if ("webhooks", event.type, ambito) not in memo:
            memo[("webhooks", event.type, ambito)] = await _webhooks(session, event, ambito)
        for hook in memo[("webhooks", event.type, ambito)]:
            planned.append((result, _webhook_row(event, ambito, hook)))
    result_of = {id(row): result for result, row in planned}
    created = await _insert_many(session, [row for _, row in planned])
    for delivery_id, row in created.items():
        result = result_of[id(row)]
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
    if any(r.created for r in results):
        notify_after_commit(session, NOTIFY_CHANNEL)
    return results


async def _plan_rule(
    session: AsyncSession,
    event: CloudEvent,
    rule: Rule,
    ambito: str,
    seen: set[tuple[str, str]],
    cache: TemplateCache,
    memo: dict[Any, Any],
) -> list[_Row]:
    planned: list[_Row] = []
    subs = tuple(
        str(event.data[f]) for f in rule.recipient_fields if isinstance(event.data.get(f), str)
    )
    key = ("recipients", rule.id, ambito, subs)
    if key not in memo:
        memo[key] = await recipients_for(session, rule, ambito, event.data)
    recipients: list[Recipient] = memo[key]
    prefs = ("opted_out", event.type, tuple(r.sub for r in recipients))
    if prefs not in memo:
        memo[prefs] = await _opted_out(session, [r.sub for r in recipients], event.type)
    opted_out: set[tuple[str, str]] = memo[prefs]
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


def _webhook_row(event: CloudEvent, ambito: str | None, hook: Webhook) -> _Row:
    return _Row(
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
        None,
    )


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
    notify_after_commit(session, NOTIFY_CHANNEL)
    return delivery
