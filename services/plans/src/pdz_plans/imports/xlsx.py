"""The XLSX template: one sheet per concept, the same content as the JSON/YAML format.

Lists inside a cell are one item per line; nested structures (targets, answers, governance
members) are JSON in their cell. Every record read from a sheet remembers its cell addresses,
so warnings point at "Obiettivi!C5".
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from pdz_plans.imports.normalize import FORMAT, Unusable
from pdz_shared.http import loads_untrusted
from pdz_shared.spreadsheets import inert_formulas

PLAN_FIELDS = [
    "code",
    "title",
    "ambito_code",
    "cycle_start_year",
    "cycle_end_year",
    "valid_from",
    "valid_to",
    "extension_note",
    "status",
    "approval_body",
    "approved_on",
    "approval_act",
    "capofila_code",
    "capofila_name",
    "legal_basis",
    "notes",
    "source",
]
SHEETS: dict[str, list[str]] = {
    "Territori": [
        "code",
        "name",
        "kind",
        "parent_codes",
        "ambito_code",
        "istat_code",
        "valid_from",
        "valid_to",
    ],
    "Popolazione": [
        "territory",
        "year",
        "reference_date",
        "total",
        "male",
        "female",
        "foreign_total",
        "foreign_male",
        "foreign_female",
        "foreign_pct",
        "age_bands",
        "area_km2",
        "density",
        "source",
    ],
    "Comuni": ["comune"],
    "Firmatari": ["name", "kind", "territory_code", "role", "note"],
    "Governance": [
        "code",
        "name",
        "level",
        "role",
        "parent_code",
        "max_members",
        "valid_from",
        "valid_to",
        "members",
        "powers",
        "note",
    ],
    "Totali": ["label", "fund", "year", "measure", "amount"],
    "Obiettivi": [
        "code",
        "title",
        "section",
        "description",
        "rationale",
        "scope",
        "shared_with_ambiti",
        "target_population",
        "responsible_body",
        "partners",
        "start_date",
        "end_date",
        "status",
        "classifications",
        "answers",
        "details",
    ],
    "Azioni": [
        "objective_code",
        "code",
        "title",
        "description",
        "owner",
        "start_date",
        "end_date",
        "timeline",
        "status",
    ],
    "Risorse": ["objective_code", "fund", "year", "planned", "committed", "spent", "note"],
    "Indicatori": [
        "objective_code",
        "code",
        "name",
        "kind",
        "unit",
        "data_source",
        "frequency",
        "formula",
        "target",
        "notes",
    ],
    "Esiti": [
        "cycle",
        "code",
        "title",
        "area",
        "dimension",
        "achievement",
        "spending",
        "user_evaluation",
        "resources_adequacy",
        "critical_issues",
        "need_met",
        "continuity_previous",
        "reproposed",
        "notes",
        "answers",
    ],
}
JSON_CELLS = {"age_bands", "members", "answers", "details", "target"}
LIST_CELLS = {"parent_codes", "shared_with_ambiti", "partners", "powers"}


def _cell(key: str, value: Any) -> Any:
    out = _cell_value(key, value)
    if isinstance(out, str):
        # Control characters (PDF form feeds...) are not allowed in XLSX cells.
        out = ILLEGAL_CHARACTERS_RE.sub(" ", out)
    return out


def _cell_value(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key in JSON_CELLS:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if key == "classifications":
        return "\n".join(f"{c['scheme']}:{c['code']}" for c in value)
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return value


def write(doc: dict[str, Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Piano"
    ws.append(["campo", "valore"])
    ws.append(["format", FORMAT])
    plan = doc["plan"]
    for key in PLAN_FIELDS:
        ws.append([key, _cell(key, plan.get(key))])
    rows: dict[str, list[dict[str, Any]]] = {
        "Territori": doc.get("territories", []),
        "Popolazione": doc.get("population", []),
        "Comuni": [{"comune": c} for c in plan.get("comuni", [])],
        "Firmatari": plan.get("signatories", []),
        "Governance": plan.get("governance_bodies", []),
        "Totali": plan.get("declared_totals", []),
        "Obiettivi": doc.get("objectives", []),
        "Azioni": [
            {"objective_code": o["code"], **a}
            for o in doc.get("objectives", [])
            for a in o.get("actions", [])
        ],
        "Risorse": [
            {"objective_code": o["code"], **r}
            for o in doc.get("objectives", [])
            for r in o.get("resources", [])
        ]
        + doc.get("budget", []),
        "Indicatori": [
            {"objective_code": o["code"], **i}
            for o in doc.get("objectives", [])
            for i in o.get("indicators", [])
        ]
        + doc.get("indicators", []),
        "Esiti": doc.get("evaluation", []),
    }
    for name, columns in SHEETS.items():
        sheet = wb.create_sheet(name)
        sheet.append(columns)
        for rec in rows[name]:
            sheet.append([_cell(c, rec.get(c)) for c in columns])
        for i, _ in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = 24
    inert_formulas(wb.worksheets)  # a title "=..." is exported as text, never as a formula
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _value(key: str, value: Any, where: str, problems: list[dict[str, str]]) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    if value is None or (isinstance(value, str) and not value.strip() and key != "title"):
        return None
    if key in JSON_CELLS and isinstance(value, str):
        try:
            return loads_untrusted(value)
        except ValueError:
            problems.append({"name": where, "reason": f"{key} must be JSON"})
            return None
    if key == "classifications" and isinstance(value, str):
        out = []
        for line in value.splitlines():
            if ":" in line:
                scheme, code = line.split(":", 1)
                out.append({"scheme": scheme.strip(), "code": code.strip()})
            elif line.strip():
                problems.append({"name": where, "reason": "classifications: scheme:code per line"})
        return out
    if key in LIST_CELLS and isinstance(value, str):
        return [v for v in value.splitlines() if v.strip()]
    return value


def read(content: bytes) -> dict[str, Any]:
    try:
        wb = load_workbook(io.BytesIO(content), data_only=True, read_only=True)
    except Exception as exc:  # openpyxl raises many kinds
        raise Unusable([{"name": "$", "reason": f"not a readable XLSX file ({exc})"}]) from exc
    problems: list[dict[str, str]] = []
    if "Piano" not in wb.sheetnames:
        raise Unusable([{"name": "Piano", "reason": "the workbook has no 'Piano' sheet"}])
    plan: dict[str, Any] = {}
    locs: dict[str, str] = {}
    for r, row in enumerate(wb["Piano"].iter_rows(min_row=2, values_only=True), start=2):
        if not row or row[0] is None:
            continue
        key = str(row[0]).strip()
        value = row[1] if len(row) > 1 else None
        if key == "format":
            continue
        plan[key] = _value(key, value, f"Piano!B{r}", problems)
        locs[key] = f"Piano!B{r}"
    plan["__loc__"] = locs
    sheets: dict[str, list[dict[str, Any]]] = {}
    for name, columns in SHEETS.items():
        sheets[name] = []
        if name not in wb.sheetnames:
            continue
        it = wb[name].iter_rows(values_only=True)
        header = next(it, None)
        if header is None:
            continue
        names = [str(h).strip() if h is not None else "" for h in header]
        unknown = [h for h in names if h and h not in columns]
        if unknown:
            problems.append({"name": name, "reason": f"unknown columns {unknown}"})
        for r, row in enumerate(it, start=2):
            if row is None or all(v is None or str(v).strip() == "" for v in row):
                continue
            rec: dict[str, Any] = {}
            cell_locs: dict[str, str] = {}
            for c, key in enumerate(names):
                if not key or c >= len(row):
                    continue
                where = f"{name}!{get_column_letter(c + 1)}{r}"
                rec[key] = _value(key, row[c], where, problems)
                cell_locs[key] = where
            rec["__loc__"] = cell_locs
            sheets[name].append(rec)
    if problems:
        raise Unusable(problems)
    comuni = [r for r in sheets["Comuni"] if r.get("comune") is not None]
    plan["comuni"] = [r["comune"] for r in comuni]
    for i, row_rec in enumerate(comuni):
        locs[f"comuni[{i}]"] = row_rec["__loc__"]["comune"]
    plan["signatories"] = sheets["Firmatari"]
    plan["governance_bodies"] = sheets["Governance"]
    plan["declared_totals"] = sheets["Totali"]
    objectives = []
    by_code: dict[str, dict[str, Any]] = {}
    for rec in sheets["Obiettivi"]:
        rec.setdefault("actions", [])
        rec.setdefault("resources", [])
        rec.setdefault("indicators", [])
        objectives.append(rec)
        if rec.get("code") is not None:
            by_code[str(rec["code"])] = rec
    doc: dict[str, Any] = {
        "format": FORMAT,
        "territories": sheets["Territori"],
        "population": sheets["Popolazione"],
        "plan": plan,
        "objectives": objectives,
        "indicators": [],
        "budget": [],
        "evaluation": sheets["Esiti"],
    }
    for sheet, key, plan_key in (
        ("Azioni", "actions", None),
        ("Risorse", "resources", "budget"),
        ("Indicatori", "indicators", "indicators"),
    ):
        for rec in sheets[sheet]:
            code = rec.pop("objective_code", None)
            if code is None:
                if plan_key is None:
                    problems.append(
                        {"name": rec["__loc__"].get("code", sheet), "reason": "no objective_code"}
                    )
                    continue
                doc[plan_key].append(rec)
            elif str(code) in by_code:
                by_code[str(code)][key].append(rec)
            else:
                problems.append({"name": f"{sheet}", "reason": f"unknown objective_code {code}"})
    if problems:
        raise Unusable(problems)
    return doc
