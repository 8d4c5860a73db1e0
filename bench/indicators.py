"""Indicators: full recompute of one plan over generated facts, and the cost per event.

``python -m bench.indicators [--facts 1000000] [--events 2000] [--rounds 3]``

On a scratch database (the local PostgreSQL, or ``PDZ_BENCH_DATABASE_URL``), migrated with the
service's own migrations, the Sebino demo plan arrives as the service receives it (territory,
plan, objective and indicator-definition events through the consumers' handlers); then the facts
are generated and loaded with COPY. Measured in this one process, each next to a baseline:

- the full recompute of the plan (``values.recompute`` of each of its indicators, every period
  kind, one transaction), against a bare ``GROUP BY`` of the same facts by type, territory and
  month (the floor: one scan of the facts);
- the cost per case event through the handler the Kafka consumer runs (``handle_once`` with the
  inbox row, one transaction each), wall and CPU (this process and the database backend),
  against the floor of storing the event: the fact row and the inbox row, one transaction;
- that the values kept live by the events equal a recompute from scratch.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import time
import uuid
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import yaml
from sqlalchemy import select, text
from sqlmodel import col

from bench.measure import cpu_seconds, percentile
from pdz_shared import devinfra
from pdz_shared.contracts import casework as cw
from pdz_shared.contracts import plans
from pdz_shared.db import SessionFactory, make_engine, make_session_factory, sync_url
from pdz_shared.events.cloudevents import CloudEvent, decode
from pdz_shared.events.inbox import Handler, handle_once

REPO = Path(__file__).resolve().parents[1]
SEBINO_PLAN = REPO / "services" / "plans" / "demo" / "sebino-2025-2027.yaml"
PLAN_ID = uuid.UUID("00000000-0000-4000-8000-0000000005e5")
CONSUMER = "indicators.facts"  # the name the Kafka consumer records in the inbox
OTHER_AMBITO = "AMBITO-06-MONTE-ORFANO"
GOAL_RECOMPUTE_S = 2.0
GROUP = 100  # records per group in the facts consumer (BatchConsumer.batch_size)
GOAL_EVENT_MS = 10.0
TOPIC_OF = {spec.type: spec.topic for spec in cw.EVENTS}
FACT_COLUMNS = [
    "fact_key",
    "event_id",
    "fact_type",
    "case_id",
    "ambito_code",
    "comune_code",
    "fact_at",
    "occurred_at",
    "attrs",
    "ingested_at",
]


# ------------------------------------------------------------------ the plan, as events


def _event(ce_type: str, payload: Any, source: str = plans.SOURCE) -> CloudEvent:
    return CloudEvent.new(source=source, type=ce_type, data=payload.model_dump(mode="json"))


def plan_events() -> tuple[list[CloudEvent], list[str]]:
    """Territories, plan, objectives and indicator definitions of the Sebino demo plan, as the
    plans service publishes them after importing the file; and the plan's comuni."""
    from pdz_plans.imports.normalize import normalize

    doc = yaml.safe_load(SEBINO_PLAN.read_text())
    norm = normalize(doc, {})
    now = datetime(2025, 1, 1, tzinfo=UTC)
    events: list[CloudEvent] = []
    comuni: list[str] = []
    kinds = {"regione", "ats", "asst", "distretto", "ambito", "comune"}
    for t in norm.territories:
        if t.get("kind") not in kinds:
            continue
        ambito = t.get("ambito_code") or (t["code"] if t["kind"] == "ambito" else None)
        events.append(
            _event(
                plans.TERRITORY_CREATED,
                plans.TerritoryChanged(
                    code=t["code"],
                    name=t.get("name") or t["code"],
                    kind=t["kind"],
                    parent_codes=t.get("parent_codes") or [],
                    ambito_code=ambito,
                    version=1,
                    changed_at=now,
                ),
            )
        )
        if t["kind"] == "comune":
            comuni.append(t["code"])
    p = norm.plan
    ambito = p["ambito_code"]
    events.append(
        _event(
            plans.PLAN_PUBLISHED,
            plans.PlanChanged(
                plan_id=PLAN_ID,
                code=p["code"],
                title=p["title"],
                ambito_code=ambito,
                cycle_start_year=p["cycle_start_year"],
                cycle_end_year=p["cycle_end_year"],
                status="in_force",
                comune_codes=comuni,
                version=1,
                changed_at=now,
            ),
        )
    )
    for o in norm.objectives:
        objective_id = uuid.uuid5(PLAN_ID, f"objective:{o['code']}")
        events.append(
            _event(
                plans.OBJECTIVE_CREATED,
                plans.ObjectiveChanged(
                    objective_id=objective_id,
                    plan_id=PLAN_ID,
                    ambito_code=ambito,
                    code=o["code"],
                    title=o.get("title") or o["code"],
                    scope="ambito",
                    status="active",
                    version=1,
                    changed_at=now,
                ),
            )
        )
        for ind in o.get("indicators", []):
            events.append(_definition(ind, objective_id, ambito, now))
    for ind in norm.indicators:
        events.append(_definition(ind, None, ambito, now))
    return events, comuni


