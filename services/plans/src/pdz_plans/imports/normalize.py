"""From a parsed import file (a dict) to clean records, with every anomaly as a warning.

Structural problems (no plan, no plan code, a list that is not a list, a record that is not a
mapping, duplicate codes) raise :class:`Unusable`: the import is refused and nothing is written.
Anything else imports, with a warning that says where, what and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from pdz_plans.imports.lenient import Reader, Report, closest, fold
from pdz_shared.contracts import plans as contract

FORMAT = "pdz-plan/1"
_CODE = re.compile(r"^[A-Za-z0-9._-]{1,50}$")
_TARGET: TypeAdapter[Any] = TypeAdapter(contract.Target)
PLAN_STATUSES = ("draft", "approved", "in_force", "closed")
OBJECTIVE_STATUSES = ("planned", "active", "completed", "suspended", "cancelled")
SCOPES = ("ambito", "sovra_ambito", "polo_territoriale", "regionale")
INDICATOR_KINDS = ("input", "process", "output", "outcome")
FREQUENCIES = ("monthly", "quarterly", "half_yearly", "yearly", "once", "unknown")
TERRITORY_KINDS = ("regione", "ats", "asst", "distretto", "ambito", "comune")
_KIND_ALIASES = {"processo": "process", "esito": "outcome", "impatto": "outcome"}


class Unusable(Exception):
    """The file cannot be read as a plan: nothing is written."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(p["reason"] for p in problems))
        self.problems = problems


@dataclass
class Normalized:
    territories: list[dict[str, Any]] = field(default_factory=list)
    population: list[dict[str, Any]] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)
    objectives: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)
    budget: list[dict[str, Any]] = field(default_factory=list)
    evaluation: list[dict[str, Any]] = field(default_factory=list)
    report: Report = field(default_factory=Report)


def _list(doc: dict[str, Any], name: str, where: str, problems: list[dict[str, str]]) -> list[Any]:
    value = doc.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append({"name": f"{where}{name}", "reason": "must be a list"})
        return []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            problems.append({"name": f"{where}{name}[{i}]", "reason": "must be a mapping"})
    return [item for item in value if isinstance(item, dict)]


def _choice(
    r: Reader, name: str, allowed: tuple[str, ...], default: str, aliases: dict[str, str] | None
) -> str:
    value = r.text(name)
    if value is None:
        return default
    key = value.strip().lower().replace(" ", "_").replace("-", "_")
    key = (aliases or {}).get(key, key)
    if key in allowed:
        return key
    r.raw[name] = value
    r.report.warn(
        r.loc(name),
        "unknown-value",
        f"Valore non previsto per {name}: {value!r} (usato {default!r}; testo conservato)",
        f"Unexpected value for {name}: {value!r} (used {default!r}; text kept)",
        value=value,
        suggestion=", ".join(allowed),
    )
    return default


def _code(
    r: Reader, name: str, problems: list[dict[str, str]], *, required: bool = True
) -> str | None:
    value = r.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append({"name": r.loc(name), "reason": "required code is missing"})
        return None
    text = str(value).strip()
    if not _CODE.match(text):
        problems.append(
            {"name": r.loc(name), "reason": f"invalid code {text!r} (letters, digits, . _ -)"}
        )
        return None
    return text


