"""The set-based computation (facts summed per ambito, comune and month) gives exactly the values
of the statement per cell, for every formula shape, territory and period."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import scenario as sc
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_indicators.expressions.library import LEPS_FORMULAS
from pdz_indicators.facts.events import _fact_row
from pdz_indicators.facts.models import Fact
from pdz_indicators.targets.models import Indicator
from pdz_indicators.values import service as values
from pdz_indicators.values.models import IndicatorValue
from pdz_indicators.values.periods import parse_period
from pdz_indicators.values.rollup import Rollup, apply_facts, scanning
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.testing.plugin import Harness

FORMULAS = {
    **{k: v for k, v in LEPS_FORMULAS.items() if "reported" not in v},
    "MIX": 'count(evm.completed where kind = "multidimensional" and comune_code != "017085") '
    '/ population() * 1000 + reported("posti_sad")',
    "AVG-AS": "avg_days(pai.approved -> evm.completed where team.size >= 3) "
    "- count(pai.approved) / 10",
    "NONE": "count(sla.breached)",
}


async def _setup(harness: Harness) -> None:
    await sc.deliver(harness, *sc.territories(), sc.plan(), sc.objective())
    await sc.deliver(
        harness,
        sc.population(sc.ISEO, 2025, 9000),
        sc.population(sc.A5, 2026, 15000, kind="ambito"),
        *(sc.indicator(code, f, unit="n.") for code, f in FORMULAS.items()),
    )


def _cases(rnd: random.Random, n: int) -> list[CloudEvent]:
    """The events of ``n`` cases: an EVM each, some with a PAI, some with a protected discharge
    and its transition; at local midnight edges."""
    events = []
    for _ in range(n):
        case = uuid.uuid4()
        comune, ambito = rnd.choice(
            [(sc.ISEO, sc.A5), (sc.MARONE, sc.A5), (sc.SULZANO, sc.A5), (sc.PALAZZOLO, sc.A6)]
        )
        # Local midnight edges: a fact at 23:30 UTC belongs to the next local day and month.
        day = date(rnd.choice([2024, 2025, 2026, 2027]), rnd.randint(1, 12), rnd.randint(1, 28))
        events.append(sc.evm(comune, day, rnd.random() < 0.5, ambito=ambito, case_id=case))
        if rnd.random() < 0.6:
            events.append(sc.pai(comune, day + timedelta(days=rnd.randint(-5, 5)), ambito, case))
        if rnd.random() < 0.5:
            received = datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC)
            arrived = received.date() + timedelta(days=rnd.randint(0, 40))
            events.append(
                sc.discharge(case, comune, received, rnd.choice(["api", "kafka"]), ambito)
            )
            dest = rnd.choice(["domicilio", "struttura_residenziale"])
            events.append(sc.transition(case, comune, arrived, dest, ambito))
    return events


@pytest.mark.parametrize("group", [1, 40], ids=["one by one", "in groups of 40"])
async def test_set_based_values_equal_the_statement_per_cell(harness: Harness, group: int) -> None:
    await _setup(harness)
    events = _cases(random.Random(7), 120)
    if group == 1:
        await sc.deliver(harness, *events)
    else:  # as the facts consumer does under load, some events twice (a redelivery)
        await sc.deliver_groups(harness, [*events, *events[::9]], size=group)
    async with harness.factory() as s:
        terr = await values.Territories.load(s)
        # The values kept live by the events (from the kept sums) are those of the statement
        # (not the watermark: a cell no event touched keeps the one of its last refresh).
        live = (await s.execute(select(IndicatorValue))).scalars().all()
        by_id = {i.indicator_id: i for i in (await s.execute(select(Indicator))).scalars()}
        assert len(live) > 500
        for row in live:
            again = await values.compute_cells(
                s,
                by_id[row.indicator_id],
                [(terr.scope(row.territory_code), parse_period(row.period))],
            )
            got = (row.value, row.reason, row.inputs, row.small_cell)
            want = (again[0].value, again[0].reason, again[0].inputs, again[0].small_cell)
            assert got == want, (by_id[row.indicator_id].code, row.territory_code, row.period)
        await s.execute(
            text("UPDATE fact SET comune_code = NULL WHERE id IN (SELECT id FROM fact LIMIT 7)")
        )
        await s.execute(
            text(
                "INSERT INTO reported_value (id, metric, territory_code, period, value, "
                "ambito_code, version, created_at, reported_by) VALUES "
                "(gen_random_uuid(), 'posti_sad', :a, '2025', 12, :a, 1, now(), 't'), "
                "(gen_random_uuid(), 'posti_sad', :c, '2026-Q2', 3, :a, 1, now(), 't')"
            ),
            {"a": sc.A5, "c": sc.ISEO},
        )
        terr = await values.Territories.load(s)
        cells = [
            (terr.scope(code), p)
            for code in [*terr.by_code, "UNKNOWN-COMUNE"]
            for p in values.all_periods([2024, 2025, 2026, 2027], [(2025, 2027)])
        ]
        indicators = (await s.execute(select(Indicator))).scalars().all()
        assert len(indicators) == len(FORMULAS)
        compared = 0
        expected: dict[tuple[uuid.UUID, str, str], tuple[object, ...]] = {}
        for indicator in indicators:
            for policy in ("skip_if_all_missing", "skip_if_any_missing", "zero"):
                indicator.missing_value_policy = policy
                per_cell = await values.compute_cells(s, indicator, cells)
                set_based = await values.compute_cells(s, indicator, cells, set_based=True)
                for a, b in zip(per_cell, set_based, strict=True):
                    got = (b.territory_code, b.period, b.value, b.reason, b.inputs, b.small_cell)
                    want = (a.territory_code, a.period, a.value, a.reason, a.inputs, a.small_cell)
                    assert got == want, indicator.code
                    assert a.watermark == b.watermark, (indicator.code, a.territory_code)
                    compared += a.value is not None
                    expected[(a.indicator_id, a.territory_code, a.period)] = (
                        a.value,
                        a.reason,
                        a.inputs,
                        a.small_cell,
                        a.watermark,
                    )
        # All of them at once (one scan of the facts for every count, one pairing per average).
        await s.execute(text("DELETE FROM indicator_value"))
        await values.recompute_many(s, list(indicators))
        fresh = select(IndicatorValue).execution_options(populate_existing=True)
        stored = (await s.execute(fresh)).scalars().all()
        assert len(stored) > 500
        for v in stored:
            got5 = (v.value, v.reason, v.inputs, v.small_cell, v.watermark)
            assert got5 == expected[(v.indicator_id, v.territory_code, v.period)], v
        await s.rollback()
    assert compared > 1000


KEYS = ("territory_code", "period", "value", "reason", "inputs", "small_cell", "watermark")


async def test_sums_added_up_by_postgresql_equal_those_added_up_in_python(
    harness: Harness,
) -> None:
    """The values of cells from kept sums: PostgreSQL adding up each cell's months (the
    statement of an event's refresh) gives the values of the sums added up here (a recompute's),
    every formula at once, for every territory (one without an ambito) and period (cells
    without facts, facts without a comune, averages without people, ratios over zero), before
    and after a new fact's rows are added to the kept sums by the statement itself."""
    await _setup(harness)
    await sc.deliver_groups(harness, _cases(random.Random(11), 40), size=100)
    async with harness.factory() as s:
        await s.execute(
            text("UPDATE fact SET comune_code = NULL WHERE id IN (SELECT id FROM fact LIMIT 9)")
        )
        terr = await values.Territories.load(s)
        cells = [
            (terr.scope(code), p)
            for code in [*terr.by_code, "UNKNOWN-COMUNE"]
            for p in values.all_periods([2024, 2025, 2026, 2027], [(2025, 2027)])
        ]
        ambiti = sorted({a for scope, _ in cells for a in scope.ambiti})
        indicators = sorted(
            (await s.execute(select(Indicator))).scalars().all(), key=lambda i: i.code
        )

        async def both(new: list[dict[str, object]]) -> None:
            work: list[values.Work] = []
            want: list[tuple[object, ...]] = []
            for indicator in indicators:
                assert indicator.formula is not None
                c = values.compiled(indicator.formula)
                sums = await Rollup.load(s, c, ambiti)  # from the facts, added up here
                for v in await values.compute_cells(s, indicator, cells, sums=sums):
                    want.append(tuple(getattr(v, k) for k in KEYS))
                work.append((indicator, c, cells))
            rows = await values._compute_union(s, work, new)
            got = [tuple(r[k] for k in KEYS) for r in rows]
            assert got == want

        for indicator in indicators:  # the kept sums, as a recompute leaves them
            assert indicator.formula is not None
            c = values.compiled(indicator.formula)
            await (await Rollup.load(s, c, ambiti)).save(
                s, indicator.indicator_id, indicator.formula, ambiti
            )
        await both([])
        # A new start fact of a case with an end fact (its average changes) and a new count.
        case = (
            await s.execute(
                text("SELECT case_id FROM fact WHERE fact_type = 'transition.completed' LIMIT 1")
            )
        ).scalar_one()
        new: list[dict[str, object]] = []
        for ce in [
            sc.discharge(case, sc.MARONE, datetime(2025, 6, 1, 22, 30, tzinfo=UTC), "kafka"),
            sc.evm(sc.SULZANO, date(2026, 2, 28), True),
        ]:
            row = _fact_row(ce)
            row["fact_key"] += ":again"  # the case's second discharge
            fact_id = (
                await s.execute(insert(Fact).values(**row).returning(Fact.id))  # type: ignore[arg-type]
            ).scalar_one()
            kept = [(i.indicator_id, values.compiled(i.formula or "")) for i in indicators]
            new += await apply_facts(s, kept, fact_id, row["fact_type"], row["case_id"])
        assert new
        await both(new)
        await s.rollback()


async def test_an_events_statements_are_planned_once_a_scan_for_its_parameters(
    harness: Harness,
) -> None:
    """An event's refresh (the shared definitions lock) plans its statements generically for
    the rest of its transaction; a scan of whole ambiti in it plans for its own parameters, and
    the event's setting is back after it. A full recompute (the exclusive lock) keeps the
    default."""

    async def mode(s: AsyncSession) -> str:
        found = await s.execute(text("SELECT current_setting('plan_cache_mode')"))
        return str(found.scalar_one())

    async with harness.factory() as s:
        await values.lock_definitions(s, exclusive=True)
        assert await mode(s) == "auto"
        await s.rollback()
        await values.lock_definitions(s, exclusive=False)
        assert await mode(s) == "force_generic_plan"
        async with scanning(s):
            assert await mode(s) == "auto"
        assert await mode(s) == "force_generic_plan"
        await s.rollback()
        assert await mode(s) == "auto"  # only for the event's transaction