def _definition(
    ind: dict[str, Any], objective_id: uuid.UUID | None, ambito: str, now: datetime
) -> CloudEvent:
    return _event(
        plans.INDICATOR_DEFINITION_CREATED,
        plans.IndicatorDefinitionChanged.model_validate(
            {
                "indicator_id": uuid.uuid5(PLAN_ID, f"indicator:{ind['code']}"),
                "code": ind["code"],
                "name": ind["name"],
                "kind": ind["kind"],
                "unit": ind.get("unit"),
                "frequency": ind.get("frequency") or "yearly",
                "formula": ind.get("formula"),
                "target": ind.get("target"),
                "objective_id": objective_id,
                "plan_id": PLAN_ID,
                "ambito_code": ambito,
                "version": 1,
                "changed_at": now,
            }
        ),
    )


# ------------------------------------------------------------------ generated casework


@dataclass
class Territory:
    ambito: str
    comune: str | None


class Cases:
    """A seeded stream of cases: an EVM for each, then perhaps a PAI, and for some a protected
    discharge followed by the transition home or to a residential facility."""

    def __init__(self, seed: int, comuni: list[str], ambito: str) -> None:
        self.rnd = random.Random(seed)
        self.places = [Territory(ambito, c) for c in comuni]
        self.places += [Territory(OTHER_AMBITO, None), Territory(OTHER_AMBITO, "COMUNE-PALAZZOLO")]

    def case(self, first: date, days: int) -> list[tuple[str, Any]]:
        """(CloudEvent type, payload model) of one case, in the order casework emits them."""
        r = self.rnd
        case_id = uuid.UUID(int=r.getrandbits(128), version=4)
        place = self.places[r.randrange(len(self.places))]
        start = datetime.combine(first, datetime.min.time(), UTC) + timedelta(
            days=r.randrange(days), hours=r.randrange(7, 18), minutes=r.randrange(60)
        )
        common: dict[str, Any] = {
            "case_id": case_id,
            "ambito_code": place.ambito,
            "comune_code": place.comune,
            "age_band": r.choice(["65-74", "75-84", "85+"]),
            "sex": r.choice(["M", "F"]),
            "source": r.choice(["sportello", "mmg", "asst_dimissione"]),
        }
        out: list[tuple[str, Any]] = []
        at = start
        if r.random() < 0.4:
            received = at
            wait = r.randint(1, 15)
            arrived = (received + timedelta(days=wait)).date()
            discharge_id = uuid.UUID(int=r.getrandbits(128), version=4)
            out.append(
                (
                    cw.DISCHARGE_RECEIVED,
                    cw.DischargeReceived(
                        **common,
                        occurred_at=received,
                        discharge_id=discharge_id,
                        channel=r.choice(["api", "kafka"]),
                        sending_organization="ASST Franciacorta",
                        planned_discharge_date=arrived,
                        received_at=received,
                    ),
                )
            )
            out.append(
                (
                    cw.TRANSITION_COMPLETED,
                    cw.TransitionCompleted(
                        **common,
                        occurred_at=received + timedelta(days=wait, hours=2),
                        discharge_id=discharge_id,
                        origin_setting="ospedale",
                        destination=r.choice(["domicilio", "domicilio", "struttura_residenziale"]),
                        discharged_on=arrived,
                        arrived_on=arrived,
                        outcome="rientro",
                    ),
                )
            )
            at = received + timedelta(days=wait + 1)
        evaluated = at + timedelta(days=r.randint(1, 20))
        out.append(
            (
                cw.EVM_COMPLETED,
                cw.EvmCompleted(
                    **common,
                    occurred_at=evaluated,
                    evm_id=uuid.UUID(int=r.getrandbits(128), version=4),
                    evaluated_at=evaluated,
                    kind=r.choice(["multidimensional", "multidimensional", "preliminary"]),
                    team=cw.TeamComposition(
                        has_ambito_social_worker=r.random() < 0.6,
                        has_asst_staff=r.random() < 0.8,
                        size=r.randint(2, 5),
                    ),
                    outcome="PAI",
                ),
            )
        )
        if r.random() < 0.6:
            approved = evaluated + timedelta(days=r.randint(1, 15))
            out.append(
                (
                    cw.PAI_APPROVED,
                    cw.PaiApproved(
                        **common,
                        occurred_at=approved,
                        pai_id=uuid.UUID(int=r.getrandbits(128), version=4),
                        version=1,
                        approved_at=approved,
                    ),
                )
            )
        return out


