"""Demo casework for the Sebino Ambito, created through casework's own API (never its tables).

A few hundred plausible cases: PUA intakes from the sportello, MMG, comuni and the Terzo Settore,
dimissioni protette from ASST Franciacorta as FHIR Bundles, each moved along the PUA path
(triage, EVM, PAI, closure) with the roles that do it in real life. Deterministic for a seed;
a second run finds the cases already there and does nothing.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from codicefiscale import codicefiscale

from pdz_shared.auth import mint_token
from pdz_shared.settings import CommonSettings, common_settings

SEBINO = "AMBITO-05-SEBINO"
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "dimissione-protetta-sebino.json"
# Comuni of the Ambito with their residents on 01/01/2024 (the weights of the demo).
COMUNI = {
    "Corte Franca": 7173,
    "Iseo": 8992,
    "Marone": 3112,
    "Monte Isola": 1621,
    "Monticelli Brusati": 4598,
    "Paderno Franciacorta": 3640,
    "Paratico": 4960,
    "Passirano": 6890,
    "Provaglio d'Iseo": 7139,
    "Sale Marasino": 3260,
    "Sulzano": 1940,
    "Zone": 1021,
}
GIVEN_F = [
    "Maria",
    "Anna",
    "Giuseppina",
    "Rosa",
    "Angela",
    "Lucia",
    "Teresa",
    "Franca",
    "Carla",
    "Giovanna",
    "Elena",
    "Paola",
    "Marta",
    "Chiara",
    "Sofia",
    "Giulia",
]
GIVEN_M = [
    "Giuseppe",
    "Giovanni",
    "Antonio",
    "Mario",
    "Luigi",
    "Francesco",
    "Angelo",
    "Pietro",
    "Battista",
    "Carlo",
    "Bruno",
    "Franco",
    "Marco",
    "Luca",
    "Andrea",
    "Matteo",
]
FAMILY = [
    "Bonetti",
    "Rossi",
    "Bianchi",
    "Ferrari",
    "Zanardini",
    "Turla",
    "Ghitti",
    "Cristini",
    "Archetti",
    "Bertoli",
    "Zatti",
    "Guerini",
    "Cittadini",
    "Uccelli",
    "Martinelli",
    "Pezzotti",
    "Gatti",
    "Frassine",
    "Belotti",
    "Cadei",
    "Ziliani",
    "Loda",
    "Bosio",
]
SOURCES = [("sportello", 40), ("mmg", 20), ("comune", 18), ("terzo_settore", 7), ("online", 5)]
ITEMS = (
    "autonomia_funzionale",
    "patologie_croniche",
    "deficit_cognitivo",
    "bisogno_sanitario",
    "rete_familiare",
    "condizione_abitativa",
    "situazione_economica",
)
PROVIDERS = {
    "SAD": ("Cooperativa La Vela", "FNA"),
    "C-DOM": ("ASST Franciacorta", "FONDO_SANITARIO"),
    "PASTI": ("Comune", "COMUNE"),
    "TELESOCCORSO": ("Comune", "FNPS"),
    "MISURA_B2": ("Ambito Sebino", "FNA"),
    "TRASPORTO": ("Associazione volontari Sebino", "COMUNE"),
    "CDI": ("Fondazione RSA Iseo", "FSR"),
}


def comune_code(name: str) -> str:
    """The territory code the plans demo uses for a comune (``COMUNE-ISEO``)."""
    return "COMUNE-" + "".join(c if c.isalnum() else "-" for c in name.upper()).strip("-")


@dataclass
class Tally:
    cases: int = 0
    discharges: int = 0
    triaged: int = 0
    evaluations: int = 0
    pai: int = 0
    closed: int = 0
    skipped: list[str] = field(default_factory=list)


ClientFactory = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


class Demo:
    def __init__(self, clients: ClientFactory, tokens: dict[str, str], seed: int) -> None:
        self.clients = clients
        self.tokens = tokens
        self.rng = random.Random(seed)
        self.tally = Tally()

    async def call(self, role: str, method: str, url: str, **kw: Any) -> httpx.Response:
        async with self.clients(self.tokens[role]) as c:
            for _ in range(20):
                r = await c.request(method, url, **kw)
                if r.status_code != 429:
                    return r
                await asyncio.sleep(float(r.headers.get("retry-after", "1")))
        return r

    def person(self) -> dict[str, Any]:
        rng = self.rng
        female = rng.random() < 0.58
        given = rng.choice(GIVEN_F if female else GIVEN_M)
        family = rng.choice(FAMILY)
        age = rng.choices(
            [
                rng.randint(3, 17),
                rng.randint(18, 64),
                rng.randint(65, 74),
                rng.randint(75, 84),
                rng.randint(85, 99),
            ],
            [4, 14, 20, 34, 28],
        )[0]
        birth = date(2026 - age, 1, 1) + timedelta(days=rng.randint(0, 364))
        home = rng.choices(list(COMUNI), list(COMUNI.values()))[0]
        born_in = home if rng.random() < 0.6 else rng.choice(["Brescia", "Chiari", "Lovere"])
        cf = codicefiscale.encode(
            lastname=family,
            firstname=given,
            gender="F" if female else "M",
            birthdate=birth.strftime("%d/%m/%Y"),
            birthplace=born_in,
        )
        return {
            "codice_fiscale": cf,
            "given_name": given,
            "family_name": family,
            "residence_comune": comune_code(home),
            "_home": home,
        }

    async def intake(self, i: int) -> dict[str, Any] | None:
        person = self.person()
        home = person.pop("_home")
        source = self.rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
        body = {
            "ambito_code": SEBINO,
            "comune_code": comune_code(home),
            "source": source,
            "person": person,
            "request_summary": "Richiesta di sostegno al domicilio",
        }
        r = await self.call(
            "pua",
            "POST",
            "/v1/cases",
            json=body,
            headers={"Idempotency-Key": f"demo-intake-{i:05d}"},
        )
        if r.status_code != 201:
            self.tally.skipped.append(f"intake {i}: {r.status_code}")
            return None
        self.tally.cases += 1
        return dict(r.json())

    async def discharge(self, i: int) -> dict[str, Any] | None:
        data = json.loads(SAMPLE.read_text())
        person = self.person()
        home = person.pop("_home")
        patient = data["entry"][2]["resource"]
        patient["identifier"][0]["value"] = person["codice_fiscale"]
        patient["name"] = [{"family": person["family_name"], "given": [person["given_name"]]}]
        del patient["gender"], patient["birthDate"]
        patient["address"][0]["city"] = home
        patient["address"][0]["extension"][0]["valueCode"] = comune_code(home)
        encounter = data["entry"][3]["resource"]
        encounter["identifier"][0]["value"] = f"2026-IS-{i:06d}"
        admitted = date(2026, 1, 5) + timedelta(days=self.rng.randint(0, 150))
        encounter["period"] = {
            "start": admitted.isoformat(),
            "end": (admitted + timedelta(days=self.rng.randint(4, 20))).isoformat(),
        }
        disposition = self.rng.choices(["home", "snf", "rehab"], [70, 20, 10])[0]
        encounter["hospitalization"]["dischargeDisposition"]["coding"][0]["code"] = disposition
        r = await self.call(
            "asst",
            "POST",
            "/v1/discharges",
            content=json.dumps(data).encode(),
            headers={"Content-Type": "application/fhir+json"},
        )
        if r.status_code != 202:
            self.tally.skipped.append(f"discharge {i}: {r.status_code}")
            return None
        self.tally.discharges += 1
        case_id = await self.processed(r.headers["location"])
        if case_id is None:
            return None
        case = await self.call("sw", "GET", f"/v1/cases/{case_id}")
        return dict(case.json())

    async def processed(self, location: str, timeout: float = 60.0) -> str | None:
        """The case of an accepted discharge, once the processor has applied it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            d = (await self.call("asst", "GET", location)).json()
            if d["status"] != "accepted":
                return str(d["case_id"]) if d["case_id"] else None
            await asyncio.sleep(0.05)
        self.tally.skipped.append(f"discharge {location}: not processed in {timeout:.0f} s")
        return None

    async def move(self, case: dict[str, Any], to: str, reason: str | None = None) -> bool:
        cid = case["id"]
        etag = (await self.call("sw", "GET", f"/v1/cases/{cid}")).headers.get("etag", "*")
        r = await self.call(
            "sw",
            "POST",
            f"/v1/cases/{cid}/transitions",
            json={"to_status": to, "reason": reason},
            headers={"If-Match": etag},
        )
        return r.status_code == 200

    async def path(self, case: dict[str, Any]) -> None:
        """Moves a case as far as the dice say along the PUA path."""
        rng, cid = self.rng, case["id"]
        if rng.random() < 0.12:
            return  # still waiting at the front office
        elderly = rng.random() < 0.7
        values = [rng.choices([0, 1, 2], [3, 4, 3] if elderly else [6, 3, 1])[0] for _ in ITEMS]
        etag = (await self.call("sw", "GET", f"/v1/cases/{cid}")).headers.get("etag", "*")
        r = await self.call(
            "sw",
            "POST",
            f"/v1/cases/{cid}/triage",
            json={"answers": [{"item": k, "value": v} for k, v in zip(ITEMS, values, strict=True)]},
            headers={"If-Match": etag},
        )
        if r.status_code != 201:
            return
        self.tally.triaged += 1
        if r.json()["outcome"] == "simple":
            if rng.random() < 0.3:
                self.tally.closed += await self.move(
                    case, "closed_with_orientation", "Orientamento ai servizi del territorio"
                )
            else:
                await self.move(case, "simple_service_activated", "Attivazione SAD")
            return
        await self.evaluate(cid)

    async def evaluate(self, cid: str) -> None:
        rng = self.rng
        when = f"2026-{rng.randint(1, 5):02d}-{rng.randint(1, 28):02d}T10:00:00+01:00"
        r = await self.call(
            "uvm",
            "POST",
            f"/v1/cases/{cid}/evaluations",
            json={
                "kind": "multidimensional",
                "scheduled_for": when,
                "place": "Casa di Comunità di Iseo",
            },
        )
        if r.status_code != 201 or rng.random() < 0.15:
            return
        team = [
            {"profession": "medico", "employer": "asst"},
            {"profession": "infermiere", "employer": "asst"},
        ]
        if rng.random() < 0.7:  # the LEPS target: an Ambito social worker at every EVM
            team.append(
                {"profession": "assistente_sociale", "employer": rng.choice(["comune", "ambito"])}
            )
        level = rng.choice(["moderato", "grave", "lieve"])
        body = {
            "evaluated_at": when,
            "team": team,
            "instruments": [
                {"instrument": "ADL", "score": rng.randint(0, 6)},
                {"instrument": "IADL", "score": rng.randint(0, 8)},
                {"instrument": "BARTHEL", "score": rng.randint(10, 95)},
            ],
            "dimensions": {
                d: {"level": level}
                for d in ("clinical", "psychological", "cognitive", "social", "functional")
            },
            "outcome": "Bisogno complesso: progetto individualizzato",
            "non_self_sufficiency_level": rng.choice(["lieve", "moderata", "grave"]),
        }
        r = await self.call(
            "uvm", "PUT", r.headers["location"], json=body, headers={"If-Match": r.headers["etag"]}
        )
        if r.status_code != 200:
            return
        self.tally.evaluations += 1
        if rng.random() < 0.1:
            return
        kinds = rng.sample(list(PROVIDERS), k=rng.randint(1, 3))
        start = date(2026, 2, 1) + timedelta(days=rng.randint(0, 120))
        pai = {
            "goals": ["Permanenza al domicilio in sicurezza", "Sostegno al caregiver"],
            "interventions": [
                {
                    "type": k,
                    "provider": PROVIDERS[k][0],
                    "frequency": "settimanale",
                    "start_date": start.isoformat(),
                    "funding_source": PROVIDERS[k][1],
                }
                for k in kinds
            ],
            "review_date": (start + timedelta(days=180)).isoformat(),
        }
        r = await self.call("uvm", "POST", f"/v1/cases/{cid}/pai", json=pai)
        if r.status_code != 201:
            return
        r = await self.call(
            "uvm",
            "POST",
            f"{r.headers['location']}/approval",
            headers={"If-Match": r.headers["etag"]},
        )
        self.tally.pai += r.status_code == 200

    async def run(self, count: int) -> Tally:
        existing = await self.call("sw", "GET", "/v1/cases", params={"limit": 1})
        if existing.status_code == 200 and existing.json()["total"] >= count:
            self.tally.skipped.append("demo cases already loaded")
            return self.tally
        for i in range(count):
            case = await (self.discharge(i) if self.rng.random() < 0.15 else self.intake(i))
            if case is not None and case["status"] == "received":
                await self.path(case)
        return self.tally