def normalize(doc: Any, known_units: dict[str, dict[str, Any]]) -> Normalized:
    """``known_units``: territory code → {name, kind, ambito_code} already in the database."""
    problems: list[dict[str, str]] = []
    if not isinstance(doc, dict):
        raise Unusable([{"name": "$", "reason": "the file must contain a mapping (an object)"}])
    if doc.get("format") not in (None, FORMAT):
        problems.append({"name": "format", "reason": f"unknown format, expected {FORMAT}"})
    if not isinstance(doc.get("plan"), dict):
        raise Unusable([{"name": "plan", "reason": "the file has no plan section"}])
    out = Normalized()
    report = out.report

    # ------------------------------------------------------------------ territories
    units = dict(known_units)
    for i, t in enumerate(_list(doc, "territories", "", problems)):
        r = Reader(report, t, f"territories[{i}]")
        code = _code(r, "code", problems)
        kind = r.text("kind")
        if kind not in TERRITORY_KINDS:
            problems.append({"name": r.loc("kind"), "reason": f"unknown territory kind {kind!r}"})
            continue
        if code is None:
            continue
        rec: dict[str, Any] = {
            "code": code,
            "name": r.text("name", required=True) or code,
            "kind": kind,
            "parent_codes": [str(p) for p in (t.get("parent_codes") or [])],
            "ambito_code": r.text("ambito_code"),
            "istat_code": r.text("istat_code"),
            "valid_from": r.date("valid_from"),
            "valid_to": r.date("valid_to"),
        }
        out.territories.append(rec)
        units[code] = {"name": rec["name"], "kind": kind, "ambito_code": rec["ambito_code"]}

    comuni_by_name = {fold(u["name"]): c for c, u in units.items() if u["kind"] == "comune"}
    comuni_by_name.update({fold(c): c for c, u in units.items() if u["kind"] == "comune"})
    comune_names = [u["name"] for u in units.values() if u["kind"] == "comune"]

    def resolve_unit(r: Reader, name: str) -> str | None:
        value = r.text(name)
        if value is None:
            return None
        if value in units:
            return value
        if (code := comuni_by_name.get(fold(value))) is not None:
            return code
        by_name = {fold(u["name"]): c for c, u in units.items()}
        if (code := by_name.get(fold(value))) is not None:
            return code
        suggestion = closest(value, comune_names + [u["name"] for u in units.values()])
        r.raw[name] = value
        report.warn(
            r.loc(name),
            "unknown-comune",
            f"Comune o unità sconosciuta: {value!r}"
            + (f" (forse {suggestion!r}?)" if suggestion else ""),
            f"Unknown comune or unit: {value!r}"
            + (f" (did you mean {suggestion!r}?)" if suggestion else ""),
            value=value,
            suggestion=suggestion,
        )
        return None

    # ------------------------------------------------------------------ plan
    p = doc["plan"]
    r = Reader(report, p, "plan")
    code = _code(r, "code", problems)
    ambito = _code(r, "ambito_code", problems)
    start, end = r.year("cycle_start_year"), r.year("cycle_end_year")
    if (start is None or end is None) and isinstance(p.get("cycle"), str):
        m = re.match(r"^\s*(\d{4})\s*[-/\u2013]\s*(\d{4})\s*$", p["cycle"])
        if m:
            start, end = int(m.group(1)), int(m.group(2))
    if start is None or end is None:
        problems.append(
            {"name": "plan.cycle", "reason": "the plan cycle (start/end year) is missing"}
        )
    elif end < start:
        problems.append({"name": "plan.cycle", "reason": "the cycle ends before it starts"})
    comuni: list[str] = []
    plan_locs = p.get("__loc__") if isinstance(p.get("__loc__"), dict) else {}
    for i, name in enumerate(p.get("comuni") or []):
        cell = plan_locs.get(f"comuni[{i}]")
        sub = Reader(
            report,
            {"comune": name, "__loc__": {"comune": cell} if cell else {}},
            f"plan.comuni[{i}]",
        )
        resolved = resolve_unit(sub, "comune")
        if resolved:
            comuni.append(resolved)
        else:
            comuni.append(str(name))
    plan: dict[str, Any] = {
        "code": code,
        "ambito_code": ambito,
        "title": r.text("title", required=True) or (code or ""),
        "cycle_start_year": start,
        "cycle_end_year": end,
        "valid_from": r.date("valid_from"),
        "valid_to": r.date("valid_to"),
        "extension_note": r.text("extension_note", max_length=500),
        "status": _choice(r, "status", PLAN_STATUSES, "draft", None),
        "approval_body": r.text("approval_body", max_length=300),
        "approved_on": r.date("approved_on"),
        "approval_act": r.text("approval_act", max_length=500),
        "capofila_code": r.text("capofila_code", max_length=50),
        "capofila_name": r.text("capofila_name", max_length=300),
        "legal_basis": r.text("legal_basis", max_length=2000),
        "comune_codes": comuni,
        "signatories": [],
        "governance_bodies": [],
        "declared_totals": [],
        "notes": r.text("notes"),
        "source": r.text("source", max_length=500),
    }
    if plan["valid_from"] and plan["valid_to"] and plan["valid_to"] < plan["valid_from"]:
        report.warn(
            "plan.valid_to",
            "date-order",
            "La fine validità precede l'inizio",
            "The end of validity is before its start",
        )
    for i, s in enumerate(_list(p, "signatories", "plan.", problems)):
        sr = Reader(report, s, f"plan.signatories[{i}]")
        plan["signatories"].append(
            _drop_none(
                {
                    "name": sr.text("name", required=True),
                    "kind": sr.text("kind"),
                    "territory_code": sr.text("territory_code"),
                    "role": sr.text("role"),
                    "note": sr.text("note"),
                    "raw": sr.raw or None,
                }
            )
        )
    for i, b in enumerate(_list(p, "governance_bodies", "plan.", problems)):
        br = Reader(report, b, f"plan.governance_bodies[{i}]")
        members = []
        for j, m in enumerate(_list(b, "members", f"plan.governance_bodies[{i}].", problems)):
            mr = Reader(report, m, f"plan.governance_bodies[{i}].members[{j}]")
            members.append(
                _drop_none(
                    {
                        "role": mr.text("role"),
                        "organisation": mr.text("organisation"),
                        "count": mr.integer("count"),
                        "note": mr.text("note"),
                        "raw": mr.raw or None,
                    }
                )
            )
        body: dict[str, Any] = {
            "code": br.text("code"),
            "name": br.text("name", required=True),
            "level": br.text("level"),
            "role": br.text("role"),
            "parent_code": br.text("parent_code"),
            "max_members": br.integer("max_members"),
            "valid_from": br.date("valid_from"),
            "valid_to": br.date("valid_to"),
            "members": members,
            "powers": br.texts("powers"),
            "note": br.text("note"),
            "raw": br.raw or None,
        }
        if body["valid_to"] and end and body["valid_to"].year < end:
            report.warn(
                br.loc("valid_to"),
                "expires-before-plan-end",
                f"{body['name']}: valido fino al {body['valid_to']}, il piano arriva al {end}",
                f"{body['name']}: valid until {body['valid_to']}, the plan runs to {end}",
                value=body["valid_to"],
            )
        declared = body["max_members"]
        counted = [m.get("count") for m in members]
        if declared is not None and counted and all(c is not None for c in counted):
            total = sum(int(c) for c in counted if c is not None)
            if total > declared:
                report.warn(
                    f"plan.governance_bodies[{i}].members",
                    "total-mismatch",
                    f"I membri ({total}) superano il massimo dichiarato ({declared})",
                    f"Members ({total}) exceed the declared maximum ({declared})",
                )
        plan["governance_bodies"].append(_drop_none(body))
    body_codes = {b.get("code") for b in plan["governance_bodies"] if b.get("code")}
    for i, b in enumerate(plan["governance_bodies"]):
        parent = b.get("parent_code")
        if parent and parent not in body_codes:
            report.warn(
                f"plan.governance_bodies[{i}].parent_code",
                "unknown-body",
                f"{b.get('name')}: organismo di riferimento {parent!r} non definito nel piano",
                f"{b.get('name')}: parent body {parent!r} is not defined in the plan",
                value=parent,
            )
    if plan["status"] != "draft" and plan["approved_on"] is None:
        report.warn(
            "plan.approved_on",
            "missing-approval-date",
            "Piano pubblicato senza data di approvazione",
            "Published plan without an approval date",
        )
    for i, d in enumerate(_list(p, "declared_totals", "plan.", problems)):
        dr = Reader(report, d, f"plan.declared_totals[{i}]")
        plan["declared_totals"].append(
            _drop_none(
                {
                    "label": dr.text("label"),
                    "fund": dr.text("fund"),
                    "year": dr.year("year"),
                    "measure": dr.text("measure") or "planned",
                    "amount": dr.number("amount"),
                    "raw": dr.raw or None,
                }
            )
        )
    plan["raw"] = r.raw
    out.plan = plan

    # ------------------------------------------------------------------ population
    for i, row in enumerate(_list(doc, "population", "", problems)):
        pr = Reader(report, row, f"population[{i}]")
        unit = resolve_unit(pr, "territory")
        rec = {
            "territory_code": unit,
            "territory": pr.text("territory"),
            "year": pr.year("year"),
            "reference_date": pr.date("reference_date"),
            "total": pr.integer("total"),
            "male": pr.integer("male"),
            "female": pr.integer("female"),
            "foreign_total": pr.integer("foreign_total"),
            "foreign_male": pr.integer("foreign_male"),
            "foreign_female": pr.integer("foreign_female"),
            "foreign_pct": pr.number("foreign_pct", percent=True),
            "area_km2": pr.number("area_km2"),
            "density": pr.number("density"),
            "age_bands": row.get("age_bands") if isinstance(row.get("age_bands"), dict) else None,
            "source": pr.text("source", max_length=200),
        }
        if rec["year"] is None:
            problems.append({"name": pr.loc("year"), "reason": "population year is missing"})
        _check_population(pr, rec)
        rec["raw"] = pr.raw
        out.population.append(rec)
    _check_population_sums(report, out.population, units)
    _check_repeated_figures(report, out.population)

    # ------------------------------------------------------------------ objectives
    seen: set[str] = set()
    for i, o in enumerate(_list(doc, "objectives", "", problems)):
        out.objectives.append(_objective(report, o, i, problems, plan, resolve_unit))
        oc = out.objectives[-1]["code"]
        if oc in seen:
            problems.append({"name": f"objectives[{i}].code", "reason": f"duplicate code {oc}"})
        seen.add(oc)
    for i, ind in enumerate(_list(doc, "indicators", "", problems)):
        out.indicators.append(_indicator(report, ind, f"indicators[{i}]", problems, plan))
    for i, line in enumerate(_list(doc, "budget", "", problems)):
        out.budget.append(_resource(report, line, f"budget[{i}]"))
    _check_declared_totals(report, out)
    for i, e in enumerate(_list(doc, "evaluation", "", problems)):
        out.evaluation.append(_evaluation(report, e, i))
    if problems:
        raise Unusable(problems)
    return out


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != [] and v != {}}


