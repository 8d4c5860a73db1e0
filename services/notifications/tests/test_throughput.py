"""E-mail throughput of the real worker (consumer + dispatcher) into a real SMTP sink.

Feeds N ``discharge.received`` events for an ambito with 5 PUA operators through the broker and
times until the sink holds all N x 5 e-mails, then sends the same number of e-mails with raw
aiosmtplib on one connection to the same sink (the baseline, in the same run). The figures are
printed, never asserted (machines are noisy); what is asserted is correctness: every e-mail
arrived, exactly once. ``PDZ_NOTIFICATIONS_THROUGHPUT_EVENTS`` sets N (default 60).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from pdz_notifications import worker
from pdz_notifications.settings import NotificationsSettings
from pdz_shared.contracts import casework as contract
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.kafka import KafkaConfig, make_producer
from pdz_shared.testing.plugin import Harness

from .conftest import free_port
from .helpers import put_recipient, rows

RECIPIENTS = 5


# The sink runs in its own process (as the dev sink does), so that it does not share the GIL
# with the worker: it records "<event id> <recipients>" per message, one line each.
SINK = """
import sys, time
from aiosmtpd.controller import Controller
out = open(sys.argv[2], "a", buffering=1)
class H:
    async def handle_DATA(self, server, session, envelope):
        event_id = "-"
        for line in envelope.content.split(b"\\r\\n"):
            if not line:
                break
            if line.lower().startswith(b"x-pdz-event-id:"):
                event_id = line.split(b":", 1)[1].strip().decode()
        out.write(event_id + " " + ",".join(envelope.rcpt_tos) + "\\n")
        return "250 OK"
c = Controller(H(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


class Sink:
    def __init__(self, port: int, path: Path) -> None:
        self.port, self.path = port, path

    def lines(self) -> list[str]:
        return [x for x in self.path.read_text().splitlines() if x]


@pytest.fixture
def big_sink(tmp_path: Path) -> Iterator[Sink]:
    port = free_port()
    path = tmp_path / "sink.txt"
    path.write_text("")
    proc = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port), str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield Sink(port, path)
    finally:
        proc.terminate()
        proc.wait()


def _event(ambito: str) -> CloudEvent:
    now = datetime.now(UTC)
    data = contract.DischargeReceived(
        case_id=uuid.uuid4(),
        ambito_code=ambito,
        comune_code="017085",
        source="asst_dimissione",
        occurred_at=now,
        discharge_id=uuid.uuid4(),
        channel="kafka",
        sending_organization="ASST Franciacorta",
        planned_discharge_date=now.date(),
        received_at=now,
    )
    return CloudEvent.new(
        source=contract.SOURCE,
        type=contract.DISCHARGE_RECEIVED,
        data=data.model_dump(mode="json"),
        subject=str(data.case_id),
    )


async def _raw(port: int, n: int) -> float:
    t = time.monotonic()
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
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


async def test_email_throughput_exactly_once(
    harness: Harness, kafka: KafkaConfig, big_sink: Sink
) -> None:
    sink, port = big_sink, big_sink.port
    events = int(os.environ.get("PDZ_NOTIFICATIONS_THROUGHPUT_EVENTS", "60"))
    ambito = f"AMBITO-TP-{uuid.uuid4().hex[:6].upper()}"
    for n in range(RECIPIENTS):
        await put_recipient(
            harness,
            f"tp-{ambito}-{n}",
            email=f"pua{n}.{ambito.lower()}@tp.example.it",
            roles=["pua_operator"],
            ambiti=[ambito],
        )
    cfg = NotificationsSettings(database_url=harness.database_url, smtp_port=port)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(cfg, stop))
    expected = events * RECIPIENTS
    producer = make_producer(kafka)
    await producer.start()
    try:
        # The clock starts once the consumer has joined its group and handled a first event
        # (as in a long-running worker): an event of an ambito nobody works for.
        warmup = _event("AMBITO-TP-NOBODY")
        await producer.send_and_wait(
            contract.DISCHARGE_TOPIC,
            warmup.kafka_value(),
            key=warmup.data["case_id"].encode(),
            headers=warmup.kafka_headers(),
        )
        async with asyncio.timeout(60):
            while not await rows(harness, "SELECT 1 FROM inbox WHERE event_id = :e", e=warmup.id):
                await asyncio.sleep(0.1)
        started = time.monotonic()
        for _ in range(events):
            event = _event(ambito)
            await producer.send(
                contract.DISCHARGE_TOPIC,
                event.kafka_value(),
                key=event.data["case_id"].encode(),
                headers=event.kafka_headers(),
            )
        await producer.flush()
        produced = time.monotonic() - started
        async with asyncio.timeout(max(120, events)):
            while len(sink.lines()) < expected and not task.done():
                await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.5)  # a late duplicate would show up here
    finally:
        await producer.stop()
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)
    mails = sink.lines()
    keys = Counter(mails)
    duplicates = sum(c - 1 for c in keys.values())
    inbox = (await rows(harness, "SELECT count(*) FROM notification"))[0][0]
    consumed, dispatched = (
        await rows(
            harness,
            "SELECT extract(epoch FROM max(created_at) - min(created_at)),"
            " extract(epoch FROM max(sent_at) - min(created_at)) FROM delivery"
            " WHERE ambito_code = :a AND channel = 'email'",
            a=ambito,
        )
    )[0]
    raw_seconds = await _raw(port, expected)
    print(
        f"\nemail_throughput: {len(mails)}/{expected} e-mails in {elapsed:.2f}s "
        f"(produce {produced:.2f}s) = {len(mails) / elapsed:.1f}/s, duplicates {duplicates}; "
        f"deliveries created over {float(consumed):.2f}s, sent by {float(dispatched):.2f}s; "
        f"raw aiosmtplib one connection: {expected / raw_seconds:.1f}/s "
        f"(platform/raw = {raw_seconds / elapsed:.2f})"
    )
    assert duplicates == 0
    assert len(keys) == expected and not [k for k in keys if k.startswith("- ")]
    assert len(mails) == expected
    assert inbox == expected
