"""People and cases: codice fiscale, dedupe, the state machine, the audit trail, case events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Table, exists, func, insert, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.access import acting_role
from pdz_casework.cases import codice_fiscale
from pdz_casework.cases.models import Case, CaseAudit, CaseStatusChange, Person
from pdz_casework.cases.schemas import (
    CaseIn,
    CaseOut,
    CaseUpdate,
    DeadlineOut,
    PersonIn,
    PersonOut,
    StatusChangeOut,
)
from pdz_casework.sla import service as sla
from pdz_casework.sla.models import SlaDeadline
from pdz_shared.auth import Principal
from pdz_shared.contracts import casework as contract
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, NotFound, Unprocessable
from pdz_shared.events.outbox import NewEvent, emit_many
from pdz_shared.listing import paged
from pdz_shared.observability import request_id_var

# The PUA state machine: received → triaged → (closed with orientation | simple service
# activated | EVM scheduled) → assessed → PAI active → closed. Any open case may be closed
# (withdrawn, deceased, discharge cancelled); closed_with_orientation and closed are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"triaged", "closed"}),
    "triaged": frozenset(
        {"closed_with_orientation", "simple_service_activated", "evm_scheduled", "closed"}
    ),
    "simple_service_activated": frozenset({"evm_scheduled", "closed"}),
    "evm_scheduled": frozenset({"assessed", "closed"}),
    "assessed": frozenset({"pai_active", "closed"}),
    "pai_active": frozenset({"closed"}),
    "closed_with_orientation": frozenset(),
    "closed": frozenset(),
}
FINAL = frozenset({"closed", "closed_with_orientation"})
CLOSING = FINAL

READ_ROLES = (
    "social_worker",
    "pua_operator",
    "uvm_member",
    "udp_admin",
    "asst_system",
    "cartella_sociale_system",
)


# ------------------------------------------------------------------ codice fiscale / person


def check_codice_fiscale(
    value: str, name: str = "person.codice_fiscale", birth_hint: date | None = None
) -> tuple[str, date, str]:
    """The normalised code, the birth date and the sex it encodes (omocodia accepted)."""
    try:
        decoded = codice_fiscale.decode(value, birth_hint=birth_hint)
    except ValueError as exc:
        raise Unprocessable(
            "Codice fiscale non valido",
            "Invalid codice fiscale",
            invalid_params=[{"name": name, "reason": str(exc)}],
        ) from exc
    return decoded.code, decoded.birth_date, decoded.sex


def check_person(
    data: PersonIn, prefix: str = "person", cf_name: str = "person.codice_fiscale"
) -> tuple[str, date, str]:
    code, birth, sex = check_codice_fiscale(data.codice_fiscale, cf_name, data.birth_date)
    problems = []
    if data.birth_date is not None and data.birth_date != birth:
        problems.append(
            {
                "name": f"{prefix}.birth_date",
                "reason": f"does not match the codice fiscale ({birth.isoformat()})",
            }
        )
    if data.sex is not None and data.sex != sex:
        problems.append(
            {"name": f"{prefix}.sex", "reason": f"does not match the codice fiscale ({sex})"}
        )
    if problems:
        raise Unprocessable(
            "I dati anagrafici non corrispondono al codice fiscale",
            "The personal data do not match the codice fiscale",
            invalid_params=problems,
        )
    return code, birth, sex


PersonKey = tuple[str, str]  # (ambito, codice fiscale)


async def lock_people(session: AsyncSession, keys: Iterable[PersonKey]) -> None:
    """Serialises the opening of cases per person until the transaction ends (callers that
    may open a case for the same person at once: two discharges, a discharge and the PUA)."""
    names = sorted({f"person|{a}|{c}" for a, c in keys})
    if names:
        await session.execute(_LOCK_PEOPLE, {"keys": names})


_LOCK_PEOPLE = text(
    "SELECT pg_advisory_xact_lock(h) FROM "
    "(SELECT hashtextextended(k, 0) AS h FROM unnest(CAST(:keys AS text[])) AS k ORDER BY 1) s"
)


_INSERT_PERSON = pg_insert(Person).on_conflict_do_nothing(constraint="uq_person_ambito_cf")


async def upsert_people(
    session: AsyncSession, wanted: Sequence[tuple[str, PersonIn]]
) -> dict[PersonKey, Person]:
    """One person per codice fiscale per ambito: known ones are reused, new ones inserted, all
    with one INSERT ... ON CONFLICT DO NOTHING and one SELECT. The last residence given wins."""
    checked: dict[PersonKey, tuple[PersonIn, date, str]] = {}
    for ambito, data in wanted:
        code, birth, sex = check_person(data)
        checked[(ambito, code)] = (data, birth, sex)
    if not checked:
        return {}
    now = utcnow()
    await session.execute(
        _INSERT_PERSON,
        [
            {
                "id": uuid.uuid4(),
                "ambito_code": ambito,
                "codice_fiscale": code,
                "given_name": data.given_name,
                "family_name": data.family_name,
                "birth_date": birth,
                "sex": sex,
                "residence_comune": data.residence_comune,
                "created_at": now,
            }
            for (ambito, code), (data, birth, sex) in checked.items()
        ],
    )
    found = await session.exec(
        select(Person).where(
            tuple_(col(Person.ambito_code), col(Person.codice_fiscale)).in_(list(checked))
        )
    )
    people = {(p.ambito_code, p.codice_fiscale): p for p in found.all()}
    for key, (data, _, _) in checked.items():
        person = people[key]
        if data.residence_comune and data.residence_comune != person.residence_comune:
            person.residence_comune = data.residence_comune
            session.add(person)
    return people


# ------------------------------------------------------------------ events


class CaseFacts(Protocol):
    """What an event says of a case (a loaded ``Case`` or a ``NewCase`` being written)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def ambito_code(self) -> str: ...
    @property
    def comune_code(self) -> str | None: ...
    @property
    def pua_level(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def case_manager_sub(self) -> str | None: ...
    @property
    def status(self) -> str: ...


def facts(case: CaseFacts, person: Person, occurred_at: datetime | None = None) -> dict[str, Any]:
    """The facts every casework event carries: no name, no codice fiscale."""
    when = occurred_at or utcnow()
    return {
        "case_id": case.id,
        "ambito_code": case.ambito_code,
        "comune_code": case.comune_code,
        "age_band": contract.age_band(person.birth_date, when.date()),
        "sex": person.sex if person.sex in ("M", "F") else "unknown",
        "pua_level": case.pua_level,
        "source": case.source,
        "case_manager_sub": case.case_manager_sub,
        "occurred_at": when,
    }


def case_event(
    topic: str, type_: str, payload: contract.CaseFacts, *, request_id: str | None = None
) -> NewEvent:
    """A casework event, keyed by its case (so per case order is kept on the topic)."""
    key = str(payload.case_id)
    return NewEvent(
        topic=topic,
        type=type_,
        source=contract.SOURCE,
        key=key,
        subject=key,
        data=payload,
        request_id=request_id,
    )


async def emit_case_event(
    session: AsyncSession, topic: str, type_: str, payload: contract.CaseFacts
) -> None:
    await emit_many(session, [case_event(topic, type_, payload)])


# ------------------------------------------------------------------ audit


async def audit(
    session: AsyncSession,
    principal: Principal,
    case_ids: Iterable[uuid.UUID],
    *,
    action: str,
    operation: str,
    purpose: str | None,
    roles: Sequence[str] = READ_ROLES,
) -> None:
    """Appends one audit row per case touched (reads included)."""
    rows = [
        {
            "case_id": cid,
            "at": utcnow(),
            "sub": principal.sub,
            "role": acting_role(principal, tuple(roles)),
            "action": action,
            "operation": operation,
            "purpose": purpose or "presa_in_carico",
            "request_id": request_id_var.get(),
        }
        for cid in dict.fromkeys(case_ids)
    ]
    if rows:
        await session.execute(insert(CaseAudit), rows)


async def audit_writes(
    session: AsyncSession,
    writes: Sequence[tuple[uuid.UUID, str, str | None]],
    *,
    role: str,
    operation: str,
    purpose: str,
) -> None:
    """Audit rows for changes made on behalf of another system (case, subject, request id)."""
    if writes:
        now = utcnow()
        await session.execute(
            insert(CaseAudit),
            [
                {
                    "case_id": case_id,
                    "at": now,
                    "sub": sub[:200],
                    "role": role,
                    "action": "write",
                    "operation": operation,
                    "purpose": purpose,
                    "request_id": request_id,
                }
                for case_id, sub, request_id in writes
            ],
        )


async def audit_trail(
    session: AsyncSession, case_id: uuid.UUID, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[CaseAudit], int]:
    query = select(CaseAudit).where(CaseAudit.case_id == case_id)
    return await paged(session, query, order_by, limit, offset)


# ------------------------------------------------------------------ cases


async def pending_cases(
    session: AsyncSession, person_ids: Iterable[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], Case]:
    """The latest case still open per (person, ambito), locked for the transaction."""
    rows = await session.exec(
        select(Case)
        .where(col(Case.person_id).in_(sorted(set(person_ids))), col(Case.status).not_in(FINAL))
        .order_by(col(Case.received_at).desc())
        .with_for_update()
    )
    found: dict[tuple[uuid.UUID, str], Case] = {}
    for case in rows.all():
        found.setdefault((case.person_id, case.ambito_code), case)
    return found


@dataclass(frozen=True)
class NewCase:
    """A case about to be written (plain data: building an ORM object costs 150 µs)."""

    id: uuid.UUID
    ambito_code: str
    comune_code: str | None
    person_id: uuid.UUID
    source: str
    pua_level: str
    status: str
    case_manager_sub: str | None
    case_manager_kind: str | None
    request_summary: str | None
    closure_reason: str | None
    version: int
    created_by: str
    received_at: datetime
    updated_at: datetime


def new_case(data: CaseIn, person: Person, actor: str, at: datetime) -> NewCase:
    return NewCase(
        id=uuid.uuid4(),
        ambito_code=data.ambito_code,
        comune_code=data.comune_code or data.person.residence_comune,
        person_id=person.id,
        source=data.source,
        pua_level=data.pua_level,
        status="received",
        case_manager_sub=data.case_manager_sub,
        case_manager_kind=data.case_manager_kind,
        request_summary=data.request_summary,
        closure_reason=None,
        version=1,
        created_by=actor,
        received_at=at,
        updated_at=at,
    )


_CASE: Table = Case.__table__  # type: ignore[attr-defined]
_STATUS_CHANGE: Table = CaseStatusChange.__table__  # type: ignore[attr-defined]
_CASE_COLUMNS = [f.name for f in fields(NewCase)]
assert set(_CASE_COLUMNS) == {c.name for c in _CASE.columns}, "NewCase must match pua_case"


async def insert_cases(
    session: AsyncSession,
    opened: Sequence[tuple[NewCase, Person]],
    *,
    request_ids: Mapping[uuid.UUID, str | None] | None = None,
) -> None:
    """Writes new cases with their first status, the first contact and triage deadlines and
    case.opened, one statement per table whatever their number. ``request_ids``: the request
    that asked for each case, when it is not the current one."""
    if not opened:
        return
    await session.execute(
        insert(_CASE), [{k: getattr(c, k) for k in _CASE_COLUMNS} for c, _ in opened]
    )
    await session.execute(
        insert(_STATUS_CHANGE),
        [
            {"case_id": c.id, "to_status": "received", "at": c.received_at, "by_sub": c.created_by}
            for c, _ in opened
        ],
    )
    await sla.start_steps(
        session,
        [(c.id, c.ambito_code, kind, c.received_at) for c, _ in opened for kind in OPENING_STEPS],
        met={c.id: ["first_contact"] for c, _ in opened if c.case_manager_sub},
    )
    asked = request_ids or {}
    await emit_many(
        session,
        [
            case_event(
                contract.CASE_TOPIC,
                contract.CASE_OPENED,
                contract.CaseOpened(**facts(c, p, c.received_at)),
                request_id=asked.get(c.id),
            )
            for c, p in opened
        ],
    )


OPENING_STEPS = ("first_contact", "triage")


async def open_case(
    session: AsyncSession, actor: str, data: CaseIn, *, at: datetime | None = None
) -> tuple[Case, Person]:
    """Opens a case for ``data.person`` (found by codice fiscale in the ambito, or new)."""
    code = data.person.codice_fiscale.strip().upper()
    await lock_people(session, [(data.ambito_code, code)])
    people = await upsert_people(session, [(data.ambito_code, data.person)])
    person = next(iter(people.values()))
    new = new_case(data, person, actor, at or utcnow())
    await insert_cases(session, [(new, person)])
    case = await session.get(Case, new.id)
    assert case is not None
    return case, person


async def get_person(session: AsyncSession, case: Case) -> Person:
    person = await session.get(Person, case.person_id)
    assert person is not None
    return person


async def get_case(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> Case:
    case = await session.get(Case, case_id)
    if case is None or not principal.can_act_on(case.ambito_code):
        raise NotFound(f"Caso {case_id} non trovato", f"Case {case_id} not found")
    return case


async def lock_case(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> Case:
    """The case, locked for the rest of the transaction (serialises concurrent changes)."""
    case = (await session.exec(select(Case).where(Case.id == case_id).with_for_update())).first()
    if case is None or not principal.can_act_on(case.ambito_code):
        raise NotFound(f"Caso {case_id} non trovato", f"Case {case_id} not found")
    return case


def touch(case: Case) -> None:
    case.version += 1
    case.updated_at = utcnow()


async def update_case(
    session: AsyncSession, principal: Principal, case: Case, data: CaseUpdate
) -> Case:
    if case.status in FINAL:
        raise Conflict(
            "Il caso è chiuso e non può essere modificato",
            "The case is closed and cannot be changed",
            code="case-closed",
        )
    for key, value in data.model_dump().items():
        setattr(case, key, value)
    touch(case)
    session.add(case)
    if case.case_manager_sub:
        await sla.meet(session, case.id, ["first_contact"])
    return case


async def transition(
    session: AsyncSession,
    actor: str,
    case: Case,
    to_status: str,
    *,
    reason: str | None = None,
    at: datetime | None = None,
) -> Case:
    """Moves the case along the state machine; an illegal move is 409 problem+json."""
    from_status = case.status
    allowed = TRANSITIONS.get(from_status, frozenset())
    if to_status not in allowed:
        raise Conflict(
            f"Transizione non consentita da {from_status} a {to_status}",
            f"Transition from {from_status} to {to_status} is not allowed",
            code="illegal-transition",
            extra={"from_status": from_status, "allowed": sorted(allowed)},
        )
    now = at or utcnow()
    case.status = to_status
    if to_status in CLOSING:
        case.closure_reason = reason or ("orientamento" if to_status != "closed" else "chiuso")
    touch(case)
    session.add(case)
    session.add(
        CaseStatusChange(
            case_id=case.id,
            from_status=from_status,
            to_status=to_status,
            at=now,
            by_sub=actor,
            reason=reason,
        )
    )
    await _deadlines_on(session, case, to_status, now)
    person = await get_person(session, case)
    await emit_case_event(
        session,
        contract.CASE_TOPIC,
        contract.CASE_STATUS_CHANGED,
        contract.CaseStatusChanged(
            **facts(case, person, now), from_status=from_status, to_status=to_status
        ),
    )
    if to_status in CLOSING:
        from pdz_casework.pai.service import end_all

        await end_all(session, case)
        await emit_case_event(
            session,
            contract.CASE_TOPIC,
            contract.CASE_CLOSED,
            contract.CaseClosed(**facts(case, person, now), reason=case.closure_reason or ""),
        )
    return case


async def _deadlines_on(session: AsyncSession, case: Case, status: str, now: datetime) -> None:
    if status == "triaged":
        await sla.meet(session, case.id, ["first_contact", "triage"])
    elif status == "evm_scheduled":
        await sla.meet(session, case.id, ["first_contact", "triage"])
        await sla.start_step(session, case.id, case.ambito_code, "evm", now)
    elif status == "assessed":
        await sla.meet(session, case.id, ["evm"])
        await sla.start_step(session, case.id, case.ambito_code, "pai", now)
    elif status in ("pai_active", "simple_service_activated") or status in CLOSING:
        await sla.meet(session, case.id)


async def search(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    pua_level: str | None,
    source: str | None,
    comune: str | None,
    overdue: bool | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[tuple[Case, bool]], int]:
    late = (
        exists()
        .where(
            col(SlaDeadline.case_id) == col(Case.id),
            col(SlaDeadline.met_at).is_(None),
            col(SlaDeadline.due_at) < func.now(),
        )
        .correlate(Case)
    )
    query = select(Case, late.label("overdue"))
    if not principal.is_platform_admin:
        query = query.where(col(Case.ambito_code).in_(sorted(principal.ambiti)))
    if status:
        query = query.where(Case.status == status)
    if pua_level:
        query = query.where(Case.pua_level == pua_level)
    if source:
        query = query.where(Case.source == source)
    if comune:
        query = query.where(Case.comune_code == comune)
    if overdue is not None:
        query = query.where(late if overdue else ~late)
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return [(c, bool(o)) for c, o in rows.all()], int(total)


async def to_out(session: AsyncSession, case: Case) -> CaseOut:
    person = await get_person(session, case)
    history = list(
        (
            await session.exec(
                select(CaseStatusChange)
                .where(CaseStatusChange.case_id == case.id)
                .order_by(col(CaseStatusChange.id))
            )
        ).all()
    )
    now = utcnow()
    deadlines = [
        DeadlineOut(
            kind=d.kind,
            due_at=d.due_at,
            met_at=d.met_at,
            overdue=d.met_at is None and d.due_at < now,
        )
        for d in await sla.deadlines_of(session, case.id)
    ]
    return CaseOut(
        id=case.id,
        ambito_code=case.ambito_code,
        comune_code=case.comune_code,
        source=case.source,
        pua_level=case.pua_level,
        status=case.status,
        case_manager_sub=case.case_manager_sub,
        case_manager_kind=case.case_manager_kind,
        request_summary=case.request_summary,
        closure_reason=case.closure_reason,
        person=PersonOut.model_validate(person, from_attributes=True),
        timestamps={h.to_status: h.at for h in history},
        history=[StatusChangeOut.model_validate(h, from_attributes=True) for h in history],
        deadlines=deadlines,
        version=case.version,
        received_at=case.received_at,
        updated_at=case.updated_at,
    )