def _check_population(r: Reader, rec: dict[str, Any]) -> None:
    def check(total_key: str, parts: list[str], what: str) -> None:
        total = rec.get(total_key)
        values = [rec.get(k) for k in parts]
        if total is None or any(v is None for v in values):
            return
        s = sum(int(v) for v in values if v is not None)
        if s != total:
            r.report.warn(
                r.loc(total_key),
                "total-mismatch",
                f"{what}: la somma delle parti ({s}) non coincide con il totale ({total})",
                f"{what}: the parts add up to {s}, not to the total {total}",
                value=total,
            )

    check("total", ["male", "female"], "Maschi + femmine")
    check("foreign_total", ["foreign_male", "foreign_female"], "Stranieri maschi + femmine")
    bands = rec.get("age_bands")
    if bands and rec.get("total") is not None:
        numbers = [v for v in bands.values() if isinstance(v, (int, float))]
        if len(numbers) == len(bands) and int(sum(numbers)) != rec["total"]:
            r.report.warn(
                r.loc("age_bands"),
                "total-mismatch",
                f"Le fasce d'età sommano {int(sum(numbers))}, non {rec['total']}",
                f"The age bands add up to {int(sum(numbers))}, not {rec['total']}",
            )
    area, density, total = rec.get("area_km2"), rec.get("density"), rec.get("total")
    if area and density is not None and total is not None:
        computed_density = round(total / area, 1)
        if abs(computed_density - density) > 0.5:
            r.report.warn(
                r.loc("density"),
                "density-mismatch",
                f"Densità dichiarata {density} ab/km² ma {total}/{area} = {computed_density}",
                f"Declared density {density} per km² but {total}/{area} = {computed_density}",
                value=density,
            )
    pct, total, foreign = rec.get("foreign_pct"), rec.get("total"), rec.get("foreign_total")
    if pct is not None and total and foreign is not None:
        computed = round(100 * foreign / total, 2)
        if abs(computed - pct) > 0.1:
            r.report.warn(
                r.loc("foreign_pct"),
                "percentage-mismatch",
                f"Percentuale stranieri dichiarata {pct}% ma {foreign}/{total} = {computed}%",
                f"Declared foreign share {pct}% but {foreign}/{total} = {computed}%",
                value=pct,
            )


