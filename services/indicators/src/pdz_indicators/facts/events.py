"""Casework events → facts, idempotently; each new fact refreshes the values it feeds."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_indicators.expressions.catalog import BY_CE_TYPE, FactType
from pdz_indicators.facts.models import OPEN_AGE, Fact, Population
from pdz_indicators.values import service as values
from pdz_indicators.values.periods import ROME, local_day
from pdz_shared.contracts import casework as cw
from pdz_shared.contracts import plans
from pdz_shared.db import utcnow
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.groups import GroupHandler
from pdz_shared.events.inbox import Handler

MODELS: dict[str, type[cw.CaseFacts]] = {
    cw.CASE_OPENED: cw.CaseOpened,
    cw.CASE_TRIAGED: cw.CaseTriaged,
    cw.CASE_STATUS_CHANGED: cw.CaseStatusChanged,
    cw.CASE_CLOSED: cw.CaseClosed,
    cw.EVM_SCHEDULED: cw.EvmScheduled,
    cw.EVM_COMPLETED: cw.EvmCompleted,
    cw.PAI_APPROVED: cw.PaiApproved,
    cw.INTERVENTION_STARTED: cw.InterventionChanged,
    cw.INTERVENTION_ENDED: cw.InterventionChanged,
    cw.DISCHARGE_RECEIVED: cw.DischargeReceived,
    cw.TRANSITION_COMPLETED: cw.TransitionCompleted,
    cw.SLA_BREACHED: cw.SlaEvent,
}
_NOT_ATTRIBUTES = {"case_id", "ambito_code", "comune_code", "case_manager_sub", "occurred_at"}


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=ROME)
    if isinstance(value, date):
        return datetime.combine(value, time(12), ROME)  # a day: its local noon
    raise TypeError(f"not a date: {value!r}")


def fact_key(fact_type: FactType, data: BaseModel, event: CloudEvent) -> str:
    parts = [str(getattr(data, k, "") or "") for k in fact_type.natural_key]
    if not fact_type.natural_key or not all(parts):
        parts = [event.id]  # no natural key: the event itself is the fact
    return f"{fact_type.name}:{':'.join(parts)}"


async def on_case_event(session: AsyncSession, event: CloudEvent) -> None:
    await on_case_events(session, [event])


async def on_case_events(session: AsyncSession, events: list[CloudEvent]) -> None:
    """The facts of a group of case events, in order, each refreshing what it feeds: the
    group's values are computed once (:class:`values.Refresh`), as if the events came one by
    one. A fact already stored (republished or replayed) changes nothing."""
    rows = [_fact_row(event) for event in events]
    refresh = await values.Refresh.begin(
        session, [(r["fact_type"], r["ambito_code"], r["comune_code"]) for r in rows]
    )
    # Days a new fact can move: its own, and those of the same case's facts (avg_days pairs),
    # read by its insert (which sees the case's facts before it).
    days: dict[Any, set[date]] = {}
    for row in rows:
        inserted = (await session.execute(_INSERT_FACT, row)).one_or_none()
        if inserted is None:
            continue
        fact_id, before = inserted
        spot = (row["fact_type"], row["ambito_code"], row["comune_code"])
        await refresh.add(spot, (fact_id, row["fact_type"], row["case_id"]))
        case_days = days.setdefault(row["case_id"], set())
        case_days.update(local_day(fact_at) for fact_at in [row["fact_at"], *(before or [])])
    if not days:
        return
    await refresh.finish({c: sorted(d) for c, d in days.items()})


_FACT = Fact.__table__  # type: ignore[attr-defined]
_OTHER = _FACT.alias("other")
# A fact's row, unless stored already: its id and the instants of its case's other facts
# (those before it: the statement sees the table as it was before the insert). Built once.
_INSERT_FACT = (
    insert(_FACT)
    .values({c.name: bindparam(c.name, type_=c.type) for c in _FACT.c if c.name != "id"})
    .on_conflict_do_nothing(index_elements=["fact_key"])
    .returning(
        _FACT.c.id,
        select(func.array_agg(_OTHER.c.fact_at))
        .where(_OTHER.c.case_id == bindparam("case_id", type_=_FACT.c.case_id.type))
        .scalar_subquery(),
    )
)


def _fact_row(event: CloudEvent) -> dict[str, Any]:
    fact_type = BY_CE_TYPE[event.type]
    data = MODELS[event.type].model_validate(event.data)
    return {
        "fact_key": fact_key(fact_type, data, event),
        "event_id": event.id,
        "fact_type": fact_type.name,
        "case_id": data.case_id,
        "ambito_code": data.ambito_code,
        "comune_code": data.comune_code,
        "fact_at": _moment(getattr(data, fact_type.dated_by)),
        "occurred_at": data.occurred_at,
        "attrs": data.model_dump(mode="json", exclude=_NOT_ATTRIBUTES),
        "ingested_at": utcnow(),
    }


async def on_population(session: AsyncSession, event: CloudEvent) -> None:
    data = plans.TerritoryPopulationUpdated.model_validate(event.data)
    for sex, count in (("T", data.total), ("M", data.male), ("F", data.female)):
        if count is None:
            continue
        stmt = insert(Population).values(
            territory_code=data.code,
            year=data.year,
            sex=sex,
            age_from=0,
            age_to=OPEN_AGE,
            count=count,
            source=data.source,
            version=data.version,
        )
        table = Population.__table__  # type: ignore[attr-defined]
        stmt = stmt.on_conflict_do_update(
            index_elements=["territory_code", "year", "sex", "age_from", "age_to"],
            set_={
                "count": stmt.excluded.count,
                "version": stmt.excluded.version,
                "source": stmt.excluded.source,
            },
            where=table.c.version < stmt.excluded.version,
        )
        await session.execute(stmt)
    await values.refresh_for_population(session, data.ambito_code, data.year)


HANDLERS: dict[str, Handler] = {ce_type: on_case_event for ce_type in MODELS}
GROUP_HANDLERS: dict[Handler, GroupHandler] = {on_case_event: on_case_events}
POPULATION_HANDLERS: dict[str, Handler] = {plans.TERRITORY_POPULATION_UPDATED: on_population}
