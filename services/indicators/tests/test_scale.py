"""A few hundred demo cases through the real handlers: values equal an independent count."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import scenario as sc
from sqlalchemy import text

from pdz_indicators.expressions.library import LEPS_FORMULAS
from pdz_shared.testing.plugin import Harness

COMUNI = [sc.ISEO, sc.MARONE, sc.SULZANO]


def q(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


async def test_demo_cases_computed_live_match_an_independent_count(harness: Harness) -> None:
    rnd = random.Random(20251)
    await sc.deliver(harness, *sc.territories(), sc.plan(), sc.objective())
    await sc.deliver(
        harness,
        sc.indicator("LEPS-4.I2", LEPS_FORMULAS["LEPS-4.I2"], sc.series(50, 75, 100)),
        sc.indicator("LEPS-2.I2", LEPS_FORMULAS["LEPS-2.I2"], sc.series(40, 60, 80)),
        sc.indicator("LEPS-3.I3", LEPS_FORMULAS["LEPS-3.I3"], unit="giorni"),
        sc.indicator("LEPS-3.I6", LEPS_FORMULAS["LEPS-3.I6"], unit="n."),
    )
    events = []
    evm_n: dict[tuple[str, int], list[int]] = {}  # (comune, year) -> [with AS, total]
    pai_n: dict[tuple[str, int], int] = {}
    waits: dict[int, list[int]] = {}
    discharges: dict[int, int] = {}
    for _ in range(200):
        case = uuid.uuid4()
        comune = rnd.choice(COMUNI)
        year = rnd.choice([2025, 2026])
        day = date(year, rnd.randint(1, 12), rnd.randint(1, 28))
        with_as = rnd.random() < (0.45 if year == 2025 else 0.7)
        events.append(sc.evm(comune, day, with_as, case_id=case))
        counts = evm_n.setdefault((comune, year), [0, 0])
        counts[0] += with_as
        counts[1] += 1
        if rnd.random() < 0.55:
            events.append(sc.pai(comune, day + timedelta(days=3), case_id=case))
            pai_n[(comune, (day + timedelta(days=3)).year)] = (
                pai_n.get((comune, (day + timedelta(days=3)).year), 0) + 1
            )
        if rnd.random() < 0.4:
            received = datetime(year, day.month, day.day, 9, tzinfo=UTC) - timedelta(days=20)
            wait = rnd.randint(1, 12 if year == 2025 else 6)
            arrived = received.date() + timedelta(days=wait)
            events.append(sc.discharge(case, comune, received, rnd.choice(["api", "kafka"])))
            events.append(sc.transition(case, comune, arrived))
            waits.setdefault(arrived.year, []).append(wait)
            discharges[received.year] = discharges.get(received.year, 0) + 1
    started = time.perf_counter()
    assert await sc.deliver(harness, *events) == len(events)
    per_event = (time.perf_counter() - started) / len(events)
    assert len(events) > 300
    assert per_event < 0.25, f"{per_event:.3f} s per event"
    async with harness.factory() as s:
        rows = await s.execute(
            text(
                "SELECT i.code, v.territory_code, v.period, v.value FROM indicator_value v "
                "JOIN indicator i USING (indicator_id) WHERE v.period IN ('2025', '2026')"
            )
        )
        got = {(r[0], r[1], r[2]): r[3] for r in rows}
    for year in (2025, 2026):
        with_as = sum(evm_n.get((c, year), [0, 0])[0] for c in COMUNI)
        total = sum(evm_n.get((c, year), [0, 0])[1] for c in COMUNI)
        pais = sum(pai_n.get((c, year), 0) for c in COMUNI)
        assert got[("LEPS-4.I2", sc.A5, str(year))] == q(Decimal(with_as) / total * 100)
        assert got[("LEPS-2.I2", sc.A5, str(year))] == q(Decimal(pais) / total * 100)
        assert got[("LEPS-3.I3", sc.A5, str(year))] == q(
            Decimal(sum(waits[year])) / len(waits[year])
        )
        assert got[("LEPS-3.I6", sc.A5, str(year))] == discharges.get(year, 0)
        for c in COMUNI:
            a, t = evm_n[(c, year)]
            assert got[("LEPS-4.I2", c, str(year))] == q(Decimal(a) / t * 100)
    print(f"{len(events)} events, {per_event * 1000:.1f} ms per event")