def fact_row(ce_type: str, data: Any, event_id: str, now: datetime) -> tuple[Any, ...]:
    """The row ``facts.events.on_case_event`` stores for this event (its own helpers)."""
    from pdz_indicators.expressions.catalog import BY_CE_TYPE
    from pdz_indicators.facts.events import _NOT_ATTRIBUTES, _moment, fact_key

    fact_type = BY_CE_TYPE[ce_type]
    probe = CloudEvent(id=event_id, source=cw.SOURCE, type=ce_type, data={})
    return (
        fact_key(fact_type, data, probe),
        event_id,
        fact_type.name,
        data.case_id,
        data.ambito_code,
        data.comune_code,
        _moment(getattr(data, fact_type.dated_by)),
        data.occurred_at,
        json.dumps(data.model_dump(mode="json", exclude=_NOT_ATTRIBUTES)),
        now,
    )


async def load_facts(url: str, cases: Cases, n: int) -> int:
    """``n`` facts (whole cases, 2025-2026) with COPY, in chunks."""
    conn = await asyncpg.connect(sync_url(url))
    loaded = 0
    now = datetime.now(UTC)
    try:
        while loaded < n:
            rows: list[tuple[Any, ...]] = []
            while len(rows) < min(50_000, n - loaded):
                for ce_type, data in cases.case(date(2025, 1, 1), 700):
                    rows.append(fact_row(ce_type, data, str(uuid.uuid4()), now))
            rows = rows[: n - loaded]
            await conn.copy_records_to_table("fact", records=rows, columns=FACT_COLUMNS)
            loaded += len(rows)
        await conn.execute("ANALYZE fact")
    finally:
        await conn.close()
    return loaded


# ------------------------------------------------------------------ measuring


