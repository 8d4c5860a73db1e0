# ruff: noqa: S608  (SQL text is built only from fixed fragments; every value is bound)
"""Compiles a checked parse tree to one PostgreSQL statement with bound parameters only.

Every fact function becomes a scalar aggregate subquery over the ``fact``, ``reported_value``
or ``population`` table; the arithmetic around them becomes SQL arithmetic over those columns.
No text from the formula is ever spliced into the SQL: literals, fact types and attribute paths
(already checked against the catalogue) travel as bound parameters.

The statement expects these context parameters, bound by the caller for one territory and period:
``t_code`` (the territory), ``t_ambiti`` (its ambiti), ``t_comune`` (the comune, or NULL),
``t_comuni`` (its comuni), ``p_from``/``p_to`` (local period bounds, timestamps),
``p_label`` (the period label, e.g. 2025-Q1) and ``p_year``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    Numeric,
    String,
    TextClause,
    Uuid,
    bindparam,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import TypeEngine

from pdz_indicators.expressions.catalog import FACT_TYPES
from pdz_indicators.expressions.syntax import (
    Attribute,
    AvgDays,
    Binary,
    Boolean,
    Call,
    Count,
    Node,
    Number,
    Population,
    Reported,
    Unary,
)
from pdz_indicators.expressions.syntax import String as StringNode

MissingPolicy = Literal["skip_if_any_missing", "skip_if_all_missing", "zero"]
LeafKind = Literal["count", "avg_days", "reported", "population", "people"]

CONTEXT_TYPES: dict[str, TypeEngine[Any]] = {
    "t_code": String(),
    "t_ambiti": ARRAY(String()),
    "t_comune": String(),
    "t_comuni": ARRAY(String()),
    "p_from": DateTime(timezone=True),
    "p_to": DateTime(timezone=True),
    "p_label": String(),
    "p_year": Integer(),
}

LOCAL = "'Europe/Rome'"
_CONTEXT = re.compile(r"(?<!:):(" + "|".join(CONTEXT_TYPES) + r")\b")


def _scope(alias: str) -> str:
    return (
        f"{alias}.ambito_code = ANY(:t_ambiti) AND "
        f"(CAST(:t_comune AS VARCHAR) IS NULL OR {alias}.comune_code = :t_comune)"
    )


# Of an end fact's case, the start fact it pairs with: the latest at or before its local day
# (the last by id of starts at the same instant).
LATEST_START = "ORDER BY s0.fact_at DESC, s0.id DESC LIMIT 1"


def pairing(averages: list[tuple[str, str, str]], reads_start: bool, matching: bool = False) -> str:
    """Every end fact (``:r_end``, in ``:r_ambiti``) paired with its start fact (``:r_start``)
    as the per-cell statement pairs them (:data:`LATEST_START`), set-based: the facts of both
    types in one sort by case, not an index lookup per end fact. ``SELECT a, k, m`` (the end's
    ambito, comune and local month) and, per ``(n, d, cond)`` of ``averages``, ``n`` the pairs
    whose end ``e`` and start ``s`` satisfy ``cond``, ``d`` the sum of their days; grouped by
    ``a, k, m`` (only the groups with ``n`` > 0 of the first if ``matching``).

    A case's facts in order of local day, on the same day starts before ends, then of instant
    and id: an end's start is the last start before it (the latest at or before its day; of
    those at the same instant, the last by id), the running ``max`` of the starts' instants.
    When a condition reads the start's attributes (``reads_start``) they are the first row's
    of the run of facts that starts with it (runs numbered by a running count of starts);
    otherwise each condition is evaluated as each end fact is read, so the sort carries a
    flag instead of the attributes.
    """
    day = "CAST(({x}.fact_at AT TIME ZONE " + LOCAL + ") AS DATE)"
    month = "CAST(date_trunc('month', e.fact_at AT TIME ZONE " + LOCAL + ") AS DATE)"
    order = "ORDER BY x.day, x.en, x.fact_at, x.id"
    running = f"OVER (PARTITION BY x.case_id {order} ROWS UNBOUNDED PRECEDING)"
    common = f"f.id, f.case_id, f.fact_at, {day.format(x='f')} AS day"
    ends = "FROM fact e WHERE e.fact_type = :r_end AND e.ambito_code = ANY(:r_ambiti)"
    starts = "FROM fact f WHERE f.fact_type = :r_start"
    days = f"{day.format(x='e')} - {day.format(x='s')}"
    if not reads_start:
        flags = "".join(f", {cond} AS c{i}" for i, (_, _, cond) in enumerate(averages))
        nulls = "".join(f", CAST(NULL AS BOOLEAN) AS c{i}" for i in range(len(averages)))
        facts = (
            f"SELECT {common}, FALSE AS en, CAST(NULL AS VARCHAR) AS a, "
            f"CAST(NULL AS VARCHAR) AS k, CAST(NULL AS DATE) AS m{nulls} {starts} UNION ALL "
            f"SELECT {common.replace('f.', 'e.')}, TRUE, e.ambito_code, e.comune_code, "
            f"{month}{flags} {ends}"
        )
        columns = "".join(
            f", count(*) FILTER (WHERE e.c{i}) AS {n}, sum({days}) FILTER (WHERE e.c{i}) AS {d}"
            for i, (n, d, _) in enumerate(averages)
        )
        sql = (
            f"SELECT e.a, e.k, e.m{columns} FROM (SELECT x.*, max(CASE WHEN NOT x.en THEN "
            f"x.fact_at END) {running} AS s_at FROM ({facts}) x) e "
            "CROSS JOIN LATERAL (SELECT e.s_at AS fact_at) s "
            "WHERE e.en AND e.s_at IS NOT NULL GROUP BY 1, 2, 3"
        )
        first = "e.c0"
    else:
        facts = (
            f"SELECT {common}, FALSE AS en, f.ambito_code, f.comune_code, f.attrs {starts} "
            f"UNION ALL SELECT {common.replace('f.', 'e.')}, TRUE, e.ambito_code, e.comune_code, "
            f"e.attrs {ends}"
        )
        columns = "".join(
            f", count(*) FILTER (WHERE {cond}) AS {n}, sum({days}) FILTER (WHERE {cond}) AS {d}"
            for n, d, cond in averages
        )
        sql = (
            f"SELECT e.ambito_code AS a, e.comune_code AS k, {month} AS m{columns} FROM ("
            "SELECT x.*, first_value(CASE WHEN x.en THEN NULL ELSE x.fact_at END) OVER w AS s_at, "
            f"first_value(x.attrs) OVER w AS s_attrs FROM (SELECT x.*, count(*) FILTER "
            f"(WHERE NOT x.en) {running} AS run FROM ({facts}) x) x "
            f"WINDOW w AS (PARTITION BY x.case_id, x.run {order})) e "
            "CROSS JOIN LATERAL (SELECT e.s_at AS fact_at, e.s_attrs AS attrs) s "
            "WHERE e.en AND e.s_at IS NOT NULL GROUP BY 1, 2, 3"
        )
        first = averages[0][2]
    return sql + (f" HAVING count(*) FILTER (WHERE {first}) > 0" if matching else "")


@dataclass
class Leaf:
    name: str
    kind: LeafKind
    sql: str
    # For the fact leaves (count, avg_days, people), what a set-based computation needs: the
    # fact type counted (the end fact of avg_days), its condition on a fact row (alias ``f``;
    # ``e`` and ``s`` for avg_days) and, for avg_days and people, the start fact type.
    fact: str | None = None
    cond: str = "TRUE"
    start: str | None = None
    pair: str | None = None  # people: the name of its avg_days leaf
    reads_start: bool = False  # avg_days, people: the condition reads the start fact (``s``)


@dataclass
class Compiled:
    leaves: list[Leaf]
    value_sql: str
    params: dict[str, Any]
    types: dict[str, TypeEngine[Any]]
    fact_types: list[str] = field(default_factory=list)

    def statement(self) -> TextClause:
        """``SELECT l0, l1, …, value, watermark`` for one territory and period."""
        leaves = ", ".join(f"{leaf.sql} AS {leaf.name}" for leaf in self.leaves) or "1 AS l_none"
        cols = "".join(f"{leaf.name}, " for leaf in self.leaves)
        sql = (
            f"WITH leaves AS (SELECT {leaves}) "
            f"SELECT {cols}{self.value_sql} AS value, "
            "(SELECT max(w.occurred_at) FROM fact w WHERE w.fact_type = ANY(:c_fact_types) "
            f"AND {_scope('w')}) AS watermark FROM leaves"
        )
        params = {**self.params, "c_fact_types": self.fact_types}
        types = {**CONTEXT_TYPES, **self.types, "c_fact_types": ARRAY(String())}
        used = set(re.findall(r"(?<!:):([a-z_][a-z0-9_]*)", sql))
        stmt = text(sql).bindparams(*(bindparam(k, type_=t) for k, t in types.items() if k in used))
        return stmt.bindparams(**{k: v for k, v in params.items() if k in used})

    def batch_statement(self, cells: list[dict[str, Any]]) -> TextClause:
        """One statement for many territory x period cells: ``idx, l0, …, value, watermark``.

        The cells travel as one JSONB parameter, unpacked by ``jsonb_to_recordset``; each
        context parameter of the single-cell SQL becomes a column of the cell row.
        """
        leaves = ", ".join(f"{leaf.sql} AS {leaf.name}" for leaf in self.leaves) or "1 AS l_none"
        cols = "".join(f"l.{leaf.name}, " for leaf in self.leaves)
        value = self.value_sql
        for leaf in self.leaves:
            value = re.sub(rf"\b{leaf.name}\b", f"l.{leaf.name}", value)
        sql = (
            "SELECT c.idx, "
            f"{cols}{value} AS value, "
            "(SELECT max(w.occurred_at) FROM fact w WHERE w.fact_type = ANY(:c_fact_types) "
            f"AND {_scope('w')}) AS watermark "
            f"FROM jsonb_to_recordset(CAST(:c_cells AS JSONB)) AS c({_CELL_COLUMNS}) "
            f"CROSS JOIN LATERAL (SELECT {leaves}) AS l ORDER BY c.idx"
        )
        sql = _CONTEXT.sub(lambda m: "c." + m.group(1), sql)
        params = {**self.params, "c_fact_types": self.fact_types, "c_cells": cells}
        types = {**self.types, "c_fact_types": ARRAY(String()), "c_cells": JSONB()}
        used = set(re.findall(r"(?<!:):([a-z_][a-z0-9_]*)", sql))
        stmt = text(sql).bindparams(*(bindparam(k, type_=t) for k, t in types.items() if k in used))
        return stmt.bindparams(**{k: v for k, v in params.items() if k in used})

    def _rollup_parts(self, cells: str | None = None) -> tuple[str, str, list[str], list[str]]:
        """The parts of a statement over cells whose fact leaves are already summed: the value
        expression, the ``FROM`` of the cells (alias ``c``) with their leaves (alias ``l``),
        and the integer (count, people) and numeric leaves as ``l.<leaf>``. ``cells``: the
        ``FROM`` item of the cells (alias ``c``: the context columns, ``w`` and the ``r_<leaf>``
        columns of :meth:`rollup_statement`); by default the JSONB parameter ``:c_cells``."""
        exprs: list[str] = []
        cols: list[str] = []
        ints: list[str] = []
        nums: list[str] = []
        for leaf in self.leaves:
            if leaf.kind in ("count", "people"):
                cols.append(f"r_{leaf.name} BIGINT")
                exprs.append(f"c.r_{leaf.name} AS {leaf.name}")
                ints.append(f"l.{leaf.name}")
            elif leaf.kind == "avg_days":
                people = next(p.name for p in self.leaves if p.pair == leaf.name)
                cols.append(f"r_{leaf.name} BIGINT")
                exprs.append(
                    f"CAST(c.r_{leaf.name} AS NUMERIC) / CAST(NULLIF(c.r_{people}, 0) AS NUMERIC)"
                    f" AS {leaf.name}"
                )
                nums.append(f"l.{leaf.name}")
            else:
                exprs.append(f"{leaf.sql} AS {leaf.name}")
                nums.append(f"l.{leaf.name}")
        value = self.value_sql
        for leaf in self.leaves:
            value = re.sub(rf"\b{leaf.name}\b", f"l.{leaf.name}", value)
        if cells is None:
            cells = (
                f"jsonb_to_recordset(CAST(:c_cells AS JSONB)) AS c({_CELL_COLUMNS}, w TIMESTAMPTZ"
                + "".join(f", {col}" for col in cols)
                + ")"
            )
        leaves = ", ".join(exprs) or "1 AS l_none"
        source = f"FROM {cells} CROSS JOIN LATERAL (SELECT {leaves}) AS l"
        return value, source, ints, nums

    def rollup_statement(self, cells: list[dict[str, Any]]) -> TextClause:
        """Like :meth:`batch_statement`, with the fact leaves already summed per cell.

        Each cell row carries ``w`` (the watermark) and, per fact leaf, ``r_<leaf>``: the count
        (NULL when the cell has no fact of the type), the people of an average, or the sum of an
        average's days (NULL without people). The average is that sum over the people, as
        ``avg`` computes it; the other leaves (reported values, population) are evaluated per
        cell as in the batch statement.
        """
        value, source, _, _ = self._rollup_parts()
        out = "".join(f"l.{leaf.name}, " for leaf in self.leaves)
        sql = f"SELECT c.idx, {out}{value} AS value, c.w AS watermark {source} ORDER BY c.idx"
        sql = _CONTEXT.sub(lambda m: "c." + m.group(1), sql)
        params = {**self.params, "c_cells": cells}
        types = {**self.types, "c_cells": JSONB()}
        return _bound(sql, params, types)

    @cached_property
    def sum_width(self) -> int:
        """The most columns (``v``) of any of :attr:`sum_parts`."""
        return max((1 if p.average else len(p.leaves) for p in self.sum_parts), default=0)

    def summed_branch(self, g: int) -> tuple[str, dict[str, Any], dict[str, TypeEngine[Any]]]:
        """:meth:`rollup_statement` with the fact leaves summed by PostgreSQL, as branch ``g``
        of :func:`.rollup.summed_values`' statement (unbound, every parameter prefixed
        ``g<g>_``): its cells are those of ``cells`` with that ``g``, their sums those of
        ``summed`` (:func:`summed_cells`), taken as :meth:`.rollup.Rollup.cell` takes them (a
        count NULL without facts of its type, an average's people 0 and its days NULL without
        people); their watermark the latest ``w`` of ``fact_latest`` (``i, a, k, w``: per
        indicator, ambito and comune, or :data:`TOTAL`) of their ambiti. The result: ``g, idx,
        value, watermark, li, ln``, with ``li`` the count and people leaves (in order) and
        ``ln`` the others (every value is NUMERIC, every other leaf too)."""
        cols: list[str] = []
        for i, part in enumerate(self.sum_parts):
            if part.average:
                people, avg = part.leaves
                cols.append(f"COALESCE(s.n{i}, 0) AS r_{people.name}")
                cols.append(f"CASE WHEN s.n{i} <> 0 THEN COALESCE(s.v{i}_1, 0) END AS r_{avg.name}")
                continue
            for j, leaf in enumerate(part.leaves, start=1):
                cols.append(
                    f"CASE WHEN s.n{i} <> 0 THEN COALESCE(s.v{i}_{j}, 0) END AS r_{leaf.name}"
                )
        if self.sum_parts:
            latest = (
                "(SELECT max(f.w) FROM fact_latest f WHERE f.i = x.i "
                f"AND f.a = ANY(x.t_ambiti) AND f.k = COALESCE(x.t_comune, '{TOTAL}'))"
            )
            summed = (
                f"(SELECT x.*, {''.join(col + ', ' for col in cols)}{latest} AS w FROM cells x "
                f"LEFT JOIN summed s ON s.g = x.g AND s.idx = x.idx WHERE x.g = {g}) AS c"
            )
        else:
            summed = (
                f"(SELECT x.*, CAST(NULL AS TIMESTAMPTZ) AS w FROM cells x WHERE x.g = {g}) AS c"
            )
        value, source, ints, nums = self._rollup_parts(summed)
        sql = (
            f"SELECT {g} AS g, c.idx, {value} AS value, c.w AS watermark, "
            f"CAST(ARRAY[{', '.join(ints)}] AS BIGINT[]) AS li, "
            f"CAST(ARRAY[{', '.join(nums)}] AS NUMERIC[]) AS ln {source}"
        )
        sql = _CONTEXT.sub(lambda m: "c." + m.group(1), sql)
        prefix = f"g{g}_"
        used = set(_PARAM.findall(sql))
        return (
            _PARAM.sub(f":{prefix}\\1", sql),
            {prefix + k: v for k, v in self.params.items() if k in used},
            {prefix + k: t for k, t in self.types.items() if k in used},
        )

    @cached_property
    def sum_parts(self) -> list[SumPart]:
        """The scans that sum the fact leaves per ambito, comune and local month: per fact
        type, ``a, k, m, n, w`` (facts of the type, their latest ``occurred_at``) and a column
        per count leaf of that type; per average, ``a, k, m, n, d`` (its people, the sum of
        their days). ``by_ambiti`` takes ``:r_ambiti``; ``by_fact`` takes ``:r_fact`` (one fact
        row) for a type, ``:r_case`` and ``:r_skip`` (the case's sums without that fact id, or
        with every fact for 0) for an average."""
        out: list[SumPart] = []
        month = "CAST(date_trunc('month', {x}.fact_at AT TIME ZONE " + LOCAL + ") AS DATE) AS m"
        ambiti_t = {"r_ambiti": ARRAY(String())}
        for fact in self.fact_types:
            counts = [leaf for leaf in self.leaves if leaf.kind == "count" and leaf.fact == fact]
            filters = "".join(
                f", count(*) FILTER (WHERE {leaf.cond}) AS {leaf.name}" for leaf in counts
            )
            head = (
                f"SELECT f.ambito_code AS a, f.comune_code AS k, {month.format(x='f')}, "
                f"count(*) AS n, max(f.occurred_at) AS w{filters} FROM fact f "
                "WHERE f.fact_type = :r_type AND "
            )
            params = {**self.params, "r_type": fact}
            types = {**self.types, "r_type": String()}
            by_fact = head + "f.id = :r_fact GROUP BY 1, 2, 3"
            fact_types = {**types, "r_fact": BigInteger()}
            out.append(
                SumPart(
                    counts,
                    fact,
                    None,
                    _bound(
                        head + "f.ambito_code = ANY(:r_ambiti) GROUP BY 1, 2, 3",
                        params,
                        {**types, **ambiti_t},
                    ),
                    _bound(by_fact, params, fact_types),
                    (by_fact, params, fact_types),
                )
            )
        for leaf in self.leaves:
            if leaf.kind != "people":
                continue
            avg = next(a for a in self.leaves if a.name == leaf.pair)
            days = (
                "CAST((e.fact_at AT TIME ZONE " + LOCAL + ") AS DATE) - "
                "CAST((s.fact_at AT TIME ZONE " + LOCAL + ") AS DATE)"
            )
            head = (
                f"SELECT e.ambito_code AS a, e.comune_code AS k, {month.format(x='e')}, "
                f"count(*) AS n, sum({days}) AS d "
                "FROM fact e CROSS JOIN LATERAL (SELECT s0.fact_at, s0.attrs FROM fact s0 "
                "WHERE s0.fact_type = :r_start AND s0.case_id = e.case_id AND s0.id <> :r_skip "
                "AND CAST((s0.fact_at AT TIME ZONE " + LOCAL + ") AS DATE) "
                "<= CAST((e.fact_at AT TIME ZONE " + LOCAL + ") AS DATE) "
                f"{LATEST_START}) s "
                f"WHERE e.fact_type = :r_end AND {leaf.cond} AND e.id <> :r_skip AND "
            )
            paired = pairing([("n", "d", leaf.cond)], leaf.reads_start, matching=True)
            params = {**self.params, "r_start": leaf.start, "r_end": leaf.fact}
            types = {
                **self.types,
                "r_start": String(),
                "r_end": String(),
                "r_skip": BigInteger(),
            }
            by_case = head + "e.case_id = :r_case GROUP BY 1, 2, 3"
            case_types = {**types, "r_case": Uuid()}
            out.append(
                SumPart(
                    [leaf, avg],
                    leaf.fact or "",
                    leaf.start,
                    _bound(paired, params, {**types, **ambiti_t}),
                    _bound(by_case, params, case_types),
                    (by_case, params, case_types),
                )
            )
        return out

    def bind_context(self, stmt: TextClause, **context: Any) -> TextClause:
        """Binds the context parameters the statement uses (unused ones are dropped)."""
        used = {k: v for k, v in context.items() if k in stmt._bindparams}
        return stmt.bindparams(**used)


_PARAM = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")
# In an indicator's kept sums (``indicator_fact_sum``), the ``comune_code`` of an ambito's
# total (every fact of the ambito, with or without a comune).
TOTAL = "*"
_CELL_COLUMNS = (
    "idx INTEGER, t_code TEXT, t_ambiti TEXT[], t_comune TEXT, t_comuni TEXT[], "
    "p_from TIMESTAMPTZ, p_to TIMESTAMPTZ, p_label TEXT, p_year INTEGER"
)


def summed_cells(parts: int, width: int) -> str:
    """The WITH items read by :meth:`Compiled.summed_branch`: ``cells``, the cells of every
    branch from ``:cells`` (JSONB: ``g`` the branch, ``idx`` and the context columns), with
    ``i`` their indicator (of ``:i``, the ``g``-th); and ``summed``, per cell (``g, idx``) and
    part ``p`` < ``parts``, ``n<p>`` and ``v<p>_<j>`` (``j`` up to ``width``): the sums of
    ``n`` and ``v<j>`` of the rows of ``fact_sums`` (``i, part, a, k, m, n, v1`` …: kept sums
    per indicator, part, ambito, comune or :data:`TOTAL`, and month; rows with the same key
    are added up) of its indicator, in its ambiti, of its comune (or their totals), in the
    period's months; a cell without any has no row."""
    month = "CAST(x.{} AT TIME ZONE " + LOCAL + " AS DATE)"
    keys = (
        f"SELECT x.g, x.idx, x.i, unnest(x.t_ambiti) AS a, COALESCE(x.t_comune, '{TOTAL}') AS k, "
        f"{month.format('p_from')} AS m0, {month.format('p_to')} AS m1 FROM cells x"
    )
    aggs = "".join(
        f", sum(b.n) FILTER (WHERE b.part = {p}) AS n{p}"
        + "".join(
            f", sum(b.v{j}) FILTER (WHERE b.part = {p}) AS v{p}_{j}" for j in range(1, width + 1)
        )
        for p in range(parts)
    )
    return (
        "cells AS MATERIALIZED (SELECT x.*, (CAST(:i AS UUID[]))[x.g + 1] AS i FROM "
        f"jsonb_to_recordset(CAST(:cells AS JSONB)) AS x(g INTEGER, {_CELL_COLUMNS})), "
        f"summed AS MATERIALIZED (SELECT y.g, y.idx{aggs} FROM ({keys}) y JOIN fact_sums b "
        "ON b.i = y.i AND b.a = y.a AND b.k = y.k AND b.m >= y.m0 AND b.m < y.m1 "
        "GROUP BY y.g, y.idx)"
    )


