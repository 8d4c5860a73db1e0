"""Set-based computation of many cells: the facts are summed once per ambito, comune and month.

A cell's fact leaves are sums of those monthly sums: every period (month, quarter, year, plan
cycle) is a run of whole local months, and every territory is a set of ambiti, optionally
narrowed to one comune, exactly as the per-cell statement scopes the facts. So a full recompute
scans each fact type once instead of once per cell; PostgreSQL still evaluates every value
(the formula's arithmetic, reported values, population) from the summed leaves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_indicators.expressions.sql import Compiled, Leaf
from pdz_indicators.values.periods import Period

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

    def add(self, row: Any) -> None:
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
        out = [0] * (1 + len(self.columns))
        first, last = month_index(period.start), month_index(period.end)
        for bucket in self.months(ambiti, comune):
            if last - first > len(bucket):
                items: Iterable[tuple[int, list[int]]] = (
                    (m, v) for m, v in bucket.items() if first <= m < last
                )
            else:
                items = ((m, bucket[m]) for m in range(first, last) if m in bucket)
            for _, v in items:
                for i, x in enumerate(v):
                    out[i] += x
        return out

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

    @classmethod
    async def load(cls, session: AsyncSession, c: Compiled, ambiti: list[str]) -> Rollup:
        parts: list[tuple[list[Leaf], Sums]] = []
        for leaves, stmt in c.fact_sums_statements():
            averages = leaves and leaves[0].kind == "people"
            sums = Sums(["d"] if averages else [leaf.name for leaf in leaves])
            for row in (await session.execute(stmt, {"r_ambiti": ambiti})).mappings():
                sums.add(row)
            parts.append((leaves, sums))
        return cls(parts)

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
