"""Faults, reduced for `make test` (`make chaos` is the full run): while discharges flow, the
casework API, the casework worker (its outbox relay, consumers and discharge processor) and the
notifications worker are killed with SIGKILL and restarted, and the broker is restarted (it keeps
nothing: the outboxes publish their retention window again). Afterwards nothing is lost or
duplicated: every accepted discharge has exactly one case, the PUA operator has exactly one inbox
message and one e-mail (one Message-ID) per case, and the live indicator equals a recompute
from scratch.
"""

import asyncio
import copy
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from stack_helpers import processed_discharge

from pdz_shared import devinfra, devstack
from pdz_shared.auth import mint_token
from pdz_shared.contracts import casework
from pdz_shared.db import sync_url
from pdz_shared.settings import CommonSettings

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "services" / "casework" / "samples" / "dimissione-protetta-sebino.json"
SINK_LOG = REPO / ".build" / "e2e-logs" / "smtp-sink.log"
SEBINO = "AMBITO-05-SEBINO"
CASEWORK, NOTIFICATIONS = "http://127.0.0.1:8003", "http://127.0.0.1:8004"
INDICATORS = "http://127.0.0.1:8002"
DISCHARGES = 60


def bundle(run: str, i: int) -> bytes:
    from codicefiscale import codicefiscale

    data = copy.deepcopy(json.loads(SAMPLE.read_text()))
    patient = data["entry"][2]["resource"]
    patient["identifier"][0]["value"] = codicefiscale.encode(
        lastname="Guerini",
        firstname=f"Chaos{run}{i}",
        gender="M",
        birthdate=f"{1 + i % 28:02d}/{1 + i // 28:02d}/1941",
        birthplace="Iseo",
    )
    patient.pop("gender", None)
    patient.pop("birthDate", None)
    data["entry"][3]["resource"]["identifier"][0]["value"] = f"CHAOS-{run}-{i:04d}"
    return json.dumps(data).encode()


