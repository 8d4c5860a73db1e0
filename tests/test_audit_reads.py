"""Every read of case data leaves exactly one audit row.

One case, opened by a dimissione protetta and given a triage, an EVM, a PAI, a consent and a link
to a Cartella Sociale; then each casework endpoint that reads case data is called once and the
case's audit trail must have grown by exactly one ``read`` row naming that operation. The
casework OpenAPI document is walked: a new GET endpoint fails this test until it is listed below
(with its probe), or among the reads that are not case data (with the reason).
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from stack_helpers import processed_discharge

from pdz_shared.auth import mint_token
from pdz_shared.settings import CommonSettings

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "services/casework/samples/dimissione-protetta-sebino.json"
CASEWORK = "http://127.0.0.1:8003"
SEBINO = "AMBITO-05-SEBINO"
ROLES = ["pua_operator", "social_worker", "uvm_member", "udp_admin", "asst_system"]
TRIAGE_ITEMS = (
    "autonomia_funzionale",
    "patologie_croniche",
    "deficit_cognitivo",
    "bisogno_sanitario",
    "rete_familiare",
    "condizione_abitativa",
    "situazione_economica",
)

# (path in the OpenAPI document, path called, query, operation recorded in the audit row)
READS = [
    ("/v1/cases", "/v1/cases", {"limit": 500}, "list_cases"),
    ("/v1/cases/{case_id}", "/v1/cases/{case_id}", {}, "get_case"),
    ("/v1/cases/{case_id}/triage", "/v1/cases/{case_id}/triage", {}, "get_triage"),
    ("/v1/cases/{case_id}/evaluations", "/v1/cases/{case_id}/evaluations", {}, "list_evaluations"),
    (
        "/v1/cases/{case_id}/evaluations/{evm_id}",
        "/v1/cases/{case_id}/evaluations/{evm_id}",
        {},
        "get_evaluation",
    ),
    ("/v1/cases/{case_id}/pai", "/v1/cases/{case_id}/pai", {}, "list_pai"),
    ("/v1/cases/{case_id}/pai/{pai_id}", "/v1/cases/{case_id}/pai/{pai_id}", {}, "get_pai"),
    ("/v1/cases/{case_id}/consents", "/v1/cases/{case_id}/consents", {}, "list_consents"),
    ("/v1/cases/{case_id}/tasks", "/v1/cases/{case_id}/tasks", {}, "list_case_tasks"),
    (
        "/v1/cases/{case_id}/external-links/{system}",
        "/v1/cases/{case_id}/external-links/{system}",
        {},
        "get_external_link",
    ),
    (
        "/v1/external-links",
        "/v1/external-links",
        {"system": "{system}", "external_id": "{external_id}"},
        "find_external_links",
    ),
    (
        "/v1/discharges",
        "/v1/discharges",
        {"channel": "api", "limit": 500},
        "list_discharges",
    ),
    ("/v1/discharges/{discharge_id}", "/v1/discharges/{discharge_id}", {}, "get_discharge"),
    (
        "/v1/discharges/{discharge_id}/transition",
        "/v1/discharges/{discharge_id}/transition",
        {},
        "get_care_transition",
    ),
]
NOT_CASE_DATA = {
    "/status": "service health",
    "/v1/me": "the caller's own token",
    "/v1/cases/{case_id}/audit": "the audit trail itself (Ufficio di Piano oversight): reading "
    "it must not change what it shows",
    "/v1/sla-policies/{ambito_code}": "the ambito's deadlines policy, no case data",
    "/v1/external-systems": "which software each comune uses, no case data",
}


def bundle(encounter: str) -> bytes:
    from codicefiscale import codicefiscale

    data = copy.deepcopy(json.loads(SAMPLE.read_text()))
    patient = data["entry"][2]["resource"]
    patient["identifier"][0]["value"] = codicefiscale.encode(
        lastname="Auditati",
        firstname="Nome" + "".join(c for c in encounter if c.isalpha())[:6],
        gender="F",
        birthdate="09/09/1939",
        birthplace="Iseo",
    )
    patient.pop("gender", None)
    patient.pop("birthDate", None)
    data["entry"][3]["resource"]["identifier"][0]["value"] = encounter
    return json.dumps(data).encode()


async def test_every_read_of_case_data_leaves_one_audit_row(
    stack: Any, common: CommonSettings
) -> None:
    token = mint_token(common, sub="auditato", roles=ROLES, ambiti=[SEBINO])
    auth = {"Authorization": f"Bearer {token}"}
    run = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(base_url=CASEWORK, timeout=30, headers=auth) as http:
        documented = {
            path
            for path, item in (await http.get("/openapi.json")).json()["paths"].items()
            if "get" in item
        }
        known = {r[0] for r in READS} | set(NOT_CASE_DATA)
        assert documented == known, (
            f"GET endpoints without an audit probe: {sorted(documented - known)}; "
            f"listed but gone: {sorted(known - documented)}"
        )

        # A case with something behind every read.
        r = await http.post(
            "/v1/discharges",
            headers={"Content-Type": "application/fhir+json"},
            content=bundle(f"AUDIT-{run}"),
        )
        assert r.status_code == 202, r.text
        discharge = await processed_discharge(http, r.headers["location"], auth)
        ids = {"case_id": discharge["case_id"], "discharge_id": discharge["id"]}
        case = await http.get(f"/v1/cases/{ids['case_id']}")
        r = await http.post(
            f"/v1/cases/{ids['case_id']}/triage",
            headers={"If-Match": case.headers["etag"]},
            json={"answers": [{"item": k, "value": 2} for k in TRIAGE_ITEMS]},
        )
        assert r.status_code == 201, r.text
        r = await http.post(
            f"/v1/cases/{ids['case_id']}/evaluations",
            json={"kind": "multidimensional", "scheduled_for": "2026-03-05T10:00:00+01:00"},
        )
        assert r.status_code == 201, r.text
        ids["evm_id"] = r.json()["id"]
        r = await http.post(
            f"/v1/cases/{ids['case_id']}/pai", json={"goals": ["Rientro al domicilio"]}
        )
        assert r.status_code == 201, r.text
        ids["pai_id"] = r.json()["id"]
        r = await http.post(
            f"/v1/cases/{ids['case_id']}/consents",
            json={"purpose": "presa_in_carico", "legal_basis": "consenso", "state": "granted"},
        )
        assert r.status_code == 201, r.text
        comune = case.json()["comune_code"]
        ids["system"], ids["external_id"] = f"cs-audit-{run}", f"CS-{run}"
        r = await http.put(
            f"/v1/external-systems/{ids['system']}/comuni/{comune}",
            json={"ambito_code": SEBINO, "name": "Cartella di prova"},
        )
        assert r.status_code == 201, r.text
        r = await http.put(
            f"/v1/cases/{ids['case_id']}/external-links/{ids['system']}",
            json={"external_id": ids["external_id"]},
        )
        assert r.status_code == 201, r.text

        async def trail() -> tuple[int, list[dict[str, Any]]]:
            r = await http.get(f"/v1/cases/{ids['case_id']}/audit", params={"limit": 500})
            assert r.status_code == 200, r.text
            return int(r.json()["total"]), list(r.json()["items"])

        wrong: list[str] = []
        for _, path, query, operation in READS:
            before, _ = await trail()
            r = await http.get(
                path.format(**ids), params={k: str(v).format(**ids) for k, v in query.items()}
            )
            assert r.status_code == 200, (path, r.text)
            if "{case_id}" not in path:  # the case is among those listed: the read is of it
                assert r.text.count(ids["case_id"]) >= 1, (path, r.text[:500])
            after, rows = await trail()
            new = rows[before:after]
            if [(n["action"], n["operation"], n["sub"]) for n in new] != [
                ("read", operation, "auditato")
            ]:
                wrong.append(f"{operation}: {len(new)} new rows {new}")
        # The audit trail itself is read without leaving a row.
        assert (await trail())[0] == (await trail())[0]
    assert not wrong, "\n".join(wrong)
