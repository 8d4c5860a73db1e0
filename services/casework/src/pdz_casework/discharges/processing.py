"""The discharge processor: applies the receipts the intake recorded, in batches.

A worker task claims up to ``BATCH`` discharges with a pending receipt (``FOR UPDATE SKIP
LOCKED``, so several processors share the queue) and applies them in one transaction:

- the whole Bundle is checked against the FHIR R4 models; a Bundle that does not conform ends
  ``rejected`` with the reasons (the intake already answered 202: that is what 202 means);
- a first receipt finds or creates the person, reuses the person's case still open in the
  ambito or opens one (source ``asst_dimissione``), and writes the six protocol steps, the
  care transition, the discharge deadline, the readmission flag, the events (case.opened,
  discharge.received) and the audit rows: one statement per table for the whole batch;
- a later receipt moves the deadline (new planned date) or closes the pending case (Encounter
  ``cancelled``).

Commit or nothing: a crash leaves the receipts pending, and they are claimed again. A batch that
fails for another reason than a lost connection is retried one receipt at a time; a receipt that
fails ``MAX_FAILURES`` times alone ends ``rejected`` with the error, so it never blocks the queue.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Table, insert, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.cases import service as cases
from pdz_casework.cases.models import Case, Person
from pdz_casework.cases.schemas import CaseIn, PersonIn
from pdz_casework.discharges import fhir
from pdz_casework.discharges.models import CareTransition, CaseTask, Discharge
from pdz_casework.discharges.service import CANCELLED, NOTIFY_CHANNEL, person_of
from pdz_casework.sla import service as sla
from pdz_shared.auth import Role
from pdz_shared.contracts import casework as contract
from pdz_shared.db import SessionFactory, transaction, utcnow
from pdz_shared.events.inbox import is_transient
from pdz_shared.events.outbox import emit_many
from pdz_shared.wakeup import Wakeup

ROME = ZoneInfo("Europe/Rome")
BATCH = 100
MAX_FAILURES = 3
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
AUDIT = {
    "role": Role.asst_system.value,
    "operation": "receive_discharge",
    "purpose": "dimissione_protetta",
}
_TASK: Table = CaseTask.__table__  # type: ignore[attr-defined]
_TRANSITION: Table = CareTransition.__table__  # type: ignore[attr-defined]
log = structlog.get_logger("pdz.discharges")


def deadline_for(planned: date, lead_hours: int) -> datetime:
    """A discharge must be organised before the planned day starts (Italian time)."""
    return datetime.combine(planned, time(0, 0), ROME) - timedelta(hours=lead_hours)


@dataclass
class Work:
    """One claimed receipt: the discharge row (applied state, updated in place), the Bundle as
    the intake read it, who sent it."""

    row: dict[str, Any]
    parsed: fhir.ParsedDischarge
    actor: str
    channel: str
    request_id: str | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Work:
        pending = row["pending"]
        return cls(
            row=dict(row),
            parsed=fhir.ParsedDischarge.from_json(pending["parsed"]),
            actor=str(pending.get("actor") or row["received_by"]),
            channel=str(pending.get("channel") or row["channel"]),
            request_id=pending.get("request_id"),
        )

    @property
    def id(self) -> uuid.UUID:
        discharge_id: uuid.UUID = self.row["id"]
        return discharge_id


# ------------------------------------------------------------------ the batch

_COLUMNS = (
    "id, bundle, pending, status, reasons, case_id, sending_organization_name, ambito_code, "
    "encounter_status, admission_date, planned_discharge_date, processed_at, received_by, channel"
)
_CLAIM = text(
    f"SELECT {_COLUMNS} FROM discharge WHERE pending IS NOT NULL "  # noqa: S608 - our names
    "ORDER BY updated_at LIMIT :limit FOR UPDATE SKIP LOCKED"
)
_SAVED = (
    "id",
    "status",
    "case_id",
    "sending_organization_name",
    "ambito_code",
    "encounter_status",
    "admission_date",
    "planned_discharge_date",
    "processed_at",
    "updated_at",
)
_SAVE = text("""
    UPDATE discharge SET status = :status, reasons = CAST(:reasons AS jsonb), pending = NULL,
        case_id = :case_id, sending_organization_name = :sending_organization_name,
        ambito_code = :ambito_code, encounter_status = :encounter_status,
        admission_date = :admission_date, planned_discharge_date = :planned_discharge_date,
        processed_at = :processed_at, updated_at = :updated_at
    WHERE id = :id
