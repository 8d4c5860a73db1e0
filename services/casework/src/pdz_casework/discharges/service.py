"""Dimissioni protette: one code path for the HTTP and the Kafka channel.

Idempotent on (sending organization, encounter identifier): the same bundle again changes
nothing; a changed planned date moves the case's discharge deadline; an Encounter ``cancelled``
closes the case it opened, if that is still pending.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.cases import service as cases
from pdz_casework.cases.models import Case, Person
from pdz_casework.cases.schemas import CaseIn, PersonIn
from pdz_casework.discharges import fhir
from pdz_casework.discharges.models import CareTransition, CaseTask, Discharge
from pdz_casework.discharges.schemas import TransitionIn
from pdz_casework.sla import service as sla
from pdz_shared.contracts import casework as contract
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, Forbidden, NotFound, PdzError, Unprocessable
from pdz_shared.events.inbox import PermanentEventError
from pdz_shared.http import body_hash

ROME = ZoneInfo("Europe/Rome")
STEPS = (
    (1, "identificazione_paziente_fragile", "Identificazione del paziente fragile"),
    (2, "valutazione_bisogno_complessita", "Valutazione del bisogno e definizione complessità"),
    (3, "modello_dimissioni_cot", "Sviluppo modello organizzativo Dimissioni protette - COT"),
    (
        4,
        "modello_cot_rete_territoriale",
        "Sviluppo modello organizzativo COT - Rete Socio Sanitaria - Sociale Territoriale",
    ),
    (5, "attivazione_transizioni", "Attivazione delle transizioni"),
    (6, "monitoraggio_esito_transizione", "Tracciamento e monitoraggio esito transizione"),
)
CANCELLED = "cancelled"
_TASK_TABLE: Table = CaseTask.__table__  # type: ignore[attr-defined]
_TRANSITION_TABLE: Table = CareTransition.__table__  # type: ignore[attr-defined]


@dataclass
class Receipt:
    discharge: Discharge
    created: bool
    changed: bool


def _issues_of(exc: PdzError) -> list[dict[str, str]]:
    return [
        {"name": str(p.get("name", "")), "reason": str(p.get("reason", ""))}
        for p in exc.invalid_params or []
    ] or [{"name": "body", "reason": exc.detail_en or ""}]


def _check_person(parsed: fhir.ParsedDischarge) -> PersonIn | None:
    """The Patient as a PersonIn; problems (codice fiscale, birth date, sex) go to ``issues``."""
    if not (parsed.codice_fiscale and parsed.given_name and parsed.family_name):
        return None
    try:
        person = PersonIn(
            codice_fiscale=parsed.codice_fiscale,
            given_name=parsed.given_name[:100],
            family_name=parsed.family_name[:100],
            birth_date=parsed.birth_date,
            sex=parsed.sex,
            residence_comune=parsed.comune_code,
        )
        cases.check_person(person, prefix="Patient", cf_name="Patient.identifier")
    except PdzError as exc:
        parsed.issues.extend(_issues_of(exc))
        return None
    except ValueError as exc:  # pydantic: malformed codice fiscale or comune code
        parsed.problem("Patient", str(exc).splitlines()[0])
        return None
    return person


def deadline_for(planned: date, lead_hours: int) -> datetime:
    """A discharge must be organised before the planned day starts (Italian time)."""
    return datetime.combine(planned, time(0, 0), ROME) - timedelta(hours=lead_hours)


async def receive(
    session: AsyncSession,
    data: Any,
    *,
    channel: str,
    actor: str,
    may_act_on: Callable[[str], bool] | None = None,
    default_ambito: str | None = None,
) -> Receipt:
    parsed = fhir.parse(data)
    if parsed.ambito_code is None and not parsed.issues:
        if default_ambito is None:
            parsed.problem(
                "entry.0.resource.destination",
                f"the receiving Ambito is required (receiver.identifier system "
                f"{fhir.AMBITO_SYSTEM})",
            )
        parsed.ambito_code = default_ambito
    person_in = _check_person(parsed)
    if (
        parsed.ambito_code is not None
        and may_act_on is not None
        and not may_act_on(parsed.ambito_code)
    ):
        raise Forbidden(
            f"L'ambito {parsed.ambito_code} non è tra quelli del mittente",
            f"Ambito {parsed.ambito_code} is not among the sender's",
        )
    if parsed.issues:
        return await _reject(session, parsed, data, channel=channel, actor=actor)
    assert person_in is not None and parsed.sending_organization and parsed.encounter_identifier
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
        {"k": f"discharge|{parsed.sending_organization}|{parsed.encounter_identifier}"},
    )
    existing = await _find(session, parsed.sending_organization, parsed.encounter_identifier)
    digest = body_hash(data)
    if existing is not None and existing.bundle_hash == digest:
        return Receipt(existing, created=False, changed=False)
    if existing is not None and existing.status == "processed":
        await _update(session, existing, parsed, data, digest, actor)
        return Receipt(existing, created=False, changed=True)
    row = await _process_new(
        session, existing, parsed, person_in, data, digest, channel=channel, actor=actor
    )
    return Receipt(row, created=existing is None, changed=True)


async def _find(session: AsyncSession, org: str, encounter: str) -> Discharge | None:
    query = select(Discharge).where(
        Discharge.sending_organization == org, Discharge.encounter_identifier == encounter
    )
    return (await session.exec(query.with_for_update())).first()


async def _reject(
    session: AsyncSession, parsed: fhir.ParsedDischarge, data: Any, *, channel: str, actor: str
) -> Receipt:
    """HTTP: 422 listing every issue, nothing written. Kafka: a rejected record, or the DLQ."""
    if channel == "api":
        names = ", ".join(i["name"] for i in parsed.issues[:5])
        raise Unprocessable(
            f"Il Bundle di dimissione ha {len(parsed.issues)} problemi: {names}",
            f"The discharge Bundle has {len(parsed.issues)} problems: {names}",
            invalid_params=parsed.issues,
            code="invalid-bundle",
        )
    if not parsed.key_known:
        raise PermanentEventError(
            "unidentifiable discharge bundle: "
            + "; ".join(f"{i['name']}: {i['reason']}" for i in parsed.issues[:10])
        )
    assert parsed.sending_organization and parsed.encounter_identifier
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
        {"k": f"discharge|{parsed.sending_organization}|{parsed.encounter_identifier}"},
    )
    existing = await _find(session, parsed.sending_organization, parsed.encounter_identifier)
    if existing is not None:
        if existing.status == "rejected":
            existing.reasons = parsed.issues
            existing.receipts += 1
            existing.updated_at = utcnow()
            session.add(existing)
            return Receipt(existing, created=False, changed=True)
        raise PermanentEventError(
            "invalid update of processed discharge: "
            + "; ".join(f"{i['name']}: {i['reason']}" for i in parsed.issues[:10])
        )
    row = Discharge(
        sending_organization=parsed.sending_organization,
        sending_organization_name=parsed.sending_organization_name,
        encounter_identifier=parsed.encounter_identifier,
        status="rejected",
        channel=channel,
        reasons=parsed.issues,
        ambito_code=parsed.ambito_code,
        encounter_status=parsed.encounter_status,
        admission_date=parsed.admission_date,
        planned_discharge_date=parsed.planned_discharge_date,
        bundle=data,
        bundle_hash=body_hash(data),
        received_by=actor,
    )
    session.add(row)
    await session.flush()
    return Receipt(row, created=True, changed=True)


async def _open_case_for(
    session: AsyncSession,
    parsed: fhir.ParsedDischarge,
    person_in: PersonIn,
    actor: str,
    now: datetime,
) -> tuple[Case, Person]:
    """The person's pending case in the ambito, or a new one with source ASST dimissione."""
    assert parsed.ambito_code is not None
    person = await cases.upsert_person(session, parsed.ambito_code, person_in)
    pending = (
        await session.exec(
            select(Case)
            .where(
                Case.person_id == person.id,
                Case.ambito_code == parsed.ambito_code,
                col(Case.status).not_in(sorted(cases.FINAL)),
            )
            .order_by(col(Case.received_at).desc())
            .with_for_update()
        )
    ).first()
    if pending is not None:
        return pending, person
    summary = "; ".join(parsed.needs)[:2000] or None
    case, person = await cases.open_case(
        session,
        actor,
        CaseIn(
            ambito_code=parsed.ambito_code,
            comune_code=parsed.comune_code,
            source="asst_dimissione",
            person=person_in,
            request_summary=summary,
        ),
        at=now,
        person=person,
    )
    return case, person


