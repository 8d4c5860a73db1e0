"""Signed webhooks: retries with backoff, exactly one success, failure → failed + dead letter."""

import json

from pdz_notifications.channels.webhook import verify
from pdz_notifications.deliveries.dispatcher import Dispatcher, backoff
from pdz_notifications.settings import NotificationsSettings
from pdz_shared.contracts import casework
from pdz_shared.contracts import notifications as contract
from pdz_shared.events.kafka import KafkaConfig
from pdz_shared.testing.plugin import Harness, produce

from .helpers import OTHER, SEBINO, Run, discharge_event, drain, fresh_topic, handle, rows
from .receiver import Receiver

SECRET = "s3cret-shared-with-the-cartella-sociale"


async def register(h: Harness, url: str, ambito: str = SEBINO, **kw: object) -> str:
    admin = h.token(roles=["udp_admin"], ambiti=[ambito], sub="udp-sebino")
    body = {
        "url": url,
        "secret": SECRET,
        "event_types": [casework.DISCHARGE_RECEIVED],
        "ambito_code": ambito,
        **kw,
    }
    async with h.client(admin, **{"Idempotency-Key": "hook-" + url[-12:] + ambito}) as c:
        r = await c.post("/v1/webhooks", json=body)
        again = await c.post("/v1/webhooks", json=body)
    assert r.status_code == 201, r.text
    assert "secret" not in r.json()
    assert again.json()["id"] == r.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    return str(r.json()["id"])


async def test_receiver_failing_twice_gets_one_signed_success(
    harness: Harness, kafka: KafkaConfig, settings: NotificationsSettings
) -> None:
    receiver = Receiver(fail_first=2).start()
    elsewhere = Receiver().start()
    try:
        hook_id = await register(harness, receiver.url)
        await register(harness, elsewhere.url, ambito=OTHER)
        topic = await fresh_topic(kafka)
        event = discharge_event()
        run = Run(harness, kafka, topic, "webhooks-1")
        try:
            await produce(kafka, topic, event, event.data["case_id"])
            await produce(kafka, topic, event, event.data["case_id"])
            await run.wait_for(2)
        finally:
            await run.close()
        await drain(Dispatcher(harness.factory, settings))
    finally:
        receiver.stop()
        elsewhere.stop()

    assert [h.answered for h in receiver.hits] == [500, 500, 204]
    assert elsewhere.hits == []  # another ambito's endpoint hears nothing
    success = receiver.hits[-1]
    body = success.body
    assert verify(
        SECRET, success.headers["X-PDZ-Timestamp"], body, success.headers["X-PDZ-Signature"]
    )
    assert not verify(
        "wrong-secret-wrong-secret",
        success.headers["X-PDZ-Timestamp"],
        body,
        success.headers["X-PDZ-Signature"],
    )
    assert success.headers["Content-Type"].startswith("application/cloudevents+json")
    cloudevent = json.loads(body)
    assert cloudevent["specversion"] == "1.0"
    assert cloudevent["id"] == event.id and cloudevent["type"] == casework.DISCHARGE_RECEIVED
    assert cloudevent["data"]["case_id"] == event.data["case_id"]
    # The same delivery id on every attempt lets the receiver deduplicate.
    assert len({h.headers["X-PDZ-Delivery"] for h in receiver.hits}) == 1

    delivery = await rows(
        harness, "SELECT id, status, attempts FROM delivery WHERE channel = 'webhook'"
    )
    assert len(delivery) == 1 and tuple(delivery[0])[1:] == ("sent", 3)
    attempts = await rows(
        harness, "SELECT status, response_status FROM delivery_attempt ORDER BY attempt"
    )
    assert [tuple(a) for a in attempts] == [("retry", 500), ("retry", 500), ("sent", 204)]
    assert hook_id in str(await rows(harness, "SELECT webhook_id FROM delivery"))


