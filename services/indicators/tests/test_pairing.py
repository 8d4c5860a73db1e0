"""avg_days pairs each end fact with its case's latest start fact at or before the end's local
day: the same pairs live (kept sums, per case), in a full recompute (set-based, a window over
the case's facts) and in the statement per cell, at every edge of that rule."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import scenario as sc
from sqlalchemy import select, text

from pdz_indicators.targets.models import Indicator
from pdz_indicators.values import service as values
from pdz_indicators.values.periods import parse_period
from pdz_shared.contracts import casework as cw
from pdz_shared.testing.plugin import Harness

FORMULAS = {
    "PAIR-ALL": "avg_days(discharge.received -> transition.completed)",
    # The start fact's attribute (channel): the pairing must carry the start's attributes.
    "PAIR-API": 'avg_days(discharge.received -> transition.completed where channel = "api")',
    "PAIR-MIX": "avg_days(discharge.received -> transition.completed "
    'where channel = "kafka" or destination = "struttura_residenziale")',
}


def received(case: uuid.UUID, at: datetime, channel: str, n: int) -> Any:
    return sc.event(
        cw.DISCHARGE_RECEIVED,
        cw.DischargeReceived(
            **sc._facts(case, sc.ISEO, sc.A5, at),
            discharge_id=uuid.uuid5(case, f"d{n}"),
            channel=channel,  # type: ignore[arg-type]
            sending_organization="ASST Franciacorta",
            planned_discharge_date=at.date(),
            received_at=at,
        ),
    )


def arrived(case: uuid.UUID, day: date, n: int, destination: str = "domicilio") -> Any:
    """An end fact: dated by its day, i.e. local noon."""
    return sc.event(
        cw.TRANSITION_COMPLETED,
        cw.TransitionCompleted(
            **sc._facts(
                case, sc.ISEO, sc.A5, datetime(day.year, day.month, day.day, 18, tzinfo=UTC)
            ),
            discharge_id=uuid.uuid5(case, f"t{n}"),
            origin_setting="ospedale",
            destination=destination,  # type: ignore[arg-type]
            discharged_on=day,
            arrived_on=day,
            outcome="rientro",
        ),
    )


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def cases() -> list[Any]:
    c = [uuid.uuid4() for _ in range(8)]
    return [
        # 1. Start and end on the same local day, the start later in the day: 0 days.
        received(c[0], utc(2025, 3, 10, 15), "api", 1),
        arrived(c[0], date(2025, 3, 10), 1),
        # 2. An end before any start of its case: no pair (the start comes later).
        arrived(c[1], date(2025, 3, 5), 1),
        received(c[1], utc(2025, 3, 6, 9), "api", 1),
        # 3. Two starts before one end: the latest, 4 days (and its channel, api).
        received(c[2], utc(2025, 3, 1, 8), "kafka", 1),
        received(c[2], utc(2025, 3, 4, 8), "api", 2),
        arrived(c[2], date(2025, 3, 8), 1),
        # 4. Local days: 23:30 UTC on the 11th is the 12th in Rome (after the end's day), so
        # the end pairs with the start of 23:30 UTC on the 9th, the 10th in Rome: 1 day.
        received(c[3], utc(2025, 3, 9, 23, 30), "kafka", 1),
        received(c[3], utc(2025, 3, 11, 23, 30), "api", 2),
        arrived(c[3], date(2025, 3, 11), 1),
        # 5. Two starts at the same instant: the last stored (kafka), 6 days.
        received(c[4], utc(2025, 3, 14, 9), "api", 1),
        received(c[4], utc(2025, 3, 14, 9), "kafka", 2),
        arrived(c[4], date(2025, 3, 20), 1, "struttura_residenziale"),
        # 6. One start, two ends: 1 and 10 days.
        received(c[5], utc(2025, 3, 2, 10), "api", 1),
        arrived(c[5], date(2025, 3, 3), 1),
        arrived(c[5], date(2025, 3, 12), 2, "struttura_residenziale"),
        # 7. A start after the end (a later day) does not replace the earlier one: 14 days.
        received(c[6], utc(2025, 3, 1, 10), "kafka", 1),
        arrived(c[6], date(2025, 3, 15), 1),
        received(c[6], utc(2025, 3, 16, 10), "api", 2),
        # 8. Across a month, in summer time: 22:30 UTC on 31 March is 1 April in Rome, the
        # end's day: 0 days, in April.
        received(c[7], utc(2025, 3, 31, 22, 30), "api", 1),
        arrived(c[7], date(2025, 4, 1), 1),
    ]


# (people, days) per indicator and period, in Iseo, by the cases above.
EXPECTED = {
    "PAIR-ALL": {"2025-03": (7, 0 + 4 + 1 + 6 + 1 + 10 + 14), "2025-04": (1, 0)},
    "PAIR-API": {"2025-03": (4, 0 + 4 + 1 + 10), "2025-04": (1, 0)},
    "PAIR-MIX": {"2025-03": (4, 1 + 6 + 10 + 14), "2025-04": None},
}


def expected(code: str, period: str) -> tuple[Decimal | None, str | None]:
    found = EXPECTED[code][period]
    if found is None:
        return None, "no_data"
    people, days = found
    return (Decimal(days) / Decimal(people)).quantize(Decimal("0.000001")), None


@pytest.mark.parametrize("group", [1, 50], ids=["one by one", "in one group"])
async def test_average_pairs_at_the_edges(harness: Harness, group: int) -> None:
    await sc.deliver(harness, *sc.territories(), sc.plan(), sc.objective())
    await sc.deliver(harness, *(sc.indicator(k, f, unit="gg") for k, f in FORMULAS.items()))
    if group == 1:
        await sc.deliver(harness, *cases())
    else:
        await sc.deliver_groups(harness, cases(), size=group)
    periods = ["2025-03", "2025-04", "2025-Q1"]
    async with harness.factory() as s:
        terr = await values.Territories.load(s)
        indicators = (await s.execute(select(Indicator))).scalars().all()
        by_code = {i.code: i for i in indicators}

        async def stored() -> dict[tuple[str, str, str], tuple[Any, ...]]:
            rows = await s.execute(
                text(
                    "SELECT i.code, v.territory_code, v.period, v.value, v.reason, v.inputs "
                    "FROM indicator_value v JOIN indicator i USING (indicator_id)"
                ).execution_options(populate_existing=True)
            )
            return {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in rows}

        live = await stored()
        for code in FORMULAS:
            for period in ("2025-03", "2025-04"):
                assert live[(code, sc.ISEO, period)][:2] == expected(code, period), (code, period)
        # The statement per cell, the set-based sums per indicator, and all at once.
        cells = [(terr.scope(t), parse_period(p)) for t in (sc.ISEO, sc.A5) for p in periods]
        for code, indicator in by_code.items():
            per_cell = await values.compute_cells(s, indicator, cells)
            set_based = await values.compute_cells(s, indicator, cells, set_based=True)
            for a, b in zip(per_cell, set_based, strict=True):
                key = (code, a.territory_code, a.period)
                assert (a.value, a.reason, a.inputs) == live[key], key
                assert (b.value, b.reason, b.inputs) == live[key], key
        await s.execute(text("DELETE FROM indicator_value"))
        await values.recompute_many(s, list(indicators))
        fresh = await stored()
        assert {k: fresh.get(k) for k in live} == live
        await s.rollback()