def demo_tokens(common: CommonSettings) -> dict[str, str]:
    """One token per actor: a PUA operator, a social worker, a UVM member, the ASST system."""

    def token(sub: str, role: str) -> str:
        return mint_token(common, sub=sub, roles=[role], ambiti=[SEBINO], ttl_seconds=3600)

    return {
        "pua": token("demo-pua-iseo", "pua_operator"),
        "sw": token("demo-as-sebino", "social_worker"),
        "uvm": token("demo-uvm-franciacorta", "uvm_member"),
        "asst": token("demo-cot-franciacorta", "asst_system"),
    }


async def load_async(
    clients: ClientFactory, tokens: dict[str, str], *, count: int = 300, seed: int = 2025
) -> Tally:
    return await Demo(clients, tokens, seed).run(count)


def load(
    base_url: str, common: CommonSettings | None = None, *, count: int = 300, seed: int = 2025
) -> Tally:
    """What ``make run`` can call: demo casework on the running casework API (dev tokens).

    POST /v1/discharges is a ModI endpoint: with ModI on (``PDZ_MODI_ENABLED`` not false) the
    dev tokens are refused there and the demo discharges are skipped (listed in the tally).
    """
    tokens = demo_tokens(common or common_settings())

    def clients(token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    return asyncio.run(load_async(clients, tokens, count=count, seed=seed))


def main() -> None:
    """``python -m pdz_casework.demo --base-url http://127.0.0.1:8003 [--count 300]``."""
    import argparse

    parser = argparse.ArgumentParser(description="Demo Sebino caseload through the casework API")
    parser.add_argument("--base-url", default="http://127.0.0.1:8003")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    tally = load(args.base_url, count=args.count, seed=args.seed)
    print(f"[pdz dev] demo: casework {tally}", flush=True)


if __name__ == "__main__":
    main()
