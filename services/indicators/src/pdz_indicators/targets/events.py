"""Projections of plans, objectives and indicator definitions (with their typed targets)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_indicators.expressions.checker import check, dependencies
from pdz_indicators.expressions.syntax import ExpressionError
from pdz_indicators.targets import service as targets
from pdz_indicators.targets.models import Indicator, Objective, Plan
from pdz_indicators.values import service as values
from pdz_shared.contracts import plans as contract
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.inbox import Handler


async def _upsert(
    session: AsyncSession,
    model: type,
    key: str,
    row: dict[str, object],
    insert_only: tuple[str, ...] = (),
) -> bool:
    """Keeps the newest version; True when this event changed the row."""
    table = model.__table__  # type: ignore[attr-defined]
    stmt = insert(model).values(**row)
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_={k: stmt.excluded[k] for k in row if k != key and k not in insert_only},
        where=table.c.version < stmt.excluded.version,
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def on_plan(session: AsyncSession, event: CloudEvent) -> None:
    data = contract.PlanChanged.model_validate(event.data)
    changed = await _upsert(
        session,
        Plan,
        "plan_id",
        data.model_dump(
            include={
                "plan_id",
                "code",
                "title",
                "ambito_code",
                "cycle_start_year",
                "cycle_end_year",
                "status",
                "comune_codes",
                "version",
            }
        ),
    )
    if not changed:
        return
    # Definitions may have arrived before their plan: now the cycle (and its years) is known.
    rows = await session.execute(
        select(Indicator)
        .where(col(Indicator.plan_id) == data.plan_id)
        .order_by(col(Indicator.indicator_id))
    )
    computable = []
    for indicator in rows.scalars().all():
        if indicator.ambito_code is None:
            indicator.ambito_code = data.ambito_code
            session.add(indicator)
            await session.flush()
        if indicator.formula and not indicator.formula_error:
            computable.append(indicator)
        else:
            await targets.judge_indicator(session, indicator)
    if computable:  # one scan of the facts for all of them
        await values.recompute_many(session, computable, years=None, kinds=("year", "cycle"))


async def on_objective(session: AsyncSession, event: CloudEvent) -> None:
    data = contract.ObjectiveChanged.model_validate(event.data)
    await _upsert(
        session,
        Objective,
        "objective_id",
        data.model_dump(
            include={"objective_id", "plan_id", "ambito_code", "code", "title", "status", "version"}
        ),
    )


async def on_indicator_definition(session: AsyncSession, event: CloudEvent) -> None:
    data = contract.IndicatorDefinitionChanged.model_validate(event.data)
    error: str | None = None
    fact_types: list[str] = []
    if data.formula:
        try:
            fact_types = sorted(dependencies(check(data.formula)).facts)
        except ExpressionError as exc:
            pos = f" (riga {exc.pos.line}, colonna {exc.pos.column})" if exc.pos else ""
            error = (exc.message_it + pos)[:2000]
    row = {
        **data.model_dump(
            include={
                "indicator_id",
                "code",
                "name",
                "kind",
                "unit",
                "frequency",
                "formula",
                "objective_id",
                "plan_id",
                "ambito_code",
                "version",
                "changed_at",
            }
        ),
        "target": data.target.model_dump(mode="json") if data.target else None,
        "formula_error": error,
        "fact_types": fact_types,
        "missing_value_policy": "skip_if_all_missing",
    }
    if row["ambito_code"] is None and data.plan_id is not None:
        plan = await session.get(Plan, data.plan_id)
        row["ambito_code"] = plan.ambito_code if plan else None
    # The missing-value policy is this service's setting: an update from plans keeps it.
    if not await _upsert(
        session, Indicator, "indicator_id", row, insert_only=("missing_value_policy",)
    ):
        return  # an older or replayed version
    indicator = await session.get(Indicator, data.indicator_id)
    assert indicator is not None
    await session.refresh(indicator)
    if indicator.formula and not indicator.formula_error:
        await values.recompute(session, indicator, years=None, kinds=("year", "cycle"))
    else:
        await targets.judge_indicator(session, indicator)


HANDLERS: dict[str, Handler] = {
    contract.PLAN_PUBLISHED: on_plan,
    contract.PLAN_UPDATED: on_plan,
    contract.PLAN_CLOSED: on_plan,
    contract.OBJECTIVE_CREATED: on_objective,
    contract.OBJECTIVE_UPDATED: on_objective,
    contract.INDICATOR_DEFINITION_CREATED: on_indicator_definition,
    contract.INDICATOR_DEFINITION_UPDATED: on_indicator_definition,
}
