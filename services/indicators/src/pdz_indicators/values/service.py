"""Indicator values per territory and period: computed by PostgreSQL, kept fresh per event."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import String, bindparam, func, literal_column, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_indicators.expressions.checker import check, dependencies
from pdz_indicators.expressions.sql import Compiled, MissingPolicy, compile_sql
from pdz_indicators.expressions.syntax import ExpressionError
from pdz_indicators.targets.models import Indicator, Plan
from pdz_indicators.territories.models import Territory
from pdz_indicators.values import rollup
from pdz_indicators.values.models import IndicatorValue
from pdz_indicators.values.periods import Period, parse_period, periods_containing
from pdz_indicators.values.rollup import Rollup
from pdz_shared.auth import Principal
from pdz_shared.db import Statement, driver, utcnow
from pdz_shared.listing import paged

NewFact = tuple[int, str, uuid.UUID]  # id, fact type, case id
SMALL_CELL = (1, 4)


@dataclass(frozen=True)
class Scope:
    code: str
    kind: str
    ambiti: tuple[str, ...]
    comune: str | None
    comuni: tuple[str, ...]


@dataclass(frozen=True)
class Unit:
    """What a computation reads of a territory: its place in the hierarchy."""

    code: str
    kind: str
    parent_codes: tuple[str, ...]
    ambito_code: str | None


class Territories:
    """The territory projection in memory for one computation (a few hundred rows at most);
    never changed once made (a refresh may reuse the last one read: :meth:`cached`)."""

    def __init__(self, rows: Iterable[Territory | Unit]) -> None:
        self.by_code = {
            t.code: Unit(t.code, t.kind, tuple(t.parent_codes), t.ambito_code) for t in rows
        }
        self.children: dict[str, set[str]] = {}
        self._scopes: dict[tuple[str, str | None, str | None], Scope] = {}
        for t in self.by_code.values():
            for p in t.parent_codes:
                self.children.setdefault(p, set()).add(t.code)
            if t.kind == "comune" and t.ambito_code:
                self.children.setdefault(t.ambito_code, set()).add(t.code)

    @classmethod
    async def load(cls, session: AsyncSession) -> Territories:
        return (await cls._load(session))[1]

    @classmethod
    async def _load(cls, session: AsyncSession) -> tuple[str | None, Territories]:
        """The projection and its :data:`TERRITORY_FINGERPRINT`, read at once."""
        rows = list(await session.execute(_LOAD_TERRITORIES))
        terr = cls(Unit(code, kind, tuple(parents), amb) for code, kind, parents, amb, _ in rows)
        return (rows[0][4] if rows else None), terr

    @classmethod
    async def cached(cls, session: AsyncSession, fingerprint: str | None) -> Territories:
        """The projection whose :data:`TERRITORY_FINGERPRINT` (read in this transaction) is
        ``fingerprint``: the last one read, if it has it (the fingerprint covers every column
        a computation reads, so the same fingerprint is the same projection), or read now."""
        global _LAST_TERRITORIES
        last = _LAST_TERRITORIES
        if fingerprint is not None and last is not None and last[0] == fingerprint:
            return last[1]
        found, terr = await cls._load(session)
        if found is not None:
            _LAST_TERRITORIES = (found, terr)
        return terr

    def descendants(self, code: str) -> set[str]:
        seen: set[str] = set()
        todo = [code]
        while todo:
            for child in self.children.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    def ancestors(self, code: str) -> list[str]:
        out: list[str] = []
        todo = list(self.by_code[code].parent_codes) if code in self.by_code else []
        while todo:
            p = todo.pop(0)
            if p not in out and p != code:
                out.append(p)
                if p in self.by_code:
                    todo.extend(self.by_code[p].parent_codes)
        return out

    def scope(self, code: str, *, kind: str | None = None, ambito: str | None = None) -> Scope:
        key = (code, kind, ambito)
        found = self._scopes.get(key)
        if found is None:
            found = self._scopes[key] = self._scope(code, kind, ambito)
        return found

    def _scope(self, code: str, kind: str | None, ambito: str | None) -> Scope:
        t = self.by_code.get(code)
        kind = t.kind if t else (kind or "ambito")
        if kind == "comune":
            amb = (t.ambito_code if t else None) or ambito
            return Scope(code, kind, (amb,) if amb else (), code, (code,))
        if kind == "ambito":
            comuni = [c for c in self.descendants(code) if self._kind(c) == "comune"]
            return Scope(code, kind, (code,), None, tuple(sorted(comuni)))
        below = self.descendants(code)
        ambiti = sorted(c for c in below if self._kind(c) == "ambito")
        comuni = sorted(c for c in below if self._kind(c) == "comune")
        return Scope(code, kind, tuple(ambiti), None, tuple(comuni))

    def _kind(self, code: str) -> str | None:
        t = self.by_code.get(code)
        return t.kind if t else None


# The projection's content as a computation reads it, in one value (NULL when it is empty).
TERRITORY_FINGERPRINT = (
    "(SELECT md5(CAST(array_agg(ROW(t.code, t.kind, t.parent_codes, t.ambito_code) "
    "ORDER BY t.code) AS TEXT)) FROM territory t)"
)
_LOAD_TERRITORIES = text(
    f"SELECT code, kind, parent_codes, ambito_code, {TERRITORY_FINGERPRINT} FROM territory"  # noqa: S608  (fixed text)
)
_LAST_TERRITORIES: tuple[str, Territories] | None = None


@lru_cache(maxsize=512)
def compiled(formula: str) -> Compiled:
    return compile_sql(check(formula))


def _policy(indicator: Indicator) -> MissingPolicy:
    p = indicator.missing_value_policy
    if p == "skip_if_any_missing":
        return "skip_if_any_missing"
    return "zero" if p == "zero" else "skip_if_all_missing"


async def compute_cell(
    session: AsyncSession, indicator: Indicator, scope: Scope, period: Period
) -> IndicatorValue:
    """Computes and stores one value; PostgreSQL does every aggregation."""
    return (await compute_cells(session, indicator, [(scope, period)]))[0]


BATCH = 250


async def compute_cells(
    session: AsyncSession,
    indicator: Indicator,
    cells: list[tuple[Scope, Period]],
    *,
    set_based: bool = False,
    keep: bool = True,
    sums: Rollup | None = None,
    pending: list[dict[str, Any]] | None = None,
) -> list[IndicatorValue]:
    """Computes and stores many values with one statement per batch of cells.

    ``set_based``: the facts are first summed per ambito, comune and month, one scan per fact
    type (:mod:`.rollup`), and each cell adds up its months; the same values, for many cells
    (a full recompute) far cheaper than a scan per cell; those sums are kept
    (``indicator_fact_sum``).
    ``sums``: already loaded for these cells (used as they are). ``keep=False``: store only,
    return nothing. ``pending``: the rows to store are added to it instead (for the caller to
    store with :func:`store_values`).
    """
    c = _compiled(indicator)
    if sums is None and c is not None and cells and set_based:
        assert indicator.formula is not None
        ambiti = sorted({a for scope, _ in cells for a in scope.ambiti})
        sums = await Rollup.load(session, c, ambiti)
        await sums.save(session, indicator.indicator_id, indicator.formula, ambiti)
    out: list[IndicatorValue] = []
    size = BATCH if sums is None else 4 * BATCH  # no subquery per cell: bigger batches
    for start in range(0, len(cells), size):
        batch = cells[start : start + size]
        out += await _compute_batch(session, indicator, batch, sums, keep, pending)
    return out


def _compiled(indicator: Indicator) -> Compiled | None:
    if not indicator.formula or indicator.formula_error:
        return None
    try:
        return compiled(indicator.formula)
    except ExpressionError:
        return None


def _context(idx: int, scope: Scope, period: Period) -> dict[str, Any]:
    return {"idx": idx, **_cell_context(scope, period)}


@lru_cache(maxsize=4096)
def _cell_context(scope: Scope, period: Period) -> dict[str, Any]:
    """The context parameters of a cell (:data:`.sql.CONTEXT_TYPES`), as JSON (not to be
    changed: kept)."""
    return {
        "t_code": scope.code,
        "t_ambiti": list(scope.ambiti),
        "t_comune": scope.comune,
        "t_comuni": list(scope.comuni),
        "p_from": period.start_at.isoformat(),
        "p_to": period.end_at.isoformat(),
        "p_label": period.label,
        "p_year": period.year,
    }


async def _compute_batch(
    session: AsyncSession,
    indicator: Indicator,
    cells: list[tuple[Scope, Period]],
    sums: Rollup | None = None,
    keep: bool = True,
    pending: list[dict[str, Any]] | None = None,
) -> list[IndicatorValue]:
    if not cells:
        return []
    now = utcnow()
    c: Compiled | None = None
    reason_all: str | None = None
    if not indicator.formula or indicator.formula_error:
        reason_all = "invalid_formula" if indicator.formula else "no_formula"
    else:
        try:
            c = compiled(indicator.formula)
        except ExpressionError:
            reason_all = "invalid_formula"
    results: dict[int, Any] = {}  # RowMappings
    if c is not None:
        if sums is not None:
            stmt = c.rollup_statement(
                [
                    {**_context(i, sc, p), **sums.cell(sc.ambiti, sc.comune, p)}
                    for i, (sc, p) in enumerate(cells)
                ]
            )
        else:
            stmt = c.batch_statement([_context(i, sc, p) for i, (sc, p) in enumerate(cells)])
        for found in (await session.execute(stmt)).mappings():
            results[found["idx"]] = found
    rows = _value_rows(indicator, c, reason_all, cells, results, now)
    if pending is not None:
        pending += rows
    else:
        await store_values(session, rows)
    return [IndicatorValue(**r) for r in rows] if keep else []


Work = tuple[Indicator, Compiled, list[tuple[Scope, Period]]]


async def _compute_union(
    session: AsyncSession, work: list[Work], rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The values of several indicators' cells from their kept sums (complete for the cells'
    ambiti), with ``rows`` of :func:`.rollup.apply_facts` added to those first (rows to store),
    with one statement (:func:`.rollup.summed_values`): PostgreSQL sums each cell's leaves."""
    if not work:
        await rollup.add_rows(session, rows)
        return []
    now = utcnow()
    stmt = rollup.summed_values(
        [(indicator.indicator_id, c) for indicator, c, _ in work],
        [
            {"g": g, "idx": i, **_cell_context(sc, p)}
            for g, (_, _, cells) in enumerate(work)
            for i, (sc, p) in enumerate(cells)
        ],
        rows,
    )
    results: list[dict[int, Mapping[str, Any]]] = [{} for _ in work]
    for g, idx, value, watermark, li, ln in await session.execute(stmt):
        ints, nums = iter(li), iter(ln)
        row: dict[str, Any] = {"value": value, "watermark": watermark}
        for leaf in work[g][1].leaves:
            row[leaf.name] = next(ints) if leaf.kind in ("count", "people") else next(nums)
        results[g][idx] = row
    out: list[dict[str, Any]] = []
    for g, (indicator, c, cells_of) in enumerate(work):
        out += _value_rows(indicator, c, None, cells_of, results[g], now)
    return out


