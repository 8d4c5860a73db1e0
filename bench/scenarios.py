"""Benchmarks that drive the platform through its public APIs and topics."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.load import LoadResult, closed_loop, exchange, http_request, open_loop
from bench.measure import cpu_seconds, percentile, settle
from pdz_shared import devinfra
from pdz_shared.auth import mint_token
from pdz_shared.db import sync_url
from pdz_shared.settings import common_settings

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "services" / "casework" / "samples" / "dimissione-protetta-sebino.json"
CASEWORK_PORT = 8003
CASEWORK = f"http://127.0.0.1:{CASEWORK_PORT}"
NOTIFICATIONS = "http://127.0.0.1:8004"
SEBINO = "AMBITO-05-SEBINO"
CASE_IN_BODY = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


def token(sub: str, *roles: str) -> str:
    return mint_token(
        common_settings(), sub=sub, roles=list(roles), ambiti=[SEBINO], ttl_seconds=7200
    )


FAMILY = [
    "Rossi",
    "Bonetti",
    "Guerini",
    "Zanotti",
    "Ferrari",
    "Belotti",
    "Cadei",
    "Archetti",
    "Pedrali",
    "Turla",
    "Omodei",
    "Zatti",
    "Ghitti",
    "Uberti",
    "Fenaroli",
    "Martinelli",
]
GIVEN = [
    "Maria",
    "Lucia",
    "Giovanni",
    "Pietro",
    "Angela",
    "Franco",
    "Elena",
    "Bruno",
    "Carla",
    "Dario",
    "Teresa",
    "Walter",
    "Silvia",
    "Ugo",
    "Nadia",
    "Vittorio",
]


def bundle_factory(run: str, first: int = 0) -> Any:
    """A distinct discharge bundle per index: its own encounter and patient (``first`` shifts
    the patients, so that runs in one database do not share them)."""
    from codicefiscale import codicefiscale

    template = json.loads(SAMPLE.read_text())

    def make(index: int) -> bytes:
        data = copy.deepcopy(template)
        patient = data["entry"][2]["resource"]
        i = index + first
        k = i // (len(FAMILY) * len(GIVEN))  # a distinct person for every index
        cf = codicefiscale.encode(
            lastname=FAMILY[i % len(FAMILY)],
            firstname=GIVEN[(i // len(FAMILY)) % len(GIVEN)],
            gender="F",
            birthdate=f"{1 + k % 28:02d}/{1 + (k // 28) % 12:02d}/19{30 + (k // 336) % 60}",
            birthplace="Iseo",
        )
        patient["identifier"][0]["value"] = cf
        patient.pop("gender", None)
        patient.pop("birthDate", None)
        data["entry"][3]["resource"]["identifier"][0]["value"] = f"BENCH-{run}-{index:07d}"
        return json.dumps(data).encode()

    return make


async def intake_rate(
    server_url: str,
    quick: bool,
    api_pid: int | None = None,
    background: list[int] | None = None,
    platform: list[int] | None = None,
) -> dict[str, Any]:
    """Discharges accepted per second: casework vs a bare FastAPI + asyncpg endpoint, both
    driven by the same keep-alive client; then how fast the accepted ones became cases. With
    ``api_pid`` (the casework API process), also the CPU each API process spent per request:
    the part of the figure that does not depend on what else runs on the machine. With
    ``background`` (the worker processes), a second burst while they are stopped (SIGSTOP):
    the endpoint alone, as the baseline runs; the stopped workers then catch up. With
    ``platform`` (every process of the stack), the baseline runs only once they have settled:
    the backlog of the bursts worked off, as when the platform's own burst began."""
    import signal
    import subprocess
    import sys

    total, concurrency = (600, 16) if quick else (6000, 32)
    make = bundle_factory(uuid.uuid4().hex[:6])
    bodies = [make(i) for i in range(total)]
    asst = token("bench-asst", "asst_system")
    headers = {"Content-Type": "application/fhir+json", "Authorization": f"Bearer {asst}"}
    warm = bundle_factory(uuid.uuid4().hex[:6], first=5_000_000)
    await closed_loop(
        CASEWORK_PORT,
        [http_request("POST", "/v1/discharges", warm(i), headers) for i in range(50)],
        concurrency=4,
    )
    await _wait_processed(asst, timeout=60)

    async def burst(bundles: list[bytes]) -> tuple[LoadResult, float]:
        cpu = cpu_seconds(api_pid) if api_pid else 0.0
        result = await closed_loop(
            CASEWORK_PORT,
            [http_request("POST", "/v1/discharges", b, headers) for b in bundles],
            concurrency=concurrency,
        )
        used = cpu_seconds(api_pid) - cpu if api_pid else float("nan")
        return result, used * 1000 / len(bundles)

    started = time.monotonic()
    casework, api_ms = await burst(bodies)
    drained = await _wait_processed(asst, timeout=600)
    processed_seconds = time.monotonic() - started
    alone: dict[str, Any] = {}
    if background:
        more = bundle_factory(uuid.uuid4().hex[:6], first=2_000_000)
        for pid in background:
            os.kill(pid, signal.SIGSTOP)
        try:
            result, alone_ms = await burst([more(i) for i in range(total)])
        finally:
            for pid in background:
                os.kill(pid, signal.SIGCONT)
        alone = {**result.summary(), "api_cpu_ms_per_request": round(alone_ms, 3)}
        alone["caught_up"] = await _wait_processed(asst, timeout=600)
    settled = await asyncio.to_thread(settle, platform) if platform else None

    port = devinfra.free_port()
    base = subprocess.Popen(  # noqa: S603, ASYNC220
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.baseline_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env={**os.environ, "BASELINE_DSN": sync_url(server_url)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        devinfra.wait_port("127.0.0.1", port)
        plain = {"Content-Type": "application/json"}
        await closed_loop(
            port,
            [http_request("POST", "/intake", warm(i), plain) for i in range(50)],
            concurrency=4,
        )
        base_cpu = cpu_seconds(base.pid)
        baseline = await closed_loop(
            port,
            [http_request("POST", "/intake", b, plain) for b in bodies],
            concurrency=concurrency,
        )
        base_cpu = cpu_seconds(base.pid) - base_cpu
    finally:
        base.terminate()
        base.wait()
    return {
        "casework": casework.summary(),
        "baseline": baseline.summary(),
        "api_cpu_ms_per_request": {
            "casework": round(api_ms, 3) if api_pid else None,
            "baseline": round(base_cpu * 1000 / total, 3),
        },
        "casework_workers_stopped": alone,
        "baseline_after_settling_s": None if settled is None else round(settled, 1),
        "cases_opened": {
            "all_processed": drained,
            "seconds_from_first_request": round(processed_seconds, 2),
            "per_second": round(total / processed_seconds, 1) if drained else None,
        },
    }


async def _wait_processed(asst: str, timeout: float) -> bool:
    """Until casework has no discharge waiting for its processor (True), or ``timeout``."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=30) as client:
        while time.monotonic() < deadline:
            r = await client.get(
                f"{CASEWORK}/v1/discharges",
                params={"status": "accepted", "limit": 1},
                headers={"Authorization": f"Bearer {asst}"},
            )
            if r.status_code == 200 and r.json()["total"] == 0:
                return True
            await asyncio.sleep(0.2)
    return False


async def _cases_of(client: httpx.AsyncClient, asst: str, ids: set[str]) -> dict[str, str]:
    """discharge id -> case id, for the discharges in ``ids`` (listed page by page)."""
    found: dict[str, str] = {}
    offset = 0
    while len(found) < len(ids):
        page = (
            await client.get(
                f"{CASEWORK}/v1/discharges",
                params={"status": "processed", "limit": 200, "offset": offset},
                headers={"Authorization": f"Bearer {asst}"},
            )
        ).json()
        for d in page["items"]:
            if d["id"] in ids and d["case_id"]:
                found[d["id"]] = d["case_id"]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            break
    return found


async def end_to_end_latency(quick: bool, pids: dict[str, int] | None = None) -> dict[str, Any]:
    """Discharge posted → case opened → notification in the PUA operator's inbox, at a fixed
    rate; latency = inbox message time - request time. With ``pids``, also the CPU time each
    of those processes spent per discharge, from the first request to the last notification
    (where the time goes when the platform cannot keep up)."""
    rate, seconds = (50, 5) if quick else (200, 60)
    pua = token("bench-pua", "pua_operator")
    admin = mint_token(common_settings(), sub="bench-admin", roles=["platform_admin"])
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.put(
            f"{NOTIFICATIONS}/v1/recipients/bench-pua",
            json={
                "email": "bench.pua@demo.pdz.example.it",
                "roles": ["pua_operator"],
                "ambiti": [SEBINO],
                "language": "it",
            },
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert r.status_code in (200, 201, 428), r.text
    make = bundle_factory(uuid.uuid4().hex[:6], first=1_000_000)
    asst = token("bench-asst", "asst_system")
    headers = {"Content-Type": "application/fhir+json", "Authorization": f"Bearer {asst}"}
    requests = [
        http_request("POST", "/v1/discharges", make(i), headers) for i in range(rate * seconds)
    ]
    sent_at: dict[str, float] = {}
    errors = 0

    async def post(i: int) -> None:
        nonlocal errors
        started = time.time()
        reader, writer = await asyncio.open_connection("127.0.0.1", CASEWORK_PORT)
        try:
            status, body = await exchange(reader, writer, requests[i])
        finally:
            writer.close()
        if status != 202:
            errors += 1
            return
        sent_at[json.loads(body)["id"]] = started

    pids = pids or {}
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    achieved = await open_loop(len(requests), rate, post)

    seen: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=30) as client:
        await _wait_processed(asst, timeout=120)
        case_of = await _cases_of(client, asst, set(sent_at))
        by_case = {c: d for d, c in case_of.items()}
        deadline = time.monotonic() + 60
        while len(seen) < len(by_case) and time.monotonic() < deadline:
            offset = 0
            while True:
                page = (
                    await client.get(
                        f"{NOTIFICATIONS}/v1/inbox",
                        params={"limit": 500, "offset": offset},
                        headers={"Authorization": f"Bearer {pua}"},
                    )
                ).json()
                for item in page["items"]:
                    for case_id in CASE_IN_BODY.findall(item["body"]):
                        if case_id in by_case and case_id not in seen:
                            seen[case_id] = (
                                datetime.fromisoformat(item["created_at"])
                                .astimezone(UTC)
                                .timestamp()
                            )
                offset += len(page["items"])
                if offset >= page["total"] or not page["items"]:
                    break
            if len(seen) < len(by_case):
                await asyncio.sleep(1)
    cpu = _cpu_ms_per_item(pids, cpu_before, len(sent_at))
    latencies = [(seen[c] - sent_at[by_case[c]]) * 1000 for c in seen]

    return {
        "sent": rate * seconds,
        "rate_target": rate,
        "rate_achieved": round(achieved, 1),
        "accepted": len(sent_at),
        "errors": errors,
        "cases": len(by_case),
        "notified": len(seen),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "cpu_ms_per_discharge": cpu,
    }


def _cpu_ms_per_item(pids: dict[str, int], before: dict[str, float], items: int) -> dict[str, Any]:
    if not items:
        return {}
    return {
        name: round((cpu_seconds(pid) - before[name]) * 1000 / items, 2)
        for name, pid in pids.items()
    }


async def email_throughput(
    stack_logs: Path, quick: bool, pids: dict[str, int] | None = None
) -> dict[str, Any]:
    """E-mails per second into the local SMTP sink, duplicates counted, vs raw aiosmtplib
    (into the same sink). ``pids``: processes (name -> pid) whose CPU per e-mail is reported."""
    from email.message import EmailMessage

    import aiosmtplib

    from pdz_shared.contracts import casework as contract
    from pdz_shared.events.cloudevents import CloudEvent
    from pdz_shared.events.kafka import KafkaConfig, make_producer

    events, recipients = (100, 5) if quick else (1000, 5)
    admin = mint_token(common_settings(), sub="bench-admin", roles=["platform_admin"])
    ambito = f"AMBITO-BENCH-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(timeout=30) as client:
        for n in range(recipients):
            r = await client.put(
                f"{NOTIFICATIONS}/v1/recipients/bench-mail-{ambito}-{n}",
                json={
                    "email": f"pua{n}.{ambito.lower()}@bench.pdz.example.it",
                    "roles": ["pua_operator"],
                    "ambiti": [ambito],
                    "language": "it",
                },
                headers={"Authorization": f"Bearer {admin}"},
            )
            assert r.status_code in (200, 201), r.text
    log = stack_logs / "smtp-sink.log"
    marker = "@bench.pdz.example.it"
    before = log.read_text(errors="replace").count(marker) if log.exists() else 0
    producer = make_producer(KafkaConfig(common_settings().kafka_bootstrap_servers, "bench"))
    await producer.start()
    pids = pids or {}
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    started = time.monotonic()
    try:
        for _ in range(events):
            data = contract.DischargeReceived(
                case_id=uuid.uuid4(),
                ambito_code=ambito,
                comune_code="COMUNE-ISEO",
                source="asst_dimissione",
                occurred_at=datetime.now(UTC),
                discharge_id=uuid.uuid4(),
                channel="kafka",
                sending_organization="ASST",
                planned_discharge_date=datetime.now(UTC).date(),
                received_at=datetime.now(UTC),
            )
            event = CloudEvent.new(
                source=contract.SOURCE,
                type=contract.DISCHARGE_RECEIVED,
                data=data.model_dump(mode="json"),
                subject=str(data.case_id),
            )
            await producer.send(
                contract.DISCHARGE_TOPIC,
                event.kafka_value(),
                key=str(data.case_id).encode(),
                headers=event.kafka_headers(),
            )
        await producer.flush()
    finally:
        await producer.stop()
    expected = events * recipients
    deadline = time.monotonic() + (60 if quick else 300)
    mails: list[str] = []
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        mails = [m for m in text.split("--- mail from ") if ambito.lower() in m]
        if len(mails) >= expected:
            break
        await asyncio.sleep(0.5)
    elapsed = time.monotonic() - started
    keys = [(CASE_IN_BODY.findall(m)[:1], m.split(" to ", 1)[1].split("\n", 1)[0]) for m in mails]
    unique = {(tuple(k), r) for k, r in keys}
    platform = {
        "events": events,
        "expected": expected,
        "received": len(mails),
        "duplicates": len(mails) - len(unique),
        "seconds": round(elapsed, 2),
        "per_second": round(len(mails) / elapsed, 1),
        "log_before": before,
        "cpu_ms_per_mail": _cpu_ms_per_item(pids, cpu_before, len(mails)),
    }

    async def raw(n: int) -> float:
        t = time.monotonic()
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=1025)
        await smtp.connect()
        for i in range(n):
            msg = EmailMessage()
            msg["From"] = "bench@pdz.example.it"
            msg["To"] = f"raw{i}@baseline.invalid"
            msg["Subject"] = "baseline"
            msg.set_content("baseline")
            await smtp.send_message(msg)
        await smtp.quit()
        return time.monotonic() - t

    sink = {k: v for k, v in pids.items() if k == "smtp-sink"}
    sink_before = {name: cpu_seconds(pid) for name, pid in sink.items()}
    raw_seconds = await raw(expected)
    return {
        "platform": platform,
        "baseline_per_second": round(expected / raw_seconds, 1),
        "baseline_cpu_ms_per_mail": _cpu_ms_per_item(sink, sink_before, expected),
    }
