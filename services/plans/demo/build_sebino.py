"""Builds sebino-2025-2027.yaml (the demo plan) from the handout's research note.

Source: ../shared/domain/notes/sebino-ambito5-pdz-2025-2027.md, a structured extraction of the
Piano di Zona 2025-2027 of the Ambito n. 5 Sebino (its YAML blocks of schede and its tables).
The generated file is committed; run this only to regenerate it:

    uv run python services/plans/demo/build_sebino.py \\
        ../shared/domain/notes/sebino-ambito5-pdz-2025-2027.md

Targets are typed from the wording of the document, which each target keeps verbatim in
``text``. Nothing is corrected: the document's own inconsistencies stay and the importer reports
them as warnings.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

AMBITO = "AMBITO-05-SEBINO"
HERE = Path(__file__).parent


def slug(name: str) -> str:
    return "COMUNE-" + "".join(c if c.isalnum() else "-" for c in name.upper()).strip("-")


# Population 01/01/2024 ("POPOLAZIONE STRANIERE RESIDENTE AL 01/01/2024"), as written.
POPULATION = [
    # comune, M, F, Tot, foreign M, foreign F, foreign Tot, % foreign, 0-14, 15-64, 65+
    ("Iseo", 4312, 4680, 8992, 320, 399, 719, "8%", 1059, 5542, 2391),
    ("Corte Franca", 3603, 3570, 7173, 212, 230, 442, "6,16%", 947, 4665, 1561),
    ("Marone", 1499, 1613, 3112, 98, 96, 194, "6,23%", 399, 1947, 766),
    ("Monte Isola", 808, 813, 1621, 7, 19, 26, "1,60%", 151, 1006, 473),
    ("Monticelli Brusati", 2319, 2279, 4598, 54, 93, 147, "3,20%", 619, 3029, 950),
    ("Paderno Franciacorta", 1807, 1833, 3640, 141, 136, 277, "7,61%", 478, 2395, 767),
    ("Paratico", 2484, 2476, 4960, 163, 195, 358, "7,22%", 677, 3373, 910),
    ("Passirano", 3372, 3518, 6890, 184, 207, 391, "5,67%", 841, 4499, 1550),
    ("Provaglio d'Iseo", 3514, 3625, 7139, 231, 272, 503, "7,05%", 972, 4666, 1501),
    ("Sale Marasino", 1596, 1664, 3260, 83, 110, 193, "5,92%", 362, 1995, 903),
    ("Sulzano", 976, 964, 1940, 58, 74, 132, "6,80%", 254, 1265, 421),
    ("Zone", 519, 502, 1021, "49,78", "50,22", 100, "11,96%", 88, 622, 311),
]
TOTALS = ("Totali", 26809, 27537, 54346, "1600,78", "1881,22", 3482, "6,42%", 6847, 35004, 12504)

MACROAREE = {
    "Contrasto alla povertà e all'emarginazione sociale e promozione dell'inclusione attiva": "A",
    "Area povertà e coesione sociale": "A",
    "Politiche abitative": "B",
    "Area politiche abitative": "B",
    "Domiciliarità": "D",
    "Anziani": "E",
    "Digitalizzazione dei servizi": "F",
    "Politiche giovanili e per i minori": "G",
    "Interventi connessi alle politiche per il lavoro": "H",
    "Area politiche sociali per il lavoro": "H",
    "Interventi per la famiglia": "I",
    "Interventi a favore di persone con disabilità": "J",
    "Area disabilità": "J",
    "Interventi di sistema per il potenziamento dell'Ufficio di Piano e il rafforzamento della "
    "gestione associata": "K",
}
LEPS = {
    "LEPS-1": "VALUTAZIONE-MULTIDIMENSIONALE",
    "LEPS-2": "PREVENZIONE-ALLONTANAMENTO",
    "LEPS-3": "DIMISSIONI-PROTETTE",
    "LEPS-4": "PUA-UVM",
    "LEPS-5": "INCREMENTO-SAD",
}
# Which year each stage of the two-stage milestones falls in, as the note reads the layout.
MILESTONE_YEARS = {"LEPS-2": (2025, 2026), "LEPS-3": (2026, 2027), "LEPS-4": (2025, 2026)}
_CMP = {"≥": ">=", ">=": ">=", "≤": "<=", "<=": "<=", ">": ">", "<": "<", "=": "="}


def step(year: int, text: Any) -> dict[str, Any]:
    s = str(text).strip()
    if s.startswith("—") or s == "-":
        return {"year": year, "relative_to": "none", "text": s}
    m = re.fullmatch(r"(≥|>=|≤|<=|>|<|=)?\s*(\d+(?:[.,]\d+)?)\s*%", s)
    if m:
        return {
            "year": year,
            "comparator": _CMP[m.group(1) or "="],
            "value": float(m.group(2).replace(",", ".")),
            "text": s,
        }
    m = re.search(r"dal\s+(\d+)\s*%\s+al\s+(\d+)\s*%", s)
    if m:
        return {
            "year": year,
            "min_value": float(m.group(1)),
            "max_value": float(m.group(2)),
            "text": s,
        }
    m = re.search(r"(\d{4})\s*(>|<)\s*.*?(\d{4})\s*$", s) or re.search(
        r"anno\s+(\d{4})\s*(>|<).*anno\s+(\d{4})", s
    )
    if m and int(m.group(3)) == year - 1:
        return {"year": year, "relative_to": "previous_year", "comparator": m.group(2), "text": s}
    m = re.search(r"(≥|>=|≤|<=)\s*(\d+)\s*$", s)
    if m:
        return {
            "year": year,
            "comparator": _CMP[m.group(1)],
            "value": float(m.group(2)),
            "text": s,
        }
    raise ValueError(f"target not understood: {s!r}")


def target_of(oid: str, ind: dict[str, Any]) -> dict[str, Any] | None:
    targets = ind.get("targets")
    direction = "decrease" if "Riduzione" in ind["name"] else "increase"
    if isinstance(targets, dict) and "stage_1" in targets:
        y1, y2 = MILESTONE_YEARS[oid]
        return {
            "kind": "milestone",
            "description": ind["name"],
            "stages": [
                {"label": targets["stage_1"], "year": y1},
                {"label": targets["stage_2"], "year": y2},
            ],
            "text": ind.get("note"),
        }
    if isinstance(targets, dict):
        return {
            "kind": "yearly_series",
            "direction": direction,
            "steps": [step(int(y), t) for y, t in sorted(targets.items())],
        }
    return None


SPECIAL: dict[tuple[str, int], dict[str, Any]] = {
    ("SD-LAV-1", 0): {
        "kind": "floor_per_subterritory",
        "level": "ambito",
        "comparator": ">=",
        "value": 3,
        "due_date": "2027-12-31",
        "text": "almeno 3 esperienze di attivazione … in ognuno degli Ambiti Territoriali",
    },
    ("SD-LAV-1", 1): {
        "kind": "threshold",
        "comparator": ">=",
        "value": 200000,
        "due_date": "2027-12-31",
        "text": "200 mila euro nel triennio",
    },
    ("SD-LAV-1", 2): {
        "kind": "threshold",
        "comparator": ">=",
        "value": 70,
        "text": "numero medio di 70 giovani beneficiari per ogni anno, su tutto il territorio "
        "provinciale",
    },
    ("SD-LAV-2", 0): {
        "kind": "milestone",
        "description": "Presente una piattaforma collaborativa per lo scambio di conoscenza, "
        "progetti e servizi nel campo dell'inclusione lavorativa.",
        "due_date": "2027-12-31",
    },
    ("SD-LAV-3", 0): {
        "kind": "threshold",
        "comparator": ">=",
        "value": 50,
        "due_date": "2027-12-31",
        "text": "Realizzati interventi informativi e formativi in almeno il 50% degli istituti "
        "secondari superiori.",
    },
    ("SEB-MIN", 0): {
        "kind": "trend",
        "reference": "baseline",
        "direction": "decrease",
        "text": "Riduzione dei casi di tutela minori (baseline NOT IN DOCUMENT)",
    },
}
# Formulas in the indicators service's expression language for the LEPS indicators it can
# compute from casework facts and reported values (as published by the indicators service in
# pdz_indicators.expressions.library; copied as text, services share no code).
FORMULAS = {
    "LEPS-1.I1": 'reported("incontri_formativi_svolti") / reported("incontri_formativi_previsti")'
    " * 100",
    "LEPS-2.I2": "count(pai.approved) / count(evm.completed) * 100",
    "LEPS-3.I3": "avg_days(discharge.received -> transition.completed "
    'where destination = "domicilio")',
    "LEPS-3.I4": "avg_days(discharge.received -> transition.completed "
    'where destination = "struttura_residenziale")',
    "LEPS-3.I6": 'count(discharge.received where channel = "api" or channel = "kafka")',
    "LEPS-4.I2": "count(evm.completed where team.has_ambito_social_worker) "
    "/ count(evm.completed) * 100",
    "LEPS-4.I4": 'count(evm.completed where kind = "multidimensional")',
    "LEPS-5.I2": 'count(transition.completed where destination = "domicilio") '
    "/ count(discharge.received) * 100",
}
KINDS = {"process": "process", "output": "output", "outcome": "outcome", "esito": "outcome"}


def kind_of(raw: Any) -> str | None:
    if not raw:
        return None
    text = str(raw).lower()
    for key, value in KINDS.items():
        if key in text:
            return value
    return None


def text_of(value: Any) -> Any:
    if isinstance(value, dict):
        return [f"{k}: {v}" for k, v in value.items()]
    if isinstance(value, list):
        return [text_of(v) if not isinstance(v, (dict, list)) else str(v) for v in value]
    return value if value is None or isinstance(value, str) else str(value)


MAIN = {"id", "title", "section", "obiettivi", "razionale", "target", "azioni", "indicators"}


def objective(o: dict[str, Any], family: str) -> dict[str, Any]:
    oid = o["id"]
    classes: list[dict[str, str]] = []
    areas = o.get("macro_area") or o.get("policy") or []
    for area in [areas] if isinstance(areas, str) else areas:
        if area in MACROAREE:
            classes.append({"scheme": "macroarea-2025", "code": MACROAREE[area]})
    if oid in LEPS:
        classes.append({"scheme": "leps", "code": LEPS[oid]})
    if family == "ppt":
        classes.append({"scheme": "ppt-franciacorta", "code": oid.split("-")[1]})
        for scheme, key, all_codes in (
            ("ppt-linea", "area_DGR2089", ["1", "2", "3", "4", "5", "6"]),
            ("ppt-azione", "azione_DGR2089", ["A", "B", "C", "D", "E", "F"]),
        ):
            value = o.get(key)
            codes = all_codes if value == "tutte" else [str(v) for v in value or []]
            classes += [{"scheme": scheme, "code": c} for c in codes]
    description = o.get("obiettivi") or o.get("obiettivi_di_sistema")
    actions = o.get("azioni") or []
    indicators = []
    for i, ind in enumerate(o.get("indicators") or []):
        rec: dict[str, Any] = {"code": f"{oid}.I{i + 1}", "name": ind["name"]}
        if (k := kind_of(ind.get("kind"))) is not None:
            rec["kind"] = k
        if "%" in str(ind.get("type", "")) or "ratio" in str(ind.get("type", "")):
            rec["unit"] = "%"
        elif ind.get("unit"):
            rec["unit"] = ind["unit"]
        notes = [f"{k}: {v}" for k, v in ind.items() if k not in ("name", "targets", "target")]
        if notes:
            rec["notes"] = "\n".join(notes)
        if rec["code"] in FORMULAS:
            rec["formula"] = FORMULAS[rec["code"]]
            rec["data_source"] = "casework (eventi) e valori dichiarati, servizio indicators"
        if rec["code"] in ("LEPS-3.I3", "LEPS-3.I4"):
            rec["unit"] = "giorni"
        target = SPECIAL.get((oid, i)) or target_of(oid, ind)
        if target is not None:
            rec["target"] = target
        indicators.append(rec)
    answers = {k: text_of(v) for k, v in o.items() if k not in MAIN and v is not None}
    out: dict[str, Any] = {
        "code": oid,
        "title": o.get("title") or "",
        "section": o.get("section")
        or {"leps": "LEPS prioritari", "sd": "Obiettivi sovra-distrettuali ATS Brescia"}.get(
            family, "Piano del Polo territoriale ASST Franciacorta"
        ),
        "scope": {"leps": "regionale", "sd": "sovra_ambito", "ppt": "polo_territoriale"}.get(
            family, "ambito"
        ),
        "status": "active",
        "classifications": classes,
        "actions": [{"title": a} for a in actions] if isinstance(actions, list) else [],
        "answers": answers,
        "indicators": indicators,
    }
    if family == "ppt":
        # The ASST Franciacorta PPT covers Ambiti 5 Sebino, 6 Monte Orfano, 7 Oglio Ovest and
        # 8 Bassa Bresciana Occidentale.
        out["responsible_body"] = "ASST Franciacorta (Piano di Sviluppo del Polo Territoriale)"
        out["shared_with_ambiti"] = [
            AMBITO,
            "AMBITO-06-MONTE-ORFANO",
            "AMBITO-07-OGLIO-OVEST",
            "AMBITO-08-BASSA-BRESCIANA-OCCIDENTALE",
        ]
    elif family == "sd":
        out["responsible_body"] = "Coordinamento provinciale degli Uffici di Piano (ATS Brescia)"
    if isinstance(description, (list, dict)):
        out["description"] = "\n".join(text_of(description))
    elif description:
        out["description"] = description
    if o.get("razionale"):
        out["rationale"] = (
            "\n".join(text_of(o["razionale"]))
            if isinstance(o["razionale"], list)
            else o["razionale"]
        )
    if o.get("target"):
        t = o["target"]
        out["target_population"] = "\n".join(text_of(t)) if isinstance(t, list) else str(t)
    if isinstance(actions, str):
        out["actions"] = [{"title": actions}]
    return out


def build(note: str) -> dict[str, Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", note, re.S)
    families = ["leps", "sd", "ppt", "ambito"]
    objectives = [
        objective(o, fam)
        for fam, b in zip(families, blocks, strict=True)
        for o in yaml.safe_load(b)
    ]
    comuni = [p[0] for p in POPULATION]
    population = []
    for row in [*POPULATION, TOTALS]:
        name, m, f, tot, fm, ff, ft, pct, a, b, c = row
        population.append(
            {
                "territory": AMBITO if name == "Totali" else name,
                "year": 2024,
                "reference_date": "2024-01-01",
                "total": tot,
                "male": m,
                "female": f,
                "foreign_total": ft,
                "foreign_male": fm,
                "foreign_female": ff,
                "foreign_pct": pct,
                "age_bands": {"0-14": a, "15-64": b, "65+": c},
                "source": "PdZ Sebino 2025-2027, popolazione residente al 01/01/2024",
            }
        )
    return {
        "format": "pdz-plan/1",
        "territories": [
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
                "code": AMBITO,
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
            *[
                {
                    "code": slug(n),
                    "name": n,
                    "kind": "comune",
                    "ambito_code": AMBITO,
                    "parent_codes": [AMBITO],
                }
                for n in comuni
            ],
        ],
        "population": population,
        "plan": {
            "code": "PDZ-AMBITO-05-SEBINO-2025-2027",
            "title": "Piano di Zona 2025-2027 - Ambito n. 5 Sebino",
            "ambito_code": AMBITO,
            "cycle_start_year": 2025,
            "cycle_end_year": 2027,
            "valid_from": "2025-01-01",
            "valid_to": "2027-12-31",
            "status": "in_force",
            "approval_body": "Assemblea dei Sindaci dell'Ambito distrettuale",
            "capofila_code": slug("Iseo"),
            "capofila_name": "Comune di Iseo (anche con riferimento ai servizi abitativi, in "
            "applicazione della L.R. 16/2016)",
            "legal_basis": "Accordo di Programma ex articolo 18 della legge regionale n. 3/2008, "
            "con le modifiche apportate dalla legge regionale n. 23/2015; durata tre anni in "
            "conformità con la Legge n. 328/2000 e la l.r. n. 3/2008",
            "notes": "Data e numero della deliberazione di approvazione: NOT IN DOCUMENT. "
            "Il piano precedente: 2021-2023 prorogato al 31/12/2024. Nessuna tabella di budget "
            "nel documento (FNPS, FSR, FNA, Fondo Povertà senza importi).",
            "source": "PdZ Ambito n. 5 Sebino 2025-2027 (handout: "
            "domain/plans/sebino-ambito5-pdz-2025-2027.txt)",
            "comuni": comuni,
            "signatories": [
                *[
                    {"name": f"Comune di {n}", "kind": "comune", "territory_code": slug(n)}
                    for n in comuni
                    if n != "Provaglio d'Iseo"
                ],
                {
                    "name": "Comune di Provaglio di Iseo",
                    "kind": "comune",
                    "territory_code": slug("Provaglio d'Iseo"),
                    "note": "scritto 'Provaglio di Iseo' nell'Accordo di Programma",
                },
                {"name": "ATS di Brescia", "kind": "ats", "territory_code": "ATS-BRESCIA"},
                {
                    "name": "ASST Franciacorta",
                    "kind": "asst",
                    "territory_code": "ASST-FRANCIACORTA",
                },
                {
                    "name": "Enti del Terzo Settore",
                    "kind": "terzo_settore",
                    "role": "possono, su richiesta, aderire",
                },
            ],
            "governance_bodies": GOVERNANCE,
        },
        "objectives": objectives,
        "evaluation": [
            {
                "cycle": "2021-2023 (prorogato al 31/12/2024)",
                "title": "Potenziamento della Governance",
                "achievement": "non raggiunto",
                "reproposed": "riproposto in modo trasversale sulle varie macro aree",
                "notes": "Studio di fattibilità per un'Azienda Speciale: l'Assemblea non ha "
                "deliberato né l'Azienda Speciale né l'accorpamento all'Ambito 6 Montorfano",
            },
            {
                "cycle": "2021-2023 (prorogato al 31/12/2024)",
                "title": "Lo sviluppo della domiciliarità",
                "achievement": "in parte raggiunto",
                "notes": "Adesione alla linea del PNRR 1.1.2; prosegue nel 2025-2027",
            },
            {
                "cycle": "2021-2023 (prorogato al 31/12/2024)",
                "title": "Rete territoriale per minori e famiglie",
                "achievement": "in parte raggiunto",
                "notes": "Servizio associato Tutela Minori, progetto affido, PIPPI, coordinatori",
            },
            {
                "cycle": "2021-2023 (prorogato al 31/12/2024)",
                "title": "Rete territoriale dei servizi",
                "area": "disabilità",
                "achievement": "in parte raggiunto",
                "notes": "Leg@minrete (2 anni, con altri cinque partner); non aderito a Provi",
            },
        ],
    }


GOVERNANCE: list[dict[str, Any]] = [
    {
        "code": "ASSEMBLEA",
        "name": "Assemblea dei Sindaci dell'Ambito distrettuale",
        "level": "ambito",
        "role": "luogo 'stabile' della decisionalità politica riferita al Piano di Zona",
        "members": [{"role": "Sindaci dei Comuni sottoscrittori (o loro delegati)", "count": 12}],
        "powers": [
            "approvazione del Piano di Zona e dei suoi eventuali aggiornamenti",
            "approvazione dei piani operativi annuali, degli interventi e dei progetti specifici",
            "verifica annuale dello stato di raggiungimento degli obiettivi del Piano",
            "aggiornamento delle priorità annuali, in coerenza con la programmazione triennale e "
            "con le risorse finanziarie assegnate",
            "approvazione annuale dei piani economici-finanziari di preventivo e dei rendiconti di "
            "consuntivo dell'Ambito Distrettuale",
            "sceglie il Comune capofila e il Responsabile dell'Ufficio di Piano",
        ],
    },
    {
        "code": "CAPOFILA",
        "name": "Comune capofila (Iseo)",
        "level": "ambito",
        "parent_code": "ASSEMBLEA",
        "role": "responsabilità amministrativa relativamente all'adozione degli atti necessari a "
        "garantire la realizzazione del Piano di Zona",
    },
    {
        "code": "UDP",
        "name": "Ufficio di Piano",
        "level": "ambito",
        "parent_code": "CAPOFILA",
        "role": "Struttura tecnico-amministrativa di programmazione zonale, emanazione dell'Ente "
        "Capofila",
        "members": [
            {"role": "Responsabile dell'Ufficio di Piano", "count": 1},
            {"role": "assistenti sociali del territorio (coordinamento di ambito)"},
        ],
        "powers": [
            "la programmazione, pianificazione e valutazione degli interventi",
            "la definizione e la gestione dei piani di lavoro e dei relativi budget",
            "l'amministrazione delle risorse economico-finanziarie complessivamente assegnate",
            "il coordinamento della partecipazione dei soggetti sottoscrittori e aderenti "
            "all'Accordo di Programma",
        ],
    },
    {
        "code": "GRUPPI",
        "name": "Gruppi di lavoro",
        "level": "ambito",
        "parent_code": "UDP",
        "role": "costituiti funzionalmente alle esigenze strategiche, tecniche e amministrative, "
        "coordinati e supportati dall'Ufficio di Piano; aperti al Terzo Settore",
    },
    {
        "code": "COORD-UDP-ATS",
        "name": "Coordinamento provinciale degli Uffici di Piano",
        "level": "ats",
        "members": [{"role": "Responsabili/Coordinatori degli Uffici di Piano", "count": 12}],
        "role": "organo tecnico che opera anche all'interno della Cabina di Regia",
    },
    {
        "code": "GPI",
        "name": "Gruppo Permanente Integrato (G.P.I.) disabilità",
        "level": "ats",
        "members": [
            {"organisation": "ATS", "count": 1},
            {"organisation": "ASST", "count": 3},
            {"organisation": "Ambiti/UdP", "count": 4},
            {"organisation": "ETS", "count": 3},
            {"organisation": "associazioni di persone con disabilità o loro famiglie", "count": 3},
        ],
    },
    {
        "code": "CONF-SINDACI-ASST",
        "name": "Conferenza dei Sindaci di ASST",
        "level": "asst",
        "role": "art. 20 della L.r. 33/2009; Regolamento allegato alla D.G.R. n. XI/6762/2022",
        "powers": [
            "tramite il Consiglio di Rappresentanza dei Sindaci esprime parere obbligatorio sul "
            "Piano di Sviluppo del Polo Territoriale"
        ],
    },
    {
        "code": "COLLEGIO-SINDACI-ATS",
        "name": "Collegio dei Sindaci di ATS Brescia",
        "level": "ats",
        "members": [{"role": "componenti scelti dalle Conferenze dei Sindaci di ASST", "count": 6}],
    },
    {
        "code": "CABINA-REGIA-ATS",
        "name": "Cabina di Regia Integrata di ATS",
        "level": "ats",
        "role": "strumenti di monitoraggio degli interventi e della spesa sociale e sanitaria",
    },
    {
        "code": "CABINA-REGIA-ASST",
        "name": "Cabina di regia di ASST",
        "level": "asst",
        "role": "programmazione, governo, monitoraggio e verifica degli interventi sociosanitari "
        "e sociali erogati; sede del protocollo dimissioni protette",
    },
]


def main() -> None:
    note = Path(sys.argv[1]).read_text(encoding="utf-8")
    out = HERE / "sebino-2025-2027.yaml"
    header = (
        "# Piano di Zona 2025-2027, Ambito n. 5 Sebino: the demo plan in the pdz-plan/1 format.\n"
        "# Generated by build_sebino.py from the handout's structured extraction of the plan;\n"
        "# figures and wording as in the document, its inconsistencies included.\n"
    )
    out.write_text(
        header + yaml.safe_dump(build(note), allow_unicode=True, sort_keys=False, width=100),
        encoding="utf-8",
    )
    print(out)


if __name__ == "__main__":
    main()
