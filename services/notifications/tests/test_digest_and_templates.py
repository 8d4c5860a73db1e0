"""Digests (one per recipient and window, even under concurrency) and editable templates."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from pdz_notifications.deliveries.dispatcher import Dispatcher
from pdz_notifications.digests import service as digests
from pdz_notifications.settings import NotificationsSettings
from pdz_notifications.smtp_sink import MemorySink
from pdz_shared.contracts import casework
from pdz_shared.db import utcnow
from pdz_shared.testing.plugin import Harness

from .helpers import SEBINO, discharge_event, drain, handle, put_recipient, rows, target_event


async def test_non_critical_mail_is_batched_in_one_digest(
    harness: Harness, settings: NotificationsSettings, mailbox: MemorySink
) -> None:
    await put_recipient(
        harness, "udp-marco", email="marco@sebino.it", roles=["udp_admin"], ambiti=[SEBINO]
    )
    codes = ["LEPS-PUA-01", "LEPS-SAD-02", "LEPS-DIM-03"]
    for code in codes:
        assert await handle(harness, target_event(indicator_code=code))
    dispatcher = Dispatcher(harness.factory, settings)
    await drain(dispatcher)
    assert mailbox.messages == []  # the e-mails wait for the window to end
    token = harness.token(roles=["udp_admin"], ambiti=[SEBINO], sub="udp-marco")
    async with harness.client(token) as c:
        assert (await c.get("/v1/inbox")).json()["unread"] == 3  # the inbox is immediate

    digest = await rows(harness, "SELECT id, item_count, status, window_end FROM digest")
    assert len(digest) == 1 and tuple(digest[0])[1:3] == (3, "open")
    assert await dispatcher.flush_digests(now=digest[0][3] - timedelta(seconds=1)) == 0
    assert await dispatcher.flush_digests(now=digest[0][3] + timedelta(seconds=1)) == 1
    assert await dispatcher.flush_digests(now=digest[0][3] + timedelta(hours=5)) == 0
    await drain(dispatcher)

    mails = mailbox.to("marco@sebino.it")
    assert len(mails) == 1
    assert mails[0].subject == "Riepilogo: 3 notifiche"
    for code in codes:
        assert f"Target a rischio: {code} ({SEBINO}, 2026)" in mails[0].text
    assert (await rows(harness, "SELECT status FROM digest"))[0][0] == "closed"


async def test_concurrent_additions_never_make_two_digests(harness: Harness) -> None:
    now = utcnow()

    async def add_one() -> str:
        async with harness.factory() as session:
            digest_id = await digests.add(session, "udp-marco", "email", 60, now=now)
            await asyncio.sleep(0.01)  # hold the transaction open while the others arrive
            await session.commit()
        return str(digest_id)

    ids = await asyncio.gather(*(add_one() for _ in range(40)))
    assert len(set(ids)) == 1
    digest = await rows(harness, "SELECT id, item_count FROM digest")
    assert [(str(d[0]), d[1]) for d in digest] == [(ids[0], 40)]

    start, end = digests.window_of(now, 60)
    async with harness.factory() as session:
        with pytest.raises(IntegrityError):  # the database itself refuses a second one
            await session.execute(
                text(
                    "INSERT INTO digest (id, recipient_sub, channel, window_minutes, window_start,"
                    " window_end, status, item_count, created_at) VALUES (gen_random_uuid(),"
                    " 'udp-marco', 'email', 60, :s, :e, 'open', 0, now())"
                ),
                {"s": start, "e": end},
            )


async def test_closed_window_sends_late_items_to_the_next(harness: Harness) -> None:
    now = utcnow()
    async with harness.factory() as session:
        first = await digests.add(session, "u", "email", 60, now=now)
        await session.execute(text("UPDATE digest SET status = 'closed'"))
        second = await digests.add(session, "u", "email", 60, now=now)
        await session.commit()
    assert first != second
    windows = await rows(harness, "SELECT window_start FROM digest ORDER BY window_start")
    assert windows[1][0] - windows[0][0] == timedelta(minutes=60)


async def test_templates_are_editable_and_previewed(
    harness: Harness, settings: NotificationsSettings, mailbox: MemorySink
) -> None:
    await put_recipient(
        harness, "op-anna", email="anna@sebino.it", roles=["pua_operator"], ambiti=[SEBINO]
    )
    platform = harness.token(roles=["platform_admin"], sub="root")
    udp = harness.token(roles=["udp_admin"], ambiti=[SEBINO], sub="udp")
    params = {"key": casework.DISCHARGE_RECEIVED, "channel": "email", "language": "it"}
    async with harness.client(udp) as c:
        found = (await c.get("/v1/templates", params=params)).json()
        assert found["total"] == 1
        template = found["items"][0]
        preview = await c.post(
            f"/v1/templates/{template['id']}/preview",
            json={
                "data": {
                    "ambito_code": SEBINO,
                    "sending_organization": "ASST Franciacorta",
                    "planned_discharge_date": "2026-11-28",
                    "case_id": "C-1",
                }
            },
        )
        assert preview.status_code == 200, preview.text
        assert preview.json()["subject"] == f"Dimissione protetta in arrivo ({SEBINO})"
        assert "ASST Franciacorta" in preview.json()["body"]
        assert "2026-11-28" in preview.json()["body"]
        edit = {
            **{k: template[k] for k in ("key", "channel", "language", "description")},
            "subject": "[PUA] Dimissione {{ data.case_id }}",
            "body": "Vedi il caso.",
        }
        forbidden = await c.put(
            f"/v1/templates/{template['id']}", json=edit, headers={"If-Match": 'W/"1"'}
        )
        assert forbidden.status_code == 403
    async with harness.client(platform) as c:
        broken = await c.put(
            f"/v1/templates/{template['id']}",
            json={**edit, "body": "{% for x in %}"},
            headers={"If-Match": 'W/"1"'},
        )
        assert broken.status_code == 422
        assert broken.json()["invalid_params"][0]["name"] == "body"
        ok = await c.put(
            f"/v1/templates/{template['id']}", json=edit, headers={"If-Match": 'W/"1"'}
        )
        assert ok.status_code == 200 and ok.headers["etag"] == 'W/"2"'
        sandboxed = await c.post(
            f"/v1/templates/{template['id']}/preview",
            json={"data": {"case_id": "{{ 7 * 7 }}"}},
        )
        assert sandboxed.json()["subject"] == "[PUA] Dimissione {{ 7 * 7 }}"
        other = (await c.get("/v1/templates", params={**params, "language": "en"})).json()
        evil = {**edit, "language": "en", "body": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}
        r = await c.put(
            f"/v1/templates/{other['items'][0]['id']}", json=evil, headers={"If-Match": 'W/"1"'}
        )
        assert r.status_code == 200  # it parses...
        escape = await c.post(f"/v1/templates/{other['items'][0]['id']}/preview", json={})
        assert escape.status_code == 422  # ...but the sandbox refuses to run it
    event = discharge_event()
    assert await handle(harness, event)
    await drain(Dispatcher(harness.factory, settings))
    assert [m.subject for m in mailbox.to("anna@sebino.it")] == [
        f"[PUA] Dimissione {event.data['case_id']}"
    ]
    assert mailbox.to("anna@sebino.it")[0].text.strip() == "Vedi il caso."
