"""Helpers for the cross-service tests (they talk to the running stack over HTTP only)."""

import asyncio
from typing import Any


async def processed_discharge(
    http: Any, location: str, headers: dict[str, str], timeout: float = 60.0
) -> dict[str, Any]:
    """The discharge at ``location`` once the casework processor has applied it (a 202 means
    accepted: the case is opened a moment later)."""
    async with asyncio.timeout(timeout):
        while True:
            url = location if str(http.base_url) else f"http://127.0.0.1:8003{location}"
            r = await http.get(url, headers=headers)
            if r.status_code == 200 and r.json()["status"] != "accepted":
                return dict(r.json())
            await asyncio.sleep(0.1)


TRIAGE_ITEMS = (
    "autonomia_funzionale",
    "patologie_croniche",
    "deficit_cognitivo",
    "bisogno_sanitario",
    "rete_familiare",
    "condizione_abitativa",
    "situazione_economica",
)


def unique_cf(seed: str, birthdate: str = "09/09/1939") -> str:
    """A valid codice fiscale of a person of its own: names from the hex digest of ``seed``
    (consonants only, since the code is made of a name's consonants)."""
    import hashlib

    from codicefiscale import codicefiscale

    digest = hashlib.sha256(seed.encode()).hexdigest()
    name = digest.translate(str.maketrans("0123456789abcdef", "BCDFGLMNPRSTVZQK"))
    return str(
        codicefiscale.encode(
            lastname=name[:5],
            firstname=name[5:10],
            gender="F",
            birthdate=birthdate,
            birthplace="Iseo",
        )
    )


def discharge_bundle(encounter: str) -> bytes:
    """The sample dimissione protetta for a fresh patient and encounter."""
    import copy
    import json
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "services/casework/samples"
    data = copy.deepcopy(json.loads((sample / "dimissione-protetta-sebino.json").read_text()))
    patient = data["entry"][2]["resource"]
    patient["identifier"][0]["value"] = unique_cf(encounter)
    patient.pop("gender", None)
    patient.pop("birthDate", None)
    data["entry"][3]["resource"]["identifier"][0]["value"] = encounter
    return json.dumps(data).encode()


async def full_case(http: Any, run: str, ambito: str) -> dict[str, str]:
    """A case opened by a dimissione protetta, with a triage, an EVM, a PAI, a consent and a
    link to a Cartella Sociale: the ids of each. ``http`` is a client of the casework service
    whose token holds the casework roles, udp_admin and asst_system in ``ambito``."""
    r = await http.post(
        "/v1/discharges",
        headers={"Content-Type": "application/fhir+json"},
        content=discharge_bundle(f"FULL-{run}"),
    )
    assert r.status_code == 202, r.text
    discharge = await processed_discharge(http, r.headers["location"], {})
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
    r = await http.post(f"/v1/cases/{ids['case_id']}/pai", json={"goals": ["Rientro a casa"]})
    assert r.status_code == 201, r.text
    ids["pai_id"] = r.json()["id"]
    r = await http.post(
        f"/v1/cases/{ids['case_id']}/consents",
        json={"purpose": "presa_in_carico", "legal_basis": "consenso", "state": "granted"},
    )
    assert r.status_code == 201, r.text
    ids["comune_code"] = case.json()["comune_code"]
    ids["system"], ids["external_id"] = f"cs-{run}".lower(), f"CS-{run}"
    r = await http.put(
        f"/v1/external-systems/{ids['system']}/comuni/{ids['comune_code']}",
        json={"ambito_code": ambito, "name": "Cartella di prova"},
    )
    assert r.status_code == 201, r.text
    r = await http.put(
        f"/v1/cases/{ids['case_id']}/external-links/{ids['system']}",
        json={"external_id": ids["external_id"]},
    )
    assert r.status_code == 201, r.text
    tasks = await http.get(f"/v1/cases/{ids['case_id']}/tasks")
    ids["task_id"] = tasks.json()["items"][0]["id"]
    return ids
