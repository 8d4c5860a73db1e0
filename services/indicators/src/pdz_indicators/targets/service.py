"""Judging each indicator's target per year of its plan; events when a status changes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
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
    session: AsyncSession, indicator: Indicator, terr: values.Territories | None = None
) -> None:
    """Judges every started year of the indicator's plan for the plan's ambito (``terr``: the
    territory projection, when the caller has it already)."""
    if not indicator.target or not indicator.ambito_code:
        return
    plan = await session.get(Plan, indicator.plan_id) if indicator.plan_id else None
    now = today()
    if plan is not None:
        years = list(range(plan.cycle_start_year, plan.cycle_end_year + 1))
    else:
        years = [now.year]
    terr = terr or await values.Territories.load(session)
    for year in years:
        if year > now.year:
            continue
        j = await judge_year(session, indicator, indicator.ambito_code, year, terr)
        await _store(session, indicator, indicator.ambito_code, str(year), j)


async def _store(
    session: AsyncSession, indicator: Indicator, territory: str, period: str, j: Judgement
) -> None:
    old = await session.get(TargetStatus, (indicator.indicator_id, territory, period))
    previous = old.status if old is not None else None
    judged_at = utcnow()
    value_row = await session.get(IndicatorValue, (indicator.indicator_id, territory, period))
    value = value_row.value if value_row is not None else None
    row = {
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
    stmt = insert(TargetStatus).values(**row)
    stmt = stmt.on_conflict_do_update(
        index_elements=["indicator_id", "territory_code", "period"],
        set_={
            k: stmt.excluded[k]
            for k in row
            if k not in ("indicator_id", "territory_code", "period")
        },
    )
    await session.execute(stmt)
    if old is not None:
        await session.refresh(old)
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