""")


async def claim(session: AsyncSession, limit: int) -> list[Mapping[str, Any]]:
    return [dict(r) for r in (await session.execute(_CLAIM, {"limit": limit})).mappings()]


async def apply(session: AsyncSession, rows: list[Mapping[str, Any]]) -> None:
    """Applies the claimed receipts (the caller commits)."""
    now = utcnow()
    batch = [Work.of(r) for r in rows]
    new: list[Work] = []
    updates: list[Work] = []
    for work in batch:
        problems = fhir.conformance(work.row["bundle"])
        if problems:
            _finish(work, now, status="rejected", reasons=problems)
        elif work.row["processed_at"] is not None:
            updates.append(work)
        elif work.parsed.encounter_status == CANCELLED:
            _applied(work, now)
            work.row["reasons"] = [
                {"name": "Encounter.status", "reason": "cancelled before a case was opened"}
            ]
        else:
            new.append(work)
    await _open(session, new, now)
    for work in updates:
        await _update(session, work, now)
    await session.execute(
        _SAVE,
        [{**{k: w.row[k] for k in _SAVED}, "reasons": json.dumps(w.row["reasons"])} for w in batch],
    )


def _finish(work: Work, now: datetime, *, status: str, reasons: list[dict[str, str]]) -> None:
    work.row.update(status=status, reasons=reasons, updated_at=now)


def _applied(work: Work, now: datetime) -> None:
    """The receipt becomes the state of the discharge."""
    parsed = work.parsed
    work.row.update(
        sending_organization_name=parsed.sending_organization_name,
        ambito_code=parsed.ambito_code,
        encounter_status=parsed.encounter_status,
        admission_date=parsed.admission_date,
        planned_discharge_date=parsed.planned_discharge_date,
        processed_at=now,
    )
    _finish(work, now, status="processed", reasons=[])


async def _open(session: AsyncSession, batch: list[Work], now: datetime) -> None:
    """First receipts: people, cases, steps, transitions, deadlines, events, audit."""
    people_in: list[tuple[str, PersonIn]] = []
    for work in batch:
        checked = person_of(work.parsed)
        assert checked is not None and work.parsed.ambito_code, work.parsed.issues
        people_in.append((work.parsed.ambito_code, checked))
    if not batch:
        return
    keys = [(ambito, p.codice_fiscale.strip().upper()) for ambito, p in people_in]
    await cases.lock_people(session, keys)
    people = await cases.upsert_people(session, people_in)
    open_cases: dict[tuple[uuid.UUID, str], cases.CaseFacts] = dict(
        await cases.pending_cases(session, [p.id for p in people.values()])
    )
    opened: list[tuple[cases.NewCase, Person]] = []
    asked: dict[uuid.UUID, str | None] = {}
    chosen: list[tuple[Work, cases.CaseFacts, Person]] = []
    for work, key, (ambito, person_in) in zip(batch, keys, people_in, strict=True):
        person = people[key]
        case: cases.CaseFacts | None = open_cases.get((person.id, ambito))
        if case is None:
            summary = "; ".join(work.parsed.needs)[:2000] or None
            data = CaseIn(
                ambito_code=ambito,
                comune_code=work.parsed.comune_code,
                source="asst_dimissione",
                person=person_in,
                request_summary=summary,
            )
            new = cases.new_case(data, person, work.actor, now)
            open_cases[(person.id, ambito)] = new
            opened.append((new, person))
            asked[new.id] = work.request_id
            case = new
        chosen.append((work, case, person))
    await cases.insert_cases(session, opened, request_ids=asked)
    for work, case, _ in chosen:
        work.row["case_id"] = case.id
        _applied(work, now)
    await session.execute(
        insert(_TASK),
        [
            {
                "id": uuid.uuid4(),
                "case_id": case.id,
                "discharge_id": work.id,
                "step": step,
                "code": code,
                "title": title,
                "status": "done" if step == 1 else "open",
                "done_at": now if step == 1 else None,
                "done_by": work.actor if step == 1 else None,
                "version": 1,
            }
            for work, case, _ in chosen
            for step, code, title in STEPS
        ],
    )
    await session.execute(
        insert(_TRANSITION),
        [
            {
                "id": uuid.uuid4(),
                "discharge_id": work.id,
                "case_id": case.id,
                "origin_setting": work.parsed.origin_setting[:100],
                "planned_destination": work.parsed.planned_destination,
                "planned_on": work.parsed.planned_discharge_date,
                "version": 1,
            }
            for work, case, _ in chosen
        ],
    )
    await _set_deadlines(
        session, [(case, work.parsed.planned_discharge_date) for work, case, _ in chosen]
    )
    readmissions = await _readmissions(session, chosen)
    await emit_many(
        session,
        [
            cases.case_event(
                contract.DISCHARGE_TOPIC,
                contract.DISCHARGE_RECEIVED,
                contract.DischargeReceived(
                    **cases.facts(case, person, now),
                    discharge_id=work.id,
                    channel=work.channel,
                    sending_organization=(
                        work.parsed.sending_organization_name
                        or work.parsed.sending_organization
                        or ""
                    )[:200],
                    admission_date=work.parsed.admission_date,
                    planned_discharge_date=work.parsed.planned_discharge_date,
                    received_at=now,
                    readmission_of=readmissions.get(work.id),
                ),
                request_id=work.request_id,
            )
            for work, case, person in chosen
        ],
    )
    await cases.audit_writes(
        session, [(case.id, work.actor, work.request_id) for work, case, _ in chosen], **AUDIT
    )


async def _set_deadlines(
    session: AsyncSession, planned: list[tuple[cases.CaseFacts, date | None]]
) -> None:
    todo = [(c, d) for c, d in planned if d is not None and c.status not in cases.FINAL]
    policies = await sla.policies_for(session, {c.ambito_code for c, _ in todo})
    await sla.set_deadlines(
        session,
        [
            (
                c.id,
                c.ambito_code,
                "discharge",
                deadline_for(d, policies[c.ambito_code].discharge_lead_hours),
            )
            for c, d in todo
        ],
    )


async def _readmissions(
    session: AsyncSession, chosen: list[tuple[Work, cases.CaseFacts, Person]]
) -> dict[uuid.UUID, uuid.UUID]:
    """A new admission within 30 days of a completed transition is a readmission: the earlier
    transition is flagged (visible on its resource) and the new discharge.received names it in
    ``readmission_of`` (transition.completed is not emitted again: one per discharge)."""
    admitted = [(w, p) for w, _, p in chosen if w.parsed.admission_date is not None]
    if not admitted:
        return {}
    rows = await session.exec(
        select(CareTransition, col(Case.person_id))
        .join(Case, col(Case.id) == col(CareTransition.case_id))
        .where(
            col(Case.person_id).in_(sorted({p.id for _, p in admitted})),
            col(CareTransition.discharged_on).is_not(None),
        )
        .order_by(col(CareTransition.discharged_on).desc())
    )
    earlier: dict[uuid.UUID, list[CareTransition]] = defaultdict(list)
    for tr, person_id in rows.all():
        earlier[person_id].append(tr)
    found: dict[uuid.UUID, uuid.UUID] = {}
    for work, person in admitted:
        assert work.parsed.admission_date is not None
        for tr in earlier[person.id]:
            assert tr.discharged_on is not None
            if tr.discharge_id == work.id:
                continue
            if timedelta(0) <= work.parsed.admission_date - tr.discharged_on <= timedelta(days=30):
                if tr.readmitted_within_30_days is not True:
                    tr.readmitted_within_30_days = True
                    tr.version += 1
                    session.add(tr)
                found[work.id] = tr.discharge_id
                break
    return found


async def _update(session: AsyncSession, work: Work, now: datetime) -> None:
    """A later receipt of a processed discharge: cancellation or a new planned date."""
    row, parsed = work.row, work.parsed
    was_cancelled = row["encounter_status"] == CANCELLED
    moved = parsed.planned_discharge_date != row["planned_discharge_date"]
    _applied(work, now)
    if row["case_id"] is None:
        return
    case = (
        await session.exec(select(Case).where(Case.id == row["case_id"]).with_for_update())
    ).one()
    transition = (
        await session.exec(select(CareTransition).where(CareTransition.discharge_id == work.id))
    ).first()
    changed = False
    if parsed.encounter_status == CANCELLED and not was_cancelled:
        changed = True
        if transition is not None and transition.completed_at is None:
            transition.outcome = "dimissione annullata dall'ASST"
            transition.version += 1
            session.add(transition)
        if case.status not in cases.FINAL and case.source == "asst_dimissione":
            await cases.transition(
                session, work.actor, case, "closed", reason="dimissione annullata dall'ASST"
            )
    elif moved:
        changed = True
        if transition is not None:
            transition.planned_on = parsed.planned_discharge_date
            transition.version += 1
            session.add(transition)
        await _set_deadlines(session, [(case, parsed.planned_discharge_date)])
        cases.touch(case)
        session.add(case)
    if changed:
        await cases.audit_writes(session, [(case.id, work.actor, work.request_id)], **AUDIT)


# ------------------------------------------------------------------ running it


async def process_pending(factory: SessionFactory, *, limit: int = BATCH) -> int:
    """One round: up to ``limit`` receipts in one transaction (returns how many were done)."""
    try:
        async with transaction(factory) as session:
            rows = await claim(session, limit)
            if rows:
                await apply(session, rows)
            return len(rows)
    except Exception as exc:
        if is_transient(exc):
            raise
        log.warning("discharges.batch_failed", error=repr(exc))
    done = 0
    while done < limit and await _process_one(factory):
        done += 1
    return done


async def _process_one(factory: SessionFactory) -> bool:
    row_id: uuid.UUID | None = None
    try:
        async with transaction(factory) as session:
            rows = await claim(session, 1)
            if not rows:
                return False
            row_id = rows[0]["id"]
            await apply(session, rows)
    except Exception as exc:
        if is_transient(exc) or row_id is None:
            raise
        await _failed(factory, row_id, exc)
    return True


async def _failed(factory: SessionFactory, row_id: uuid.UUID, exc: Exception) -> None:
    """Counts a failure of one receipt alone; the last one rejects it with the error."""
    log.error("discharges.receipt_failed", discharge_id=str(row_id), error=repr(exc))
    async with transaction(factory) as session:
        row = await session.get(Discharge, row_id, with_for_update=True)
        if row is None or row.pending is None:
            return
        failures = int(row.pending.get("failures", 0)) + 1
        now = utcnow()
        if failures >= MAX_FAILURES:
            reason = f"could not be processed: {type(exc).__name__}"
            row.status, row.reasons = "rejected", [{"name": "processing", "reason": reason}]
            row.pending, row.updated_at = None, now
        else:
            row.pending = {**row.pending, "failures": failures}
            row.updated_at = now  # to the back of the queue
        session.add(row)


async def drain(factory: SessionFactory) -> int:
    """Processes every pending receipt (tests, demos, maintenance)."""
    total = 0
    while n := await process_pending(factory):
        total += n
    return total


class DischargeProcessor:
    """The worker task: a round whenever the intake notifies, at least every ``poll`` s."""

    name = "casework.discharge-processor"
    topics: list[str] = []

    def __init__(self, factory: SessionFactory, database_url: str, poll: float = 1.0) -> None:
        self.factory = factory
        self.wakeup = Wakeup(database_url, NOTIFY_CHANNEL, poll)

    async def run(self, stop: asyncio.Event) -> None:
        fhir.warm_up()
        self.wakeup.start(stop)
        backoff = 0.2
        try:
            while not stop.is_set():
                try:
                    if await process_pending(self.factory):
                        backoff = 0.2
                        continue
                except Exception as exc:  # the database is away: try again a bit later
                    log.warning("discharges.round_failed", error=repr(exc), retry_in=backoff)
                    await self.wakeup.wait(stop, timeout=backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                await self.wakeup.wait(stop)
        finally:
            await self.wakeup.close()