async def _process_new(
    session: AsyncSession,
    row: Discharge | None,
    parsed: fhir.ParsedDischarge,
    person_in: PersonIn,
    data: Any,
    digest: str,
    *,
    channel: str,
    actor: str,
) -> Discharge:
    assert parsed.sending_organization and parsed.encounter_identifier and parsed.ambito_code
    now = utcnow()
    new = row is None
    if row is None:
        row = Discharge(
            sending_organization=parsed.sending_organization,
            encounter_identifier=parsed.encounter_identifier,
            status="accepted",
            channel=channel,
            bundle=data,
            bundle_hash=digest,
            received_by=actor,
            received_at=now,
        )
    else:
        row.receipts += 1
    row.sending_organization_name = parsed.sending_organization_name
    row.ambito_code = parsed.ambito_code
    row.encounter_status = parsed.encounter_status
    row.admission_date = parsed.admission_date
    row.planned_discharge_date = parsed.planned_discharge_date
    row.bundle, row.bundle_hash, row.reasons = data, digest, []
    row.status, row.processed_at, row.updated_at = "processed", now, now
    if parsed.encounter_status == CANCELLED:
        session.add(row)
        await session.flush()
        row.reasons = [{"name": "Encounter.status", "reason": "cancelled before a case was opened"}]
        return row
    if new:
        # Inserted once the case is known (we hold the advisory lock on its key), so with its
        # case_id instead of an INSERT and then an UPDATE.
        case, person = await _open_case_for(session, parsed, person_in, actor, now)
        row.case_id = case.id
        session.add(row)
        await session.flush()
    else:
        session.add(row)
        await session.flush()
        case, person = await _open_case_for(session, parsed, person_in, actor, now)
        row.case_id = case.id
    # Core inserts: nothing reads these rows back in this transaction through the session, and
    # building seven SQLModel instances (pydantic validation + ORM state + unit of work) cost
    # more than the statements themselves.
    await session.execute(
        insert(_TASK_TABLE),
        [
            {
                "id": uuid.uuid4(),
                "case_id": case.id,
                "discharge_id": row.id,
                "step": step,
                "code": code,
                "title": title,
                "status": "done" if step == 1 else "open",
                "done_at": now if step == 1 else None,
                "done_by": actor if step == 1 else None,
                "version": 1,
            }
            for step, code, title in STEPS
        ],
    )
    await session.execute(
        insert(_TRANSITION_TABLE).values(
            id=uuid.uuid4(),
            discharge_id=row.id,
            case_id=case.id,
            origin_setting=parsed.origin_setting[:100],
            planned_destination=parsed.planned_destination,
            planned_on=parsed.planned_discharge_date,
            version=1,
        )
    )
    await _set_deadline(session, case, parsed.planned_discharge_date)
    readmission_of = await _flag_readmission(session, person, row, parsed.admission_date)
    await cases.emit_case_event(
        session,
        contract.DISCHARGE_TOPIC,
        contract.DISCHARGE_RECEIVED,
        contract.DischargeReceived(
            **cases.facts(case, person, now),
            discharge_id=row.id,
            channel=channel,
            sending_organization=(parsed.sending_organization_name or parsed.sending_organization)[
                :200
            ],
            admission_date=parsed.admission_date,
            planned_discharge_date=parsed.planned_discharge_date,
            received_at=now,
            readmission_of=readmission_of,
        ),
    )
    return row