def _check_repeated_figures(report: Report, rows: list[dict[str, Any]]) -> None:
    """The same total for one unit in different years is usually a mislabelled table."""
    seen: dict[tuple[str, int], int] = {}
    for i, row in enumerate(rows):
        code, total, year = row.get("territory_code"), row.get("total"), row.get("year")
        if code is None or total is None or year is None:
            continue
        if (code, total) in seen and rows[seen[(code, total)]].get("year") != year:
            other = rows[seen[(code, total)]]["year"]
            report.warn(
                f"population[{i}].total",
                "repeated-figure",
                f"{code}: stessa popolazione ({total}) per il {other} e il {year}: "
                "possibile etichetta errata",
                f"{code}: the same population ({total}) for {other} and {year}: "
                "possibly a wrong label",
                value=total,
            )
        seen.setdefault((code, total), i)


def _check_population_sums(
    report: Report, rows: list[dict[str, Any]], units: dict[str, dict[str, Any]]
) -> None:
    """A unit's population against the sum of its comuni's, for the same year."""
    for i, row in enumerate(rows):
        code = row.get("territory_code")
        if not code or units.get(code, {}).get("kind") == "comune":
            continue
        parts = [
            r
            for r in rows
            if r.get("year") == row.get("year")
            and r.get("territory_code")
            and units.get(r["territory_code"], {}).get("kind") == "comune"
            and units.get(r["territory_code"], {}).get("ambito_code") == code
        ]
        if not parts:
            continue
        for key in ("total", "male", "female", "foreign_total"):
            if row.get(key) is None:
                continue
            values = [p.get(key) for p in parts]
            if any(v is None for v in values):
                continue
            s = sum(int(v) for v in values if v is not None)
            if s != row[key]:
                report.warn(
                    f"population[{i}].{key}",
                    "total-mismatch",
                    f"{key} di {code}: la somma dei comuni ({s}) non coincide con {row[key]}",
                    f"{key} of {code}: the comuni add up to {s}, not {row[key]}",
                    value=row[key],
                )


