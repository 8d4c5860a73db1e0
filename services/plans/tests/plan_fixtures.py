"""A small plan in the import format, with the anomalies real Piani di Zona contain."""

from __future__ import annotations

from typing import Any

AMBITO = "AMBITO-T1"
OTHER = "AMBITO-T2"


def small_plan(code: str = "PDZ-T1-2025-2027", ambito: str = AMBITO, **plan: Any) -> dict[str, Any]:
    return {
        "format": "pdz-plan/1",
        "territories": [
            {"code": ambito, "name": "Ambito di prova", "kind": "ambito"},
            {
                "code": f"{ambito}-C1",
                "name": "Provaglio d'Iseo",
                "kind": "comune",
                "ambito_code": ambito,
                "parent_codes": [ambito],
            },
            {
                "code": f"{ambito}-C2",
                "name": "Monte Isola",
                "kind": "comune",
                "ambito_code": ambito,
                "parent_codes": [ambito],
            },
        ],
        "population": [
            {
                "territory": "Provaglio di Iseo",
                "year": 2024,
                "total": 7139,
                "male": 3514,
                "female": 3625,
                "foreign_total": 503,
                "foreign_male": 231,
                "foreign_female": 272,
                "foreign_pct": "7,05",
            },
            {
                "territory": "Monte Isola",
                "year": 2024,
                "total": 1621,
                "male": 808,
                "female": 813,
                "foreign_total": 26,
                "foreign_male": 7,
                "foreign_female": 19,
                "age_bands": {"0-14": 151, "15-64": 1006, "65+": 473},
            },
            {
                "territory": ambito,
                "year": 2024,
                "total": 8760,
                "male": "N.D.",
                "foreign_total": 529,
            },
        ],
        "plan": {
            "code": code,
            "title": "Piano di Zona di prova",
            "ambito_code": ambito,
            "cycle": "2025-2027",
            "status": "draft",
            "approved_on": "31/09/2022",
            "valid_to": "31/12/2027",
            "approval_body": "Assemblea dei Sindaci",
            "comuni": ["Provaglio di Iseo", "Monte Isola", "Monte Isla", "Pisogne"],
            "signatories": [{"name": "Comune di Monte Isola", "kind": "comune"}],
            "governance_bodies": [
                {
                    "name": "Tavolo di Sintesi Territoriale",
                    "max_members": 12,
                    "members": [
                        {"role": "coordinatore", "count": 1},
                        {"role": "tecnici ATSP", "count": 2},
                    ],
                    "powers": ["costituisce e coordina gruppi di lavoro"],
                }
            ],
            "declared_totals": [
                {"label": "Totale FNPS 2025", "fund": "FNPS", "year": 2025, "amount": 1000}
            ],
            **plan,
        },
        "objectives": [
            {
                "code": "OB-1",
                "title": "<p>Rafforzare la tutela minori</p>",
                "scope": "ambito",
                "start_date": "2025-01-01",
                "end_date": "2027-12-31",
                "classifications": [
                    {"scheme": "macroarea-2025", "code": "G"},
                    {"scheme": "leps", "code": "PREVENZIONE-ALLONTANAMENTO"},
                ],
                "actions": [
                    {"title": "Dedicare una figura specializzata", "owner": "Ufficio di Piano"}
                ],
                "resources": [
                    {"fund": "FNPS", "year": 2025, "planned": "600,50", "committed": 500},
                    {"fund": "FNPS", "year": 2025, "planned": "300"},
                    {"fund": "FNA", "year": 2026, "planned": "N.D."},
                ],
                "indicators": [
                    {
                        "code": "OB-1.I1",
                        "name": "Numero progetti individualizzati / numero valutazioni",
                        "kind": "output",
                        "unit": "%",
                        "target": {
                            "kind": "yearly_series",
                            "steps": [
                                {"year": 2025, "comparator": ">=", "value": 40},
                                {"year": 2026, "min_value": 40, "max_value": 60},
                                {"year": 2027, "relative_to": "previous_year", "comparator": ">"},
                            ],
                        },
                    },
                    {"code": "OB-1.I2", "name": "Indicatore senza target", "kind": "processo"},
                ],
            },
            {"code": "OB-2", "title": "", "scope": "sovra_ambito"},
        ],
        "budget": [{"fund": "Comuni", "year": 2025, "planned": "€ 1.234,56"}],
        "evaluation": [
            {
                "cycle": "2021-2023",
                "title": "LA PERSONA AL CENTRO",
                "dimension": "OUTPUT",
                "achievement": "72% - sufficiente",
                "spending": "100%",
                "resources_adequacy": "Adeguito",
                "reproposed": "Solo parzialmente",
            },
            {
                "cycle": "2021-2023",
                "title": "REDDITO DI CITTADINANZA",
                "achievement": "87.5% - Buono",
                "spending": "N.D.",
                "resources_adequacy": "100%",
            },
        ],
    }