async def test_kill_9_while_discharges_flow_loses_and_duplicates_nothing(
    stack: Any, common: CommonSettings, broker_process: devinfra.Broker | None
) -> None:
    def auth(sub: str, *roles: str) -> dict[str, str]:
        token = mint_token(common, sub=sub, roles=list(roles), ambiti=[SEBINO])
        return {"Authorization": f"Bearer {token}"}

    asst, pua = auth("cot-franciacorta", "asst_system"), auth("demo-pua-iseo", "pua_operator")
    admin = auth("udp-admin", "platform_admin")
    run = uuid.uuid4().hex[:6]
    accepted: dict[int, str] = {}

    async with httpx.AsyncClient(timeout=10) as http:

        async def post(i: int) -> None:
            # An ASST system retries until it gets its 202: the intake is idempotent on the
            # encounter, so a retry after a crash never makes a second case.
            for _ in range(200):
                try:
                    r = await http.post(
                        f"{CASEWORK}/v1/discharges",
                        content=bundle(run, i),
                        headers={**asst, "Content-Type": "application/fhir+json"},
                    )
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
                    continue
                if r.status_code == 202:
                    accepted[i] = r.headers["location"]
                    return
                await asyncio.sleep(0.2)
            raise AssertionError(f"discharge {i} never accepted")

        async def chaos() -> None:
            await asyncio.sleep(1.0)
            for name in ("casework-worker", "notifications-worker", "casework-api"):
                stack.kill(name)
                await asyncio.sleep(1.5)
                stack.restart(name)
                if name.endswith("-api"):
                    await asyncio.to_thread(devinfra.wait_port, "127.0.0.1", 8003, 30)
            if broker_process is not None:  # an external Kafka is not ours to restart
                since = datetime.now(UTC) - timedelta(hours=2)  # the whole test session
                await devstack.recover_broker(broker_process, stack.database_urls, since)

        senders = [post(i) for i in range(DISCHARGES)]
        await asyncio.gather(chaos(), *_paced(senders, per_second=20))
        assert len(accepted) == DISCHARGES
        cases = {
            i: (await processed_discharge(http, location, asst))["case_id"]
            for i, location in accepted.items()
        }
        assert len(set(cases.values())) == DISCHARGES  # one case per discharge

        wanted = set(cases.values())

        async def inbox_counts() -> dict[str, int]:
            counts: dict[str, int] = {}
            offset = 0
            while True:
                page = (
                    await http.get(
                        f"{NOTIFICATIONS}/v1/inbox",
                        headers=pua,
                        params={"limit": 500, "offset": offset},
                    )
                ).json()
                for item in page["items"]:
                    for case_id in wanted:
                        if case_id in item["body"]:
                            counts[case_id] = counts.get(case_id, 0) + 1
                offset += len(page["items"])
                if not page["items"] or offset >= page["total"]:
                    return counts

        async with asyncio.timeout(120):
            while len(counts := await inbox_counts()) < DISCHARGES:
                await asyncio.sleep(1)
        assert set(counts.values()) == {1}, "a case notified twice in the inbox"

        def mail_ids() -> dict[str, set[str]]:
            text = SINK_LOG.read_text(errors="replace")
            mails = [m for m in text.split("--- mail from ") if "pua.iseo@demo" in m]
            return {c: {_message_id(m) for m in mails if c in m} for c in wanted}

        async with asyncio.timeout(120):
            while set() in (mailed := mail_ids()).values():
                await asyncio.sleep(1)
        # One e-mail notification per case: one Message-ID (the delivery id). A worker killed
        # between the SMTP server's 250 and its commit sends that same message again (SMTP has
        # no idempotent submit); receivers drop the copy by its Message-ID.
        assert {len(ids) for ids in mailed.values()} == {1}, "a case e-mailed twice"

        # The live value equals a recompute from scratch.
        async def live() -> Any:
            r = await http.get(
                f"{INDICATORS}/v1/indicators/LEPS-3.I6/values",
                headers=admin,
                params={"territory": SEBINO, "period": "2026"},
            )
            return r.json()

        # Once the indicators worker has taken in every casework event (its inbox has them all)
        async with asyncio.timeout(120):
            while missing := await _not_consumed(stack):
                await asyncio.sleep(1)
        assert not missing
        before = await live()
        r = await http.post(f"{INDICATORS}/v1/indicators/LEPS-3.I6/recompute", headers=admin)
        assert r.status_code in (200, 202), r.text
        after = await live()
        assert [v["value"] for v in before["items"]] == [v["value"] for v in after["items"]]
        assert before["items"], "no value for the integrated discharge flow"


async def _not_consumed(stack: Any) -> int:
    """How many casework events the indicators worker has not processed yet."""
    casework_db = await asyncpg.connect(sync_url(stack.database_urls["casework"]))
    indicators_db = await asyncpg.connect(sync_url(stack.database_urls["indicators"]))
    try:
        published = await casework_db.fetch(
            "SELECT event_id::text FROM outbox WHERE type = ANY($1::text[])",
            [casework.CASE_OPENED, casework.DISCHARGE_RECEIVED],
        )
        consumed = await indicators_db.fetch(
            "SELECT event_id FROM inbox "
            "WHERE consumer = 'indicators.facts' AND event_id = ANY($1::text[])",
            [r[0] for r in published],
        )
        return len(published) - len(consumed)
    finally:
        await casework_db.close()
        await indicators_db.close()


def _message_id(mail: str) -> str:
    found = re.search(r"^Message-ID: (\S+)$", mail, re.MULTILINE)
    assert found, "the sink logs the Message-ID of every mail"
    return found.group(1)


def _paced(coros: list[Any], per_second: float) -> list[Any]:
    async def later(delay: float, coro: Any) -> None:
        await asyncio.sleep(delay)
        await coro

    return [later(i / per_second, c) for i, c in enumerate(coros)]
