"""Judging each indicator's target per year of its plan; events when a status changes."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_indicators.targets.judge import (
    TARGET_ADAPTER,
    Inputs,
    Judgement,
    judge,
    target_for_year,
)
from pdz_indicators.targets.models import Indicator, Plan, TargetStatus
from pdz_indicators.values import service as values
from pdz_indicators.values.periods import ROME, parse_period
from pdz_shared.contracts import indicators as contract
from pdz_shared.db import Statement, driver, utcnow
from pdz_shared.events.outbox import emit


def today() -> date:
    return utcnow().astimezone(ROME).date()


async def judge_year(
    session: AsyncSession,
    indicator: Indicator,
    ambito: str,
    year: int,
    terr: values.Territories | None = None,
) -> Judgement:
    assert indicator.target is not None
    target = TARGET_ADAPTER.validate_python(indicator.target)
    if not indicator.formula or indicator.formula_error:
        # Nothing to judge on: never call a target missed without a way to measure it.
        return Judgement(
            "no_data",
            target_for_year(target, year),
            reason="l'indicatore non ha una formula calcolabile",
        )
    terr = terr or await values.Territories.load(session)
    period = parse_period(str(year))
    current = await values.get_value(session, indicator, ambito, period)
    previous = await values.get_value(session, indicator, ambito, parse_period(str(year - 1)))
    comuni: tuple[Decimal | None, ...] = ()
    if target.kind in ("share_of_comuni", "floor_per_subterritory"):
        codes = sorted(c for c in terr.descendants(ambito) if terr._kind(c) == "comune")
        comuni = tuple(
            [(await values.get_value(session, indicator, c, period)).value for c in codes]
        )
    now = today()
    return judge(
        target,
        Inputs(
            year=year,
            value=current.value,
            previous=previous.value,
            comuni=comuni,
            closed=period.end <= now,
            today=now,
        ),
    )


async def judge_indicator(
    session: AsyncSession,
    indicator: Indicator,
    terr: values.Territories | None = None,
    plan: Plan | None = None,
) -> None:
    """Judges every started year of the indicator's plan for the plan's ambito (``terr``: the
    territory projection, ``plan`` the indicator's plan, when the caller has them already)."""
    await judge_indicators(session, [indicator], terr, {plan.plan_id: plan} if plan else None)


Judged = tuple[Indicator, str, str, Judgement, Decimal | None]  # territory, period, value


async def judge_indicators(
    session: AsyncSession,
    indicators: list[Indicator],
    terr: values.Territories | None = None,
    plans: dict[uuid.UUID, Plan] | None = None,
    *,
    store: list[dict[str, Any]] | None = None,
) -> None:
    """:func:`judge_indicator` of each (in this order): the same judgements as
    :func:`judge_year` year by year, with one read of the values they need and of the
    statuses before, and one write of them all. ``store``: computed values (rows for
    :func:`values.store_values`) stored first, by the statement that reads (the values read are
    those once stored)."""
    store = store or []
    todo = list({i.indicator_id: i for i in indicators if i.target and i.ambito_code}.values())
    if not todo:
        await values.store_values(session, store)
        return
    plans = dict(plans or {})
    wanted = sorted({i.plan_id for i in todo if i.plan_id and i.plan_id not in plans})
    if wanted:
        found_plans = await session.execute(select(Plan).where(col(Plan.plan_id).in_(wanted)))
        plans.update({p.plan_id: p for p in found_plans.scalars()})
    now = today()
    # Per indicator: its ambito, years, comuni (share targets), whether it has a formula and
    # its target.
    work: list[tuple[Indicator, str, list[int], list[str], bool, Any]] = []
    for indicator in todo:
        assert indicator.ambito_code is not None
        plan = plans.get(indicator.plan_id) if indicator.plan_id else None
        if plan is not None:
            years = list(range(plan.cycle_start_year, plan.cycle_end_year + 1))
        else:
            years = [now.year]
        years = [y for y in years if y <= now.year]
        if not years:
            continue
        target = TARGET_ADAPTER.validate_python(indicator.target)
        computable = bool(indicator.formula) and not indicator.formula_error
        codes: list[str] = []
        if computable and target.kind in ("share_of_comuni", "floor_per_subterritory"):
            terr = terr or await values.Territories.load(session)
            ambito = indicator.ambito_code
            codes = sorted(c for c in terr.descendants(ambito) if terr._kind(c) == "comune")
        work.append((indicator, indicator.ambito_code, years, codes, computable, target))
    if not work:
        await values.store_values(session, store)
        return
    territories = sorted({t for _, a, _, codes, *_ in work for t in (a, *codes)})
    labels = sorted({str(y - d) for _, _, years, *_ in work for y in years for d in (0, 1)})
    found, before = await _read(
        session,
        [w[0] for w in work],
        (territories, labels),
        (sorted({a for _, a, *_ in work}), sorted({str(y) for _, _, ys, *_ in work for y in ys})),
        store,
    )
    judged: list[Judged] = []
    for indicator, ambito, years, codes, computable, target in work:
        for year in years:
            period = str(year)
            if not computable:
                # Nothing to judge on: never call a target missed without a way to measure it.
                j = Judgement(
                    "no_data",
                    target_for_year(target, year),
                    reason="l'indicatore non ha una formula calcolabile",
                )
            else:
                j = judge(
                    target,
                    Inputs(
                        year=year,
                        value=await _value(session, found, indicator, ambito, period),
                        previous=await _value(session, found, indicator, ambito, str(year - 1)),
                        comuni=tuple(
                            [await _value(session, found, indicator, c, period) for c in codes]
                        ),
                        closed=parse_period(period).end <= now,
                        today=now,
                    ),
                )
            judged.append(
                (indicator, ambito, period, j, found.get((indicator.indicator_id, ambito, period)))
            )
    await _store_all(session, judged, before)


ValueKey = tuple[uuid.UUID, str, str]  # indicator, territory, period


async def _value(
    session: AsyncSession,
    found: dict[ValueKey, Decimal | None],
    indicator: Indicator,
    territory: str,
    label: str,
) -> Decimal | None:
    key = (indicator.indicator_id, territory, label)
    if key not in found:  # not computed yet: computed (and stored) now
        row = await values.get_value(session, indicator, territory, parse_period(label))
        found[key] = row.value
    return found[key]


async def _read(
    session: AsyncSession,
    indicators: list[Indicator],
    cells: tuple[list[str], list[str]],
    judged: tuple[list[str], list[str]],
    store: list[dict[str, Any]],
) -> tuple[dict[ValueKey, Decimal | None], dict[ValueKey, str]]:
    """In one statement: stores the computed values ``store``, and reads the values of the
    indicators for these territories and periods (``cells``; with those stored) and their
    statuses for the territories and periods judged."""
    ids = sorted({i.indicator_id for i in indicators})
    params: dict[str, Any] = {"i": ids, "vt": cells[0], "vp": cells[1]}
    params.update({"st": judged[0], "sp": judged[1]})
    rows = values.unique_rows(store)
    if rows:
        params["rows"] = json.dumps(rows)
    found: dict[ValueKey, Decimal | None] = {}
    before: dict[ValueKey, str] = {}
    for r in await _READ[bool(rows)].fetch(await driver(session), params):
        key = (r["indicator_id"], r["territory_code"], r["period"])
        if r["kind"] == 0:
            found[key] = r["value"]
        else:
            before[key] = r["status"]
    for r in store:  # as stored (the read saw the table before)
        found[(r["indicator_id"], r["territory_code"], r["period"])] = r["value"]
    return found, before


_READ_SQL = (
    "SELECT 0 AS kind, indicator_id, territory_code, period, value, "
    "CAST(NULL AS VARCHAR) AS status FROM indicator_value "
    "WHERE indicator_id = ANY(CAST(:i AS uuid[])) AND territory_code = ANY(CAST(:vt AS text[])) "
    "AND period = ANY(CAST(:vp AS text[])) UNION ALL "
    "SELECT 1, indicator_id, territory_code, period, CAST(NULL AS NUMERIC), status "
    "FROM target_status WHERE indicator_id = ANY(CAST(:i AS uuid[])) "
    "AND territory_code = ANY(CAST(:st AS text[])) AND period = ANY(CAST(:sp AS text[]))"
)
# Without values to store, and with: the upsert of :data:`values.UPSERT_SQL` as a
# data-modifying WITH (it runs to completion; the read sees the table as it was before it).
_READ = {
    False: Statement(_READ_SQL),
    True: Statement(f"WITH stored AS ({values.UPSERT_SQL}) {_READ_SQL}"),
}


async def _store_all(
    session: AsyncSession, judged: list[Judged], before: dict[ValueKey, str]
) -> None:
    """Stores the judgements (``before``: the statuses they replace); an event for each
    status that changes to achieved or to at risk / off track."""
    judged_at = utcnow()
    rows = [
        {
            "indicator_id": indicator.indicator_id,
            "territory_code": territory,
            "period": period,
            "status": j.status,
            "value": value,
            "target_value": j.target_value,
            "progress": j.progress,
            "reason": j.reason,
            "judged_at": judged_at,
        }
        for indicator, territory, period, j, value in judged
    ]
    await _UPSERT_STATUSES.fetch(
        await driver(session), {"rows": json.dumps([_json_status(r) for r in rows])}
    )
    # Rows of these statuses loaded earlier in this session are now out of date.
    for obj in list(session.identity_map.values()):
        if (
            isinstance(obj, TargetStatus)
            and (obj.indicator_id, obj.territory_code, obj.period) in before
        ):
            session.expire(obj)
    for indicator, territory, period, j, value in judged:
        previous = before.get((indicator.indicator_id, territory, period))
        await _event(session, indicator, territory, period, j, previous, value, judged_at)


def _json_status(r: dict[str, Any]) -> dict[str, Any]:
    def number(x: Decimal | None) -> str | None:
        return None if x is None else format(x, "f")

    return {
        **r,
        "indicator_id": str(r["indicator_id"]),
        "value": number(r["value"]),
        "target_value": number(r["target_value"]),
        "progress": number(r["progress"]),
        "judged_at": r["judged_at"].isoformat(),
    }


# The statuses travel as one JSONB parameter (as the values: values.UPSERT_SQL).
_UPSERT_STATUSES = Statement(
    "INSERT INTO target_status (indicator_id, territory_code, period, status, value, "
    "target_value, progress, reason, judged_at) SELECT r.indicator_id, r.territory_code, "
    "r.period, r.status, r.value, r.target_value, r.progress, r.reason, r.judged_at "
    "FROM jsonb_to_recordset(CAST(:rows AS JSONB)) AS r(indicator_id UUID, territory_code TEXT, "
    "period TEXT, status TEXT, value NUMERIC, target_value NUMERIC, progress NUMERIC, "
    "reason TEXT, judged_at TIMESTAMPTZ) "
    "ON CONFLICT (indicator_id, territory_code, period) DO UPDATE SET status = excluded.status, "
    "value = excluded.value, target_value = excluded.target_value, "
    "progress = excluded.progress, reason = excluded.reason, judged_at = excluded.judged_at"
)


async def _event(
    session: AsyncSession,
    indicator: Indicator,
    territory: str,
    period: str,
    j: Judgement,
    previous: str | None,
    value: Decimal | None,
    judged_at: datetime,
) -> None:
    if previous == j.status:
        return
    if j.status == "achieved":
        ce_type = contract.TARGET_ACHIEVED
    elif j.status in ("at_risk", "off_track"):
        ce_type = contract.TARGET_AT_RISK
    else:
        return
    await emit(
        session,
        topic=contract.TARGET_TOPIC,
        type=ce_type,
        source=contract.SOURCE,
        key=str(indicator.indicator_id),
        subject=f"{indicator.code}/{territory}/{period}",
        data=contract.TargetStatusChanged(
            indicator_id=indicator.indicator_id,
            indicator_code=indicator.code,
            indicator_name=indicator.name,
            plan_id=indicator.plan_id,
            objective_id=indicator.objective_id,
            ambito_code=indicator.ambito_code,
            territory_code=territory,
            period=period,
            status=j.status,
            previous_status=previous,
            value=float(value) if value is not None else None,
            target_value=float(j.target_value) if j.target_value is not None else None,
            progress=float(j.progress) if j.progress is not None else None,
            unit=indicator.unit,
            reason=j.reason,
            judged_at=judged_at,
        ),
    )
