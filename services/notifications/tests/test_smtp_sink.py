"""The dev SMTP sink as `make run` will start it: a process that prints what it receives."""

import asyncio
import contextlib
import sys
import uuid

from pdz_notifications.channels.base import Outgoing
from pdz_notifications.channels.email import EmailChannel
from pdz_notifications.settings import NotificationsSettings
from pdz_shared.testing.plugin import Harness

from .conftest import free_port
from .helpers import SEBINO, discharge_event, handle, put_recipient, rows


async def test_sink_process_prints_received_mail() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pdz_notifications.smtp_sink",
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert b"listening" in await asyncio.wait_for(proc.stdout.readline(), 20)
        channel = EmailChannel(NotificationsSettings(smtp_host="127.0.0.1", smtp_port=port))
        result = await channel.send(
            Outgoing(
                id=uuid.uuid4(),
                event_id="e",
                event_type="t",
                recipient="r",
                channel="email",
                attempt=1,
                language="it",
                critical=False,
                address="anna@sebino.it",
                subject="Prova dal sink",
                body="Corpo di prova.",
            )
        )
        assert result.ok, result.error
        lines = [await asyncio.wait_for(proc.stdout.readline(), 10) for _ in range(5)]
    finally:
        proc.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 5)
    text = b"".join(lines).decode()
    assert "to anna@sebino.it" in text and "Subject: Prova dal sink" in text
    assert "Message-ID: <" in text
    assert "Corpo di prova." in text


async def test_english_recipient_falls_back_to_italian_template(harness: Harness) -> None:
    await put_recipient(
        harness,
        "op-john",
        email="john@x.it",
        roles=["pua_operator"],
        ambiti=[SEBINO],
        language="en",
    )
    async with harness.factory() as s:
        from sqlalchemy import text

        await s.execute(text("DELETE FROM template WHERE language = 'en' AND channel = 'inbox'"))
        await s.commit()
    assert await handle(harness, discharge_event())
    subjects = dict(tuple(r) for r in await rows(harness, "SELECT channel, subject FROM delivery"))
    assert subjects["email"].startswith("Protected discharge incoming")
    assert subjects["inbox"].startswith("Dimissione protetta in arrivo")


async def test_rule_creation_is_idempotent(harness: Harness) -> None:
    udp = harness.token(roles=["udp_admin"], ambiti=[SEBINO], sub="udp")
    body = {
        "code": "case-opened-pua",
        "description": "Nuovo caso: avvisa gli operatori PUA",
        "event_type": "it.pdz.casework.case.opened",
        "roles": ["pua_operator"],
        "channels": ["inbox"],
        "template_key": "it.pdz.casework.case.opened",
        "ambito_code": SEBINO,
    }
    async with harness.client(udp, **{"Idempotency-Key": "rule-case-opened-1"}) as c:
        first = await c.post("/v1/rules", json=body)
        second = await c.post("/v1/rules", json=body)
        reused = await c.post("/v1/rules", json={**body, "code": "another"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert reused.status_code == 422
    assert (await rows(harness, "SELECT count(*) FROM rule WHERE code = 'case-opened-pua'"))[0][
        0
    ] == 1
