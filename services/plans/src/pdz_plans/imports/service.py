"""Applies a normalized import file to the database (or only simulates it, with dry_run)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_plans.classifications import service as classifications
from pdz_plans.common import require_writer
from pdz_plans.evaluations import service as evaluations
from pdz_plans.imports.normalize import Normalized, normalize
from pdz_plans.imports.schemas import Counts, ImportReport, ImportWarning
from pdz_plans.indicators_def import service as indicators
from pdz_plans.indicators_def.models import IndicatorDefinition
from pdz_plans.objectives import service as objectives
from pdz_plans.objectives.models import BudgetLine, Objective
from pdz_plans.plans import service as plans
from pdz_plans.plans.schemas import PlanIn, PlanUpdate
from pdz_plans.territories import service as territories
from pdz_plans.territories.models import TerritoryUnit
from pdz_shared.auth import Principal
from pdz_shared.errors import Conflict


async def known_units(session: AsyncSession) -> dict[str, dict[str, Any]]:
    rows = await session.exec(select(TerritoryUnit))
    return {
        u.code: {"name": u.name, "kind": u.kind, "ambito_code": u.ambito_code} for u in rows.all()
    }


def _count(counts: dict[str, Counts], what: str, outcome: str) -> None:
    c = counts.setdefault(what, Counts())
    setattr(c, outcome, getattr(c, outcome) + 1)


async def run(
    session: AsyncSession, principal: Principal, doc: Any, *, dry_run: bool
) -> ImportReport:
    norm = normalize(doc, await known_units(session))
    require_writer(principal, norm.plan["ambito_code"])
    if dry_run:
        nested = await session.begin_nested()
        try:
            return await _apply(session, principal, norm, dry_run=True)
        finally:
            await nested.rollback()
    return await _apply(session, principal, norm, dry_run=False)


async def _apply(
    session: AsyncSession, principal: Principal, norm: Normalized, *, dry_run: bool
) -> ImportReport:
    counts: dict[str, Counts] = {}
    report = norm.report
    known = await classifications.known(session)

    for i, rec in enumerate(norm.territories):
        outcome = await territories.upsert_from_import(session, principal, rec)
        if outcome == "forbidden":
            report.warn(
                f"territories[{i}]",
                "territory-not-written",
                f"Unità {rec['code']} non modificabile con le tue autorizzazioni: ignorata",
                f"Unit {rec['code']} cannot be changed with your permissions: skipped",
            )
            outcome = "skipped"
        for parent in rec.get("missing_parents", []):
            report.warn(
                f"territories[{i}].parent_codes",
                "unknown-parent",
                f"Unità padre {parent} di {rec['code']} inesistente: collegamento non creato",
                f"Parent unit {parent} of {rec['code']} does not exist: link not created",
                value=parent,
            )
        _count(counts, "territories", outcome)
    for rec in norm.population:
        if rec["territory_code"] is None or rec["year"] is None:
            _count(counts, "population", "skipped")
            continue
        outcome = await territories.upsert_population(session, principal, rec)
        _count(counts, "population", outcome)

    # ------------------------------------------------------------------ the plan
    p = norm.plan
    fields = {k: v for k, v in p.items() if k not in ("code", "ambito_code", "status", "raw")}
    plan = await plans.by_code(session, p["code"])
    if plan is None:
        plan = await plans.create(
            session,
            principal,
            PlanIn.model_validate({**fields, "code": p["code"], "ambito_code": p["ambito_code"]}),
            status=p["status"],
            raw=p["raw"],
        )
        _count(counts, "plans", "created")
    else:
        if plan.ambito_code != p["ambito_code"]:
            raise Conflict(
                f"Il piano {p['code']} appartiene a un altro ambito",
                f"Plan {p['code']} belongs to another ambito",
            )
        status = p["status"]
        if status not in plans.TRANSITIONS[plan.status]:
            report.warn(
                "plan.status",
                "status-not-changed",
                f"Stato {status} non raggiungibile da {plan.status}: lasciato {plan.status}",
                f"Status {status} cannot follow {plan.status}: left {plan.status}",
            )
            status = plan.status
        plan, changed = await plans.update(
            session,
            principal,
            plan,
            PlanUpdate.model_validate({**fields, "status": status}),
            raw=p["raw"],
        )
        _count(counts, "plans", "updated" if changed else "unchanged")

    # ------------------------------------------------------------------ objectives + indicators
    existing = {
        o.code: o
        for o in (await session.exec(select(Objective).where(Objective.plan_id == plan.id))).all()
    }
    existing_ind = {
        (i.objective_id, i.code): i
        for i in (
            await session.exec(
                select(IndicatorDefinition).where(IndicatorDefinition.plan_id == plan.id)
            )
        ).all()
    }
    for pos, rec in enumerate(norm.objectives):
        for j, c in enumerate(rec["classifications"]):
            if (c["scheme"], c["code"]) not in known:
                report.warn(
                    f"objectives[{pos}].classifications[{j}]",
                    "unknown-classification",
                    f"Codice {c['code']} sconosciuto nello schema {c['scheme']} (conservato)",
                    f"Code {c['code']} unknown in scheme {c['scheme']} (kept)",
                )
        objective, outcome = await objectives.upsert(
            session, principal, plan, rec, position=pos, existing=existing.get(rec["code"])
        )
        _count(counts, "objectives", outcome)
        for j, ind in enumerate(rec["indicators"]):
            _, outcome = await indicators.upsert(
                session,
                principal,
                plan,
                objective.id,
                ind,
                position=j,
                existing=existing_ind.get((objective.id, ind["code"])),
            )
            _count(counts, "indicators", outcome)
    in_file = {rec["code"] for rec in norm.objectives}
    for code in sorted(set(existing) - in_file):
        report.warn(
            "objectives",
            "objective-not-in-file",
            f"La scheda {code} esiste nel piano ma non nel file: non è stata toccata",
            f"Objective {code} exists in the plan but not in the file: left unchanged",
            value=code,
        )
    for j, ind in enumerate(norm.indicators):
        _, outcome = await indicators.upsert(
            session,
            principal,
            plan,
            None,
            ind,
            position=j,
            existing=existing_ind.get((None, ind["code"])),
        )
        _count(counts, "indicators", outcome)
    _count(counts, "budget_lines", await _replace_plan_budget(session, plan.id, norm))
    n_changed = await evaluations.replace(session, plan.id, norm.evaluation)
    if norm.evaluation:
        _count(counts, "evaluation", "updated" if n_changed else "unchanged")
    await session.flush()
    return ImportReport(
        dry_run=dry_run,
        plan_id=plan.id,
        plan_code=plan.code,
        counts=counts,
        warnings=[ImportWarning(**w.as_dict()) for w in report.warnings],
    )


async def _replace_plan_budget(session: AsyncSession, plan_id: Any, norm: Normalized) -> str:
    """Plan-level budget lines (the resources of objectives are in the objectives)."""
    current = (
        await session.exec(
            select(BudgetLine)
            .where(BudgetLine.plan_id == plan_id, col(BudgetLine.objective_id).is_(None))
            .order_by(col(BudgetLine.position))
        )
    ).all()
    keys = ("fund", "year", "planned", "committed", "spent", "note", "raw")

    def norm_value(k: str, v: Any) -> Any:
        return float(v) if isinstance(v, Decimal) else v

    before = [{k: norm_value(k, getattr(x, k)) for k in keys} for x in current]
    wanted = norm.budget
    after = [{k: norm_value(k, r.get(k)) for k in keys} for r in wanted]
    for a in after:
        a["raw"] = a["raw"] or {}
    if before == after:
        return "unchanged"
    await session.exec(
        delete(BudgetLine).where(
            col(BudgetLine.plan_id) == plan_id, col(BudgetLine.objective_id).is_(None)
        )
    )
    for pos, r in enumerate(wanted):
        values: dict[str, Any] = {
            k: (Decimal(str(r[k])) if k in objectives.MEASURES and r[k] is not None else r[k])
            for k in ("fund", "year", "planned", "committed", "spent", "note")
        }
        session.add(
            BudgetLine(
                plan_id=plan_id, objective_id=None, position=pos, raw=r.get("raw") or {}, **values
            )
        )
    return "updated"
