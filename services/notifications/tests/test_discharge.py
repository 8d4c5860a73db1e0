"""A discharge reaches the PUA operators' inbox and mailbox once, even if delivered twice."""

from pdz_notifications.deliveries.dispatcher import Dispatcher
from pdz_notifications.settings import NotificationsSettings
from pdz_notifications.smtp_sink import MemorySink
from pdz_shared.events.kafka import KafkaConfig
from pdz_shared.testing.plugin import Harness, consume, produce

from .helpers import OTHER, SEBINO, Run, discharge_event, drain, fresh_topic, put_recipient, rows


async def seed_people(h: Harness) -> None:
    await put_recipient(
        h, "op-anna", email="anna@pua.sebino.it", roles=["pua_operator"], ambiti=[SEBINO]
    )
    await put_recipient(
        h,
        "op-john",
        email="john@pua.sebino.it",
        roles=["pua_operator"],
        ambiti=[SEBINO],
        language="en",
    )
    await put_recipient(
        h, "op-far", email="far@pua.altrove.it", roles=["pua_operator"], ambiti=[OTHER]
    )
    await put_recipient(
        h, "viewer", email="viewer@sebino.it", roles=["udp_viewer"], ambiti=[SEBINO]
    )


async def test_discharge_reaches_pua_operators_once(
    harness: Harness, kafka: KafkaConfig, settings: NotificationsSettings, mailbox: MemorySink
) -> None:
    await seed_people(harness)
    topic = await fresh_topic(kafka)
    event = discharge_event()
    run = Run(harness, kafka, topic, "discharge-1")
    try:
        await produce(kafka, topic, event, event.data["case_id"])
        await produce(kafka, topic, event, event.data["case_id"])  # redelivered
        await run.wait_for(2)
    finally:
        await run.close()
    assert run.outcomes == ["processed", "duplicate"]

    # Another consumer group (a restarted release, a replay) meets the unique constraint.
    again = Run(harness, kafka, topic, "discharge-replay")
    try:
        await again.wait_for(2)
    finally:
        await again.close()
    assert again.outcomes == ["processed", "duplicate"]

    deliveries = await rows(
        harness, "SELECT recipient, channel, status FROM delivery ORDER BY recipient, channel"
    )
    assert [tuple(d) for d in deliveries] == [
        ("op-anna", "email", "pending"),
        ("op-anna", "inbox", "pending"),
        ("op-john", "email", "pending"),
        ("op-john", "inbox", "pending"),
    ]

    dispatcher = Dispatcher(harness.factory, settings)
    await drain(dispatcher)
    await drain(dispatcher)  # nothing left to send twice

    assert len(mailbox.messages) == 2
    anna = mailbox.to("anna@pua.sebino.it")
    john = mailbox.to("john@pua.sebino.it")
    assert len(anna) == 1 and len(john) == 1
    assert anna[0].subject == f"Dimissione protetta in arrivo ({SEBINO} / 017085)"
    assert "ASST Franciacorta - Presidio di Iseo" in anna[0].text
    assert event.data["case_id"] in anna[0].text
    assert john[0].subject == f"Protected discharge incoming ({SEBINO} / 017085)"
    assert anna[0].message["X-PDZ-Event-Id"] == event.id
    assert mailbox.to("far@pua.altrove.it") == [] and mailbox.to("viewer@sebino.it") == []

    statuses = await rows(harness, "SELECT DISTINCT status FROM delivery")
    assert [s[0] for s in statuses] == ["sent"]
    attempts = await rows(harness, "SELECT status, attempt FROM delivery_attempt")
    assert sorted(tuple(a) for a in attempts) == [("sent", 1)] * 4

    for sub, title in (
        ("op-anna", "Dimissione protetta in arrivo"),
        ("op-john", "Protected discharge incoming"),
    ):
        token = harness.token(roles=["pua_operator"], ambiti=[SEBINO], sub=sub)
        async with harness.client(token) as c:
            inbox = (await c.get("/v1/inbox")).json()
        assert inbox["total"] == 1 and inbox["unread"] == 1
        assert inbox["items"][0]["title"].startswith(title)
        assert inbox["items"][0]["critical"] is True
        assert inbox["items"][0]["event_id"] == event.id

    viewer = harness.token(roles=["udp_viewer"], ambiti=[SEBINO], sub="viewer")
    async with harness.client(viewer) as c:
        assert (await c.get("/v1/inbox")).json()["total"] == 0


