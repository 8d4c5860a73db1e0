"""Builds alto-sebino-2025-2027.yaml from the handout's text of the Alto Sebino Piano di Zona.

Source: ../shared/domain/plans/alto-sebino-pdz-2025-2027.txt (text extracted from the PDF) and
its note ../shared/domain/notes/alto-sebino-pdz-2025-2027.md. The schede obiettivo (§12), the
esiti 2021-2023 (§5) and the Distretto schede (§4) are copied from the text as they are, with
their HTML residues, typos and placeholders, so that the importer reports them:

    uv run python services/plans/demo/build_alto_sebino.py \\
        ../shared/domain/plans/alto-sebino-pdz-2025-2027.txt
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
AMBITO = "AMBITO-ALTO-SEBINO"
COMUNI = [
    "Bossico",
    "Castro",
    "Costa Volpino",
    "Fonteno",
    "Lovere",
    "Pianico",
    "Riva di Solto",
    "Rogno",
    "Solto Collina",
    "Sovere",
]
ESITI_LABELS = {
    "TITOLO OBIETTIVO:": "title",
    "DIMENSIONE": "dimension",
    "GRADO DI RAGGIUNGIMENTO": "achievement",
    "VALUTAZIONE DA PARTE DEGLI UTENTI": "user_evaluation",
    "LIVELLO DI ADEGUATEZZA": "resources_adequacy",
    "LIVELLO DI COINCIDENZA": "spending",
    "CRITICITÀ RILEVATE": "critical_issues",
    "QUESTO OBIETTIVO HA ADEGUATAMENTE": "need_met",
    "L'OBIETTIVO ERA IN CONTINUITÀ": "continuity_previous",
    "L'OBIETTIVO VERRÀ RIPROPOSTO": "reproposed",
}
AREAS_12 = {
    "12.2": ["E", "J"],
    "12.3": ["A", "B", "H"],
}
# §12.1: the 12.4 schede split between G (Comunità Educante) and I (the other three).
AREAS_12_4 = {"Verso una co-costruzione della Comunità Educante": ["G"]}


def slug(name: str) -> str:
    return "COMUNE-" + "".join(c if c.isalnum() else "-" for c in name.upper()).strip("-")


def esiti(lines: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    area = None
    current: dict[str, Any] | None = None
    for line in lines:
        if m := re.match(r"^5\.\d\.?\s+(.*)$", line):
            area = m.group(1).strip()
            continue
        if "\t" not in line:
            continue
        label, _, value = line.partition("\t")
        key = next((k for p, k in ESITI_LABELS.items() if label.startswith(p)), None)
        if key is None:
            continue
        if key == "title":
            current = {"cycle": "2021-2023", "area": area, "title": value.strip()}
            out.append(current)
        elif current is not None:
            current[key] = value.strip()
    return out


def split_items(value: str) -> list[str]:
    text = re.sub(r"<[^>]+>", " ", value)
    items = [i.strip(" ;.") for i in re.split(r"[•▪]|\s-\s", text)]
    return [i for i in items if len(i) > 2]


def indicators_from(
    text: str, marker: str, kind: str, code: str, start: int
) -> list[dict[str, Any]]:
    idx = text.lower().find(marker.lower())
    if idx < 0:
        return []
    items = split_items(text[idx + len(marker) :])
    return [
        {"code": f"{code}.I{start + i}", "name": item, "kind": kind}
        for i, item in enumerate(items[:8])
    ]


def schede(lines: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    section = None
    current: dict[str, Any] | None = None
    last_label = None
    for line in lines:
        if m := re.match(r"^(12\.\d)\.\s", line):
            section = m.group(1)
            continue
        if line.startswith("TITOLO OBIETTIVO\t"):
            current = {"section": section, "answers": {}}
            current["title"] = line.split("\t", 1)[1].strip()
            out.append(current)
            last_label = None
            continue
        if current is None or not line.strip():
            continue
        if "\t" in line and not line.startswith("\t"):
            label, _, value = line.partition("\t")
            label = label.strip()
            current["answers"][label] = value.strip()
            last_label = label
        elif last_label is not None:
            extra = line.strip("\t |-").strip()
            if extra:
                current["answers"][last_label] += " " + extra
    result = []
    for n, s in enumerate(out, start=1):
        code = f"AS-{n:02d}"
        answers = s["answers"]
        obiettivi = answers.pop("QUALI OBIETTIVI VUOLE RAGGIUNGERE", None)
        azioni = answers.pop("AZIONI PROGRAMMATE", "")
        target = answers.pop("TARGET", None)
        risorse = answers.get("RISORSE ECONOMICHE PREVENTIVATE", "")
        process = next((v for k, v in answers.items() if "INDICATORI DI PROCESSO" in k), "")
        results = answers.get("QUALI RISULTATI VUOLE RAGGIUNGERE?", "")
        impact = answers.get("QUALE IMPATTO DOVREBBE AVERE L'INTERVENTO?", "")
        indicators = [
            {"code": f"{code}.P{i}", "name": item, "kind": "process"}
            for i, item in enumerate(split_items(process)[:8], start=1)
            if item.strip().upper() != "NO"
        ]
        indicators += indicators_from(results, "Indicatori di Output:", "output", code, 1)
        indicators += indicators_from(impact, "Indicatori di Outcome:", "outcome", code, 20)
        letters = AREAS_12.get(s["section"]) or AREAS_12_4.get(s["title"], ["I"])
        result.append(
            {
                "code": code,
                "title": s["title"],
                "section": {
                    "12.2": "Domiciliarità \u2013 Anziani \u2013 Non Autosufficienza \u2013 "
                    "Disabilità \u2013 Integrazione sociosanitaria",
                    "12.3": "Contrasto alla povertà \u2013 Politiche Abitative \u2013 "
                    "Interventi connessi alle politiche per il lavoro",
                    "12.4": "Politiche per l'infanzia, giovanili e per i minori \u2013 "
                    "Interventi per la famiglia",
                }[s["section"]],
                "scope": "ambito",
                "status": "active",
                "description": obiettivi,
                "target_population": target,
                "classifications": [{"scheme": "macroarea-2025", "code": c} for c in letters],
                "actions": [{"title": a} for a in split_items(azioni)],
                "resources": [{"fund": f} for f in split_items(risorse)],
                "answers": answers,
                "indicators": indicators,
            }
        )
    return result


DISTRETTO_TITLES = [
    "1. Riduzione dei rischi e prevenzione selettiva",
    "2. Dai PrInS alle équipes di presa in carico integrata della fragilità",
    "3. La promozione della salute territoriale",
    "4. Disturbi della Nutrizione e dell'Alimentazione (DNA)",
    "5. Interventi sociosanitari integrati per la gestione delle separazioni conflittuali",
    "6. L'assistenza educativa scolastica",
]
DISTRETTO_INDICATORS: dict[int, list[dict[str, Any]]] = {
    1: [
        {
            "name": "Presenza di una cabina di regia formalizzata",
            "kind": "output",
            "target": {"kind": "threshold", "comparator": ">=", "value": 1, "text": "n. 1 accordo"},
        },
        {
            "name": "Convocazione periodiche",
            "kind": "process",
            "frequency": "yearly",
            "target": {
                "kind": "threshold",
                "comparator": ">=",
                "value": "x",
                "text": "n. x incontri annui",
            },
        },
    ],
    2: [
        {
            "name": "Accordo di collaborazione",
            "kind": "output",
            "target": {"kind": "threshold", "comparator": ">=", "value": 1, "text": "n. 1 accordo"},
        },
        {
            "name": "Protocollo di collaborazione",
            "kind": "output",
            "target": {
                "kind": "threshold",
                "comparator": ">=",
                "value": 1,
                "text": "n. 1 protocollo, n enti afferenti",
            },
        },
        {
            "name": "Equipe di presa in carico integrata",
            "kind": "output",
            "target": {"kind": "threshold", "comparator": ">=", "value": 7, "text": "n. 7 Equipe"},
        },
    ],
    3: [
        {
            "name": "Verifica e Valutazione",
            "kind": "process",
            "target": {
                "kind": "milestone",
                "description": "Verifica e Valutazione",
                "due_date": "2026-03-31",
                "text": "Verifica e Valutazione Marzo 2026",
            },
        },
    ],
    4: [
        {
            "name": "n° dei nuovi pazienti intercettati mediante gli ambulatori di nuova "
            "attivazione/anno",
            "kind": "output",
            "unit": "n.",
        },
        {
            "name": "n° delle prestazioni effettuate nelle sedi di nuova attivazione/anno",
            "kind": "output",
            "unit": "n.",
        },
        {
            "name": "Attivazione ambulatori e PDTA",
            "kind": "output",
            "target": {
                "kind": "milestone",
                "description": "Nuove sedi DNA (Seriate, Calcinato, Lovere)",
                "stages": [
                    {"label": "attivazione nuove attività ambulatoriali", "due_date": "2026-12-31"},
                    {"label": "redazione PDTA condivisi con MAP e PLS", "due_date": "2027-12-31"},
                ],
            },
        },
    ],
    5: [
        {
            "name": "n° di invii da parte dell'Autorità Giudiziaria riguardanti tematiche "
            "separative "
            "in rapporto agli invii totali",
            "kind": "output",
            "unit": "%",
        },
        {
            "name": "Osservatorio sulle separazioni",
            "kind": "output",
            "target": {
                "kind": "milestone",
                "description": "Sistema condiviso di raccolta dati",
                "stages": [
                    {"label": "sistema di raccolta dati attivo", "due_date": "2025-12-31"},
                    {"label": "Primo report dell'osservatorio", "due_date": "2026-12-31"},
                    {"label": "secondo report", "due_date": "2027-12-31"},
                ],
            },
        },
    ],
    6: [
        {
            "name": "Equipe per alunno con disabilità in carico al Sistema sociale",
            "kind": "output",
            "target": {
                "kind": "threshold",
                "comparator": ">=",
                "value": 1,
                "text": "almeno un'equipe per ogni alunno disabili in carico al Sistema sociale",
            },
        },
    ],
}


def distretto(lines: list[str]) -> list[dict[str, Any]]:
    starts = []
    for title in DISTRETTO_TITLES:
        starts.append(next(i for i, line in enumerate(lines) if line.strip() == title))
    starts.append(next(i for i, line in enumerate(lines) if line.startswith("5. Esiti della")))
    out = []
    for n, title in enumerate(DISTRETTO_TITLES, start=1):
        block = "\n".join(lines[starts[n - 1] + 1 : starts[n]]).strip()
        code = f"DIST-BGEST-{n}"
        out.append(
            {
                "code": code,
                "title": title.split(". ", 1)[1],
                "section": "Schede Obiettivo: Integrazione Sociosanitaria (Distretto Bergamo Est) "
                "per la programmazione 2025-2027 PPT",
                "scope": "polo_territoriale",
                "status": "active",
                "start_date": "2025-01-01",
                "end_date": "2027-12-31",
                "description": block,
                "responsible_body": "ASST Bergamo Est",
                "partners": [
                    "7 Ambiti Territoriali Sociali dell'Area Est della provincia di Bergamo"
                ],
                "indicators": [
                    {"code": f"{code}.I{i}", **ind}
                    for i, ind in enumerate(DISTRETTO_INDICATORS.get(n, []), start=1)
                ],
            }
        )
    return out


def build(text: str) -> dict[str, Any]:
    lines = text.splitlines()
    start5 = next(
        i for i, line in enumerate(lines) if line.startswith("5.1. Domiciliarit") and i > 100
    )
    end5 = next(i for i, line in enumerate(lines) if line.startswith("6.") and i > start5)
    start12 = next(i for i, line in enumerate(lines) if line.startswith("12.2. Schede") and i > 100)
    start4 = next(
        i for i, line in enumerate(lines) if line.startswith("4. Schede Obiettivo") and i > 100
    )
    return {
        "format": "pdz-plan/1",
        "territories": [
            {"code": "LOMBARDIA", "name": "Regione Lombardia", "kind": "regione"},
            {
                "code": "ATS-BERGAMO",
                "name": "ATS di Bergamo",
                "kind": "ats",
                "parent_codes": ["LOMBARDIA"],
            },
            {
                "code": "ASST-BERGAMO-EST",
                "name": "ASST Bergamo Est",
                "kind": "asst",
                "parent_codes": ["ATS-BERGAMO"],
            },
            {
                "code": AMBITO,
                "name": "Ambito Territoriale Sociale Alto Sebino",
                "kind": "ambito",
                "parent_codes": ["ASST-BERGAMO-EST"],
            },
            *[
                {
                    "code": slug(n),
                    "name": n,
                    "kind": "comune",
                    "ambito_code": AMBITO,
                    "parent_codes": [AMBITO],
                }
                for n in COMUNI
            ],
        ],
        "population": [
            {
                "territory": AMBITO,
                "year": 2024,
                "total": "29.752",
                "area_km2": "87,1",
                "density": "286,1",
                "source": "§6.1 (testo): 29.752 abitanti nel 2024, 87,1 Km², densità 286,1 ab/km²",
            },
            {
                "territory": AMBITO,
                "year": 2022,
                "reference_date": "31/12/2022",
                "total": "29754",
                "source": "Tabella 3 (Popol al 31/12, anno 2022)",
            },
            {
                "territory": AMBITO,
                "year": 2020,
                "reference_date": "31/12/2020",
                "total": "29.942",
                "source": "Tabella 3 (Popol al 31/12, anno 2020)",
            },
            {
                "territory": AMBITO,
                "year": 2019,
                "reference_date": "31/12/2019",
                "total": "29754",
                "source": "Tab. 4 ('Popol 31/12/2019', in una tabella riferita al 2023)",
            },
        ],
        "plan": {
            "code": "PDZ-ALTO-SEBINO-2025-2027",
            "title": "Piano di Zona 2025-2027 - Ambito Territoriale Sociale Alto Sebino",
            "ambito_code": AMBITO,
            "cycle": "2025-2027",
            "status": "approved",
            "approval_body": "Assemblea dei Sindaci",
            "approved_on": "12/12/2024",
            "approval_act": "Approvato con deliberazione del 12/12/2024 dall'Assemblea dei "
            "Sindaci; Prologo provinciale (Allegato A) approvato il 02 Dicembre 2024; "
            "format regionale DGR 2167/2024",
            "capofila_name": "Comunità Montana dei Laghi Bergamaschi (CMLB)",
            "comuni": COMUNI,
            "signatories": [
                {"name": f"Comune di {n}", "kind": "comune", "territory_code": slug(n)}
                for n in COMUNI
            ]
            + [{"name": "Comunità Montana dei Laghi Bergamaschi", "kind": "ente capofila"}],
            "governance_bodies": [
                {
                    "code": "ASSEMBLEA",
                    "name": "Assemblea dei Sindaci dell'Ambito",
                    "level": "ambito",
                    "role": "funzioni di indirizzo, consultazione e di controllo",
                    "members": [{"role": "Sindaci in carica dei Comuni dell'Ambito", "count": 10}],
                },
                {
                    "code": "CONSIGLIO-ESECUTIVO",
                    "name": "Consiglio Esecutivo dell'assemblea dei sindaci dell'ambito",
                    "level": "ambito",
                    "parent_code": "ASSEMBLEA",
                    "max_members": 4,
                    "members": [
                        {"role": "Presidente", "count": 1},
                        {"role": "Vicepresidente", "count": 1},
                        {"role": "Sindaci (non più di due)", "count": 2},
                    ],
                },
                {
                    "code": "COLLEGIO-VIGILANZA",
                    "name": "Collegio di Vigilanza",
                    "level": "ambito",
                    "parent_code": "ASSEMBLEA",
                    "role": "Vigilanza sull'esecuzione dell'Accordo di Programma "
                    "(art. 34 del D. Lgs. "
                    "267/2000)",
                },
                {
                    "code": "RESP-UDP",
                    "name": "Responsabile dell'Ufficio di Piano",
                    "level": "ambito",
                    "role": "compiti di studio, consulenza e proposta per gli organi di Governo",
                },
                {
                    "code": "UDP",
                    "name": "Ufficio di Piano",
                    "level": "ambito",
                    "valid_from": "2022-01-01",
                    "valid_to": "2026-12-31",
                    "note": "Convenzione per la gestione associata per il periodo 2022/2026",
                    "members": [
                        {"role": "Responsabile dell'Ufficio di Piano", "count": 1},
                        {
                            "role": "Responsabile Area Economico-finanziaria dell'ente capofila",
                            "count": 1,
                        },
                        {"role": "referente comunale con rotazione annuale", "count": 1},
                        {"role": "Presidente dell'Assemblea", "count": 1},
                        {"role": "Assessore dell'ente capofila", "count": 1},
                    ],
                },
                {"code": "TAVOLO-TECNICO", "name": "Tavolo Tecnico", "level": "ambito"},
                {"code": "TAVOLI-TEMATICI", "name": "Tavoli Tematici", "level": "ambito"},
                {
                    "code": "COORD-UDP",
                    "name": "Coordinamento dei 14 Uffici di Piano",
                    "level": "ats",
                    "members": [{"role": "Uffici di Piano", "count": 14}],
                },
                {
                    "code": "CABINA-ASST",
                    "name": "Cabina di Regia integrata di ASST",
                    "level": "asst",
                },
            ],
            "declared_totals": [
                {
                    "label": "Spesa sociale 2023 (§6.2)",
                    "year": 2023,
                    "measure": "spent",
                    "amount": "3.602.477,03",
                },
            ],
            "notes": "Nel testo: l'84% dei finanziamenti (2.782.685,65) dai comuni; in tabella "
            "77,24% (2.782.685,65/3.602.477,03). Utenza 10,7% nel testo, 10,76% in tabella.",
            "source": "PdZ Alto Sebino 2025-2027 (handout: domain/plans/"
            "alto-sebino-pdz-2025-2027.txt)",
        },
        "objectives": schede(lines[start12:]) + distretto(lines[start4:]),
        "budget": [
            {"fund": "Comuni", "year": 2023, "spent": "2.782.685,65", "note": "77,24%"},
            {"fund": "Utenza", "year": 2023, "spent": "10,76%"},
            {"fund": "Altri enti pubblici", "year": 2023, "spent": "5,45%"},
            {"fund": "Altre entrate", "year": 2023, "spent": "3,85%"},
            {"fund": "FSR", "year": 2023, "spent": "2,70%"},
            {"fund": "FNPS", "year": 2023, "spent": "0,0%"},
            {"fund": "FNA", "year": 2023, "spent": "0,0%"},
        ],
        "evaluation": esiti(lines[start5:end5]),
    }


def main() -> None:
    text = Path(sys.argv[1]).read_text(encoding="utf-8")
    out = HERE / "alto-sebino-2025-2027.yaml"
    header = (
        "# Piano di Zona 2025-2027, Ambito Alto Sebino, in the pdz-plan/1 format.\n"
        "# Generated by build_alto_sebino.py from the handout's text of the plan, as written.\n"
    )
    out.write_text(
        header + yaml.safe_dump(build(text), allow_unicode=True, sort_keys=False, width=100),
        encoding="utf-8",
    )
    print(out)


if __name__ == "__main__":
    main()
