"""The whole journey, across the four services, talking only HTTP and Kafka.

The Sebino plan is imported (by the stack's demo loader, through the plans API) → an ASST posts a
dimissione protetta as a FHIR bundle, and another one arrives on the Kafka topic → casework opens
the cases → the Ambito's PUA operator finds them in the inbox and in the mailbox (real SMTP sink)
→ triage, EVM with the Ambito's social worker, PAI approved → the indicators scorecard shows the
LEPS values and target status move.
"""

import asyncio
import copy
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from stack_helpers import TRIAGE_ITEMS, processed_discharge  # the Scheda Unica di Triage

from pdz_shared.auth import mint_token
from pdz_shared.contracts import casework as contract
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.kafka import KafkaConfig
from pdz_shared.settings import CommonSettings
from pdz_shared.testing.plugin import produce

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "services" / "casework" / "samples" / "dimissione-protetta-sebino.json"
SINK_LOG = REPO / ".build" / "e2e-logs" / "smtp-sink.log"
SEBINO = "AMBITO-05-SEBINO"
PLANS, INDICATORS = "http://127.0.0.1:8001", "http://127.0.0.1:8002"
CASEWORK, NOTIFICATIONS = "http://127.0.0.1:8003", "http://127.0.0.1:8004"
SOCIAL_WORKER_AT_EVM = "LEPS-4.I2"  # share of EVM attended by the Ambito's social worker
INTEGRATED_FLOW = "LEPS-3.I6"  # discharges handled through the integrated information flow
T = TypeVar("T")


def cf(name: str) -> str:
    from codicefiscale import codicefiscale

    return str(
        codicefiscale.encode(
            lastname="Bonetti",
            firstname=name,
            gender="F",
            birthdate="12/03/1938",
            birthplace="Iseo",
        )
    )


def bundle(encounter: str, fiscal_code: str) -> dict[str, Any]:
    data = copy.deepcopy(json.loads(SAMPLE.read_text()))
    patient = data["entry"][2]["resource"]
    patient["identifier"][0]["value"] = fiscal_code
    patient.pop("gender", None)
    patient.pop("birthDate", None)
    data["entry"][3]["resource"]["identifier"][0]["value"] = encounter
    return data


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.3)
    return result


def indicator(scorecard: dict[str, Any], code: str) -> dict[str, Any] | None:
    for objective in scorecard.get("objectives", []):
        for item in objective["indicators"]:
            if item["code"] == code:
                return dict(item)
    return None


