"""Rules, preferences (critical ignores opt-out), filters and the rules API."""

from typing import Any

from pdz_notifications.deliveries.dispatcher import Dispatcher
from pdz_notifications.settings import NotificationsSettings
from pdz_notifications.smtp_sink import MemorySink
from pdz_shared.contracts import casework
from pdz_shared.testing.plugin import Harness

from .helpers import OTHER, SEBINO, discharge_event, drain, handle, put_recipient, rows, sla_event


async def inbox_titles(h: Harness, sub: str) -> list[str]:
    token = h.token(roles=["social_worker"], ambiti=[SEBINO], sub=sub)
    async with h.client(token) as c:
        return [i["title"] for i in (await c.get("/v1/inbox")).json()["items"]]


async def test_opted_out_non_critical_is_not_sent_but_critical_is(
    harness: Harness, settings: NotificationsSettings, mailbox: MemorySink
) -> None:
    await put_recipient(
        harness, "cm-lucia", email="lucia@sebino.it", roles=["social_worker"], ambiti=[SEBINO]
    )
    await put_recipient(
        harness, "udp-marco", email="marco@sebino.it", roles=["udp_admin"], ambiti=[SEBINO]
    )
    await put_recipient(  # a case manager of another ambito is never told about this case
        harness, "cm-far", email="far@altrove.it", roles=["social_worker"], ambiti=[OTHER]
    )
    lucia = harness.token(roles=["social_worker"], ambiti=[SEBINO], sub="cm-lucia")
    async with harness.client(lucia) as c:
        r = await c.put("/v1/preferences/email/*", json={"enabled": False})
        assert r.status_code == 200, r.text
        r = await c.put(f"/v1/preferences/inbox/{casework.SLA_DUE_SOON}", json={"enabled": True})
        assert r.status_code == 200
        prefs = (await c.get("/v1/preferences")).json()
    assert {(p["channel"], p["event_type"], p["enabled"]) for p in prefs["items"]} == {
        ("email", "*", False),
        ("inbox", casework.SLA_DUE_SOON, True),
    }

    due = sla_event(casework.SLA_DUE_SOON, case_manager_sub="cm-lucia")
    breached = sla_event(casework.SLA_BREACHED, case_manager_sub="cm-lucia")
    far = sla_event(casework.SLA_DUE_SOON, case_manager_sub="cm-far")
    for event in (due, breached, far):
        assert await handle(harness, event)
    assert not await handle(harness, due)  # redelivery: no-op
    await drain(Dispatcher(harness.factory, settings))

    lucia_mail = mailbox.to("lucia@sebino.it")
    assert [m.subject for m in lucia_mail] == [
        f"Scadenza superata: discharge (caso {breached.data['case_id']})"
    ]
    marco_mail = mailbox.to("marco@sebino.it")
    assert [m.subject for m in marco_mail] == [
        f"Scadenza superata: discharge (caso {breached.data['case_id']})"
    ]
    assert mailbox.to("far@altrove.it") == []
    assert len(mailbox.messages) == 2
    assert sorted(await inbox_titles(harness, "cm-lucia")) == sorted(
        [
            f"Scadenza vicina: discharge (caso {due.data['case_id']})",
            f"Scadenza superata: discharge (caso {breached.data['case_id']})",
        ]
    )
    skipped = await rows(
        harness,
        "SELECT recipient, channel, event_type, last_error FROM delivery WHERE status = 'skipped'",
    )
    assert [tuple(s) for s in skipped] == [
        ("cm-lucia", "email", casework.SLA_DUE_SOON, "opted-out")
    ]


def rule_body(**kw: Any) -> dict[str, Any]:
    return {
        "code": "discharge-back-office-2-social-workers",
        "description": "Dimissioni complesse: anche gli assistenti sociali dell'ambito",
        "event_type": casework.DISCHARGE_RECEIVED,
        "filters": {"pua_level": ["back_office_2"]},
        "roles": ["social_worker"],
        "channels": ["inbox"],
        "template_key": casework.DISCHARGE_RECEIVED,
        "critical": False,
        "ambito_code": SEBINO,
        **kw,
    }


