"""SLA deadlines of a case: opened when a step starts, met when it ends."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.sla.models import SlaDeadline, SlaPolicy
from pdz_shared.db import utcnow

HOURS_FIELD = {
    "first_contact": "first_contact_hours",
    "triage": "triage_hours",
    "evm": "evm_hours",
    "pai": "pai_hours",
}


async def policy_for(session: AsyncSession, ambito_code: str) -> SlaPolicy:
    """The Ambito's policy (or the defaults), read once per transaction: opening a case from a
    discharge needs it three times, and a missing row is not cached by the identity map."""
    known: dict[str, SlaPolicy] = session.info.setdefault("sla_policies", {})
    policy = known.get(ambito_code)
    if policy is None:
        policy = await session.get(SlaPolicy, ambito_code)
        if policy is None:
            policy = SlaPolicy(ambito_code=ambito_code)
        known[ambito_code] = policy
    return policy


_UPSERT = text("""
    INSERT INTO sla_deadline (id, case_id, ambito_code, kind, due_at, created_at)
    VALUES (:id, :case_id, :ambito, :kind, :due_at, now())
    ON CONFLICT (case_id, kind) DO UPDATE SET
        due_at = EXCLUDED.due_at,
        due_soon_sent_at = CASE WHEN sla_deadline.due_at = EXCLUDED.due_at
                                THEN sla_deadline.due_soon_sent_at END,
        breached_sent_at = CASE WHEN sla_deadline.due_at = EXCLUDED.due_at
                                THEN sla_deadline.breached_sent_at END
""")


async def set_deadline(
    session: AsyncSession, case_id: uuid.UUID, ambito_code: str, kind: str, due_at: datetime
) -> None:
    """Opens (or moves) a deadline; a moved deadline may warn again (a met one stays met)."""
    await session.execute(
        _UPSERT,
        {
            "id": uuid.uuid4(),
            "case_id": case_id,
            "ambito": ambito_code,
            "kind": kind,
            "due_at": due_at,
        },
    )


async def start_step(
    session: AsyncSession, case_id: uuid.UUID, ambito_code: str, kind: str, start: datetime
) -> None:
    policy = await policy_for(session, ambito_code)
    hours = int(getattr(policy, HOURS_FIELD[kind]))
    await set_deadline(session, case_id, ambito_code, kind, start + timedelta(hours=hours))


async def meet(
    session: AsyncSession, case_id: uuid.UUID, kinds: Iterable[str] | None = None
) -> None:
    query = select(SlaDeadline).where(
        SlaDeadline.case_id == case_id, col(SlaDeadline.met_at).is_(None)
    )
    if kinds is not None:
        query = query.where(col(SlaDeadline.kind).in_(list(kinds)))
    now = utcnow()
    for row in (await session.exec(query)).all():
        row.met_at = now
        session.add(row)


async def deadlines_of(session: AsyncSession, case_id: uuid.UUID) -> list[SlaDeadline]:
    rows = await session.exec(
        select(SlaDeadline).where(SlaDeadline.case_id == case_id).order_by(col(SlaDeadline.due_at))
    )
    return list(rows.all())