def _value_rows(
    indicator: Indicator,
    c: Compiled | None,
    reason_all: str | None,
    cells: list[tuple[Scope, Period]],
    results: dict[int, Mapping[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    """The rows to store for the cells, from the computed ``results`` (by cell index)."""
    policy = _policy(indicator)
    # Of each leaf: its name, kind, whether it is an input (not an average's people) and
    # whether it counts people or facts (a small cell).
    leaves = [
        (leaf.name, leaf.kind, leaf.kind != "people", leaf.kind in ("count", "people"))
        for leaf in (c.leaves if c is not None else [])
    ]
    n_inputs = sum(1 for _, _, is_input, _ in leaves if is_input)
    rows: list[dict[str, Any]] = []
    for i, (scope, period) in enumerate(cells):
        value: Decimal | None = None
        reason = reason_all
        inputs: dict[str, Any] = {}
        small = False
        watermark = None
        row = results.get(i)
        if c is not None and row is not None:
            watermark = row["watermark"]
            missing = 0
            for name, kind, is_input, counted in leaves:
                raw = row[name]
                if raw is None:
                    inputs[name] = {"kind": kind, "value": None}
                    missing += is_input
                    continue
                inputs[name] = {"kind": kind, "value": str(raw)}
                if counted and SMALL_CELL[0] <= raw <= SMALL_CELL[1]:
                    small = True
            if (policy == "skip_if_any_missing" and missing) or (
                policy == "skip_if_all_missing" and n_inputs and missing == n_inputs
            ):
                reason = "no_data"
            elif row["value"] is None:
                reason = "division_by_zero"
            else:
                value = Decimal(row["value"]).quantize(_MICRO)
        rows.append(
            {
                "indicator_id": indicator.indicator_id,
                "territory_code": scope.code,
                "period": period.label,
                "period_kind": period.kind,
                "value": value,
                "reason": reason,
                "inputs": inputs,
                "small_cell": small,
                "ambiti": list(scope.ambiti),
                "computed_at": now,
                "watermark": watermark,
            }
        )
    return rows


_MICRO = Decimal("0.000001")


async def store_values(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Upserts computed values (of any indicators) in one statement; of rows for the same
    cell, the last (a statement updates a row once)."""
    if rows:
        await session.execute(_UPSERT, {"rows": unique_rows(rows)})


def unique_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``rows`` parameter of :data:`UPSERT_SQL` for computed values: of rows for the same
    cell, the last."""
    unique = {(r["indicator_id"], r["territory_code"], r["period"]): r for r in rows}
    return [_json_row(r) for r in unique.values()]


# The values travel as one JSONB parameter: a multi-row VALUES with a bind parameter per
# column costs SQLAlchemy far more to compile than PostgreSQL to run.
UPSERT_SQL = (
    "INSERT INTO indicator_value (indicator_id, territory_code, period, period_kind, value, "
    "reason, inputs, small_cell, ambiti, computed_at, watermark) "
    "SELECT r.indicator_id, r.territory_code, r.period, r.period_kind, r.value, r.reason, "
    "r.inputs, r.small_cell, r.ambiti, r.computed_at, r.watermark "
    "FROM jsonb_to_recordset(CAST(:rows AS JSONB)) AS r(indicator_id UUID, territory_code TEXT, "
    "period TEXT, period_kind TEXT, value NUMERIC, reason TEXT, inputs JSONB, small_cell BOOLEAN, "
    "ambiti TEXT[], computed_at TIMESTAMPTZ, watermark TIMESTAMPTZ) "
    "ON CONFLICT (indicator_id, territory_code, period) DO UPDATE SET "
    "period_kind = excluded.period_kind, value = excluded.value, reason = excluded.reason, "
    "inputs = excluded.inputs, small_cell = excluded.small_cell, ambiti = excluded.ambiti, "
    "computed_at = excluded.computed_at, watermark = excluded.watermark"
)
_UPSERT = text(UPSERT_SQL).bindparams(bindparam("rows", type_=JSONB()))


def _json_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        **r,
        "indicator_id": str(r["indicator_id"]),
        "value": None if r["value"] is None else format(r["value"], "f"),
        "computed_at": r["computed_at"].isoformat(),
        "watermark": None if r["watermark"] is None else r["watermark"].isoformat(),
    }


_DEFINITIONS = "indicators:definitions"


async def lock_definitions(session: AsyncSession, *, exclusive: bool) -> None:
    """Taken first, before any indicator's lock. A full recompute (after a definition, plan,
    territory or population change) holds it exclusive, an event's refresh shared: a fact
    committed while an indicator definition was being stored is never missed by both (the
    refresh that did not see the indicator, the recompute that did not see the fact).

    The shared lock also sets, for the rest of the event's transaction, generic plans for its
    prepared statements: they are a few keyed reads and writes whose plan does not depend on
    their parameters, planned once per connection instead of at every event (about a tenth
    of the database's work for an event); a scan of whole ambiti plans for its own
    (:func:`.rollup.scanning`)."""
    await _LOCK_DEFINITIONS[exclusive].fetch(await driver(session), {"k": _DEFINITIONS})


_LOCK_DEFINITIONS = {
    True: Statement("SELECT pg_advisory_xact_lock(hashtextextended(CAST(:k AS text), 0))"),
    False: Statement(
        "SELECT pg_advisory_xact_lock_shared(hashtextextended(CAST(:k AS text), 0)), "
        "set_config('plan_cache_mode', 'force_generic_plan', true)"
    ),
}


async def lock_indicator(session: AsyncSession, indicator: Indicator) -> None:
    """Serialises writers of one indicator's values until the transaction ends, so a full
    recompute and an incremental refresh never interleave (callers lock in id order)."""
    await lock_indicators(session, [indicator])


async def _cycles(session: AsyncSession, indicator: Indicator) -> list[tuple[int, int]]:
    if indicator.plan_id is None:
        return []
    plan = await session.get(Plan, indicator.plan_id)
    return [(plan.cycle_start_year, plan.cycle_end_year)] if plan else []


async def _indicators_for(session: AsyncSession, ambito: str | None) -> list[Indicator]:
    q = select(Indicator).where(col(Indicator.formula).is_not(None))
    if ambito is not None:
        q = q.where(or_(col(Indicator.ambito_code) == ambito, col(Indicator.ambito_code).is_(None)))
    return list((await session.execute(q)).scalars().all())


async def _indicators_fed_by(
    session: AsyncSession, fact_types: list[str]
) -> list[tuple[Indicator, Plan | None, str | None]]:
    """The indicators with a formula over any of ``fact_types``, with their plans and the
    :data:`TERRITORY_FINGERPRINT`, in one read."""
    return [(i, p, f) for i, p, f in await session.execute(_FED_BY, {"types": fact_types})]


_FED_BY: Any = (
    select(Indicator, Plan, literal_column(TERRITORY_FINGERPRINT))
    .outerjoin(Plan, col(Plan.plan_id) == col(Indicator.plan_id))
    .where(
        col(Indicator.formula).is_not(None),
        col(Indicator.fact_types).bool_op("&&")(bindparam("types", type_=ARRAY(String()))),
    )
)


async def lock_indicators(session: AsyncSession, indicators: list[Indicator]) -> None:
    """:func:`lock_indicator` of each, in this order, in one statement."""
    keys = [f"indicator:{i.indicator_id}" for i in indicators]
    await _LOCK_MANY.fetch(await driver(session), {"k": keys})


_LOCK_MANY = Statement(
    "SELECT count(pg_advisory_xact_lock(hashtextextended(k.key, 0))) "
    "FROM unnest(CAST(:k AS TEXT[])) AS k(key)"
)


def _territories_of(terr: Territories, ambito: str | None, comune: str | None) -> list[Scope]:
    scopes: list[Scope] = []
    if comune:
        scopes.append(terr.scope(comune, kind="comune", ambito=ambito))
    if ambito:
        scopes.append(terr.scope(ambito, kind="ambito"))
        scopes.extend(terr.scope(a) for a in terr.ancestors(ambito))
    return scopes


Spot = tuple[str, str, str | None]  # fact type, ambito, comune


@dataclass
class _Fed:
    """One indicator in an incremental refresh: what feeds it and whether its kept sums
    (complete for the ambiti involved, of its present formula) take the new facts in."""

    indicator: Indicator
    compiled: Compiled | None
    kept: bool
    spots: list[Spot]


class Refresh:
    """Incremental refresh for the new facts of one event or of a consumer's group of events,
    in their transaction: :meth:`begin` locks the indicators they feed (in id order), each
    :meth:`add` puts one new fact into the kept sums right after its insert (as if the events
    came one by one), and :meth:`finish` computes each indicator's cells that any of them can
    move once, and judges its targets once."""

    def __init__(
        self,
        session: AsyncSession,
        terr: Territories,
        fed: dict[uuid.UUID, _Fed],
        plans: dict[uuid.UUID, Plan],
    ):
        self.session, self.terr, self.fed, self.plans = session, terr, fed, plans
        self.added: list[tuple[Spot, NewFact]] = []
        self.sums: list[dict[str, Any]] = []  # rows for the kept sums, stored before reading

    @classmethod
    async def begin(cls, session: AsyncSession, spots: Iterable[Spot]) -> Refresh:
        spots = sorted(set(spots), key=lambda s: (s[0], s[1], s[2] or ""))
        await lock_definitions(session, exclusive=False)
        fed: dict[uuid.UUID, _Fed] = {}
        types = sorted({s[0] for s in spots})
        plans: dict[uuid.UUID, Plan] = {}
        found = await _indicators_fed_by(session, types)
        for indicator, plan, _ in found:
            if plan is not None:
                plans[plan.plan_id] = plan
            entry = _Fed(indicator, _compiled(indicator), False, [])
            entry.spots = [s for s in spots if s[0] in indicator.fact_types]
            fed[indicator.indicator_id] = entry
        if not fed:
            return cls(session, Territories([]), fed, {})  # nothing to compute
        # Read after the definitions lock, with the indicators: the projection as this
        # transaction sees it (as Territories.load would read it now).
        terr = await Territories.cached(session, found[0][2])
        await lock_indicators(session, [fed[i].indicator for i in sorted(fed)])
        states = await rollup.states(session, [i for i in sorted(fed) if fed[i].compiled])
        for indicator_id in sorted(fed):
            entry = fed[indicator_id]
            if entry.compiled is None:
                continue
            state = states.get(indicator_id)
            ambiti = {
                a for s in entry.spots for sc in cls._scopes(terr, entry, s) for a in sc.ambiti
            }
            entry.kept = (
                state is not None and state[0] == entry.indicator.formula and state[1] >= ambiti
            )
        return cls(session, terr, fed, plans)

    @staticmethod
    def _scopes(terr: Territories, entry: _Fed, spot: Spot) -> list[Scope]:
        """The territories whose values a fact at ``spot`` can move for this indicator."""
        _, ambito, comune = spot
        # Another ambito's indicator changes only where both ambiti are summed (distretto…).
        if entry.indicator.ambito_code in (None, ambito):
            return _territories_of(terr, ambito, comune)
        return [terr.scope(a) for a in terr.ancestors(ambito)]

    async def add(self, spot: Spot, fact: NewFact) -> None:
        self.added.append((spot, fact))
        kept = [
            (entry.indicator.indicator_id, entry.compiled)
            for entry in self.fed.values()
            if entry.kept and spot in entry.spots and entry.compiled is not None
        ]  # kept implies compiled
        if kept:
            self.sums += await rollup.apply_facts(self.session, kept, *fact)

    async def finish(self, days: dict[uuid.UUID, list[date]]) -> None:
        """``days``: of each case with a new fact, the local days of all its facts (the
        periods a new fact can move: its own, and its case's for averages)."""
        from pdz_indicators.targets import service as targets

        judged: list[Indicator] = []
        todo: dict[uuid.UUID, list[tuple[Scope, Period]]] = {}
        for indicator_id in sorted(self.fed):
            entry = self.fed[indicator_id]
            indicator = entry.indicator
            plan = self.plans.get(indicator.plan_id) if indicator.plan_id else None
            cycles = [(plan.cycle_start_year, plan.cycle_end_year)] if plan else []
            cells: dict[tuple[str, str], tuple[Scope, Period]] = {}
            for spot, (_, _, case_id) in self.added:
                if spot not in entry.spots:
                    continue
                periods = {
                    p.label: p for d in days.get(case_id, []) for p in periods_containing(d, cycles)
                }
                for scope in self._scopes(self.terr, entry, spot):
                    for period in periods.values():
                        cells[(scope.code, period.label)] = (scope, period)
            if cells:
                todo[indicator_id] = list(cells.values())
        computed: list[dict[str, Any]] = []  # the values, stored at once
        union: list[Work] = []
        for indicator_id, cells_of in todo.items():
            entry = self.fed[indicator_id]
            indicator = entry.indicator
            if entry.compiled is not None and indicator.formula:
                if not entry.kept:
                    # Kept for other ambiti or another formula, or not kept: from the facts.
                    ambiti = sorted({a for scope, _ in cells_of for a in scope.ambiti})
                    sums = await Rollup.load(self.session, entry.compiled, ambiti)
                    await sums.save(self.session, indicator_id, indicator.formula, ambiti)
                union.append((indicator, entry.compiled, cells_of))
            else:
                await compute_cells(self.session, indicator, cells_of, keep=False, pending=computed)
            if any(
                indicator.ambito_code in (None, s[1]) for s, _ in self.added if s in entry.spots
            ):
                judged.append(indicator)
        # The new facts' rows of the kept sums are stored by the statement that reads them.
        computed += await _compute_union(self.session, union, self.sums)
        self.sums = []
        # Stored as the judging reads the values it needs.
        await targets.judge_indicators(self.session, judged, self.terr, self.plans, store=computed)


async def refresh_for_population(session: AsyncSession, ambito: str | None, year: int) -> None:
    indicators = [
        i for i in await _indicators_for(session, ambito) if i.formula and "population" in i.formula
    ]
    if not indicators:
        return
    terr = await Territories.load(session)
    for indicator in sorted(indicators, key=lambda i: i.indicator_id):
        await recompute(session, indicator, terr, years=[year], kinds=("year",))


async def refresh_for_reported(
    session: AsyncSession, metric: str, territory: str, ambito: str, period: str
) -> None:
    """A reported value changes the cells of its territory, its ambito and their parents,
    for its own period label, of every indicator that uses the metric."""
    candidates = await _indicators_for(session, ambito)
    indicators = []
    for i in candidates:
        if not i.formula or i.formula_error or metric not in i.formula:
            continue
        try:
            if metric in dependencies(check(i.formula)).reported:
                indicators.append(i)
        except ExpressionError:
            continue
    if not indicators:
        return
    terr = await Territories.load(session)
    comune = territory if territory != ambito else None
    scopes = _territories_of(terr, ambito, comune)
    p = parse_period(period)
    for indicator in sorted(indicators, key=lambda i: i.indicator_id):
        await lock_indicator(session, indicator)
        await compute_cells(session, indicator, [(sc, p) for sc in scopes])
        from pdz_indicators.targets import service as targets

        await targets.judge_indicator(session, indicator)


ALL_KINDS = ("month", "quarter", "year", "cycle")


async def recompute_all(session: AsyncSession) -> int:
    """Every indicator with a formula (after a change of the territory hierarchy)."""
    rows = await _indicators_for(session, None)
    indicators = [i for i in rows if i.formula and not i.formula_error]
    if not indicators:
        return 0
    return await recompute_many(session, indicators)


def all_periods(
    years: Iterable[int], cycles: list[tuple[int, int]], kinds: Iterable[str] = ALL_KINDS
) -> list[Period]:
    kinds = set(kinds)
    out: list[Period] = []
    for y in sorted(set(years)):
        if "month" in kinds:
            out += [parse_period(f"{y}-{m:02d}") for m in range(1, 13)]
        if "quarter" in kinds:
            out += [parse_period(f"{y}-Q{q}") for q in range(1, 5)]
        if "year" in kinds:
            out.append(parse_period(str(y)))
    if "cycle" in kinds:
        out += [parse_period(f"{a}-{b}") for a, b in cycles]
    return out


async def recompute(
    session: AsyncSession,
    indicator: Indicator,
    terr: Territories | None = None,
    years: list[int] | None = None,
    kinds: Iterable[str] = ALL_KINDS,
) -> int:
    """Full recompute of an indicator: every territory of its ambito, every period of its plan."""
    return await recompute_many(session, [indicator], terr, years, kinds)


async def recompute_many(
    session: AsyncSession,
    indicators: list[Indicator],
    terr: Territories | None = None,
    years: list[int] | None = None,
    kinds: Iterable[str] = ALL_KINDS,
) -> int:
    """Full recompute of several indicators (a plan's, or all of them) with one scan of the
    facts for all their counts (:func:`.rollup.load_many`); each judged after."""
    todo = sorted(indicators, key=lambda i: i.indicator_id)
    await lock_definitions(session, exclusive=True)
    for indicator in todo:
        await lock_indicator(session, indicator)
    terr = terr or await Territories.load(session)
    cells = [await _recompute_cells(session, i, terr, years, kinds) for i in todo]
    formulas = [(k, c) for k, i in enumerate(todo) if (c := _compiled(i)) is not None]
    sums: dict[int, Rollup] = {}
    if formulas:
        ambiti = sorted({a for k, _ in formulas for scope, _ in cells[k] for a in scope.ambiti})
        loaded = await rollup.load_many(session, [c for _, c in formulas], ambiti)
        sums = {k: r for (k, _), r in zip(formulas, loaded, strict=True)}
    from pdz_indicators.targets import service as targets

    n = 0
    for k, indicator in enumerate(todo):
        if (loaded_sums := sums.get(k)) is not None and indicator.formula:
            ambiti = sorted({a for scope, _ in cells[k] for a in scope.ambiti})
            await loaded_sums.save(session, indicator.indicator_id, indicator.formula, ambiti)
        await compute_cells(
            session, indicator, cells[k], set_based=True, keep=False, sums=loaded_sums
        )
        n += len(cells[k])
    await targets.judge_indicators(session, todo, terr)
    return n


async def _recompute_cells(
    session: AsyncSession,
    indicator: Indicator,
    terr: Territories,
    years: list[int] | None,
    kinds: Iterable[str],
) -> list[tuple[Scope, Period]]:
    cycles = await _cycles(session, indicator)
    if years is None:
        if cycles:
            years = list(range(cycles[0][0], cycles[0][1] + 1))
        else:
            first, last = (
                await session.execute(select(func.min(col(_fact_at())), func.max(col(_fact_at()))))
            ).one()
            years = list(range(first.year, last.year + 1)) if first and last else []
    ambito = indicator.ambito_code
    scopes: list[Scope] = []
    if ambito:
        scopes = _territories_of(terr, ambito, None)
        scopes += [
            terr.scope(c) for c in sorted(terr.descendants(ambito)) if terr._kind(c) == "comune"
        ]
    else:
        scopes = [terr.scope(t.code) for t in terr.by_code.values()]
    return [(sc, p) for p in all_periods(years, cycles, kinds) for sc in scopes]


def _fact_at() -> Any:
    from pdz_indicators.facts.models import Fact

    return Fact.fact_at


# ------------------------------------------------------------------ reading, with suppression


def visible(principal: Principal, row: IndicatorValue) -> tuple[Decimal | None, str | None]:
    """The value a caller may see: small cells (1-4 people) only inside their own ambiti."""
    if row.small_cell and row.value is not None and not can_see_small_cells(principal, row.ambiti):
        return None, "suppressed"
    return row.value, row.reason


def can_see_small_cells(principal: Principal, ambiti: Iterable[str]) -> bool:
    ambiti = list(ambiti)
    return principal.is_platform_admin or (
        bool(ambiti) and all(a in principal.ambiti for a in ambiti)
    )


async def get_value(
    session: AsyncSession, indicator: Indicator, territory: str, period: Period
) -> IndicatorValue:
    row = await session.get(IndicatorValue, (indicator.indicator_id, territory, period.label))
    if row is None:
        terr = await Territories.load(session)
        row = await compute_cell(session, indicator, terr.scope(territory), period)
    return row


async def find_indicator(
    session: AsyncSession, code: str, principal: Principal | None = None
) -> Indicator | None:
    """The indicator with ``code``; when several ambiti use the code, the caller's first."""
    rows: list[Indicator] = list(
        (
            await session.execute(
                select(Indicator)
                .where(col(Indicator.code) == code)
                .order_by(col(Indicator.changed_at).desc())
            )
        )
        .scalars()
        .all()
    )
    if principal is not None:
        mine = [r for r in rows if r.ambito_code in principal.ambiti]
        if mine:
            return mine[0]
    return rows[0] if rows else None


# ------------------------------------------------------------------ series for the API

MAX_SERIES = 240


def labels_between(first: Period, last: Period) -> list[str]:
    """Every period label of ``first``'s kind from ``first`` to ``last`` (bounded)."""
    out: list[str] = []
    y, n = first.start.year, 0
    if first.kind == "cycle":
        return [first.label] if first.label == last.label else [first.label, last.label]
    while n < MAX_SERIES:
        if first.kind == "year":
            candidates = [str(y)]
        elif first.kind == "quarter":
            candidates = [f"{y}-Q{q}" for q in range(1, 5)]
        else:
            candidates = [f"{y}-{m:02d}" for m in range(1, 13)]
        for label in candidates:
            p = parse_period(label)
            if p.start >= first.start and p.start <= last.start:
                out.append(label)
        if y >= last.start.year:
            break
        y += 1
        n += 1
    return out[:MAX_SERIES]


async def series(
    session: AsyncSession, indicator: Indicator, territory: str, labels: list[str]
) -> list[IndicatorValue]:
    """Stored values for the labels; missing ones are computed now (and stored)."""
    if not labels:
        return []
    rows = (
        (
            await session.execute(
                select(IndicatorValue).where(
                    col(IndicatorValue.indicator_id) == indicator.indicator_id,
                    col(IndicatorValue.territory_code) == territory,
                    col(IndicatorValue.period).in_(labels),
                )
            )
        )
        .scalars()
        .all()
    )
    found = {r.period: r for r in rows}
    todo = [label for label in labels if label not in found]
    if todo:
        terr = await Territories.load(session)
        scope = terr.scope(territory)
        made = await compute_cells(session, indicator, [(scope, parse_period(x)) for x in todo])
        found.update({m.period: m for m in made})
    return [found[label] for label in labels]


async def list_indicators(
    session: AsyncSession,
    *,
    plan_id: uuid.UUID | None,
    ambito: str | None,
    q: str | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[Indicator], int]:
    query = select(Indicator)
    if plan_id is not None:
        query = query.where(col(Indicator.plan_id) == plan_id)
    if ambito is not None:
        query = query.where(col(Indicator.ambito_code) == ambito)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(col(Indicator.name).ilike(like), col(Indicator.code).ilike(like)))
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (
        (await session.execute(query.order_by(*order_by).limit(limit).offset(offset)))
        .scalars()
        .all()
    )
    return list(rows), int(total)


async def series_page(
    session: AsyncSession,
    indicator: Indicator,
    territory: str,
    labels: list[str],
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[IndicatorValue], int]:
    """One page of the stored values of ``series`` (call it first), ordered in SQL."""
    query = select(IndicatorValue).where(
        col(IndicatorValue.indicator_id) == indicator.indicator_id,
        col(IndicatorValue.territory_code) == territory,
        col(IndicatorValue.period).in_(labels),
    )
    return await paged(session, query, order_by, limit, offset)
