"""Every read of case data leaves exactly one audit row.

One case, opened by a dimissione protetta and given a triage, an EVM, a PAI, a consent and a link
to a Cartella Sociale; then each casework endpoint that reads case data is called once and the
case's audit trail must have grown by exactly one ``read`` row naming that operation. The
casework OpenAPI document is walked: a new GET endpoint fails this test until it is listed below
(with its probe), or among the reads that are not case data (with the reason).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from stack_helpers import full_case

from pdz_shared.auth import mint_token
from pdz_shared.settings import CommonSettings

CASEWORK = "http://127.0.0.1:8003"
SEBINO = "AMBITO-05-SEBINO"
ROLES = ["pua_operator", "social_worker", "uvm_member", "udp_admin", "asst_system"]

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

        ids = await full_case(http, run, SEBINO)

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