FUND_ACRONYMS = ("FNPS", "FNA", "FSR", "QSFP", "PNRR", "FSE", "PON", "FAMI", "ISEE")


def _check_fund(r: Reader, fund: str) -> None:
    import difflib

    for word in re.findall(r"[A-Za-z.]{3,}", fund):
        token = word.replace(".", "").upper()
        if word.upper() != word or token in FUND_ACRONYMS or len(token) < 3:
            continue
        close = difflib.get_close_matches(token, FUND_ACRONYMS, n=1, cutoff=0.7)
        if close and sorted(close[0]) == sorted(token):
            r.report.warn(
                r.loc("fund"),
                "possible-typo",
                f"Fondo {fund!r}: forse {close[0]}?",
                f"Fund {fund!r}: did you mean {close[0]}?",
                value=fund,
                suggestion=close[0],
            )


def _resource(report: Report, line: dict[str, Any], where: str) -> dict[str, Any]:
    r = Reader(report, line, where)
    rec: dict[str, Any] = {
        "fund": r.text("fund", required=True, max_length=100) or "",
        "year": r.year("year"),
        "planned": r.number("planned"),
        "committed": r.number("committed"),
        "spent": r.number("spent"),
        "note": r.text("note", max_length=2000),
    }
    _check_fund(r, rec["fund"])
    for a, b in (("committed", "planned"), ("spent", "committed")):
        if rec[a] is not None and rec[b] is not None and rec[a] > rec[b]:
            report.warn(
                r.loc(a),
                "amount-exceeds",
                f"{a} ({rec[a]}) supera {b} ({rec[b]})",
                f"{a} ({rec[a]}) exceeds {b} ({rec[b]})",
            )
    rec["raw"] = r.raw
    return rec


def _check_declared_totals(report: Report, out: Normalized) -> None:
    lines = out.budget + [res for o in out.objectives for res in o["resources"]]
    for i, d in enumerate(out.plan["declared_totals"]):
        if d.get("amount") is None:
            continue
        measure = d.get("measure", "planned")
        if measure not in ("planned", "committed", "spent"):
            continue
        matching = [
            x
            for x in lines
            if (d.get("fund") is None or x["fund"] == d["fund"])
            and (d.get("year") is None or x["year"] == d["year"])
            and x.get(measure) is not None
        ]
        if not matching:
            continue
        s = round(sum(float(x[measure]) for x in matching), 2)
        if abs(s - float(d["amount"])) > 0.005:
            report.warn(
                f"plan.declared_totals[{i}]",
                "total-mismatch",
                f"Totale dichiarato {d['amount']} ma le voci sommano {s}",
                f"Declared total {d['amount']} but the lines add up to {s}",
                value=d["amount"],
            )