async def test_receiver_that_never_recovers_is_failed_dead_lettered_and_retryable(
    harness: Harness, kafka: KafkaConfig, settings: NotificationsSettings
) -> None:
    receiver = Receiver(fail_first=100, fail_status=503).start()
    try:
        await register(harness, receiver.url)
        topic = await fresh_topic(kafka)
        event = discharge_event()
        run = Run(harness, kafka, topic, "webhooks-2")
        try:
            await produce(kafka, topic, event, event.data["case_id"])
            await run.wait_for(1)
        finally:
            await run.close()
        dispatcher = Dispatcher(harness.factory, settings)
        await drain(dispatcher)
        assert len(receiver.hits) == settings.max_attempts

        udp = harness.token(roles=["udp_admin"], ambiti=[SEBINO], sub="udp-sebino")
        async with harness.client(udp) as c:
            failed = (await c.get("/v1/deliveries", params={"status": "failed"})).json()
            assert failed["total"] == 1
            item = failed["items"][0]
            assert item["channel"] == "webhook" and item["last_error"] == "HTTP 503"
            detail = (await c.get(f"/v1/deliveries/{item['id']}")).json()
            assert [a["status"] for a in detail["attempt_log"]] == ["retry"] * (
                settings.max_attempts - 1
            ) + ["failed"]
        outsider = harness.token(roles=["udp_admin"], ambiti=[OTHER], sub="udp-other")
        async with harness.client(outsider) as c:
            assert (await c.get("/v1/deliveries", params={"status": "failed"})).json()["total"] == 0
            assert (await c.get(f"/v1/deliveries/{item['id']}")).status_code == 404

        dead = await rows(harness, "SELECT type, topic, data FROM outbox")
        assert len(dead) == 1
        assert dead[0][0] == contract.DELIVERY_DEAD_LETTERED
        assert dead[0][1] == contract.DEAD_LETTER_TOPIC
        payload = contract.DeliveryDeadLettered.model_validate(dead[0][2])
        assert str(payload.delivery_id) == item["id"] and payload.cloudevent is not None
        assert payload.cloudevent["id"] == event.id

        receiver.fail_first = 0  # the receiver is fixed; an operator retries
        async with harness.client(udp, **{"Idempotency-Key": "retry-" + item["id"]}) as c:
            r = await c.post(f"/v1/deliveries/{item['id']}/retry")
            assert r.status_code == 200 and r.json()["status"] == "pending"
            assert (await c.post(f"/v1/deliveries/{item['id']}/retry")).status_code == 200
        async with harness.client(udp) as c:
            not_failed = await c.post(f"/v1/deliveries/{item['id']}/retry")
        await drain(dispatcher)
        assert not_failed.status_code == 409
    finally:
        receiver.stop()
    assert receiver.hits[-1].answered == 204
    assert len(receiver.hits) == settings.max_attempts + 1
    status = await rows(harness, "SELECT status FROM delivery")
    assert status[0][0] == "sent"


def test_backoff_grows_exponentially_with_jitter() -> None:
    samples = [[backoff(n, 1.0, 1000.0) for _ in range(200)] for n in (1, 2, 3, 4)]
    for n, values in enumerate(samples, start=1):
        ceiling = 2 ** (n - 1)
        assert all(ceiling / 2 <= v <= ceiling for v in values)
        assert len({round(v, 6) for v in values}) > 100  # jittered, not a fixed delay
    assert backoff(30, 1.0, 60.0) <= 60.0


async def test_webhook_api_scoping_etag_and_secret(harness: Harness) -> None:
    udp = harness.token(roles=["udp_admin"], ambiti=[SEBINO], sub="udp-sebino")
    other = harness.token(roles=["udp_admin"], ambiti=[OTHER], sub="udp-other")
    viewer = harness.token(roles=["udp_viewer"], ambiti=[SEBINO], sub="viewer")
    body = {
        "url": "https://cartella.example.it/pdz",
        "secret": SECRET,
        "event_types": [casework.DISCHARGE_RECEIVED],
        "ambito_code": SEBINO,
    }
    async with harness.client(viewer) as c:
        assert (await c.post("/v1/webhooks", json=body)).status_code == 403
    async with harness.client(udp) as c:
        assert (await c.post("/v1/webhooks", json={**body, "ambito_code": None})).status_code == 403
        assert (
            await c.post("/v1/webhooks", json={**body, "ambito_code": OTHER})
        ).status_code == 403
        short = await c.post("/v1/webhooks", json={**body, "secret": "short"})
        assert short.status_code == 422
        created = await c.post("/v1/webhooks", json=body)
        assert created.status_code == 201 and created.headers["etag"] == 'W/"1"'
        hook = created.json()
        assert "secret" not in hook
        changed = {**body, "event_types": ["*"], "active": False}
        assert (await c.put(f"/v1/webhooks/{hook['id']}", json=changed)).status_code == 428
        r = await c.put(f"/v1/webhooks/{hook['id']}", json=changed, headers={"If-Match": 'W/"1"'})
        assert r.status_code == 200 and r.json()["event_types"] == ["*"]
        assert r.json()["active"] is False and "secret" not in r.json()
        listed = (await c.get("/v1/webhooks")).json()
        assert [h["id"] for h in listed["items"]] == [hook["id"]]
    async with harness.client(other) as c:
        assert (await c.get("/v1/webhooks")).json()["total"] == 0
        assert (await c.get(f"/v1/webhooks/{hook['id']}")).status_code == 404
    async with harness.client(udp) as c:
        stale = await c.delete(f"/v1/webhooks/{hook['id']}", headers={"If-Match": 'W/"1"'})
        assert stale.status_code == 412
        gone = await c.delete(f"/v1/webhooks/{hook['id']}", headers={"If-Match": 'W/"2"'})
        assert gone.status_code == 204
        assert (await c.get(f"/v1/webhooks/{hook['id']}")).status_code == 404


async def test_private_addresses_are_refused_outside_dev(
    harness: Harness, settings: NotificationsSettings
) -> None:
    receiver = Receiver().start()
    try:
        await register(harness, receiver.url)
        assert await handle(harness, discharge_event())
        strict = settings.model_copy(update={"webhook_allow_private": False})
        await drain(Dispatcher(harness.factory, strict))
    finally:
        receiver.stop()
    assert receiver.hits == []
    failed = await rows(harness, "SELECT status, attempts, last_error FROM delivery")
    assert [tuple(f) for f in failed] == [
        ("failed", 1, "webhook URL resolves to a non-public address (127.0.0.1)")
    ]
