"""Demo data loaded by ``make run`` through the public APIs (idempotent: 409 is fine)."""

from __future__ import annotations

from pathlib import Path

import httpx

SEBINO = "AMBITO-05-SEBINO"
# The Sebino Piano di Zona 2025-2027 in the plans import format (plans, schede, LEPS targets).
SEBINO_PLAN = (
    Path(__file__).resolve().parents[3] / "services" / "plans" / "demo" / ("sebino-2025-2027.yaml")
)
SEBINO_COMUNI = [
    "Corte Franca",
    "Iseo",
    "Marone",
    "Monte Isola",
    "Monticelli Brusati",
    "Paderno Franciacorta",
    "Paratico",
    "Passirano",
    "Provaglio d'Iseo",
    "Sale Marasino",
    "Sulzano",
    "Zone",
]


def _slug(name: str) -> str:
    return "COMUNE-" + "".join(c if c.isalnum() else "-" for c in name.upper()).strip("-")


def territory_units() -> list[dict[str, object]]:
    units: list[dict[str, object]] = [
        {"code": "LOMBARDIA", "name": "Regione Lombardia", "kind": "regione"},
        {
            "code": "ATS-BRESCIA",
            "name": "ATS di Brescia",
            "kind": "ats",
            "parent_codes": ["LOMBARDIA"],
        },
        {
            "code": "ASST-FRANCIACORTA",
            "name": "ASST Franciacorta",
            "kind": "asst",
            "parent_codes": ["ATS-BRESCIA"],
        },
        {
            "code": "DISTRETTO-SEBINO-MONTE-ORFANO",
            "name": "Distretto Sebino-Monte Orfano",
            "kind": "distretto",
            "parent_codes": ["ASST-FRANCIACORTA"],
        },
        {
            "code": SEBINO,
            "name": "Ambito n. 5 - Sebino",
            "kind": "ambito",
            "parent_codes": ["DISTRETTO-SEBINO-MONTE-ORFANO"],
        },
        {
            "code": "AMBITO-06-MONTE-ORFANO",
            "name": "Ambito n. 6 - Monte Orfano",
            "kind": "ambito",
            "parent_codes": ["DISTRETTO-SEBINO-MONTE-ORFANO"],
        },
    ]
    units += [
        {
            "code": _slug(n),
            "name": n,
            "kind": "comune",
            "ambito_code": SEBINO,
            "parent_codes": [SEBINO],
        }
        for n in SEBINO_COMUNI
    ]
    return units


DEMO_RECIPIENTS = [
    # The people of the Sebino demo who receive notifications (casework's demo acts as them).
    {
        "sub": "demo-pua-iseo",
        "email": "pua.iseo@demo.pdz.example.it",
        "roles": ["pua_operator"],
        "language": "it",
    },
    {
        "sub": "demo-as-sebino",
        "email": "assistente.sociale@demo.pdz.example.it",
        "roles": ["social_worker"],
        "language": "it",
    },
    {
        "sub": "demo-udp-sebino",
        "email": "ufficio.piano@demo.pdz.example.it",
        "roles": ["udp_admin", "udp_viewer"],
        "language": "it",
    },
    {
        "sub": "dev-user",
        "email": "dev.user@demo.pdz.example.it",
        "roles": ["pua_operator", "udp_admin"],
        "language": "en",
    },
]


def load(base_urls: dict[str, str], token: str, *, cases: int = 0) -> None:
    """Territory, the Sebino plan, notification recipients and (``cases`` > 0) a caseload."""
    headers = {"Authorization": f"Bearer {token}"}
    if "plans" in base_urls:
        with httpx.Client(base_url=base_urls["plans"], headers=headers, timeout=30) as client:
            created = 0
            for unit in territory_units():
                r = client.post("/v1/territories", json=unit)
                if r.status_code not in (201, 409):
                    raise RuntimeError(f"demo territory {unit['code']}: {r.status_code} {r.text}")
                created += r.status_code == 201
            print(
                f"[pdz dev] demo: {created} territory units created "
                f"({len(territory_units())} in the Sebino demo)",
                flush=True,
            )
            if SEBINO_PLAN.exists():
                r = client.post(
                    "/v1/plan-imports",
                    files={
                        "file": (SEBINO_PLAN.name, SEBINO_PLAN.read_bytes(), "application/yaml")
                    },
                )
                if r.status_code != 200:
                    raise RuntimeError(f"demo plan import: {r.status_code} {r.text}")
                report = r.json()
                counts = {k: v["created"] + v["updated"] for k, v in report["counts"].items()}
                print(
                    f"[pdz dev] demo: Sebino plan {report['plan_code']} imported "
                    f"({counts}, {len(report['warnings'])} warnings on the source's "
                    "inconsistencies)",
                    flush=True,
                )
    if "notifications" in base_urls:
        with httpx.Client(
            base_url=base_urls["notifications"], headers=headers, timeout=30
        ) as client:
            for person in DEMO_RECIPIENTS:
                body = {k: v for k, v in person.items() if k != "sub"}
                r = client.put(f"/v1/recipients/{person['sub']}", json={**body, "ambiti": [SEBINO]})
                if r.status_code not in (200, 201, 428):  # 428: already there
                    raise RuntimeError(f"demo recipient: {r.status_code} {r.text}")
        print(f"[pdz dev] demo: {len(DEMO_RECIPIENTS)} notification recipients", flush=True)
    if cases and "casework" in base_urls:
        import subprocess
        import sys

        subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "pdz_casework.demo",
                "--base-url",
                base_urls["casework"],
                "--count",
                str(cases),
            ],
            check=True,
        )