async def test_rules_api_filters_and_defaults(
    harness: Harness, settings: NotificationsSettings, mailbox: MemorySink
) -> None:
    await put_recipient(
        harness, "sw-paola", email="paola@sebino.it", roles=["social_worker"], ambiti=[SEBINO]
    )
    await put_recipient(
        harness, "op-anna", email="anna@sebino.it", roles=["pua_operator"], ambiti=[SEBINO]
    )
    udp = harness.token(roles=["udp_admin"], ambiti=[SEBINO], sub="udp-sebino")
    platform = harness.token(roles=["platform_admin"], sub="root")
    async with harness.client(udp) as c:
        listed = (
            await c.get("/v1/rules", params={"event_type": casework.DISCHARGE_RECEIVED})
        ).json()
        assert [r["code"] for r in listed["items"]] == ["discharge-received-pua"]
        default = listed["items"][0]
        assert default["critical"] is True and default["is_default"] is True

        assert (await c.post("/v1/rules", json=rule_body(ambito_code=None))).status_code == 403
        assert (await c.post("/v1/rules", json=rule_body(ambito_code=OTHER))).status_code == 403
        bad = await c.post("/v1/rules", json=rule_body(roles=[], recipient_fields=["email"]))
        assert bad.status_code == 422
        created = await c.post("/v1/rules", json=rule_body())
        assert created.status_code == 201, created.text
        rule = created.json()
        assert rule["filters"]["pua_level"] == ["back_office_2"]
        assert (await c.post("/v1/rules", json=rule_body())).status_code == 409

        # Default rules are global: only the platform administrator changes them.
        off = {
            **{
                k: default[k]
                for k in (
                    "code",
                    "description",
                    "event_type",
                    "filters",
                    "roles",
                    "recipient_fields",
                    "channels",
                    "template_key",
                    "critical",
                )
            },
            "enabled": False,
        }
        assert (
            await c.put(f"/v1/rules/{default['id']}", json=off, headers={"If-Match": 'W/"1"'})
        ).status_code == 403

    assert await handle(harness, discharge_event(pua_level="back_office_1"))
    complex_case = discharge_event(pua_level="back_office_2")
    assert await handle(harness, complex_case)
    await drain(Dispatcher(harness.factory, settings))
    assert len(await inbox_titles(harness, "sw-paola")) == 1
    assert len(mailbox.to("paola@sebino.it")) == 0  # the rule asked for the inbox only
    assert len(mailbox.to("anna@sebino.it")) == 2

    async with harness.client(platform) as c:
        no_etag = await c.put(f"/v1/rules/{default['id']}", json=off)
        assert no_etag.status_code == 428
        stale = await c.put(f"/v1/rules/{default['id']}", json=off, headers={"If-Match": 'W/"9"'})
        assert stale.status_code == 412
        ok = await c.put(f"/v1/rules/{default['id']}", json=off, headers={"If-Match": 'W/"1"'})
        assert ok.status_code == 200 and ok.headers["etag"] == 'W/"2"'
        gone = await c.delete(f"/v1/rules/{default['id']}", headers={"If-Match": 'W/"2"'})
        assert gone.status_code == 409
    assert await handle(harness, discharge_event())
    await drain(Dispatcher(harness.factory, settings))
    assert len(mailbox.to("anna@sebino.it")) == 2  # the default rule is disabled

    async with harness.client(udp) as c:
        r = await c.delete(f"/v1/rules/{rule['id']}", headers={"If-Match": 'W/"1"'})
        assert r.status_code == 204
        assert (await c.get(f"/v1/rules/{rule['id']}")).status_code == 404


async def test_recipients_directory_rules(harness: Harness) -> None:
    udp = harness.token(roles=["udp_admin"], ambiti=[SEBINO], sub="udp-sebino")
    body = {"email": "anna@sebino.it", "roles": ["pua_operator"], "ambiti": [SEBINO]}
    async with harness.client(udp) as c:
        r = await c.put("/v1/recipients/op-anna", json=body)
        assert r.status_code == 201 and r.headers["etag"] == 'W/"1"'
        assert (await c.put("/v1/recipients/op-anna", json=body)).status_code == 428
        r = await c.put(
            "/v1/recipients/op-anna", json={**body, "language": "en"}, headers={"If-Match": 'W/"1"'}
        )
        assert r.status_code == 200 and r.json()["language"] == "en"
        foreign = await c.put("/v1/recipients/op-x", json={**body, "ambiti": [OTHER]})
        assert foreign.status_code == 403
        escalate = await c.put("/v1/recipients/op-y", json={**body, "roles": ["platform_admin"]})
        assert escalate.status_code == 403
        bad = await c.put("/v1/recipients/op-z", json={**body, "email": "not an address"})
        assert bad.status_code == 422
        listed = (await c.get("/v1/recipients", params={"role": "pua_operator"})).json()
        assert [i["sub"] for i in listed["items"]] == ["op-anna"]
    other = harness.token(roles=["udp_admin"], ambiti=[OTHER], sub="udp-other")
    async with harness.client(other) as c:
        assert (await c.get("/v1/recipients/op-anna")).status_code == 404
        assert (await c.get("/v1/recipients")).json()["total"] == 0
    me = harness.token(roles=["pua_operator"], ambiti=[SEBINO], sub="op-anna")
    async with harness.client(me) as c:
        assert (await c.get("/v1/recipients/op-anna")).json()["email"] == "anna@sebino.it"
        assert (await c.put("/v1/recipients/op-anna", json=body)).status_code == 403