def _objective(
    report: Report,
    o: dict[str, Any],
    i: int,
    problems: list[dict[str, str]],
    plan: dict[str, Any],
    resolve_unit: Any,
) -> dict[str, Any]:
    where = f"objectives[{i}]"
    r = Reader(report, o, where)
    code = _code(r, "code", problems) or f"#{i}"
    title = r.text("title", max_length=500)
    if title is None:
        report.warn(
            r.loc("title"),
            "blank",
            f"Scheda {code} senza titolo",
            f"Objective {code} has no title",
        )
    classifications = []
    for j, c in enumerate(_list(o, "classifications", f"{where}.", problems)):
        cr = Reader(report, c, f"{where}.classifications[{j}]")
        scheme, value = cr.text("scheme"), cr.text("code")
        if scheme and value:
            classifications.append({"scheme": scheme, "code": value})
        else:
            problems.append({"name": f"{where}.classifications[{j}]", "reason": "scheme and code"})
    actions = []
    for j, a in enumerate(_list(o, "actions", f"{where}.", problems)):
        ar = Reader(report, a, f"{where}.actions[{j}]")
        action: dict[str, Any] = {
            "code": ar.text("code"),
            "title": ar.text("title", required=True, max_length=1000),
            "description": ar.text("description"),
            "owner": ar.text("owner"),
            "start_date": ar.date("start_date"),
            "end_date": ar.date("end_date"),
            "timeline": ar.text("timeline"),
            "status": ar.text("status"),
        }
        if (
            action["start_date"]
            and action["end_date"]
            and action["end_date"] < action["start_date"]
        ):
            report.warn(
                ar.loc("end_date"),
                "date-order",
                "La fine dell'azione precede l'inizio",
                "The action ends before it starts",
            )
        action["raw"] = ar.raw or None
        actions.append(_drop_none(action))
    answers: dict[str, Any] = {}
    if isinstance(o.get("answers"), dict):
        ans = Reader(report, o["answers"], f"{where}.answers")
        for k, v in o["answers"].items():
            answers[str(k)] = ans.texts(k) if isinstance(v, list) else ans.text(k)
        if ans.raw:
            r.raw["answers"] = o["answers"]
    rec: dict[str, Any] = {
        "code": code,
        "title": title or "",
        "section": r.text("section", max_length=300),
        "description": r.text("description"),
        "rationale": r.text("rationale"),
        "scope": _choice(r, "scope", SCOPES, "ambito", {"sovra_distrettuale": "sovra_ambito"}),
        "shared_with_ambiti": [str(x) for x in (o.get("shared_with_ambiti") or [])],
        "target_population": r.text("target_population", max_length=5000),
        "responsible_body": r.text("responsible_body", max_length=500),
        "partners": r.texts("partners"),
        "start_date": r.date("start_date"),
        "end_date": r.date("end_date"),
        "status": _choice(r, "status", OBJECTIVE_STATUSES, "planned", None),
        "classifications": classifications,
        "actions": actions,
        "answers": answers,
        "details": o.get("details") if isinstance(o.get("details"), dict) else {},
        "resources": [
            _resource(report, x, f"{where}.resources[{j}]")
            for j, x in enumerate(_list(o, "resources", f"{where}.", problems))
        ],
        "indicators": [
            _indicator(report, x, f"{where}.indicators[{j}]", problems, plan)
            for j, x in enumerate(_list(o, "indicators", f"{where}.", problems))
        ],
    }
    if rec["start_date"] and rec["end_date"] and rec["end_date"] < rec["start_date"]:
        report.warn(
            r.loc("end_date"), "date-order", "La fine precede l'inizio", "It ends before it starts"
        )
    rec["raw"] = r.raw
    return rec


def _indicator(
    report: Report,
    ind: dict[str, Any],
    where: str,
    problems: list[dict[str, str]],
    plan: dict[str, Any],
) -> dict[str, Any]:
    r = Reader(report, ind, where)
    code = _code(r, "code", problems)
    rec: dict[str, Any] = {
        "code": code or "",
        "name": r.text("name", required=True, max_length=1000) or "",
        "kind": _choice(r, "kind", INDICATOR_KINDS, "output", _KIND_ALIASES),
        "unit": r.text("unit", max_length=50),
        "data_source": r.text("data_source", max_length=500),
        "frequency": _choice(
            r, "frequency", FREQUENCIES, "yearly", {"annuale": "yearly", "annual": "yearly"}
        ),
        "formula": r.text("formula", max_length=2000),
        "notes": r.text("notes", max_length=5000),
        "target": None,
    }
    target = ind.get("target")
    if target is not None:
        try:
            parsed = _TARGET.validate_python(target)
            rec["target"] = parsed.model_dump(mode="json", exclude_none=True)
            _check_target(report, f"{where}.target", parsed, plan)
        except ValidationError as exc:
            r.raw["target"] = target
            first = exc.errors()[0]
            report.warn(
                f"{where}.target",
                "invalid-target",
                f"Target non interpretabile ({first['msg']}): conservato come scritto",
                f"Target not understood ({first['msg']}): kept as written",
                value=target,
            )
    rec["raw"] = r.raw
    return rec


