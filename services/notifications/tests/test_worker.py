"""The worker as it runs in production: consumer + dispatcher + outbox relay, end to end."""

import asyncio
import contextlib

from sqlalchemy import text

from pdz_notifications import worker
from pdz_notifications.consumers import handled
from pdz_notifications.deliveries.dispatcher import Dispatcher
from pdz_notifications.settings import NotificationsSettings
from pdz_notifications.smtp_sink import MemorySink
from pdz_shared.contracts import casework, indicators, plans
from pdz_shared.contracts import notifications as contract
from pdz_shared.events.kafka import KafkaConfig
from pdz_shared.testing.plugin import Harness, consume, eventually, produce

from .helpers import (
    SEBINO,
    discharge_event,
    drain,
    handle,
    plan_published_event,
    put_recipient,
    rows,
)
from .receiver import Receiver


def test_consumer_listens_to_every_producer_topic() -> None:
    topics, handlers = handled()
    for topic in (
        casework.DISCHARGE_TOPIC,
        casework.SLA_TOPIC,
        casework.CASE_TOPIC,
        indicators.TARGET_TOPIC,
        plans.PLAN_TOPIC,
    ):
        assert topic in topics
    assert not [t for t in topics if t.startswith("pdz.notifications.") or t.endswith(".dlq")]
    for event_type in (
        casework.DISCHARGE_RECEIVED,
        casework.SLA_DUE_SOON,
        casework.SLA_BREACHED,
        indicators.TARGET_AT_RISK,
        plans.PLAN_PUBLISHED,
        casework.CASE_OPENED,  # no default rule, but a rule added by API must work
    ):
        assert event_type in handlers


async def test_worker_end_to_end(
    harness: Harness, kafka: KafkaConfig, settings: NotificationsSettings, mailbox: MemorySink
) -> None:
    await put_recipient(
        harness, "op-anna", email="anna@sebino.it", roles=["pua_operator"], ambiti=[SEBINO]
    )
    receiver = Receiver(fail_first=100, fail_status=410).start()  # gone: never retried
    udp = harness.token(roles=["udp_admin"], ambiti=[SEBINO], sub="udp")
    async with harness.client(udp) as c:
        r = await c.post(
            "/v1/webhooks",
            json={
                "url": receiver.url,
                "secret": "0123456789abcdef0123",
                "event_types": ["*"],
                "ambito_code": SEBINO,
            },
        )
        assert r.status_code == 201
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(settings, stop))
    try:
        event = discharge_event()
        await produce(kafka, casework.DISCHARGE_TOPIC, event, event.data["case_id"])
        await eventually(lambda: _has_mail(mailbox, "anna@sebino.it"), timeout=60)
        dead = await consume(
            kafka,
            contract.DEAD_LETTER_TOPIC,
            count=1,
            where=lambda rec: (
                dict(rec.headers).get("ce_type") == contract.DELIVERY_DEAD_LETTERED.encode()
            ),
        )
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)
        receiver.stop()
    assert mailbox.to("anna@sebino.it")[0].message["X-PDZ-Event-Id"] == event.id
    assert len(receiver.hits) == 1 and receiver.hits[0].answered == 410
    assert len(dead) == 1
    payload = contract.DeliveryDeadLettered.model_validate_json(dead[0].value)
    assert payload.channel == "webhook" and payload.last_error == "HTTP 410"
    assert payload.cloudevent is not None and payload.cloudevent["id"] == event.id


async def _has_mail(mailbox: MemorySink, address: str) -> bool:
    return bool(mailbox.to(address))


async def test_concurrent_dispatchers_send_each_delivery_once(
    harness: Harness, settings: NotificationsSettings, mailbox: MemorySink
) -> None:
    for n in range(4):
        await put_recipient(
            harness, f"op-{n}", email=f"op{n}@sebino.it", roles=["pua_operator"], ambiti=[SEBINO]
        )
    for _ in range(10):
        assert await handle(harness, discharge_event())
    small = settings.model_copy(update={"dispatch_batch_size": 3})
    await asyncio.gather(*(drain(Dispatcher(harness.factory, small)) for _ in range(4)))
    assert len(mailbox.messages) == 40
    assert len({m.message["Message-ID"] for m in mailbox.messages}) == 40
    assert (await rows(harness, "SELECT count(*) FROM delivery_attempt"))[0][0] == 80
    assert (await rows(harness, "SELECT count(*) FROM notification"))[0][0] == 40


async def test_a_dispatcher_that_dies_mid_send_is_taken_over_after_its_lease(
    harness: Harness, settings: NotificationsSettings, mailbox: MemorySink
) -> None:
    await put_recipient(
        harness, "op-anna", email="anna@sebino.it", roles=["pua_operator"], ambiti=[SEBINO]
    )
    assert await handle(harness, discharge_event())
    dead = Dispatcher(harness.factory, settings)
    claimed = await dead.claim()  # ...and then the process dies before sending
    assert len(claimed) == 2
    survivor = Dispatcher(harness.factory, settings)
    assert await survivor.run_once() == 0  # still leased
    async with harness.factory() as s:
        await s.execute(text("UPDATE delivery SET lease_until = now() - interval '1 second'"))
        await s.commit()
    await drain(survivor)
    assert len(mailbox.to("anna@sebino.it")) == 1
    states = await rows(harness, "SELECT status, attempts FROM delivery ORDER BY channel")
    assert [tuple(s) for s in states] == [("sent", 2), ("sent", 2)]


async def test_plan_published_reaches_viewers_inbox_and_daily_digest(
    harness: Harness, settings: NotificationsSettings, mailbox: MemorySink
) -> None:
    await put_recipient(
        harness, "viewer", email="viewer@sebino.it", roles=["udp_viewer"], ambiti=[SEBINO]
    )
    assert await handle(harness, plan_published_event())
    await drain(Dispatcher(harness.factory, settings))
    token = harness.token(roles=["udp_viewer"], ambiti=[SEBINO], sub="viewer")
    async with harness.client(token) as c:
        inbox = (await c.get("/v1/inbox")).json()
    assert [i["title"] for i in inbox["items"]] == [
        f"Piano di Zona 2025-2027 pubblicato ({SEBINO})"
    ]
    assert mailbox.messages == []
    digest = await rows(harness, "SELECT window_minutes, item_count FROM digest")
    assert [tuple(d) for d in digest] == [(1440, 1)]


def test_worker_tasks_are_the_consumer_and_the_dispatcher(
    harness: Harness, settings: NotificationsSettings
) -> None:
    """``--role tasks`` runs both (``--role relay`` none of them): see pdz_shared.worker."""
    built = worker.tasks(settings)(harness.factory, KafkaConfig("127.0.0.1:1", "t"))
    assert [t.name for t in built] == ["notifications.events", "notifications.dispatcher"]
    assert all(t.topics for t in built[:1]) and built[1].topics == []
