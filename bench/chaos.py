"""``make chaos``: discharges flow while every process is killed in turn and the broker restarts.

The whole platform runs as processes (each worker split into its outbox relay and its tasks),
on real PostgreSQL and the embedded broker. ASST senders post ``--discharges`` dimissioni
protette at ``--rate`` per second and retry until they get their 202, as an ASST system would.
Meanwhile, every few seconds one process is killed with SIGKILL and restarted: each service's
API, relay and tasks in turn; once, half way, the broker is restarted too (tansu keeps nothing:
every message and consumer offset is lost, and the outboxes publish their retention window
again, ``pdz events republish``). Then it waits for the platform to settle and counts:

- discharges accepted = discharges processed = cases opened, none lost, none twice;
- notifications: exactly one delivery per (event, recipient, channel), every e-mail in the
  SMTP sink under one Message-ID (a worker killed between the SMTP server's 250 and its commit
  sends that message again with the same Message-ID: counted apart), one inbox message per case
  and PUA operator;
- every indicator value equal to a recompute from scratch.

It prints the counts and exits 1 if any of them is wrong. ``--discharges 300 --rate 30`` is a
short run; ``make chaos`` runs 10,000.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import typer
from sqlalchemy import text

from bench.load import open_loop
from bench.scenarios import bundle_factory
from pdz_shared import devinfra, devstack
from pdz_shared.auth import mint_token
from pdz_shared.db import make_engine
from pdz_shared.demo import load
from pdz_shared.settings import common_settings

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "services" / "casework" / "samples" / "dimissione-protetta-sebino.json"
SEBINO = "AMBITO-05-SEBINO"
URL = {svc: f"http://127.0.0.1:{port}" for svc, port in devstack.SERVICES.items()}
LOGS = REPO / ".build" / "chaos-logs"


def say(msg: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {msg}", flush=True)


@dataclass
class Run:
    stack: devstack.Stack
    broker: devinfra.Broker
    asst: dict[str, str]  # the ASST system's Authorization header
    admin: dict[str, str]  # a platform administrator's
    started: datetime
    name: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    accepted: dict[int, str] = field(default_factory=dict)
    retries: int = 0
    faults: list[str] = field(default_factory=list)


def bundles(run: str, n: int) -> list[bytes]:
    """A distinct patient and encounter per discharge (a person per case: counts stay exact)."""
    make = bundle_factory(run)
    return [make(i) for i in range(n)]


async def send(run: Run, bodies: list[bytes], rate: float) -> None:
    """Each discharge posted until it is accepted (the intake is idempotent on its encounter)."""
    headers = {**run.asst, "Content-Type": "application/fhir+json"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    async with httpx.AsyncClient(timeout=10, limits=limits) as http:
        # At most as many requests in flight as connections: a queue inside httpx's pool costs
        # time per waiter on every request and starved this loop when the API slowed down.
        slots = asyncio.Semaphore(64)

        async def post(i: int) -> None:
            for _ in range(600):
                try:
                    async with slots:
                        r = await http.post(
                            f"{URL['casework']}/v1/discharges", content=bodies[i], headers=headers
                        )
                    if r.status_code == 202:
                        run.accepted[i] = r.headers["location"]
                        return
                except httpx.TransportError:
                    pass
                run.retries += 1
                await asyncio.sleep(0.5)
            raise RuntimeError(f"discharge {i} never accepted")

        await open_loop(len(bodies), rate, post)


async def faults(run: Run, seconds: float) -> None:
    """Kill -9 each API, relay and tasks process in turn; restart the broker half way."""
    victims = [f"{svc}-{part}" for part in ("api", "relay", "tasks") for svc in devstack.SERVICES]
    random.Random(run.name).shuffle(victims)
    pause = max(seconds / (len(victims) + 2), 2.0)
    for n, name in enumerate(victims):  # all of them, even once the senders are done
        await asyncio.sleep(pause)
        if n == len(victims) // 2:
            await restart_broker(run)
        say(f"kill -9 {name}")
        run.stack.kill(name)
        run.faults.append(f"kill -9 {name}")
        await asyncio.sleep(1.5)
        run.stack.restart(name)
        if name.endswith("-api"):
            port = devstack.SERVICES[name.removesuffix("-api")]
            await asyncio.to_thread(devinfra.wait_port, "127.0.0.1", port, 60)


async def restart_broker(run: Run) -> None:
    say("broker restart: every message and consumer offset is lost")
    run.faults.append("broker restart")
    total = await devstack.recover_broker(
        run.broker, run.stack.database_urls, run.started, LOGS / "tansu.log"
    )
    say(f"broker back; {total} outbox events queued again for publication")


async def scalar(run: Run, svc: str, sql: str, **params: Any) -> Any:
    engine = make_engine(run.stack.database_urls[svc], pool_size=1)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()
    finally:
        await engine.dispose()


async def rows(run: Run, svc: str, sql: str, **params: Any) -> list[Any]:
    engine = make_engine(run.stack.database_urls[svc], pool_size=1)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


async def settle(run: Run, timeout: float) -> None:
    """Until nothing is waiting anywhere and the notifications stop changing."""
    deadline = time.monotonic() + timeout
    last: tuple[Any, ...] | None = None
    steady = 0
    while time.monotonic() < deadline:
        waiting = await scalar(
            run, "casework", "SELECT count(*) FROM discharge WHERE pending IS NOT NULL"
        )
        unpublished = 0
        for svc in run.stack.database_urls:
            unpublished += await scalar(
                run, svc, "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            )
        undelivered = await scalar(
            run,
            "notifications",
            "SELECT count(*) FROM delivery WHERE status IN ('pending', 'sending')",
        )
        now = (
            waiting,
            unpublished,
            undelivered,
            await scalar(run, "notifications", "SELECT count(*) FROM delivery"),
            await scalar(run, "indicators", "SELECT count(*) FROM fact"),
        )
        steady = steady + 1 if now == last and not any(now[:3]) else 0
        if steady >= 5:
            return
        last = now
        await asyncio.sleep(2)
    raise TimeoutError(f"not settled after {timeout:.0f} s: {last}")


async def count(run: Run, sink_log: Path) -> dict[str, Any]:
    prefix = f"%|BENCH-{run.name}-%"
    found = await rows(
        run,
        "casework",
        "SELECT status, case_id FROM discharge WHERE encounter_identifier LIKE :p",
        p=prefix,
    )
    case_ids = [str(c) for s, c in found if s == "processed" and c]
    opened = await scalar(
        run,
        "casework",
        "SELECT count(*) FROM pua_case WHERE id = ANY(CAST(:ids AS uuid[]))",
        ids=case_ids,
    )
    events = dict(
        await rows(
            run,
            "casework",
            "SELECT event_id::text, data->>'case_id' FROM outbox "
            "WHERE type = 'it.pdz.casework.discharge.received' AND data->>'case_id' = ANY(:ids)",
            ids=case_ids,
        )
    )
    deliveries = await rows(
        run,
        "notifications",
        "SELECT event_id, recipient, channel, count(*) FROM delivery "
        "WHERE event_id = ANY(:events) GROUP BY 1, 2, 3",
        events=list(events),
    )
    per_case = Counter((events[e], ch) for e, _, ch, _ in deliveries)
    channels = sorted({ch for _, _, ch, _ in deliveries})
    recipients_per_case = {ch: Counter(per_case[(c, ch)] for c in case_ids) for ch in channels}
    text_ = await asyncio.to_thread(_read, sink_log)
    # An e-mail is one notification per Message-ID (the delivery id). A worker killed between
    # the SMTP server's 250 and its own commit sends that delivery again, with the same
    # Message-ID: SMTP has no idempotent submit, so such a copy is counted apart.
    mails: dict[tuple[str, str, str], set[str]] = {}
    copies: Counter[str] = Counter()
    wanted = set(case_ids)
    for mail in text_.split("--- mail from ")[1:]:
        head, _, rest = mail.partition("\n")
        to = head.split(" to ", 1)[1] if " to " in head else ""
        message_id = rest.partition("\n")[0].removeprefix("Message-ID: ")
        subject = rest.partition("\n")[2].partition("\n")[0]
        for cid in wanted.intersection(_uuids(mail)):
            # one e-mail per (event, recipient): the subject tells the kind of event
            mails.setdefault((cid, to, subject.replace(cid, "")), set()).add(message_id)
            copies[message_id] += 1
    sent_mail = sorted({len(ids) for ids in mails.values()})
    return {
        "discharges posted": len(run.accepted),
        "sender retries": run.retries,
        "discharges processed": sum(1 for s, _ in found if s == "processed"),
        "discharges not processed": sum(1 for s, _ in found if s != "processed"),
        "distinct cases": len(set(case_ids)),
        "cases opened": opened,
        "discharge.received events": len(events),
        "deliveries per (event, recipient, channel) > 1": sum(1 for *_, n in deliveries if n > 1),
        "recipients per case, by channel": {
            ch: dict(sorted(c.items())) for ch, c in recipients_per_case.items()
        },
        "e-mails in the sink": sum(copies.values()),
        "e-mail notifications (distinct Message-IDs)": len(copies),
        "notifications e-mailed under two Message-IDs": sum(
            1 for i in mails.values() if len(i) > 1
        ),
        "same Message-ID re-sent after a kill": sum(n - 1 for n in copies.values()),
        "cases with no e-mail": len(wanted - {c for c, _, _ in mails}),
        "Message-IDs per notification seen": sent_mail,
    }


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _uuids(text_: str) -> set[str]:
    import re

    return set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text_))


async def indicators_equal_recompute(run: Run) -> dict[str, Any]:
    admin = run.admin
    async with httpx.AsyncClient(timeout=120, base_url=URL["indicators"]) as http:
        codes = [
            i["code"]
            for i in (
                await http.get("/v1/indicators", params={"limit": 500}, headers=admin)
            ).json()["items"]
        ]

        async def values(code: str) -> list[Any]:
            r = await http.get(
                f"/v1/indicators/{code}/values",
                params={"territory": SEBINO, "period": "2026"},
                headers=admin,
            )
            return [v["value"] for v in r.json().get("items", [])] if r.status_code == 200 else []

        before = {c: await values(c) for c in codes}
        for code in codes:
            await http.post(f"/v1/indicators/{code}/recompute", headers=admin)
        after = {c: await values(c) for c in codes}
    differ = sorted(c for c in codes if before[c] != after[c])
    return {"indicators checked": len(codes), "indicators differing from a recompute": differ}


def check(counts: dict[str, Any], live: dict[str, Any]) -> list[str]:
    problems = []
    n = counts["discharges posted"]
    for key in (
        "discharges processed",
        "distinct cases",
        "cases opened",
        "discharge.received events",
    ):
        if counts[key] != n:
            problems.append(f"{key}: {counts[key]} != {n} posted")
    for key in (
        "discharges not processed",
        "deliveries per (event, recipient, channel) > 1",
        "notifications e-mailed under two Message-IDs",
        "cases with no e-mail",
    ):
        if counts[key]:
            problems.append(f"{key}: {counts[key]}")
    spreads = counts["recipients per case, by channel"]
    if not spreads:
        problems.append("no delivery found for the discharges")
    for ch, spread in spreads.items():
        if len(spread) != 1 or sum(spread.values()) != n:
            problems.append(f"recipients per case on {ch} vary: {spread}")
    if live["indicators differing from a recompute"]:
        problems.append(f"indicators differ: {live['indicators differing from a recompute']}")
    return problems


async def chaos(discharges: int, rate: float) -> int:
    os.environ.setdefault("PDZ_ENV", "dev")
    os.environ.setdefault("PDZ_LOG_LEVEL", "WARNING")
    os.environ.setdefault("PDZ_RATE_LIMIT_PER_MINUTE", "1000000")
    common_settings.cache_clear()
    server = await asyncio.to_thread(
        devinfra.postgres_server_url,
        os.environ.get("DATABASE_URL"),
        REPO / ".devstack" / "chaos-pg",
    )
    LOGS.mkdir(parents=True, exist_ok=True)
    broker = devinfra.start_tansu(log_path=LOGS / "tansu.log")
    os.environ["PDZ_KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
    common_settings.cache_clear()
    prefix = f"pdz_chaos{int(time.time())}_"
    stack = await asyncio.to_thread(
        devstack.start,
        REPO,
        database_url=server,
        bootstrap=broker.bootstrap,
        db_prefix=prefix,
        log_dir=LOGS,
        split_workers=True,
    )
    try:
        common = common_settings()
        admin = mint_token(common, sub="chaos-admin", roles=["platform_admin"], ttl_seconds=86400)
        await asyncio.to_thread(load, URL, admin)
        asst = mint_token(
            common,
            sub="cot-franciacorta",
            roles=["asst_system"],
            ambiti=[SEBINO],
            ttl_seconds=86400,
        )
        run = Run(
            stack,
            broker,
            {"Authorization": f"Bearer {asst}"},
            {"Authorization": f"Bearer {admin}"},
            datetime.now(UTC) - timedelta(minutes=1),
        )
        say(
            f"run {run.name}: {discharges} discharges at {rate}/s, {len(stack.processes)} processes"
        )
        data = bundles(run.name, discharges)
        sink = LOGS / "smtp-sink.log"
        await asyncio.gather(send(run, data, rate), faults(run, discharges / rate))
        say(f"all {len(run.accepted)} accepted ({run.retries} retries); waiting to settle")
        await settle(run, timeout=600 + discharges / 10)
        counts = await count(run, sink)
        live = await indicators_equal_recompute(run)
    finally:
        stack.stop()
        broker.stop()
        for svc in devstack.SERVICES:
            await devinfra.drop_database(server, f"{prefix}{svc}")
    print("\nfaults:", ", ".join(run.faults))
    for key, value in {**counts, **live}.items():
        print(f"  {key:<48} {value}")
    problems = check(counts, live)
    print("\nOK: nothing lost, nothing duplicated" if not problems else "\nPROBLEMS:")
    for p in problems:
        print(f"  - {p}")
    return 1 if problems else 0


def main(
    discharges: int = typer.Option(10_000, help="How many discharges to send"),
    rate: float = typer.Option(100.0, help="Discharges per second"),
) -> None:
    sys.exit(asyncio.run(chaos(discharges, rate)))


if __name__ == "__main__":
    typer.run(main)