async def _set_deadline(session: AsyncSession, case: Case, planned: date | None) -> None:
    if planned is None or case.status in cases.FINAL:
        return
    policy = await sla.policy_for(session, case.ambito_code)
    due = deadline_for(planned, policy.discharge_lead_hours)
    await sla.set_deadline(session, case.id, case.ambito_code, "discharge", due)


async def _update(
    session: AsyncSession,
    row: Discharge,
    parsed: fhir.ParsedDischarge,
    data: Any,
    digest: str,
    actor: str,
) -> None:
    now = utcnow()
    was_cancelled = row.encounter_status == CANCELLED
    moved = parsed.planned_discharge_date != row.planned_discharge_date
    row.bundle, row.bundle_hash = data, digest
    row.receipts += 1
    row.encounter_status = parsed.encounter_status
    row.admission_date = parsed.admission_date
    row.planned_discharge_date = parsed.planned_discharge_date
    row.updated_at = now
    session.add(row)
    if row.case_id is None:
        return
    case = (await session.exec(select(Case).where(Case.id == row.case_id).with_for_update())).one()
    transition = (
        await session.exec(select(CareTransition).where(CareTransition.discharge_id == row.id))
    ).first()
    if parsed.encounter_status == CANCELLED and not was_cancelled:
        if transition is not None and transition.completed_at is None:
            transition.outcome = "dimissione annullata dall'ASST"
            transition.version += 1
            session.add(transition)
        if case.status not in cases.FINAL and case.source == "asst_dimissione":
            await cases.transition(
                session, actor, case, "closed", reason="dimissione annullata dall'ASST"
            )
        return
    if moved:
        if transition is not None:
            transition.planned_on = parsed.planned_discharge_date
            transition.version += 1
            session.add(transition)
        await _set_deadline(session, case, parsed.planned_discharge_date)
        cases.touch(case)
        session.add(case)


async def _flag_readmission(
    session: AsyncSession, person: Person, current: Discharge, admitted: date | None
) -> uuid.UUID | None:
    """A new admission within 30 days of a completed transition is a readmission.

    The earlier transition is flagged (visible on its resource) and the new discharge.received
    names it in ``readmission_of``; transition.completed is not emitted again (one per discharge).
    """
    if admitted is None:
        return None
    rows = await session.exec(
        select(CareTransition)
        .join(Case, col(Case.id) == col(CareTransition.case_id))
        .where(
            Case.person_id == person.id,
            col(CareTransition.discharged_on).is_not(None),
            col(CareTransition.discharge_id) != current.id,
        )
        .order_by(col(CareTransition.discharged_on).desc())
    )
    for tr in rows.all():
        assert tr.discharged_on is not None
        if timedelta(0) <= admitted - tr.discharged_on <= timedelta(days=30):
            if tr.readmitted_within_30_days is not True:
                tr.readmitted_within_30_days = True
                tr.version += 1
                session.add(tr)
            return tr.discharge_id
    return None


