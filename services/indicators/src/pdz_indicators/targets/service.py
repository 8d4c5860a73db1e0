"""Judging each indicator's target per year of its plan; events when a status changes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
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
from pdz_indicators.values.models import IndicatorValue
from pdz_indicators.values.periods import ROME, parse_period
from pdz_shared.contracts import indicators as contract
from pdz_shared.db import utcnow
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
    territory projection, ``plan`` the indicator's plan, when the caller has them already).

    The same judgements as :func:`judge_year` year by year, with one read of the values they
    need, one of the statuses before and one write of them all."""
    if not indicator.target or not indicator.ambito_code:
        return
    if plan is None and indicator.plan_id:
        plan = await session.get(Plan, indicator.plan_id)
    now = today()
    if plan is not None:
        years = list(range(plan.cycle_start_year, plan.cycle_end_year + 1))
    else:
        years = [now.year]
    years = [y for y in years if y <= now.year]
    if not years:
        return
    ambito = indicator.ambito_code
    target = TARGET_ADAPTER.validate_python(indicator.target)
    computable = bool(indicator.formula) and not indicator.formula_error
    codes: list[str] = []
    if computable and target.kind in ("share_of_comuni", "floor_per_subterritory"):
        terr = terr or await values.Territories.load(session)
        codes = sorted(c for c in terr.descendants(ambito) if terr._kind(c) == "comune")
    labels = sorted(
        {str(y) for y in years} | ({str(y - 1) for y in years} if computable else set())
    )
    found = await _values(session, indicator, [ambito, *codes], labels)

    async def value(territory: str, label: str) -> Decimal | None:
        if (territory, label) not in found:  # not computed yet: computed (and stored) now
            row = await values.get_value(session, indicator, territory, parse_period(label))
            found[(territory, label)] = row.value
        return found[(territory, label)]

    judged: list[tuple[str, Judgement, Decimal | None]] = []
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
            closed = parse_period(period).end <= now
            inputs = Inputs(
                year=year,
                value=await value(ambito, period),
                previous=await value(ambito, str(year - 1)),
                comuni=tuple([await value(c, period) for c in codes]),
                closed=closed,
                today=now,
            )
            j = judge(target, inputs)
        judged.append((period, j, found.get((ambito, period))))
    await _store_all(session, indicator, ambito, judged)


async def _values(
    session: AsyncSession, indicator: Indicator, territories: list[str], labels: list[str]
) -> dict[tuple[str, str], Decimal | None]:
    """The stored values of the indicator for these territories and periods."""
    rows = await session.execute(
        select(
            col(IndicatorValue.territory_code),
            col(IndicatorValue.period),
            col(IndicatorValue.value),
        ).where(
            col(IndicatorValue.indicator_id) == indicator.indicator_id,
            col(IndicatorValue.territory_code).in_(territories),
            col(IndicatorValue.period).in_(labels),
        )
    )
    return {(t, p): v for t, p, v in rows}


async def _store_all(
    session: AsyncSession,
    indicator: Indicator,
    territory: str,
    judged: list[tuple[str, Judgement, Decimal | None]],
) -> None:
    """Stores the judgements (period, judgement, value) of one territory; an event for each
    status that changes to achieved or at risk / off track."""
    periods = [period for period, _, _ in judged]
    found = await session.execute(
        select(col(TargetStatus.period), col(TargetStatus.status)).where(
            col(TargetStatus.indicator_id) == indicator.indicator_id,
            col(TargetStatus.territory_code) == territory,
            col(TargetStatus.period).in_(periods),
        )
    )
    before: dict[str, str] = {period: status for period, status in found}
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
        for period, j, value in judged
    ]
    stmt = insert(TargetStatus).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["indicator_id", "territory_code", "period"],
        set_={
            k: stmt.excluded[k]
            for k in rows[0]
            if k not in ("indicator_id", "territory_code", "period")
        },
    )
    await session.execute(stmt)
    # Rows of these statuses loaded earlier in this session are now out of date.
    for obj in list(session.identity_map.values()):
        if (
            isinstance(obj, TargetStatus)
            and obj.indicator_id == indicator.indicator_id
            and obj.territory_code == territory
            and obj.period in before
        ):
            session.expire(obj)
    for period, j, value in judged:
        await _event(session, indicator, territory, period, j, before.get(period), value, judged_at)


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
