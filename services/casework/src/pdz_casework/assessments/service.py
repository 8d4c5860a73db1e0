"""Triage (Scheda Unica di Triage) and EVM/UVM evaluations, with their events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.assessments.models import Evaluation, Triage
from pdz_casework.assessments.schemas import (
    HEALTH_ITEMS,
    SOCIAL_ITEMS,
    EvmCompleteIn,
    EvmOut,
    EvmScheduleIn,
    TeamFlags,
    TeamMember,
    TriageIn,
)
from pdz_casework.cases import service as cases
from pdz_casework.cases.models import Case
from pdz_shared.contracts import casework as contract
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, NotFound, Unprocessable
from pdz_shared.listing import paged

# ------------------------------------------------------------------ triage


def score(answers: dict[str, int]) -> tuple[int, int, str]:
    """Health score, social score and outcome of a Scheda Unica di Triage.

    The need is complex when the total reaches 6, or when both sides are at least 2 (a need that
    is both health and social is what the EVM exists for); otherwise it is simple.
    """
    health = sum(answers[i] for i in HEALTH_ITEMS)
    social = sum(answers[i] for i in SOCIAL_ITEMS)
    complex_ = health + social >= 6 or (health >= 2 and social >= 2)
    return health, social, "complex" if complex_ else "simple"


async def triage(session: AsyncSession, actor: str, case: Case, data: TriageIn) -> Triage:
    answers: dict[str, int] = {}
    problems = []
    for i, a in enumerate(data.answers):
        if a.item in answers:
            problems.append({"name": f"answers.{i}.item", "reason": f"duplicate item {a.item}"})
        answers[a.item] = a.value
    for item in (*HEALTH_ITEMS, *SOCIAL_ITEMS):
        if item not in answers:
            problems.append({"name": "answers", "reason": f"missing item {item}"})
    if problems:
        raise Unprocessable(
            "La scheda di triage è incompleta o ripete delle voci",
            "The triage form is incomplete or repeats items",
            invalid_params=problems,
        )
    health, social, outcome = score(answers)
    now = utcnow()
    case.pua_level = "back_office_2" if outcome == "complex" else "back_office_1"
    await cases.transition(session, actor, case, "triaged", at=now)
    record = Triage(
        case_id=case.id,
        answers=answers,
        health_score=health,
        social_score=social,
        total_score=health + social,
        outcome=outcome,
        notes=data.notes,
        by_sub=actor,
        triaged_at=now,
    )
    session.add(record)
    person = await cases.get_person(session, case)
    await cases.emit_case_event(
        session,
        contract.CASE_TOPIC,
        contract.CASE_TRIAGED,
        contract.CaseTriaged(
            **cases.facts(case, person, now),
            outcome=outcome,
            triaged_at=now,
        ),
    )
    return record


async def get_triage(session: AsyncSession, case: Case) -> Triage:
    record = await session.get(Triage, case.id)
    if record is None:
        raise NotFound("Il caso non ha ancora un triage", "The case has no triage yet")
    return record


# ------------------------------------------------------------------ EVM / UVM

SCHEDULABLE = frozenset(
    {"triaged", "simple_service_activated", "evm_scheduled", "assessed", "pai_active"}
)


def team_flags(team: list[TeamMember]) -> TeamFlags:
    return TeamFlags(
        has_ambito_social_worker=any(
            m.profession == "assistente_sociale" and m.employer in ("comune", "ambito")
            for m in team
        ),
        has_asst_staff=any(m.employer == "asst" for m in team),
        size=len(team),
    )


async def schedule(
    session: AsyncSession, actor: str, case: Case, data: EvmScheduleIn
) -> Evaluation:
    if case.status not in SCHEDULABLE:
        raise Conflict(
            f"Non si può programmare una valutazione per un caso in stato {case.status}",
            f"An evaluation cannot be scheduled for a case in status {case.status}",
            code="illegal-transition",
        )
    evm = Evaluation(
        case_id=case.id,
        kind=data.kind,
        scheduled_for=data.scheduled_for,
        place=data.place,
        scheduled_by=actor,
    )
    session.add(evm)
    await session.flush()
    if case.status in ("triaged", "simple_service_activated"):
        await cases.transition(session, actor, case, "evm_scheduled")
    else:
        cases.touch(case)
        session.add(case)
    person = await cases.get_person(session, case)
    await cases.emit_case_event(
        session,
        contract.EVM_TOPIC,
        contract.EVM_SCHEDULED,
        contract.EvmScheduled(
            **cases.facts(case, person),
            evm_id=evm.id,
            scheduled_for=evm.scheduled_for,
            kind=data.kind,
        ),
    )
    return evm


async def get_evm(session: AsyncSession, case: Case, evm_id: uuid.UUID) -> Evaluation:
    evm = await session.get(Evaluation, evm_id, with_for_update=True)
    if evm is None or evm.case_id != case.id:
        raise NotFound(f"Valutazione {evm_id} non trovata", f"Evaluation {evm_id} not found")
    return evm


async def list_evm(
    session: AsyncSession, case: Case, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[Evaluation], int]:
    query = select(Evaluation).where(Evaluation.case_id == case.id)
    return await paged(session, query, order_by, limit, offset)


async def complete(
    session: AsyncSession, actor: str, case: Case, evm: Evaluation, data: EvmCompleteIn
) -> Evaluation:
    if evm.status == "completed":
        raise Conflict(
            "La valutazione è già stata completata",
            "The evaluation is already completed",
            code="evaluation-completed",
        )
    if case.status in cases.FINAL or (
        evm.kind == "multidimensional" and case.status != "evm_scheduled"
    ):
        raise Conflict(
            f"Il caso è in stato {case.status}: la valutazione multidimensionale non può "
            "concludersi",
            f"The case is in status {case.status}: the multidimensional evaluation cannot end",
            code="illegal-transition",
        )
    evm.status = "completed"
    evm.evaluated_at = data.evaluated_at
    evm.team = [m.model_dump(mode="json") for m in data.team]
    evm.instruments = [i.model_dump(mode="json") for i in data.instruments]
    evm.dimensions = data.dimensions.model_dump(mode="json")
    evm.outcome = data.outcome
    evm.non_self_sufficiency_level = data.non_self_sufficiency_level
    evm.completed_by = actor
    evm.version += 1
    evm.updated_at = utcnow()
    session.add(evm)
    if evm.kind == "multidimensional":
        await cases.transition(session, actor, case, "assessed")
    person = await cases.get_person(session, case)
    flags = team_flags(data.team)
    await cases.emit_case_event(
        session,
        contract.EVM_TOPIC,
        contract.EVM_COMPLETED,
        contract.EvmCompleted(
            **cases.facts(case, person),
            evm_id=evm.id,
            evaluated_at=data.evaluated_at,
            kind=evm.kind,
            team=contract.TeamComposition(
                has_ambito_social_worker=flags.has_ambito_social_worker,
                has_asst_staff=flags.has_asst_staff,
                professions=sorted({m.profession for m in data.team}),
                size=flags.size,
            ),
            non_self_sufficiency_level=data.non_self_sufficiency_level,
            outcome=data.outcome,
        ),
    )
    return evm


def evm_out(evm: Evaluation) -> EvmOut:
    team = [TeamMember.model_validate(m) for m in evm.team]
    return EvmOut.model_validate(
        {
            **evm.model_dump(),
            "team": team,
            "team_flags": team_flags(team),
            "dimensions": evm.dimensions or None,
        }
    )
