"""Consent records: append-only grants and withdrawals per purpose."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.cases.models import Case
from pdz_casework.consent.models import ConsentRecord
from pdz_casework.consent.schemas import ConsentIn, ConsentOut
from pdz_shared.errors import Conflict
from pdz_shared.listing import paged


async def history(session: AsyncSession, case: Case) -> list[ConsentRecord]:
    rows = await session.exec(
        select(ConsentRecord)
        .where(ConsentRecord.case_id == case.id)
        .order_by(col(ConsentRecord.id))
    )
    return list(rows.all())


async def history_page(
    session: AsyncSession, case: Case, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[ConsentOut], int]:
    """A page of the case's consents; ``current`` marks the latest record of each purpose."""
    query = select(ConsentRecord).where(ConsentRecord.case_id == case.id)
    rows, total = await paged(session, query, order_by, limit, offset)
    latest = await session.exec(
        select(ConsentRecord.purpose, func.max(col(ConsentRecord.id)))
        .where(ConsentRecord.case_id == case.id)
        .group_by(col(ConsentRecord.purpose))
    )
    last = dict(latest.all())
    out = [
        ConsentOut.model_validate({**r.model_dump(), "current": last.get(r.purpose) == r.id})
        for r in rows
    ]
    return out, total


async def record(session: AsyncSession, actor: str, case: Case, data: ConsentIn) -> ConsentRecord:
    past = [r for r in await history(session, case) if r.purpose == data.purpose]
    if data.state == "withdrawn" and (not past or past[-1].state != "granted"):
        raise Conflict(
            f"Nessun consenso in vigore per la finalità {data.purpose}",
            f"No consent in force for purpose {data.purpose}",
            code="consent-not-granted",
        )
    row = ConsentRecord(
        case_id=case.id,
        person_id=case.person_id,
        purpose=data.purpose,
        recipients=list(data.recipients),
        legal_basis=data.legal_basis,
        state=data.state,
        note=data.note,
        recorded_by=actor,
    )
    session.add(row)
    await session.flush()
    return row