class Cpu:
    """CPU seconds of this process and of the database's backends (read from /proc: the
    server is on this machine; elsewhere only this process counts)."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids

    def backend(self) -> float:
        total = 0.0
        for pid in self.pids:
            with contextlib.suppress(OSError):  # a backend that has gone
                total += cpu_seconds(pid)
        return total

    def now(self) -> tuple[float, float, float]:
        return time.perf_counter(), time.process_time(), self.backend()


async def backend_pids(factory: SessionFactory) -> list[int]:
    async with factory() as s:
        rows = await s.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        )
        return [int(r[0]) for r in rows]


async def deliver(factory: SessionFactory, handlers: dict[str, Handler], ev: CloudEvent) -> bool:
    """What ``EventConsumer._process`` does with a record: decode, handle once, commit."""
    event = decode(ev.kafka_headers(), ev.kafka_value())
    async with factory() as session:
        done = await handle_once(
            session, CONSUMER, TOPIC_OF.get(ev.type, "-"), event, handlers[ev.type]
        )
        await session.commit()
    return done


async def recompute_plan(factory: SessionFactory) -> dict[str, float]:
    """The service's full recompute of the plan's indicators (as after a territory change or
    the ``recompute`` endpoint, for all of them at once), one transaction."""
    from pdz_indicators.targets.models import Indicator
    from pdz_indicators.values import service as values

    per: dict[str, float] = {}
    async with factory() as session:
        rows = await session.execute(
            select(Indicator)
            .where(col(Indicator.plan_id) == PLAN_ID, col(Indicator.formula).is_not(None))
            .order_by(col(Indicator.indicator_id))
        )
        indicators = [i for i in rows.scalars().all() if not i.formula_error]
        t0 = time.perf_counter()
        per["cells"] = await values.recompute_many(session, indicators)
        per["seconds"] = round(time.perf_counter() - t0, 3)
        await session.commit()
    return per


async def baseline_group_by(url: str) -> tuple[float, int]:
    conn = await asyncpg.connect(sync_url(url))
    try:
        t0 = time.perf_counter()
        rows = await conn.fetch(
            "SELECT fact_type, ambito_code, comune_code, "
            "date_trunc('month', fact_at AT TIME ZONE 'Europe/Rome') AS month, count(*), "
            "count(*) FILTER (WHERE attrs #>> '{team,has_ambito_social_worker}' = 'true') "
            "FROM fact GROUP BY 1, 2, 3, 4"
        )
        return time.perf_counter() - t0, len(rows)
    finally:
        await conn.close()


async def store_only(factory: SessionFactory, ev: CloudEvent) -> None:
    """The floor of an event: its fact row and its inbox row, one transaction."""
    from sqlalchemy.dialects.postgresql import insert

    from pdz_indicators.facts.events import MODELS
    from pdz_indicators.facts.models import Fact

    event = decode(ev.kafka_headers(), ev.kafka_value())
    data = MODELS[event.type].model_validate(event.data)
    row = dict(
        zip(FACT_COLUMNS, fact_row(event.type, data, event.id, datetime.now(UTC)), strict=True)
    )
    row["attrs"] = json.loads(row["attrs"])
    row["fact_key"] = "floor:" + row["fact_key"]
    async with factory() as session:
        await session.execute(
            text(
                "INSERT INTO inbox (consumer, event_id, event_type, topic, processed_at) "
                "VALUES ('bench.floor', :i, :t, 'floor', now()) ON CONFLICT DO NOTHING"
            ),
            {"i": event.id, "t": event.type},
        )
        await session.execute(insert(Fact).values(**row).on_conflict_do_nothing())
        await session.commit()


async def snapshot(factory: SessionFactory) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    async with factory() as s:
        rows = await s.execute(
            text(
                "SELECT CAST(indicator_id AS TEXT), territory_code, period, value, reason, "
                "small_cell, inputs FROM indicator_value"
            )
        )
        return {(r[0], r[1], r[2]): tuple(r[3:]) for r in rows}


async def run(server_url: str, facts: int, events: int, rounds: int, keep: bool) -> dict[str, Any]:
    from pdz_indicators import models  # noqa: F401  (registers the tables)
    from pdz_indicators.facts.events import HANDLERS as FACT_HANDLERS
    from pdz_indicators.facts.events import on_case_events
    from pdz_indicators.targets.events import HANDLERS as PLAN_HANDLERS
    from pdz_indicators.territories.events import HANDLERS as TERRITORY_HANDLERS

    handlers = {**FACT_HANDLERS, **PLAN_HANDLERS, **TERRITORY_HANDLERS}
    name = f"pdz_bench_indicators_{int(time.time())}"
    url = await devinfra.create_database(server_url, name, drop=True)
    result: dict[str, Any] = {"facts": facts, "events": events, "database": name}
    try:
        await asyncio.to_thread(migrate, url)
        engine = make_engine(url, pool_size=2)
        factory = make_session_factory(engine)
        setup, comuni = plan_events()
        for ev in setup:
            await deliver(factory, handlers, ev)
        ambito = next(e.data["ambito_code"] for e in setup if e.type == plans.PLAN_PUBLISHED)
        cases = Cases(20251207, comuni, ambito)
        t0 = time.perf_counter()
        result["facts_loaded"] = await load_facts(url, cases, facts)
        result["load_seconds"] = round(time.perf_counter() - t0, 1)
        print(
            f"[indicators] {result['facts_loaded']} facts in {result['load_seconds']} s", flush=True
        )

        # Same warm-up for both: one pass over the table, so neither pays for a cold cache.
        await baseline_group_by(url)
        cpu = Cpu(await backend_pids(factory))
        base: list[float] = []
        walls: list[float] = []
        runs: list[dict[str, Any]] = []
        for _ in range(rounds):
            seconds, groups = await baseline_group_by(url)
            base.append(seconds)
            w0, c0, b0 = cpu.now()
            per = await recompute_plan(factory)
            w1, c1, b1 = cpu.now()
            walls.append(w1 - w0)
            runs.append(
                {
                    "wall_s": round(w1 - w0, 3),
                    "cpu_s": round(c1 - c0, 3),
                    "db_cpu_s": round(b1 - b0, 3),
                    "recompute": per,
                }
            )
            print(f"[indicators] recompute {w1 - w0:.2f} s, baseline {seconds:.2f} s", flush=True)
        async with factory() as s:
            result["values"] = (
                await s.execute(text("SELECT count(*) FROM indicator_value"))
            ).scalar_one()
        result["recompute"] = {
            "wall_s": round(statistics.median(walls), 3),
            "runs": runs,
            "baseline_group_by_s": round(statistics.median(base), 3),
            "baseline_groups": groups,
        }

        # Incremental: new cases through the consumer's handler, one transaction per event.
        stream: list[CloudEvent] = []
        while len(stream) < events:
            for ce_type, data in cases.case(date(2026, 1, 1), 330):
                stream.append(_event(ce_type, data, cw.SOURCE))
        stream = stream[:events]
        floor: list[CloudEvent] = []
        while len(floor) < events:
            for ce_type, data in cases.case(date(2026, 1, 1), 330):
                floor.append(_event(ce_type, data, cw.SOURCE))
        floor = floor[:events]
        for ev in stream[:20]:  # warm-up (caches, prepared statements), measured apart
            await deliver(factory, handlers, ev)
        cpu = Cpu(await backend_pids(factory))
        per_event: list[float] = []
        w0, c0, b0 = cpu.now()
        for ev in stream[20:]:
            t = time.perf_counter()
            await deliver(factory, handlers, ev)
            per_event.append(time.perf_counter() - t)
        w1, c1, b1 = cpu.now()
        n = len(per_event)
        f0 = cpu.now()
        for ev in floor:
            await store_only(factory, ev)
        f1 = cpu.now()
        result["incremental"] = {
            "events": n,
            "wall_ms_mean": round((w1 - w0) / n * 1e3, 3),
            "wall_ms_p50": round(percentile(per_event, 50) * 1e3, 3),
            "wall_ms_p95": round(percentile(per_event, 95) * 1e3, 3),
            "wall_ms_p99": round(percentile(per_event, 99) * 1e3, 3),
            "cpu_ms": round((c1 - c0) / n * 1e3, 3),
            "db_cpu_ms": round((b1 - b0) / n * 1e3, 3),
            "baseline_wall_ms": round((f1[0] - f0[0]) / len(floor) * 1e3, 3),
            "baseline_cpu_ms": round((f1[1] - f0[1]) / len(floor) * 1e3, 3),
            "baseline_db_cpu_ms": round((f1[2] - f0[2]) / len(floor) * 1e3, 3),
        }
        print(f"[indicators] incremental {result['incremental']}", flush=True)

        # The same, as the facts consumer handles them under load: groups of GROUP records,
        # one transaction each (``facts.events.on_case_events``).
        grouped: list[CloudEvent] = []
        while len(grouped) < events:
            for ce_type, data in cases.case(date(2026, 1, 1), 330):
                grouped.append(_event(ce_type, data, cw.SOURCE))
        cpu = Cpu(await backend_pids(factory))
        w0, c0, b0 = cpu.now()
        for start in range(0, events, GROUP):
            async with factory() as s:
                await on_case_events(s, grouped[start : min(start + GROUP, events)])
                await s.commit()
        w1, c1, b1 = cpu.now()
        result["grouped"] = {
            "group": GROUP,
            "events": events,
            "wall_ms_mean": round((w1 - w0) / events * 1e3, 3),
            "cpu_ms": round((c1 - c0) / events * 1e3, 3),
            "db_cpu_ms": round((b1 - b0) / events * 1e3, 3),
        }
        print(f"[indicators] in groups {result['grouped']}", flush=True)

        # The values kept live equal a recompute from scratch.
        async with factory() as s:
            await s.execute(text("DELETE FROM fact WHERE fact_key LIKE 'floor:%'"))
            await s.commit()
        live = await snapshot(factory)
        await recompute_plan(factory)
        fresh = await snapshot(factory)
        differ = sorted(k for k in live if k in fresh and live[k] != fresh[k])
        result["live_equals_recompute"] = {
            "compared": sum(1 for k in live if k in fresh),
            "different": len(differ),
            "examples": [
                {"cell": list(k), "live": str(live[k][:2]), "recompute": str(fresh[k][:2])}
                for k in differ[:5]
            ],
        }
        await engine.dispose()
    finally:
        if not keep:
            await devinfra.drop_database(server_url, name)
    return result


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    service = REPO / "services" / "indicators"
    cfg = Config(str(service / "alembic.ini"))
    cfg.set_main_option("script_location", str(service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "head")


def figures(r: dict[str, Any]) -> list[Any]:
    from bench.run import Figure

    rc, inc = r["recompute"], r["incremental"]
    same = r["live_equals_recompute"]["different"] == 0
    return [
        Figure(
            "indicators",
            f"plan recompute, {r['facts_loaded']:,} facts",
            rc["wall_s"],
            "s",
            rc["baseline_group_by_s"],
            f"< {GOAL_RECOMPUTE_S:g} s",
            rc["wall_s"] < GOAL_RECOMPUTE_S,
            r,
        ),
        Figure(
            "indicators",
            "wall per case event",
            inc["wall_ms_mean"],
            "ms",
            inc["baseline_wall_ms"],
            f"< {GOAL_EVENT_MS:g} ms",
            inc["wall_ms_mean"] < GOAL_EVENT_MS,
            {},
        ),
        Figure(
            "indicators",
            "CPU per case event (app + db)",
            round(inc["cpu_ms"] + inc["db_cpu_ms"], 3),
            "ms",
            round(inc["baseline_cpu_ms"] + inc["baseline_db_cpu_ms"], 3),
            f"< {GOAL_EVENT_MS:g} ms",
            inc["cpu_ms"] + inc["db_cpu_ms"] < GOAL_EVENT_MS,
            {},
        ),
        Figure(
            "indicators",
            f"CPU per case event, groups of {r['grouped']['group']}",
            round(r["grouped"]["cpu_ms"] + r["grouped"]["db_cpu_ms"], 3),
            "ms",
            round(inc["baseline_cpu_ms"] + inc["baseline_db_cpu_ms"], 3),
            f"< {GOAL_EVENT_MS:g} ms",
            r["grouped"]["cpu_ms"] + r["grouped"]["db_cpu_ms"] < GOAL_EVENT_MS,
            {},
        ),
        Figure(
            "indicators",
            "live values = recompute",
            r["live_equals_recompute"]["different"],
            "cells",
            None,
            "0 different",
            same,
            {},
        ),
    ]


def server() -> str:
    explicit = os.environ.get("PDZ_BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    return devinfra.postgres_server_url(explicit, REPO / ".devstack" / "bench-pg")


def main(argv: list[str] | None = None) -> None:
    from bench.run import RESULTS, print_table, write_results

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--facts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    os.environ.setdefault("PDZ_LOG_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # sqlmodel's execute()
    r = asyncio.run(run(server(), args.facts, args.events, args.rounds, args.keep))
    figs = figures(r)
    print_table(figs)
    out = write_results(figs)
    print(f"\nresults: {out.relative_to(RESULTS.parents[1])}")


if __name__ == "__main__":
    main()
