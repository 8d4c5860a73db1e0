"""Dimissioni protette: the intake, one code path for the HTTP and the Kafka channel.

The intake reads and checks the Bundle (every problem at once), then writes one row: the
discharge with its receipt ``pending``. The discharge processor (``processing``) applies it in
the worker: full FHIR R4 conformance, the person, the case, the six steps, the deadline, the
events. So an ASST gets its 202 after a single statement (shared with the receipts of the
concurrent requests: ``receipt_writer``), and a burst of discharges is opened in batches.

Idempotent on (sending organization, encounter identifier): the same bundle again changes
nothing; a changed planned date moves the case's discharge deadline; an Encounter ``cancelled``
closes the case it opened, if that is still pending.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import RowMapping
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.cases import service as cases
from pdz_casework.cases.models import Case
from pdz_casework.cases.schemas import PersonIn
from pdz_casework.discharges import fhir
from pdz_casework.discharges.models import CareTransition, CaseTask, Discharge
from pdz_casework.discharges.schemas import DischargeOut, TransitionIn
from pdz_casework.sla import service as sla
from pdz_shared.batching import GroupWriter
from pdz_shared.contracts import casework as contract
from pdz_shared.db import Statement, utcnow
from pdz_shared.errors import Conflict, Forbidden, NotFound, PdzError, Unprocessable
from pdz_shared.events.inbox import PermanentEventError
from pdz_shared.http import body_hash, canonical_json
from pdz_shared.listing import paged
from pdz_shared.modi import UsedToken, remember_calls, replay_refused
from pdz_shared.observability import request_id_var, traceparent_var
from pdz_shared.wakeup import notify_after_commit

NOTIFY_CHANNEL = "pdz_discharge"
CANCELLED = "cancelled"


@dataclass
class Receipt:
    discharge: DischargeOut
    created: bool
    pending: bool = False  # the processor has this receipt to apply: wake it after the commit


def _issues_of(exc: PdzError) -> list[dict[str, str]]:
    return [
        {"name": str(p.get("name", "")), "reason": str(p.get("reason", ""))}
        for p in exc.invalid_params or []
    ] or [{"name": "body", "reason": exc.detail_en or ""}]


def person_of(parsed: fhir.ParsedDischarge) -> PersonIn | None:
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


def read(
    data: Any,
    *,
    may_act_on: Callable[[str], bool] | None = None,
    default_ambito: str | None = None,
) -> fhir.ParsedDischarge:
    """The Bundle read and checked; its problems in ``issues``. A sender may only write to its
    own ambiti (403)."""
    parsed = fhir.parse(data)
    if parsed.ambito_code is None and not parsed.issues:
        if default_ambito is None:
            parsed.problem(
                "entry.0.resource.destination",
                f"the receiving Ambito is required (receiver.identifier system "
                f"{fhir.AMBITO_SYSTEM})",
            )
        parsed.ambito_code = default_ambito
    person_of(parsed)
    if (
        parsed.ambito_code is not None
        and may_act_on is not None
        and not may_act_on(parsed.ambito_code)
    ):
        raise Forbidden(
            f"L'ambito {parsed.ambito_code} non è tra quelli del mittente",
            f"Ambito {parsed.ambito_code} is not among the sender's",
        )
    return parsed


_SHOWN = ", ".join([*DischargeOut.model_fields, "pending"])
_WRITTEN = ", ".join(DischargeOut.model_fields)
# The receipts of a batch in one statement (a batch of one for the Kafka channel; the HTTP
# intake groups concurrent requests: ``receipt_writer``). A new key inserts the row; the same
# Bundle again (same hash) changes nothing (no row comes back); a different Bundle replaces the
# pending receipt. Until the first processing the row shows the last receipt; afterwards it
# keeps the state applied, and the processor compares the new receipt with it. The processor is
# woken after the commit (``Receipt.pending``), never by a NOTIFY inside it (see
# pdz_shared.wakeup.Notifier). No two receipts of a batch may share a key.
_ACCEPT = Statement(f"""
    INSERT INTO discharge AS d (
        id, sending_organization, sending_organization_name, encounter_identifier, status,
        channel, reasons, ambito_code, encounter_status, admission_date,
        planned_discharge_date, bundle, bundle_hash, receipts, received_by, received_at,
        updated_at, pending)
    SELECT r.id, r.org, r.org_name, r.encounter, 'accepted', r.channel, '[]'::jsonb, r.ambito,
        r.encounter_status, r.admission, r.planned, CAST(r.bundle AS jsonb), r.hash, 1, r.actor,
        r.at, r.at, CAST(r.pending AS jsonb)
    FROM unnest(
        CAST(:ids AS uuid[]), CAST(:orgs AS text[]), CAST(:org_names AS text[]),
        CAST(:encounters AS text[]), CAST(:channels AS text[]), CAST(:ambiti AS text[]),
        CAST(:encounter_statuses AS text[]), CAST(:admissions AS date[]),
        CAST(:planned AS date[]), CAST(:bundles AS text[]), CAST(:hashes AS text[]),
        CAST(:actors AS text[]), CAST(:ats AS timestamptz[]), CAST(:pendings AS text[])
    ) AS r(id, org, org_name, encounter, channel, ambito, encounter_status, admission,
           planned, bundle, hash, actor, at, pending)
    ON CONFLICT ON CONSTRAINT uq_discharge_key DO UPDATE SET
        bundle = EXCLUDED.bundle,
        bundle_hash = EXCLUDED.bundle_hash,
        receipts = d.receipts + 1,
        pending = EXCLUDED.pending,
        status = 'accepted',
        reasons = CASE WHEN d.processed_at IS NULL THEN '[]'::jsonb ELSE d.reasons END,
        sending_organization_name = CASE WHEN d.processed_at IS NULL
            THEN EXCLUDED.sending_organization_name ELSE d.sending_organization_name END,
        ambito_code = CASE WHEN d.processed_at IS NULL
            THEN EXCLUDED.ambito_code ELSE d.ambito_code END,
        encounter_status = CASE WHEN d.processed_at IS NULL
            THEN EXCLUDED.encounter_status ELSE d.encounter_status END,
        admission_date = CASE WHEN d.processed_at IS NULL
            THEN EXCLUDED.admission_date ELSE d.admission_date END,
        planned_discharge_date = CASE WHEN d.processed_at IS NULL
            THEN EXCLUDED.planned_discharge_date ELSE d.planned_discharge_date END,
        updated_at = EXCLUDED.updated_at
    WHERE d.bundle_hash <> EXCLUDED.bundle_hash
    RETURNING {_WRITTEN}, (xmax = 0) AS inserted