async def test_from_discharge_to_scorecard(
    stack: Any, common: CommonSettings, kafka: KafkaConfig
) -> None:
    def auth(sub: str, *roles: str) -> dict[str, str]:
        token = mint_token(common, sub=sub, roles=list(roles), ambiti=[SEBINO])
        return {"Authorization": f"Bearer {token}"}

    asst, pua = auth("cot-franciacorta", "asst_system"), auth("demo-pua-iseo", "pua_operator")
    sw, uvm = auth("as-sebino", "social_worker"), auth("uvm-franciacorta", "uvm_member")
    viewer = auth("udp-sebino", "udp_viewer")
    async with httpx.AsyncClient(timeout=30) as http:
        plans = (await http.get(f"{PLANS}/v1/plans", headers=viewer)).json()["items"]
        plan = next(p for p in plans if p["ambito_code"] == SEBINO)

        async def scorecard() -> dict[str, Any]:
            r = await http.get(
                f"{INDICATORS}/v1/plans/{plan['id']}/scorecard",
                params={"period": "2026"},
                headers=viewer,
            )
            card = dict(r.json()) if r.status_code == 200 else {}
            return card if indicator(card, SOCIAL_WORKER_AT_EVM) else {}

        async def discharges_total() -> int:
            r = await http.get(f"{CASEWORK}/v1/discharges", params={"limit": 1}, headers=asst)
            return int(r.json()["total"])

        async def settled() -> dict[str, Any]:
            # Earlier tests may still be flowing: start once the live count equals casework's.
            card = await scorecard()
            flow = indicator(card, INTEGRATED_FLOW) if card else None
            total = await discharges_total()
            if flow and float(flow["value"] or 0) == total:
                return card
            return {}

        before = await eventually(settled, timeout=90)
        flow_before = indicator(before, INTEGRATED_FLOW) or {}
        social_before = indicator(before, SOCIAL_WORKER_AT_EVM) or {}

        # 1. An ASST posts a dimissione protetta over HTTP; another arrives through Kafka.
        run = uuid.uuid4().hex[:6]
        r = await http.post(
            f"{CASEWORK}/v1/discharges",
            headers={**asst, "Content-Type": "application/fhir+json"},
            content=json.dumps(bundle(f"J-{run}-1", cf(f"Maria{run}"))).encode(),
        )
        assert r.status_code == 202, r.text
        discharge = await processed_discharge(http, r.headers["location"], asst)
        assert (discharge["status"], discharge["channel"]) == ("processed", "api")
        case_id = discharge["case_id"]
        event = CloudEvent.new(
            source="/asst/franciacorta",
            type=contract.ASST_DIMISSIONE_TYPE,
            data=bundle(f"J-{run}-2", cf(f"Lucia{run}")),
        )
        await produce(kafka, contract.ASST_DIMISSIONI_TOPIC, event, f"J-{run}-2")

        async def from_kafka() -> dict[str, Any]:
            r = await http.get(
                f"{CASEWORK}/v1/discharges", params={"channel": "kafka"}, headers=asst
            )
            found = [
                d
                for d in r.json()["items"]
                if d["encounter_identifier"].endswith(f"J-{run}-2") and d["case_id"]
            ]
            return dict(found[0]) if found else {}

        assert (await eventually(from_kafka))["status"] == "processed"

        # 2. The Ambito's PUA operator is told once, in the inbox and by e-mail.
        async def inbox() -> list[dict[str, Any]]:
            r = await http.get(f"{NOTIFICATIONS}/v1/inbox", params={"limit": 500}, headers=pua)
            return [m for m in r.json()["items"] if case_id in m["body"]]

        assert len(await eventually(inbox)) == 1

        async def mailed() -> int:
            text = SINK_LOG.read_text(errors="replace") if SINK_LOG.exists() else ""
            return sum(
                1
                for m in text.split("--- mail from ")
                if case_id in m and "pua.iseo@demo.pdz.example.it" in m
            )

        assert await eventually(mailed) == 1

        # 3. Triage (complex need), EVM with the Ambito's social worker, PAI approved.
        case = await http.get(f"{CASEWORK}/v1/cases/{case_id}", headers=sw)
        r = await http.post(
            f"{CASEWORK}/v1/cases/{case_id}/triage",
            headers={**sw, "If-Match": case.headers["etag"]},
            json={"answers": [{"item": k, "value": 2} for k in TRIAGE_ITEMS]},
        )
        assert r.status_code == 201, r.text
        assert r.json()["outcome"] == "complex"
        r = await http.post(
            f"{CASEWORK}/v1/cases/{case_id}/evaluations",
            headers=uvm,
            json={
                "kind": "multidimensional",
                "scheduled_for": "2026-03-05T10:00:00+01:00",
                "place": "Casa di Comunità di Iseo",
            },
        )
        assert r.status_code == 201, r.text
        r = await http.put(
            f"{CASEWORK}{r.headers['location']}",
            headers={**uvm, "If-Match": r.headers["etag"]},
            json={
                "evaluated_at": "2026-03-05T10:00:00+01:00",
                "team": [
                    {"profession": "medico", "employer": "asst"},
                    {"profession": "assistente_sociale", "employer": "ambito"},
                ],
                "instruments": [{"instrument": "BARTHEL", "score": 40}],
                "dimensions": {
                    d: {"level": "grave"}
                    for d in ("clinical", "psychological", "cognitive", "social", "functional")
                },
                "outcome": "Bisogno complesso: progetto individualizzato",
                "non_self_sufficiency_level": "grave",
            },
        )
        assert r.status_code == 200, r.text
        r = await http.post(
            f"{CASEWORK}/v1/cases/{case_id}/pai",
            headers=uvm,
            json={
                "goals": ["Rientro al domicilio in sicurezza"],
                "interventions": [
                    {
                        "type": "SAD",
                        "provider": "Cooperativa Sebino",
                        "frequency": "settimanale",
                        "start_date": "2026-03-10",
                        "funding_source": "FNA",
                    }
                ],
                "review_date": "2026-09-10",
            },
        )
        assert r.status_code == 201, r.text
        r = await http.post(
            f"{CASEWORK}{r.headers['location']}/approval",
            headers={**uvm, "If-Match": r.headers["etag"]},
        )
        assert r.status_code == 200, r.text
        case = await http.get(f"{CASEWORK}/v1/cases/{case_id}", headers=sw)
        assert case.json()["status"] == "pai_active"

        # 4. The scorecard moves, computed live from the events of this journey.
        async def moved() -> dict[str, Any]:
            card = await scorecard()
            social, flow = indicator(card, SOCIAL_WORKER_AT_EVM), indicator(card, INTEGRATED_FLOW)
            if not social or not flow or social["value"] is None or flow["value"] is None:
                return {}
            if float(flow["value"]) != await discharges_total():
                return {}
            return {"social": social, "flow": flow, "total": await discharges_total()}

        after = await eventually(moved, timeout=60)
    assert social_before["value"] is None  # no evaluation in 2026 before this journey
    assert float(after["social"]["value"]) == 100.0
    assert after["social"]["status"] is not None
    assert after["social"]["status"] != social_before["status"]
    assert float(after["flow"]["value"]) == float(flow_before.get("value") or 0) + 2
    assert float(after["flow"]["value"]) == after["total"]
