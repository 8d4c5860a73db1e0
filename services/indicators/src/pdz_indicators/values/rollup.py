# ruff: noqa: S608  (SQL text from fixed fragments and column counts; every value is bound)
"""Set-based computation of many cells: the facts are summed once per ambito, comune and month.

A cell's fact leaves are sums of those monthly sums: every period (month, quarter, year, plan
cycle) is a run of whole local months, and every territory is a set of ambiti, optionally
narrowed to one comune, exactly as the per-cell statement scopes the facts. So a full recompute
scans each fact type once instead of once per cell; PostgreSQL still evaluates every value
(the formula's arithmetic, reported values, population) from the summed leaves.
"""

from __future__ import annotations

import re
import uuid
from bisect import bisect_left
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, TextClause, Uuid, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import TypeEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_indicators.expressions.sql import (
    CONTEXT_TYPES,
    TOTAL,
    Compiled,
    Leaf,
    SumPart,
    pairing,
    summed_cells,
)
from pdz_indicators.values.periods import Period
from pdz_shared.db import Statement, driver, utcnow

Key = tuple[str, str | None]  # (ambito, comune)


def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


@dataclass
class Sums:
    """One statement's rows: per (ambito, comune) and per ambito, month → [n, columns...]."""

    columns: list[str]
    by_key: dict[Key, dict[int, list[int]]] = field(default_factory=dict)
    by_ambito: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    latest_key: dict[Key, datetime] = field(default_factory=dict)
    latest_ambito: dict[str, datetime] = field(default_factory=dict)
    # Of each bucket read by total (by id; the bucket kept with them): its running totals.
    _runs: dict[int, tuple[dict[int, list[int]], list[int], list[list[int]]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def add(self, row: Any) -> None:
        self._runs.clear()
        values = [int(row["n"])] + [int(row[c] or 0) for c in self.columns]
        m = month_index(row["m"])
        for bucket in (
            self.by_key.setdefault((row["a"], row["k"]), {}),
            self.by_ambito.setdefault(row["a"], {}),
        ):
            have = bucket.get(m)
            if have is None:
                bucket[m] = list(values)
            else:
                for i, v in enumerate(values):
                    have[i] += v
        w = row.get("w")
        if w is not None:
            key: Key = (row["a"], row["k"])
            if key not in self.latest_key or w > self.latest_key[key]:
                self.latest_key[key] = w
            if row["a"] not in self.latest_ambito or w > self.latest_ambito[row["a"]]:
                self.latest_ambito[row["a"]] = w

    def months(self, ambiti: Iterable[str], comune: str | None) -> list[dict[int, list[int]]]:
        if comune is None:
            return [self.by_ambito.get(a, {}) for a in ambiti]
        return [self.by_key.get((a, comune), {}) for a in ambiti]

    def total(self, ambiti: Iterable[str], comune: str | None, period: Period) -> list[int]:
        """The sums of the months of ``period`` (whole months) in these buckets: each the
        difference of two running totals of its months (:meth:`_running`)."""
        width = 1 + len(self.columns)
        out = [0] * width
        first, last = month_index(period.start), month_index(period.end)
        for bucket in self.months(ambiti, comune):
            if not bucket:
                continue
            months, running = self._running(bucket)
            lo, hi = bisect_left(months, first), bisect_left(months, last)
            if lo < hi:
                top, bottom = running[hi], running[lo]
                for i in range(width):
                    out[i] += top[i] - bottom[i]
        return out

    def _running(self, bucket: dict[int, list[int]]) -> tuple[list[int], list[list[int]]]:
        """A bucket's months in order and the running totals before each (and after the
        last); kept until the sums change."""
        found = self._runs.get(id(bucket))
        if found is None or found[0] is not bucket:
            months = sorted(bucket)
            width = 1 + len(self.columns)
            running = [[0] * width]
            for m in months:
                running.append([x + y for x, y in zip(running[-1], bucket[m], strict=True)])
            found = self._runs[id(bucket)] = (bucket, months, running)
        return found[1], found[2]

    def latest(self, ambiti: Iterable[str], comune: str | None) -> datetime | None:
        found = [
            w
            for w in (
                self.latest_ambito.get(a) if comune is None else self.latest_key.get((a, comune))
                for a in ambiti
            )
            if w is not None
        ]
        return max(found) if found else None


@dataclass
class Rollup:
    """The summed facts of one indicator's formula, for the ambiti of a set of cells."""

    parts: list[tuple[list[Leaf], Sums]]

    @staticmethod
    def _sums(part: SumPart) -> Sums:
        return Sums(["d"] if part.average else [leaf.name for leaf in part.leaves])

    @classmethod
    async def load(cls, session: AsyncSession, c: Compiled, ambiti: list[str]) -> Rollup:
        """From the facts: one scan per part."""
        parts: list[tuple[list[Leaf], Sums]] = []
        for part in c.sum_parts:
            sums = cls._sums(part)
            async with scanning(session):
                found = await session.execute(part.by_ambiti, {"r_ambiti": ambiti})
                for row in found.mappings():
                    sums.add(row)
            parts.append((part.leaves, sums))
        return cls(parts)

    async def save(
        self,
        session: AsyncSession,
        indicator_id: uuid.UUID,
        formula: str,
        ambiti: list[str],
    ) -> None:
        """Replaces the indicator's kept sums with these (complete for ``ambiti``): a row per
        comune (``''`` for facts without one) and per ambito (:data:`TOTAL`: its total) and
        month."""
        await session.execute(_DELETE, {"i": indicator_id})
        rows: list[dict[str, Any]] = []
        for i, (_, sums) in enumerate(self.parts):
            buckets = [
                (a, k, sums.latest_key.get((a, k)), ms) for (a, k), ms in sums.by_key.items()
            ]
            buckets += [
                (a, TOTAL, sums.latest_ambito.get(a), ms) for a, ms in sums.by_ambito.items()
            ]
            for a, k, w, months in buckets:
                for m, v in months.items():
                    row = _json(indicator_id, i, a, k, m, v)
                    row["w"] = w.isoformat() if w is not None else None
                    rows.append(row)
        for start in range(0, len(rows), 5000):
            await session.execute(_UPSERT, {"rows": rows[start : start + 5000]})
        await session.execute(
            _STATE, {"i": indicator_id, "f": formula, "a": sorted(ambiti), "t": utcnow()}
        )

    def cell(self, ambiti: tuple[str, ...], comune: str | None, period: Period) -> dict[str, Any]:
        """``w`` and the ``r_<leaf>`` columns of :meth:`Compiled.rollup_statement`."""
        out: dict[str, Any] = {}
        watermark: datetime | None = None
        for leaves, sums in self.parts:
            totals = sums.total(ambiti, comune, period)
            if leaves and leaves[0].kind == "people":
                people, avg = leaves
                out[f"r_{people.name}"] = totals[0]
                out[f"r_{avg.name}"] = totals[1] if totals[0] else None
                continue
            for i, leaf in enumerate(leaves, start=1):
                out[f"r_{leaf.name}"] = totals[i] if totals[0] else None
            w = sums.latest(ambiti, comune)
            if w is not None and (watermark is None or w > watermark):
                watermark = w
        out["w"] = watermark.isoformat() if watermark is not None else None
        return out


SCAN_WORK_MEM = "32MB"


@asynccontextmanager
async def scanning(session: AsyncSession) -> AsyncIterator[None]:
    """Settings for a statement that reads the facts of whole ambiti, restored after it (in
    this transaction): memory enough to group (or sort a case's facts) in memory rather than
    spill a sort of every row to disk, and no JIT compilation (seconds for such plans,
    more than it saves), and each plan made for its parameters (an event's transaction plans
    its small statements once: :func:`.service.lock_definitions`)."""
    old = (await session.execute(_SETTINGS)).one()
    await session.execute(_SET, {"w": SCAN_WORK_MEM, "j": "off", "p": "auto"})
    yield
    # Not on an error: the transaction is aborted, and its settings go with it.
    await session.execute(_SET, {"w": old[0], "j": old[1], "p": old[2]})


_SETTINGS = text(
    "SELECT current_setting('work_mem'), current_setting('jit'), current_setting('plan_cache_mode')"
)
_SET = text(
    "SELECT set_config('work_mem', :w, true), set_config('jit', :j, true), "
    "set_config('plan_cache_mode', :p, true)"
)


def _json(
    indicator_id: uuid.UUID, part: int, a: str, k: str | None, m: int, v: list[int]
) -> dict[str, Any]:
    return {
        "indicator_id": str(indicator_id),
        "part": part,
        "ambito_code": a,
        "comune_code": k or "",
        "month": date(m // 12, m % 12 + 1, 1).isoformat(),
        "n": v[0],
        "w": None,
        "v": v[1:],
    }


async def states(
    session: AsyncSession, indicator_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, set[str]]]:
    """Of each of the indicators that has kept sums: the formula and the ambiti they were
    built for."""
    rows = await _GET_STATES.fetch(await driver(session), {"i": indicator_ids})
    return {r["indicator_id"]: (r["formula"], set(r["ambiti"])) for r in rows}


async def apply_fact(
    session: AsyncSession,
    c: Compiled,
    indicator_id: uuid.UUID,
    fact_id: int,
    fact_type: str,
    case_id: uuid.UUID,
) -> list[dict[str, Any]]:
    """What one new fact adds to the kept sums: its own row to its type's part, and to an
    average the change of its case's pairs (a new start fact can pair with the case's end
    facts), each also to its ambito's total (:data:`TOTAL`). Rows for :func:`add_rows`, to
    store before the sums are read."""
    return await apply_facts(session, [(indicator_id, c)], fact_id, fact_type, case_id)


async def apply_facts(
    session: AsyncSession,
    formulas: list[tuple[uuid.UUID, Compiled]],
    fact_id: int,
    fact_type: str,
    case_id: uuid.UUID,
) -> list[dict[str, Any]]:
    """:func:`apply_fact` of one new fact for several indicators (their ids and formulas),
    with one statement: the parts' ``by_fact`` reads joined by ``UNION ALL``."""
    joined = _joined(fact_type, tuple(c for _, c in formulas))
    if joined is None:
        return []
    stmt, per_fact, branches = joined
    by = {"fact": fact_id, "case": case_id, "all": 0, "skip": fact_id}
    rows: list[dict[str, Any]] = []
    delta: dict[tuple[int, int, str, str | None, int], list[int]] = {}
    found = await session.execute(stmt.bindparams(**{name: by[w] for name, w in per_fact}))
    for b, a, k, m, n, w, v in found:
        j, i, sign = branches[b]
        if sign == 0:  # a count part: the fact's own row
            row = _json(formulas[j][0], i, a, k, month_index(m), [int(n), *map(int, v)])
            row["w"] = w.isoformat()
            rows.append(row)
            continue
        have = delta.setdefault((j, i, a, k, month_index(m)), [0, 0])
        have[0] += sign * int(n)
        have[1] += sign * int(v[0])
    for (j, i, a, k, m), (n, d) in delta.items():
        if n or d:
            rows.append(_json(formulas[j][0], i, a, k, m, [n, d]))
    return rows + [{**row, "comune_code": TOTAL} for row in rows]  # and to the ambito's


# Per fact type and formulas (by id; the entry holds them, so no id is reused while it is
# kept): the statement of :func:`apply_facts`, its parameters to bind per fact (name and
# ``fact``, ``case``, ``all`` for 0 or ``skip`` for the fact id) and, per branch, the formula,
# the part and the sign (0 a count part; 1 and -1 an average with and without the new fact).
Joined = tuple[TextClause, list[tuple[str, str]], list[tuple[int, int, int]]]
_JOINED: dict[tuple[str, tuple[int, ...]], tuple[tuple[Compiled, ...], Joined | None]] = {}
_PARAM = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


def _joined(fact_type: str, formulas: tuple[Compiled, ...]) -> Joined | None:
    key = (fact_type, tuple(id(c) for c in formulas))
    if key in _JOINED:
        return _JOINED[key][1]
    selects: list[str] = []
    params: dict[str, Any] = {}
    kinds: dict[str, TypeEngine[Any]] = {}
    per_fact: list[tuple[str, str]] = []
    branches: list[tuple[int, int, int]] = []
    for j, c in enumerate(formulas):
        for i, part in enumerate(c.sum_parts):
            sql, values, types = part.fact_sql
            if not part.average:
                if part.fact != fact_type:
                    continue
                cols = ", ".join(f"q.{leaf.name}" for leaf in part.leaves)
                variants = [(0, "q.w", f"CAST(ARRAY[{cols}] AS BIGINT[])", {"r_fact": "fact"})]
            else:
                if fact_type not in (part.fact, part.start):
                    continue
                none, d = "CAST(NULL AS TIMESTAMPTZ)", "CAST(ARRAY[q.d] AS BIGINT[])"
                variants = [
                    (1, none, d, {"r_case": "case", "r_skip": "all"}),
                    (-1, none, d, {"r_case": "case", "r_skip": "skip"}),
                ]
            for sign, w, v, bound in variants:
                b = len(branches)
                branches.append((j, i, sign))
                prefix = f"b{b}_"
                renamed = _PARAM.sub(f":{prefix}\\1", sql)
                selects.append(
                    f"SELECT {b} AS b, q.a, q.k, q.m, q.n, {w} AS w, {v} AS v FROM ({renamed}) q"
                )
                for name in set(_PARAM.findall(sql)):
                    kinds[prefix + name] = types[name]
                    if name in bound:
                        per_fact.append((prefix + name, bound[name]))
                    else:
                        params[prefix + name] = values[name]
    joined: Joined | None = None
    if selects:
        stmt = text(" UNION ALL ".join(selects))
        stmt = stmt.bindparams(*(bindparam(k, type_=t) for k, t in kinds.items()))
        joined = (stmt.bindparams(**params), per_fact, branches)
    if len(_JOINED) >= 256:
        _JOINED.clear()
    _JOINED[key] = (formulas, joined)
    return joined


async def add_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Adds rows of :func:`apply_fact` (of any facts and indicators) to the kept sums, in one
    statement: rows with the same key summed first (a statement updates a row once)."""
    merged = _merged(rows)
    if merged:
        await session.execute(_UPSERT, {"rows": merged})


def _merged(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of :func:`apply_fact` with the same key summed."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["indicator_id"], row["part"], row["ambito_code"], row["comune_code"])
        have = merged.get((*key, row["month"]))
        if have is None:
            merged[(*key, row["month"])] = {**row, "v": list(row["v"])}
            continue
        have["n"] += row["n"]
        have["v"] = [x + y for x, y in zip(have["v"], row["v"], strict=True)]
        if row["w"] is not None and (have["w"] is None or _at(row["w"]) > _at(have["w"])):
            have["w"] = row["w"]
    return list(merged.values())


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


_ROW_COLUMNS = (
    "indicator_id UUID, part INTEGER, ambito_code TEXT, comune_code TEXT, month DATE, n BIGINT, "
    "w TIMESTAMPTZ, v BIGINT[]"
)
_UPSERT_SQL = (
    "INSERT INTO indicator_fact_sum AS s (indicator_id, part, ambito_code, comune_code, month, "
    "n, w, v) SELECT r.indicator_id, r.part, r.ambito_code, r.comune_code, r.month, r.n, r.w, "
    f"r.v FROM jsonb_to_recordset(CAST(:rows AS JSONB)) AS r({_ROW_COLUMNS}) "
    "ON CONFLICT (indicator_id, part, ambito_code, comune_code, month) "
    "DO UPDATE SET n = s.n + excluded.n, w = greatest(s.w, excluded.w), "
    "v = ARRAY(SELECT x + y FROM unnest(s.v, excluded.v) WITH ORDINALITY AS t(x, y, o) "
    "ORDER BY o)"
)
_UPSERT = text(_UPSERT_SQL).bindparams(bindparam("rows", type_=JSONB()))
_DELETE = text("DELETE FROM indicator_fact_sum WHERE indicator_id = :i")


# Of a set of formulas (by id; the entry holds them, so no id is reused while it is kept): the
# statement of :func:`summed_values` and the keys of a cell it reads.
_SUMMED: dict[tuple[int, ...], tuple[tuple[Compiled, ...], TextClause, tuple[str, ...]]] = {}


def summed_values(
    work: list[tuple[uuid.UUID, Compiled]], cells: list[dict[str, Any]], rows: list[dict[str, Any]]
) -> TextClause:
    """The values of cells of several indicators (their ids and formulas; ``cells``: the
    ``cells`` of :func:`.sql.summed_cells`, ``g`` the index in ``work``) from their kept sums
    (complete for the cells' ambiti), in one statement, with ``rows`` of :func:`apply_facts`
    (of any indicators) added to the kept sums first (as :func:`add_rows`). Its rows: ``g``,
    ``idx``, ``value``, ``watermark``, ``li``, ``ln`` (:meth:`Compiled.summed_branch`)."""
    formulas = tuple(c for _, c in work)
    key = tuple(id(c) for c in formulas)
    found = _SUMMED.get(key)
    if found is None:
        if len(_SUMMED) >= 256:
            _SUMMED.clear()
        found = _SUMMED[key] = (formulas, *_summed_union(formulas))
    _, stmt, read = found
    return stmt.bindparams(
        rows=_merged(rows),
        i=[i for i, _ in work],
        a=sorted({a for cell in cells for a in cell["t_ambiti"]}),
        k=[TOTAL, *sorted({cell["t_comune"] for cell in cells if cell["t_comune"]})],
        cells=[{k: cell[k] for k in read} for cell in cells],
    )


# What the statement of :func:`summed_values` reads of every cell (the others it reads only if
# a formula does: a territory's comuni can be hundreds of codes, per cell).
_CELL_READ = ("g", "idx", "t_ambiti", "t_comune", "p_from", "p_to")


def _summed_union(formulas: tuple[Compiled, ...]) -> tuple[TextClause, tuple[str, ...]]:
    """:func:`summed_values`' statement: the upsert of ``:rows`` as a data-modifying WITH (it
    runs to completion, and the statement reads the table as it was before it: the rows are
    read with it), the kept sums of the indicators ``:i`` in the ambiti ``:a`` of the comuni
    ``:k`` (with :data:`TOTAL`, the ambiti's totals) (``fact_sums``) with their latest ``w``
    (``fact_latest``), the cells' sums (:func:`.sql.summed_cells`), then a ``UNION ALL`` of the
    formulas' :meth:`Compiled.summed_branch`; and the keys of a cell it reads (:data:`_CELL_READ`
    and the context the formulas read)."""
    width = max((c.sum_width for c in formulas), default=0)
    v = "".join(f", v[{j}] AS v{j}" for j in range(1, width + 1))
    fact_sums = (
        f"SELECT indicator_id AS i, part, ambito_code AS a, comune_code AS k, month AS m, n, w{v} "
        "FROM indicator_fact_sum WHERE indicator_id = ANY(:i) AND ambito_code = ANY(:a) "
        "AND comune_code = ANY(:k) UNION ALL SELECT r.indicator_id, r.part, r.ambito_code, "
        f"r.comune_code, r.month, r.n, r.w{v.replace('v[', 'r.v[')} "
        f"FROM jsonb_to_recordset(CAST(:rows AS JSONB)) AS r({_ROW_COLUMNS}) "
        "WHERE r.indicator_id = ANY(:i) AND r.ambito_code = ANY(:a) AND r.comune_code = ANY(:k)"
    )
    latest = "SELECT i, a, k, max(w) AS w FROM fact_sums GROUP BY i, a, k"
    cells = summed_cells(max((len(c.sum_parts) for c in formulas), default=0), width)
    sqls: list[str] = []
    params: dict[str, Any] = {}
    types: dict[str, TypeEngine[Any]] = {
        "rows": JSONB(),
        "i": ARRAY(Uuid()),
        "a": ARRAY(String()),
        "k": ARRAY(String()),
        "cells": JSONB(),
    }
    for g, c in enumerate(formulas):
        sql, p, t = c.summed_branch(g)
        sqls.append(sql)
        params.update(p)
        types.update(t)
    branches = " UNION ALL ".join(sqls)
    stmt = text(
        f"WITH added AS ({_UPSERT_SQL}), fact_sums AS ({fact_sums}), "
        f"fact_latest AS MATERIALIZED ({latest}), {cells} {branches}"
    )
    stmt = stmt.bindparams(*(bindparam(k, type_=t) for k, t in types.items()))
    context = tuple(
        k for k in CONTEXT_TYPES if k not in _CELL_READ and re.search(rf"\bc\.{k}\b", branches)
    )
    return stmt.bindparams(**params), _CELL_READ + context


_STATE = text(
    "INSERT INTO indicator_fact_sum_state (indicator_id, formula, ambiti, built_at) "
    "VALUES (:i, :f, :a, :t) ON CONFLICT (indicator_id) DO UPDATE SET "
    "formula = excluded.formula, ambiti = excluded.ambiti, built_at = excluded.built_at"
).bindparams(bindparam("a", type_=ARRAY(String())))
_GET_STATES = Statement(
    "SELECT indicator_id, formula, ambiti FROM indicator_fact_sum_state "
    "WHERE indicator_id = ANY(CAST(:i AS uuid[]))"
)


async def load_many(
    session: AsyncSession, formulas: list[Compiled], ambiti: list[str]
) -> list[Rollup]:
    """:meth:`Rollup.load` for several formulas with one scan of the facts for all their fact
    types (each count a ``FILTER`` column, read only in its type's groups); averages apart."""
    types = sorted({p.fact for c in formulas for p in c.sum_parts if not p.average})
    params: dict[str, Any] = {"r_types": types, "r_ambiti": ambiti}
    kinds: dict[str, TypeEngine[Any]] = {"r_types": ARRAY(String()), "r_ambiti": ARRAY(String())}
    filters: list[str] = []
    for j, c in enumerate(formulas):
        params.update({f"j{j}{k}": v for k, v in c.params.items()})
        kinds.update({f"j{j}{k}": t for k, t in c.types.items()})
        for part in c.sum_parts:
            if part.average:
                continue
            t = f"j{j}t{len(filters)}"
            params[t], kinds[t] = part.fact, String()
            for leaf in part.leaves:
                cond = re.sub(r"(?<!:):(x\d+)\b", rf":j{j}\1", leaf.cond)
                filters.append(
                    f", count(*) FILTER (WHERE CASE WHEN f.fact_type = :{t} THEN {cond} END) "
                    f"AS j{j}_{leaf.name}"
                )
    rows: list[Any] = []
    if types:
        month = "CAST(date_trunc('month', f.fact_at AT TIME ZONE 'Europe/Rome') AS DATE)"
        sql = (
            f"SELECT f.fact_type AS t, f.ambito_code AS a, f.comune_code AS k, {month} AS m, "
            f"count(*) AS n, max(f.occurred_at) AS w{''.join(filters)} FROM fact f "
            "WHERE f.fact_type = ANY(:r_types) AND f.ambito_code = ANY(:r_ambiti) "
            "GROUP BY 1, 2, 3, 4"
        )
        async with scanning(session):
            rows = list((await session.execute(_bind(sql, params, kinds))).mappings())
    # Averages with the same start and end facts: one pairing of the facts for all of them.
    pairs: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    reads_start: set[tuple[str, str]] = set()
    for j, c in enumerate(formulas):
        for part in c.sum_parts:
            if part.average and part.start:
                people = part.leaves[0]
                cond = re.sub(r"(?<!:):(x\d+)\b", rf":j{j}\1", people.cond)
                pairs.setdefault((part.start, part.fact), []).append(
                    (f"j{j}_n_{people.name}", f"j{j}_d_{people.name}", cond)
                )
                if people.reads_start:
                    reads_start.add((part.start, part.fact))
    paired: dict[tuple[str, str], list[Any]] = {}
    for (start, end), columns in pairs.items():
        sql = pairing(columns, (start, end) in reads_start)
        more = {"r_start": start, "r_end": end}
        more_kinds: dict[str, TypeEngine[Any]] = {"r_start": String(), "r_end": String()}
        async with scanning(session):
            result = await session.execute(_bind(sql, {**params, **more}, {**kinds, **more_kinds}))
            paired[(start, end)] = list(result.mappings().all())
    out: list[Rollup] = []
    for j, c in enumerate(formulas):
        parts: list[tuple[list[Leaf], Sums]] = []
        for part in c.sum_parts:
            sums = Rollup._sums(part)
            if part.average and part.start:
                name = part.leaves[0].name
                for row in paired[(part.start, part.fact)]:
                    n, d = row[f"j{j}_n_{name}"], row[f"j{j}_d_{name}"]
                    if n:
                        sums.add({"a": row["a"], "k": row["k"], "m": row["m"], "n": n, "d": d})
            else:
                for row in rows:
                    if row["t"] == part.fact:
                        mine = {leaf.name: row[f"j{j}_{leaf.name}"] for leaf in part.leaves}
                        sums.add({**row, **mine})
            parts.append((part.leaves, sums))
        out.append(Rollup(parts))
    return out


def _bind(sql: str, params: dict[str, Any], kinds: dict[str, TypeEngine[Any]]) -> TextClause:
    used = set(re.findall(r"(?<!:):([a-z_][a-z0-9_]*)", sql))
    stmt = text(sql).bindparams(*(bindparam(k, type_=t) for k, t in kinds.items() if k in used))
    return stmt.bindparams(**{k: v for k, v in params.items() if k in used})