""")  # noqa: S608 - the columns are our own names
_BY_KEYS = Statement(
    f"SELECT {_SHOWN}, false AS inserted FROM discharge "  # noqa: S608 - column names
    "WHERE (sending_organization, encounter_identifier) IN "
    "(SELECT * FROM unnest(CAST(:orgs AS text[]), CAST(:encounters AS text[])))"
)


async def accept(
    session: AsyncSession,
    data: Any,
    *,
    channel: str,
    actor: str,
    may_act_on: Callable[[str], bool] | None = None,
    default_ambito: str | None = None,
) -> Receipt:
    """Reads the Bundle and records the receipt for the processor (HTTP: 422 for a Bundle with
    problems, nothing written; Kafka: a rejected record, or the DLQ if it has no key)."""
    parsed = read(data, may_act_on=may_act_on, default_ambito=default_ambito)
    return await record(session, parsed, data, channel=channel, actor=actor)


def refuse_if_invalid(parsed: fhir.ParsedDischarge) -> None:
    """HTTP: 422 problem+json listing every issue of the Bundle."""
    if parsed.issues:
        names = ", ".join(i["name"] for i in parsed.issues[:5])
        raise Unprocessable(
            f"Il Bundle di dimissione ha {len(parsed.issues)} problemi: {names}",
            f"The discharge Bundle has {len(parsed.issues)} problems: {names}",
            invalid_params=parsed.issues,
            code="invalid-bundle",
        )


@dataclass(frozen=True)
class Intake:
    """A Bundle read and checked, ready to be recorded: its receipt's row, and the ModI token
    ids of the call that brought it (recorded with it, in its transaction)."""

    parsed: fhir.ParsedDischarge
    row: dict[str, Any]
    tokens: tuple[UsedToken, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return self.row["org"], self.row["encounter"]

    def keys(self) -> list[Hashable]:
        """What it writes: no two intakes naming the same may share a batch."""
        return [("discharge", *self.key), *(("token", *t.key) for t in self.tokens)]


def intake(
    parsed: fhir.ParsedDischarge,
    data: Any,
    *,
    channel: str,
    actor: str,
    tokens: Sequence[UsedToken] = (),
) -> Intake:
    """The receipt of a valid Bundle, built in the caller's context (its request id)."""
    assert parsed.sending_organization and parsed.encounter_identifier
    pending = {
        "parsed": parsed.to_json(),
        "request_id": request_id_var.get(),
        "traceparent": traceparent_var.get(),
        "actor": actor,
        "channel": channel,
    }
    canonical = canonical_json(data)
    row = {
        "id": uuid.uuid4(),
        "org": parsed.sending_organization,
        "org_name": parsed.sending_organization_name,
        "encounter": parsed.encounter_identifier,
        "channel": channel,
        "ambito": parsed.ambito_code,
        "encounter_status": parsed.encounter_status,
        "admission": parsed.admission_date,
        "planned": parsed.planned_discharge_date,
        "bundle": canonical,
        "hash": hashlib.sha256(canonical.encode()).hexdigest(),
        "actor": actor,
        "at": utcnow(),
        "pending": json.dumps(pending),
    }
    return Intake(parsed, row, tuple(tokens))