def _check_target(report: Report, where: str, target: Any, plan: dict[str, Any]) -> None:
    start, end = plan.get("cycle_start_year"), plan.get("cycle_end_year")
    if isinstance(target, contract.YearlySeriesTarget) and start and end:
        for j, step in enumerate(target.steps):
            if not start <= step.year <= end:
                report.warn(
                    f"{where}.steps[{j}].year",
                    "target-outside-cycle",
                    f"Anno {step.year} fuori dal ciclo {start}-{end}",
                    f"Year {step.year} is outside the cycle {start}-{end}",
                )
            if (
                step.min_value is not None
                and step.max_value is not None
                and step.min_value > step.max_value
            ):
                report.warn(
                    f"{where}.steps[{j}]",
                    "range-inverted",
                    "Il minimo supera il massimo",
                    "The minimum exceeds the maximum",
                )
    if (
        isinstance(target, contract.RangeTarget)
        and target.min_value is not None
        and target.max_value is not None
        and target.min_value > target.max_value
    ):
        report.warn(
            where,
            "range-inverted",
            "Il minimo supera il massimo",
            "The minimum exceeds the maximum",
        )


def _evaluation(report: Report, e: dict[str, Any], i: int) -> dict[str, Any]:
    where = f"evaluation[{i}]"
    r = Reader(report, e, where)
    achievement_text = r.text("achievement", max_length=500)
    spending_text = r.text("spending", max_length=500)
    rec: dict[str, Any] = {
        "cycle": r.text("cycle", max_length=50),
        "code": r.text("code", max_length=50),
        "title": r.text("title", required=True, max_length=1000) or "",
        "area": r.text("area", max_length=300),
        "dimension": r.text("dimension", max_length=100),
        "achievement_text": achievement_text,
        "achievement_pct": r.number("achievement", percent=True),
        "spending_text": spending_text,
        "spending_pct": r.number("spending", percent=True),
        "user_evaluation": r.text("user_evaluation", max_length=1000),
        "resources_adequacy": r.text("resources_adequacy", max_length=1000),
        "critical_issues": r.text("critical_issues", max_length=5000),
        "need_met": r.text("need_met", max_length=500),
        "continuity_previous": r.text("continuity_previous", max_length=500),
        "reproposed": r.text("reproposed", max_length=500),
        "notes": r.text("notes", max_length=5000),
        "answers": e.get("answers") if isinstance(e.get("answers"), dict) else {},
    }
    for key in ("user_evaluation", "resources_adequacy", "achievement", "spending"):
        if isinstance(e.get(key), str) and not e[key].strip():
            report.warn(
                r.loc(key), "blank", f"Campo lasciato vuoto: {key}", f"Field left blank: {key}"
            )
    adequacy = rec["resources_adequacy"]
    if adequacy:
        from pdz_plans.imports.lenient import parse_number

        number, code = parse_number(adequacy)
        if number is not None and code in (None, "percentage-with-text"):
            report.warn(
                r.loc("resources_adequacy"),
                "percentage-in-text-field",
                f"Percentuale in un campo qualitativo: {adequacy!r}",
                f"Percentage in a qualitative field: {adequacy!r}",
                value=adequacy,
            )
        elif fold(adequacy) in {"adeguito"}:
            report.warn(
                r.loc("resources_adequacy"),
                "possible-typo",
                f"Possibile refuso: {adequacy!r} (adeguato?)",
                f"Possible typo: {adequacy!r} (adeguato?)",
                value=adequacy,
                suggestion="Adeguato",
            )
    for key in ("achievement_pct", "spending_pct"):
        value = rec[key]
        if value is not None and not 0 <= value <= 100:
            report.warn(
                r.loc(key.removesuffix("_pct")),
                "percentage-out-of-range",
                f"Percentuale fuori da 0-100: {value}",
                f"Percentage outside 0-100: {value}",
            )
    rec["raw"] = r.raw
    return rec