async def test_mark_read_with_merge_patch(
    harness: Harness, kafka: KafkaConfig, settings: NotificationsSettings, mailbox: MemorySink
) -> None:
    await seed_people(harness)
    topic = await fresh_topic(kafka)
    run = Run(harness, kafka, topic, "discharge-2")
    try:
        for _ in range(2):
            event = discharge_event()
            await produce(kafka, topic, event, event.data["case_id"])
        await run.wait_for(2)
    finally:
        await run.close()
    await drain(Dispatcher(harness.factory, settings))

    anna = harness.token(roles=["pua_operator"], ambiti=[SEBINO], sub="op-anna")
    john = harness.token(roles=["pua_operator"], ambiti=[SEBINO], sub="op-john")
    async with harness.client(anna) as c:
        inbox = (await c.get("/v1/inbox")).json()
        assert (inbox["total"], inbox["unread"]) == (2, 2)
        item = inbox["items"][0]["id"]
        r = await c.patch(
            f"/v1/inbox/{item}",
            content=b'{"read": true}',
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["read"] is True and r.json()["read_at"] is not None
        inbox = (await c.get("/v1/inbox")).json()
        assert (inbox["total"], inbox["unread"]) == (2, 1)
        unread = (await c.get("/v1/inbox", params={"unread": "true"})).json()
        assert unread["total"] == 1 and unread["items"][0]["id"] != item
        bad = await c.patch(
            f"/v1/inbox/{item}",
            content=b'{"read": "maybe", "x": 1}',
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        wrong_type = await c.patch(
            f"/v1/inbox/{item}", content=b"read", headers={"Content-Type": "text/plain"}
        )
        assert wrong_type.status_code == 415
    async with harness.client(john) as c:  # someone else's message does not exist for John
        r = await c.patch(
            f"/v1/inbox/{item}",
            content=b'{"read": true}',
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert r.status_code == 404
        assert (await c.get("/v1/inbox")).json()["unread"] == 2
        marked = (await c.post("/v1/inbox/mark-all-read")).json()
        assert marked == {"marked": 2, "unread": 0}
        assert (await c.get("/v1/inbox")).json()["unread"] == 0
        assert (await c.post("/v1/inbox/mark-all-read")).json()["marked"] == 0
    async with harness.client(anna) as c:  # John's reading changed nothing for Anna
        assert (await c.get("/v1/inbox")).json()["unread"] == 1


async def test_broken_event_goes_to_the_dlq_and_sends_nothing(
    harness: Harness, kafka: KafkaConfig, settings: NotificationsSettings, mailbox: MemorySink
) -> None:
    await seed_people(harness)
    topic = await fresh_topic(kafka)
    broken = discharge_event()
    broken.data.pop("planned_discharge_date")
    wrong_ambito = discharge_event()
    wrong_ambito.data["ambito_code"] = ["not", "a", "code"]
    run = Run(harness, kafka, topic, "discharge-3")
    try:
        await produce(kafka, topic, broken, "k")
        await produce(kafka, topic, wrong_ambito, "k")
        await run.wait_for(2)
    finally:
        await run.close()
    assert run.outcomes == ["dead-lettered", "dead-lettered"]
    dead = await consume(kafka, f"{topic}.dlq", count=2)
    assert {dict(r.headers)["ce_id"].decode() for r in dead} == {broken.id, wrong_ambito.id}
    assert await rows(harness, "SELECT * FROM delivery") == []
    await drain(Dispatcher(harness.factory, settings))
    assert mailbox.messages == []
