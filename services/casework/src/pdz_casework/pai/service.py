"""PAI versions: drafts, approval (one active version, the previous superseded), interventions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.cases import service as cases
from pdz_casework.cases.models import Case, Person
from pdz_casework.pai.models import PaiIntervention, PaiVersion
from pdz_casework.pai.schemas import InterventionOut, PaiIn, PaiOut
from pdz_shared.contracts import casework as contract
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, NotFound
from pdz_shared.listing import paged

DRAFTABLE = frozenset({"evm_scheduled", "assessed", "pai_active"})
APPROVABLE = frozenset({"assessed", "pai_active"})


async def create(session: AsyncSession, actor: str, case: Case, data: PaiIn) -> PaiVersion:
    if case.status not in DRAFTABLE:
        raise Conflict(
            f"Non si può redigere un PAI per un caso in stato {case.status}",
            f"A PAI cannot be drafted for a case in status {case.status}",
            code="illegal-transition",
        )
    last = (
        await session.exec(select(func.max(PaiVersion.number)).where(PaiVersion.case_id == case.id))
    ).one()
    pai = PaiVersion(
        case_id=case.id,
        number=int(last or 0) + 1,
        goals=list(data.goals),
        review_date=data.review_date,
        created_by=actor,
    )
    session.add(pai)
    await session.flush()
    for item in data.interventions:
        session.add(PaiIntervention(pai_id=pai.id, **item.model_dump()))
    cases.touch(case)
    session.add(case)
    return pai


async def get(session: AsyncSession, case: Case, pai_id: uuid.UUID) -> PaiVersion:
    pai = await session.get(PaiVersion, pai_id, with_for_update=True)
    if pai is None or pai.case_id != case.id:
        raise NotFound(f"PAI {pai_id} non trovato", f"PAI {pai_id} not found")
    return pai


async def interventions_of(session: AsyncSession, pai_id: uuid.UUID) -> list[PaiIntervention]:
    rows = await session.exec(
        select(PaiIntervention)
        .where(PaiIntervention.pai_id == pai_id)
        .order_by(col(PaiIntervention.start_date), col(PaiIntervention.type))
    )
    return list(rows.all())


async def active_of(session: AsyncSession, case_id: uuid.UUID) -> PaiVersion | None:
    query = select(PaiVersion).where(PaiVersion.case_id == case_id, PaiVersion.status == "active")
    return (await session.exec(query)).first()


async def list_versions(
    session: AsyncSession, case: Case, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[PaiVersion], int]:
    query = select(PaiVersion).where(PaiVersion.case_id == case.id)
    return await paged(session, query, order_by, limit, offset)


def _same(a: PaiIntervention, b: PaiIntervention) -> bool:
    return a.type == b.type and a.provider == b.provider


async def _intervention_event(
    session: AsyncSession,
    case: Case,
    person: Person,
    type_: str,
    item: PaiIntervention,
    end_date: date | None = None,
) -> None:
    await cases.emit_case_event(
        session,
        contract.PAI_TOPIC,
        type_,
        contract.InterventionChanged(
            **cases.facts(case, person),
            intervention_id=item.lineage_id or item.id,
            intervention_type=item.type,
            funding_source=item.funding_source,
            start_date=item.start_date,
            end_date=end_date if end_date is not None else item.end_date,
        ),
    )


async def approve(session: AsyncSession, actor: str, case: Case, pai: PaiVersion) -> PaiVersion:
    if pai.status != "draft":
        raise Conflict(
            f"Il PAI versione {pai.number} è {pai.status}: si approva solo una bozza",
            f"PAI version {pai.number} is {pai.status}: only a draft can be approved",
            code="pai-not-draft",
        )
    if case.status not in APPROVABLE:
        raise Conflict(
            f"Il caso è in stato {case.status}: il PAI si approva dopo la valutazione",
            f"The case is in status {case.status}: the PAI is approved after the evaluation",
            code="illegal-transition",
        )
    now = utcnow()
    previous = await active_of(session, case.id)
    old_items = await interventions_of(session, previous.id) if previous else []
    new_items = await interventions_of(session, pai.id)
    started: list[PaiIntervention] = []
    for item in new_items:
        match = next((o for o in old_items if _same(o, item)), None)
        item.lineage_id = (match.lineage_id or match.id) if match else item.id
        session.add(item)
        if match is None:
            started.append(item)
    ended = [o for o in old_items if not any(_same(o, n) for n in new_items)]
    if previous is not None:
        previous.status = "superseded"
        previous.superseded_at = now
        previous.version += 1
        session.add(previous)
        await session.flush()  # only one active version at a time (partial unique index)
    pai.status = "active"
    pai.approved_by = actor
    pai.approved_at = now
    pai.version += 1
    session.add(pai)
    if case.status == "assessed":
        await cases.transition(session, actor, case, "pai_active", at=now)
    else:
        cases.touch(case)
        session.add(case)
    person = await cases.get_person(session, case)
    await cases.emit_case_event(
        session,
        contract.PAI_TOPIC,
        contract.PAI_APPROVED,
        contract.PaiApproved(
            **cases.facts(case, person, now),
            pai_id=pai.id,
            version=pai.number,
            approved_at=now,
            intervention_types=sorted({i.type for i in new_items}),
            review_date=pai.review_date,
        ),
    )
    for item in ended:
        await _intervention_event(
            session, case, person, contract.INTERVENTION_ENDED, item, end_date=now.date()
        )
    for item in started:
        await _intervention_event(session, case, person, contract.INTERVENTION_STARTED, item)
    return pai


async def end_all(session: AsyncSession, case: Case) -> None:
    """When a case closes, its active PAI's interventions end."""
    active = await active_of(session, case.id)
    if active is None:
        return
    person = await cases.get_person(session, case)
    today = utcnow().date()
    for item in await interventions_of(session, active.id):
        if item.end_date is None or item.end_date > today:
            await _intervention_event(
                session, case, person, contract.INTERVENTION_ENDED, item, end_date=today
            )


async def to_out(session: AsyncSession, pai: PaiVersion) -> PaiOut:
    items = await interventions_of(session, pai.id)
    return PaiOut.model_validate(
        {
            **pai.model_dump(),
            "interventions": [
                InterventionOut.model_validate(i, from_attributes=True) for i in items
            ],
        }
    )
