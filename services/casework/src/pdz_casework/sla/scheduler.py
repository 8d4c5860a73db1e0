"""The durable SLA scheduler: sla.due-soon and sla.breached, each exactly once per deadline.

Each pass claims due rows with ``FOR UPDATE SKIP LOCKED``, sets the flag and writes the event to
the outbox in the same transaction: a crash before the commit leaves the row unflagged (it is
claimed again after a restart), a commit makes flag and event permanent together, and a second
scheduler running at the same time skips the locked rows. Nothing lives in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy import select, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.cases import service as cases
from pdz_casework.cases.models import Case, Person
from pdz_shared.contracts import casework as contract
from pdz_shared.db import SessionFactory, utcnow
from pdz_shared.events.outbox import emit_many

_CLAIM_BREACHED = text("""
    SELECT d.id, d.case_id, d.kind, d.due_at FROM sla_deadline d
    WHERE d.met_at IS NULL AND d.breached_sent_at IS NULL AND d.due_at <= :now
    ORDER BY d.due_at LIMIT :limit
    FOR UPDATE OF d SKIP LOCKED
""")
_CLAIM_DUE_SOON = text("""
    SELECT d.id, d.case_id, d.kind, d.due_at FROM sla_deadline d
    LEFT JOIN sla_policy p ON p.ambito_code = d.ambito_code
    WHERE d.met_at IS NULL AND d.due_soon_sent_at IS NULL AND d.breached_sent_at IS NULL
      AND d.due_at > :now
      AND d.due_at <= :now + make_interval(hours => COALESCE(p.due_soon_hours, 24))
    ORDER BY d.due_at LIMIT :limit
    FOR UPDATE OF d SKIP LOCKED
""")
_MARK = {
    "breached": text(
        "UPDATE sla_deadline SET breached_sent_at = :now, "
        "due_soon_sent_at = COALESCE(due_soon_sent_at, :now) WHERE id = :id"
    ),
    "due_soon": text("UPDATE sla_deadline SET due_soon_sent_at = :now WHERE id = :id"),
}


Claimed = tuple[uuid.UUID, uuid.UUID, str, datetime]  # deadline id, case id, kind, due at


async def _notify(
    session: AsyncSession, which: str, rows: Sequence[Claimed], now: datetime
) -> None:
    """Flags the claimed deadlines and writes their events: one statement each for the cases
    and their people, the flags and the outbox, whatever the number of rows."""
    ids = {case_id for _, case_id, _, _ in rows}
    found = await session.execute(
        select(Case, Person)
        .join(Person, col(Person.id) == col(Case.person_id))
        .where(col(Case.id).in_(ids))
    )
    people = {case.id: (case, person) for case, person in found.all()}
    await session.execute(_MARK[which], [{"id": sla_id, "now": now} for sla_id, *_ in rows])
    type_ = contract.SLA_BREACHED if which == "breached" else contract.SLA_DUE_SOON
    await emit_many(
        session,
        [
            cases.case_event(
                contract.SLA_TOPIC,
                type_,
                contract.SlaEvent(
                    **cases.facts(*people[case_id], now), sla_id=sla_id, kind=kind, due_at=due_at
                ),
            )
            for sla_id, case_id, kind, due_at in rows
        ],
    )


async def run_pass(
    factory: SessionFactory, *, now: datetime | None = None, limit: int = 200
) -> int:
    """One scheduling pass; returns how many notices it emitted."""
    emitted = 0
    for which, claim in (("breached", _CLAIM_BREACHED), ("due_soon", _CLAIM_DUE_SOON)):
        while True:
            async with factory() as session:
                at = now or utcnow()
                rows = (await session.execute(claim, {"now": at, "limit": limit})).all()
                if rows:
                    await _notify(session, which, [(r[0], r[1], r[2], r[3]) for r in rows], at)
                await session.commit()
            emitted += len(rows)
            if len(rows) < limit:
                break
    return emitted


class SlaScheduler:
    """A worker task of casework (it consumes no topic): one pass every ``interval`` seconds
    (``PDZ_CASEWORK_SLA_INTERVAL_SECONDS``)."""

    name = "casework.sla-scheduler"
    topics: list[str] = []

    def __init__(self, factory: SessionFactory, interval: float) -> None:
        self.factory = factory
        self.interval = interval
        self.log = structlog.get_logger("pdz.sla").bind(task=self.name)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                emitted = await run_pass(self.factory)
                if emitted:
                    self.log.info("sla.notices", emitted=emitted)
            except Exception as exc:  # a database hiccup: try again at the next tick
                self.log.warning("sla.pass_failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await stop.wait()