_COLUMNS = {  # statement parameter -> intake row key
    "ids": "id",
    "orgs": "org",
    "org_names": "org_name",
    "encounters": "encounter",
    "channels": "channel",
    "ambiti": "ambito",
    "encounter_statuses": "encounter_status",
    "admissions": "admission",
    "planned": "planned",
    "bundles": "bundle",
    "hashes": "hash",
    "actors": "actor",
    "ats": "at",
    "pendings": "pending",
}


async def write_receipts(
    db: AsyncSession | asyncpg.Connection, intakes: Sequence[Intake]
) -> list[Receipt | PdzError]:
    """Records the receipts of a batch: their token ids, then the receipts of the calls that
    were no replay, in one statement. Inside one transaction when there are token ids."""
    fresh = await remember_calls(db, [i.tokens for i in intakes])
    kept = [i for i, ok in zip(intakes, fresh, strict=True) if ok]
    written: dict[tuple[str, str], Mapping[str, Any]] = {}
    if kept:
        rows = await _ACCEPT.fetch(
            db, {param: [i.row[k] for i in kept] for param, k in _COLUMNS.items()}
        )
        written = {(r["sending_organization"], r["encounter_identifier"]): r for r in rows}
    unchanged = [i for i in kept if i.key not in written]  # the same Bundle again
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    if unchanged:
        rows = await _BY_KEYS.fetch(
            db, {"orgs": [i.key[0] for i in unchanged], "encounters": [i.key[1] for i in unchanged]}
        )
        found = {(r["sending_organization"], r["encounter_identifier"]): r for r in rows}
    if written and isinstance(db, AsyncSession):
        notify_after_commit(db, NOTIFY_CHANNEL)
    results: list[Receipt | PdzError] = []
    for i, ok in zip(intakes, fresh, strict=True):
        if not ok:
            results.append(replay_refused())
        elif (row := written.get(i.key)) is not None:
            out = discharge_out(row, sent=i.parsed)
            results.append(Receipt(out, bool(row["inserted"]), pending=True))
        else:
            results.append(Receipt(discharge_out(found[i.key]), created=False))
    return results


