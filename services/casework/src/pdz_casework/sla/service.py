"""SLA deadlines of a case: opened when a step starts, met when it ends."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
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
    """The Ambito's policy (or the defaults), read once per transaction."""
    return (await policies_for(session, [ambito_code]))[ambito_code]


async def policies_for(session: AsyncSession, ambiti: Iterable[str]) -> dict[str, SlaPolicy]:
    """The policies of the ambiti (defaults where an ambito has none), read with one query and
    kept for the rest of the transaction (a missing row is not cached by the identity map)."""
    known: dict[str, SlaPolicy] = session.info.setdefault("sla_policies", {})
    missing = sorted(set(ambiti) - set(known))
    if missing:
        rows = await session.exec(select(SlaPolicy).where(col(SlaPolicy.ambito_code).in_(missing)))
        found = {p.ambito_code: p for p in rows.all()}
        for code in missing:
            known[code] = found.get(code) or SlaPolicy(ambito_code=code)
    return known


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


Deadline = tuple[uuid.UUID, str, str, datetime]  # case, ambito, kind, due at


async def set_deadlines(session: AsyncSession, deadlines: Sequence[Deadline]) -> None:
    """Opens (or moves) deadlines; a moved deadline may warn again (a met one stays met)."""
    if deadlines:
        await session.execute(
            _UPSERT,
            [
                {"id": uuid.uuid4(), "case_id": c, "ambito": a, "kind": k, "due_at": due}
                for c, a, k, due in deadlines
            ],
        )


async def set_deadline(
    session: AsyncSession, case_id: uuid.UUID, ambito_code: str, kind: str, due_at: datetime
) -> None:
    await set_deadlines(session, [(case_id, ambito_code, kind, due_at)])


async def start_steps(
    session: AsyncSession,
    steps: Sequence[Deadline],
    met: dict[uuid.UUID, list[str]] | None = None,
) -> None:
    """Starts steps (case, ambito, kind, start): each deadline is its start plus the hours of
    the ambito's policy; ``met`` lists steps already done at their start (per case)."""
    policies = await policies_for(session, {a for _, a, _, _ in steps})
    await set_deadlines(
        session,
        [
            (c, a, k, start + timedelta(hours=int(getattr(policies[a], HOURS_FIELD[k]))))
            for c, a, k, start in steps
        ],
    )
    for case_id, kinds in (met or {}).items():
        await meet(session, case_id, kinds)


async def start_step(
    session: AsyncSession, case_id: uuid.UUID, ambito_code: str, kind: str, start: datetime
) -> None:
    await start_steps(session, [(case_id, ambito_code, kind, start)])


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