async def _emit_transition(
    session: AsyncSession, case: Case, person: Person, tr: CareTransition
) -> None:
    assert tr.destination and tr.discharged_on and tr.arrived_on
    await cases.emit_case_event(
        session,
        contract.DISCHARGE_TOPIC,
        contract.TRANSITION_COMPLETED,
        contract.TransitionCompleted(
            **cases.facts(case, person),
            discharge_id=tr.discharge_id,
            origin_setting=tr.origin_setting,
            destination=tr.destination,
            discharged_on=tr.discharged_on,
            arrived_on=tr.arrived_on,
            outcome=tr.outcome or "",
            readmitted_within_30_days=tr.readmitted_within_30_days,
        ),
    )


# ------------------------------------------------------------------ reads and the transition


async def get(
    session: AsyncSession, discharge_id: uuid.UUID, may_see: Callable[[str | None], bool]
) -> Discharge:
    row = await session.get(Discharge, discharge_id)
    if row is None or not may_see(row.ambito_code):
        raise NotFound(
            f"Dimissione {discharge_id} non trovata", f"Discharge {discharge_id} not found"
        )
    return row


async def search(
    session: AsyncSession,
    principal_ambiti: frozenset[str] | None,
    *,
    status: str | None,
    channel: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Discharge], int]:
    query = select(Discharge)
    if principal_ambiti is not None:
        query = query.where(col(Discharge.ambito_code).in_(sorted(principal_ambiti)))
    if status:
        query = query.where(Discharge.status == status)
    if channel:
        query = query.where(Discharge.channel == channel)
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(
        query.order_by(col(Discharge.received_at).desc(), col(Discharge.id))
        .limit(limit)
        .offset(offset)
    )
    return list(rows.all()), int(total)


async def transition_of(session: AsyncSession, discharge: Discharge) -> CareTransition:
    tr = (
        await session.exec(
            select(CareTransition)
            .where(CareTransition.discharge_id == discharge.id)
            .with_for_update()
        )
    ).first()
    if tr is None:
        raise NotFound("La dimissione non ha una transizione", "The discharge has no transition")
    return tr


async def complete_transition(
    session: AsyncSession, actor: str, case: Case, tr: CareTransition, data: TransitionIn
) -> CareTransition:
    if tr.completed_at is not None:
        raise Conflict(
            "La transizione è già stata registrata",
            "The transition was already recorded",
            code="transition-completed",
        )
    if data.arrived_on < data.discharged_on:
        raise Unprocessable(
            "L'arrivo precede la dimissione",
            "Arrival precedes discharge",
            invalid_params=[{"name": "arrived_on", "reason": "before discharged_on"}],
        )
    now = utcnow()
    tr.destination = data.destination
    tr.discharged_on = data.discharged_on
    tr.arrived_on = data.arrived_on
    tr.outcome = data.outcome
    tr.completed_at = now
    tr.completed_by = actor
    tr.version += 1
    session.add(tr)
    tasks = await session.exec(
        select(CaseTask).where(
            CaseTask.discharge_id == tr.discharge_id, col(CaseTask.step).in_([5, 6])
        )
    )
    for task in tasks.all():
        if task.status != "done":
            task.status, task.done_at, task.done_by = "done", now, actor
            task.version += 1
            session.add(task)
    await sla.meet(session, case.id, ["discharge"])
    cases.touch(case)
    session.add(case)
    person = await cases.get_person(session, case)
    await _emit_transition(session, case, person, tr)
    return tr


async def tasks_of(session: AsyncSession, case_id: uuid.UUID) -> list[CaseTask]:
    rows = await session.exec(
        select(CaseTask)
        .where(CaseTask.case_id == case_id)
        .order_by(col(CaseTask.discharge_id), col(CaseTask.step))
    )
    return list(rows.all())


async def complete_task(
    session: AsyncSession, actor: str, case: Case, task_id: uuid.UUID
) -> CaseTask:
    task = await session.get(CaseTask, task_id, with_for_update=True)
    if task is None or task.case_id != case.id:
        raise NotFound(f"Attività {task_id} non trovata", f"Task {task_id} not found")
    if task.status == "done":
        raise Conflict("Attività già completata", "Task already done", code="task-done")
    task.status, task.done_at, task.done_by = "done", utcnow(), actor
    task.version += 1
    session.add(task)
    return task