def receipt_writer(pool: asyncpg.Pool, wake: Callable[[], None]) -> GroupWriter[Intake, Receipt]:
    """The HTTP intake's writer: the receipts of concurrent requests in one statement and one
    commit per batch (``pdz_shared.batching``); ``wake`` after a commit that left work for the
    processor."""

    async def write(batch: list[Intake]) -> list[Receipt | PdzError]:
        async with pool.acquire() as conn:
            tx = conn.transaction() if any(i.tokens for i in batch) else contextlib.nullcontext()
            async with tx:
                results = await write_receipts(conn, batch)
        if any(isinstance(r, Receipt) and r.pending for r in results):
            wake()
        return results

    return GroupWriter(write, keys=Intake.keys)


async def record(
    db: AsyncSession,
    parsed: fhir.ParsedDischarge,
    data: Any,
    *,
    channel: str,
    actor: str,
) -> Receipt:
    """Records a Bundle already read, in the caller's session (the Kafka channel): a rejected
    record if it has problems, otherwise its receipt for the processor."""
    if parsed.issues:
        return await _reject(db, parsed, data, channel=channel, actor=actor)
    (result,) = await write_receipts(db, [intake(parsed, data, channel=channel, actor=actor)])
    if isinstance(result, PdzError):
        raise result
    return result


async def _reject(
    session: AsyncSession, parsed: fhir.ParsedDischarge, data: Any, *, channel: str, actor: str
) -> Receipt:
    """HTTP: 422 listing every issue, nothing written. Kafka: a rejected record, or the DLQ."""
    if channel == "api":
        refuse_if_invalid(parsed)
    if not parsed.key_known:
        raise PermanentEventError(
            "unidentifiable discharge bundle: "
            + "; ".join(f"{i['name']}: {i['reason']}" for i in parsed.issues[:10])
        )
    assert parsed.sending_organization and parsed.encounter_identifier
    existing = (
        await session.exec(
            select(Discharge)
            .where(
                Discharge.sending_organization == parsed.sending_organization,
                Discharge.encounter_identifier == parsed.encounter_identifier,
            )
            .with_for_update()
        )
    ).first()
    if existing is not None:
        if existing.status == "rejected":
            existing.reasons = parsed.issues
            existing.receipts += 1
            existing.updated_at = utcnow()
            session.add(existing)
            return Receipt(discharge_out(existing), created=False)
        raise PermanentEventError(
            "invalid update of a discharge already received: "
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
    return Receipt(discharge_out(row), created=True)


def discharge_out(
    row: Discharge | Mapping[str, Any] | RowMapping, sent: fhir.ParsedDischarge | None = None
) -> DischargeOut:
    """The discharge as the API shows it: a receipt waiting for the processor shows what the
    ASST sent last (status ``accepted``), the rest the state applied so far. ``sent``: the
    Bundle of a receipt just written (its row comes back without ``pending``)."""
    if isinstance(row, Mapping | RowMapping):
        values = dict(row)
    else:
        values = {k: getattr(row, k) for k in (*DischargeOut.model_fields, "pending")}
    pending = values.get("pending")
    if sent is None and pending:
        sent = fhir.ParsedDischarge.from_json(pending["parsed"])
    if sent is not None:
        values["encounter_status"] = sent.encounter_status
        values["admission_date"] = sent.admission_date
        values["planned_discharge_date"] = sent.planned_discharge_date
    return DischargeOut.model_validate({k: values[k] for k in DischargeOut.model_fields})


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
    order_by: Sequence[Any],
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
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
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
    return tr


async def tasks_page(
    session: AsyncSession, case_id: uuid.UUID, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[CaseTask], int]:
    query = select(CaseTask).where(CaseTask.case_id == case_id)
    return await paged(session, query, order_by, limit, offset)


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