def _bound(sql: str, params: dict[str, Any], types: dict[str, TypeEngine[Any]]) -> TextClause:
    used = set(re.findall(r"(?<!:):([a-z_][a-z0-9_]*)", sql))
    stmt = text(sql).bindparams(*(bindparam(k, type_=t) for k, t in types.items() if k in used))
    return stmt.bindparams(**{k: v for k, v in params.items() if k in used})


@dataclass
class SumPart:
    """One scan of :attr:`Compiled.sum_parts`: a fact type with its count leaves (``start``
    None), or an average (``leaves`` = people, avg; ``fact`` its end, ``start`` its start)."""

    leaves: list[Leaf]
    fact: str
    start: str | None
    by_ambiti: TextClause
    by_fact: TextClause
    # ``by_fact`` unbound: its SQL, parameter values and types (to join it with others').
    fact_sql: tuple[str, dict[str, Any], dict[str, TypeEngine[Any]]]

    @property
    def average(self) -> bool:
        return self.start is not None


class Compiler:
    def __init__(self, policy: MissingPolicy = "skip_if_all_missing") -> None:
        self.policy = policy
        self.params: dict[str, Any] = {}
        self.types: dict[str, TypeEngine[Any]] = {}
        self.leaves: list[Leaf] = []
        self.fact_types: set[str] = set()
        self.aliases_read: set[str] = set()  # of the condition being compiled

    def bind(self, value: Any, type_: TypeEngine[Any]) -> str:
        name = f"x{len(self.params)}"
        self.params[name] = value
        self.types[name] = type_
        return f":{name}"

    def compile(self, tree: Node) -> Compiled:
        value = self.expr(tree)
        return Compiled(self.leaves, value, self.params, self.types, sorted(self.fact_types))

    def leaf(self, kind: LeafKind, sql: str) -> str:
        # A missing input counts as zero in the arithmetic; whether the value is skipped
        # (missing-value policy: any / all missing) is decided from the raw leaf columns.
        name = f"l{len(self.leaves)}"
        self.leaves.append(Leaf(name, kind, sql))
        return f"COALESCE(CAST({name} AS NUMERIC), 0)"

    # -------------------------------------------------------------- top-level arithmetic

    def expr(self, node: Node) -> str:
        if isinstance(node, Number):
            return f"CAST({self.bind(node.value, Numeric())} AS NUMERIC)"
        if isinstance(node, Boolean):
            return "TRUE" if node.value else "FALSE"
        if isinstance(node, StringNode):
            return f"CAST({self.bind(node.value, String())} AS TEXT)"
        if isinstance(node, Unary):
            inner = self.expr(node.operand)
            return f"(NOT {inner})" if node.op == "not" else f"(-{inner})"
        if isinstance(node, Binary):
            left, right = self.expr(node.left), self.expr(node.right)
            if node.op == "/":
                return f"({left} / NULLIF({right}, 0))"
            return f"({left} {_SQL_OPS[node.op]} {right})"
        if isinstance(node, Call):
            args = [self.expr(a) for a in node.args]
            if node.name == "if":
                return f"(CASE WHEN {args[0]} THEN {args[1]} ELSE {args[2]} END)"
            fn = {"coalesce": "COALESCE", "min": "LEAST", "max": "GREATEST"}[node.name]
            return f"{fn}({', '.join(args)})"
        if isinstance(node, Count):
            self.fact_types.add(node.fact)
            cond = self.condition(node.where, {"f": node.fact}) if node.where else "TRUE"
            sql = (
                "(SELECT CASE WHEN count(*) = 0 THEN NULL ELSE "
                f"count(*) FILTER (WHERE {cond}) END FROM fact f "
                f"WHERE f.fact_type = {self.bind(node.fact, String())} AND {_scope('f')} "
                "AND f.fact_at >= :p_from AND f.fact_at < :p_to)"
            )
            self.leaves.append(Leaf(f"l{len(self.leaves)}", "count", sql, node.fact, cond))
            return f"COALESCE(CAST({self.leaves[-1].name} AS NUMERIC), 0)"
        if isinstance(node, AvgDays):
            self.fact_types.update((node.start, node.end))
            self.aliases_read.clear()
            cond = (
                self.condition(node.where, {"e": node.end, "s": node.start})
                if node.where
                else "TRUE"
            )
            reads_start = "s" in self.aliases_read
            days = (
                "CAST((e.fact_at AT TIME ZONE " + LOCAL + ") AS DATE) - "
                "CAST((s.fact_at AT TIME ZONE " + LOCAL + ") AS DATE)"
            )
            body = (
                "FROM fact e CROSS JOIN LATERAL (SELECT s0.fact_at, s0.attrs FROM fact s0 "
                f"WHERE s0.fact_type = {self.bind(node.start, String())} "
                "AND s0.case_id = e.case_id AND CAST((s0.fact_at AT TIME ZONE "
                + LOCAL
                + ") AS DATE) "
                "<= CAST((e.fact_at AT TIME ZONE " + LOCAL + ") AS DATE) "
                f"{LATEST_START}) s "
                f"WHERE e.fact_type = {self.bind(node.end, String())} AND {_scope('e')} "
                f"AND e.fact_at >= :p_from AND e.fact_at < :p_to AND {cond})"
            )
            # How many people the average is about: not an input, but a small cell if 1-4.
            people, avg = f"l{len(self.leaves)}", f"l{len(self.leaves) + 1}"
            self.leaves.append(
                Leaf(
                    people,
                    "people",
                    f"(SELECT count(*) {body}",
                    node.end,
                    cond,
                    node.start,
                    avg,
                    reads_start,
                )
            )
            self.leaves.append(
                Leaf(
                    avg,
                    "avg_days",
                    f"(SELECT CAST(avg({days}) AS NUMERIC) {body}",
                    node.end,
                    cond,
                    node.start,
                    reads_start=reads_start,
                )
            )
            return f"COALESCE(CAST({avg} AS NUMERIC), 0)"
        if isinstance(node, Reported):
            m = self.bind(node.metric, String())
            base = (
                "SELECT sum(r.value) FROM reported_value r "
                f"WHERE r.metric = {m} AND r.period = :p_label"
            )
            sql = (
                f"COALESCE(({base} AND r.territory_code = :t_code), "
                f"({base} AND r.territory_code = ANY(:t_comuni)))"
            )
            return self.leaf("reported", sql)
        if isinstance(node, Population):
            cond = self.population(node.where) if node.where else "TRUE"
            mentions = _attributes(node.where)
            # Rows are kept by sex (M, F and T = everyone) and by age band (0-open = all ages):
            # without a condition on sex only T rows count, without one on age only all-ages rows.
            cond += " AND " + ("p.sex IN ('M', 'F')" if "sex" in mentions else "p.sex = 'T'")
            cond += " AND " + (
                "NOT (p.age_from = 0 AND p.age_to = 999)"
                if "age" in mentions
                else "(p.age_from = 0 AND p.age_to = 999)"
            )
            base = "SELECT CAST(sum(p.count) AS NUMERIC) FROM population p WHERE p.year = :p_year"
            sql = (
                f"COALESCE(({base} AND p.territory_code = :t_code AND {cond}), "
                f"({base} AND p.territory_code = ANY(:t_comuni) AND {cond}))"
            )
            return self.leaf("population", sql)
        raise AssertionError(f"cannot compile {node!r} here")  # pragma: no cover

    # -------------------------------------------------------------- where conditions on facts

    def condition(self, node: Node, aliases: dict[str, str]) -> str:
        if isinstance(node, Binary) and node.op in ("and", "or"):
            left = self.condition(node.left, aliases)
            right = self.condition(node.right, aliases)
            return f"({left} {node.op.upper()} {right})"
        if isinstance(node, Unary) and node.op == "not":
            return f"(NOT COALESCE({self.condition(node.operand, aliases)}, FALSE))"
        if isinstance(node, Boolean):
            return "TRUE" if node.value else "FALSE"
        if isinstance(node, Attribute):
            return f"COALESCE({self.attribute(node, aliases)}, FALSE)"
        if isinstance(node, Binary):
            return f"({self.operand(node.left, aliases)} {_SQL_OPS[node.op]} " + (
                f"{self.operand(node.right, aliases)})"
            )
        raise AssertionError(f"cannot compile condition {node!r}")  # pragma: no cover

    def operand(self, node: Node, aliases: dict[str, str]) -> str:
        if isinstance(node, Attribute):
            return self.attribute(node, aliases)
        if isinstance(node, Number):
            return f"CAST({self.bind(node.value, Numeric())} AS NUMERIC)"
        if isinstance(node, StringNode):
            return f"CAST({self.bind(node.value, String())} AS TEXT)"
        if isinstance(node, Boolean):
            return "TRUE" if node.value else "FALSE"
        if isinstance(node, Unary) and node.op == "-":
            return f"(-{self.operand(node.operand, aliases)})"
        if isinstance(node, Binary) and node.op in _ARITH:
            left = self.operand(node.left, aliases)
            right = self.operand(node.right, aliases)
            if node.op == "/":
                return f"({left} / NULLIF({right}, 0))"
            return f"({left} {node.op} {right})"
        if isinstance(node, Call):
            if node.name == "if":
                cond = self.condition(node.args[0], aliases)
                a = self.operand(node.args[1], aliases)
                b = self.operand(node.args[2], aliases)
                return f"(CASE WHEN {cond} THEN {a} ELSE {b} END)"
            fn = {"coalesce": "COALESCE", "min": "LEAST", "max": "GREATEST"}[node.name]
            return f"{fn}({', '.join(self.operand(a, aliases) for a in node.args)})"
        return self.condition(node, aliases)

    def attribute(self, node: Attribute, aliases: dict[str, str]) -> str:
        # The first alias whose fact type knows the attribute (the end fact, then the start).
        for alias, fact in aliases.items():
            kind = FACT_TYPES[fact].attributes.get(node.path)
            if kind is None:
                continue
            self.aliases_read.add(alias)
            if node.path == "comune_code":
                raw = f"{alias}.comune_code"
            else:
                path = self.bind(node.path.split("."), ARRAY(String()))
                raw = f"({alias}.attrs #>> CAST({path} AS TEXT[]))"
            if kind == "bool":
                return f"CAST({raw} AS BOOLEAN)"
            if kind == "number":
                return f"CAST({raw} AS NUMERIC)"
            return raw
        raise AssertionError(f"unchecked attribute {node.path}")  # pragma: no cover

    # -------------------------------------------------------------- population conditions

    def population(self, node: Node) -> str:
        if isinstance(node, Binary) and node.op in ("and", "or"):
            left, right = self.population(node.left), self.population(node.right)
            return f"({left} {node.op.upper()} {right})"
        if isinstance(node, Unary) and node.op == "not":
            return f"(NOT {self.population(node.operand)})"
        assert isinstance(node, Binary) and isinstance(node.left, Attribute)
        if node.left.path == "sex":
            assert isinstance(node.right, StringNode)
            return f"(p.sex {_SQL_OPS[node.op]} {self.bind(node.right.value, String())})"
        assert isinstance(node.right, Number)
        n = self.bind(int(node.right.value), Integer())
        # Population is kept in age bands [age_from, age_to] (age_to 999 = and over): a band
        # counts when every age in it satisfies the condition.
        return {
            ">=": f"(p.age_from >= {n})",
            ">": f"(p.age_from > {n})",
            "<=": f"(p.age_to <= {n})",
            "<": f"(p.age_to < {n})",
            "=": f"(p.age_from = {n} AND p.age_to = {n})",
            "!=": f"(NOT (p.age_from = {n} AND p.age_to = {n}))",
        }[node.op]


_ARITH = {"+", "-", "*", "/"}
_SQL_OPS = {
    "+": "+",
    "-": "-",
    "*": "*",
    "/": "/",
    "=": "=",
    "!=": "<>",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "and": "AND",
    "or": "OR",
}


def _attributes(node: Node | None) -> set[str]:
    if node is None:
        return set()
    if isinstance(node, Attribute):
        return {node.path}
    if isinstance(node, Binary):
        return _attributes(node.left) | _attributes(node.right)
    if isinstance(node, Unary):
        return _attributes(node.operand)
    return set()


def compile_sql(tree: Node, policy: MissingPolicy = "skip_if_all_missing") -> Compiled:
    return Compiler(policy).compile(tree)


__all__ = ["Compiled", "Leaf", "MissingPolicy", "compile_sql"]
