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
from datetime import datetime

import structlog
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.cases import service as cases
from pdz_casework.cases.models import Case
from pdz_shared.contracts import casework as contract
from pdz_shared.db import SessionFactory, utcnow

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


async def _notify(
    session: AsyncSession,
    which: str,
    sla_id: uuid.UUID,
    case_id: uuid.UUID,
    kind: str,
    due_at: datetime,
    now: datetime,
) -> None:
    case = await session.get(Case, case_id)
    assert case is not None
    person = await cases.get_person(session, case)
    await session.execute(_MARK[which], {"id": sla_id, "now": now})
    await cases.emit_case_event(
        session,
        contract.SLA_TOPIC,
        contract.SLA_BREACHED if which == "breached" else contract.SLA_DUE_SOON,
        contract.SlaEvent(
            **cases.facts(case, person, now), sla_id=sla_id, kind=kind, due_at=due_at
        ),
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
                for sla_id, case_id, kind, due_at in rows:
                    await _notify(session, which, sla_id, case_id, kind, due_at, at)
                await session.commit()
            emitted += len(rows)
            if len(rows) < limit:
                break
    return emitted


class SlaScheduler:
    """A worker task of casework (it consumes no topic): one pass every ``interval`` seconds."""

    name = "casework.sla-scheduler"
    topics: list[str] = []

    def __init__(self, factory: SessionFactory, interval: float = 30.0) -> None:
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
