"""Judging a value against a typed target: achieved / on track / at risk / off track / no data.

Pure functions over numbers (no database), so every target type is testable by hand.

- A target met is ``achieved``.
- A period that is over and missed is ``off_track``.
- In a period still running, ``progress`` (the share of the way from the baseline, or zero,
  to the target; for "less is better" from the baseline down to the target) decides:
  at least 0.9 ``on_track``, at least 0.7 ``at_risk``, otherwise ``off_track``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from pdz_shared.contracts import plans

ON_TRACK = Decimal("0.9")
AT_RISK = Decimal("0.7")
TARGET_ADAPTER: TypeAdapter[Any] = TypeAdapter(plans.Target)


@dataclass(frozen=True)
class Judgement:
    status: str
    target_value: Decimal | None = None
    progress: Decimal | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Inputs:
    year: int
    value: Decimal | None
    previous: Decimal | None = None  # the value of the previous year
    comuni: tuple[Decimal | None, ...] = ()  # values of the ambito's comuni, same year
    closed: bool = False  # the year is over
    today: date = date(2000, 1, 1)  # callers pass the local date


def _d(x: float | int | None) -> Decimal | None:
    return None if x is None else Decimal(str(x))


def meets(value: Decimal, comparator: str, target: Decimal) -> bool:
    return {
        ">=": value >= target,
        ">": value > target,
        "<=": value <= target,
        "<": value < target,
        "=": value == target,
    }[comparator]


def progress_of(
    value: Decimal, target: Decimal, baseline: Decimal | None, direction: str
) -> Decimal:
    if direction == "decrease":
        if baseline is None or baseline == target:
            return Decimal(1) if value <= target else (target / value if value else Decimal(0))
        return (baseline - value) / (baseline - target)
    base = baseline if baseline is not None else Decimal(0)
    if target == base:
        return Decimal(1) if value >= target else Decimal(0)
    return (value - base) / (target - base)


def _status(met: bool, progress: Decimal | None, closed: bool) -> str:
    if met:
        return "achieved"
    if closed or progress is None:
        return "off_track"
    if progress >= ON_TRACK:
        return "on_track"
    if progress >= AT_RISK:
        return "at_risk"
    return "off_track"


def _q(x: Decimal | None) -> Decimal | None:
    return None if x is None else x.quantize(Decimal("0.0001"))


def _default_comparator(direction: str) -> str:
    return {"increase": ">=", "decrease": "<="}.get(direction, "=")


def _threshold(
    inp: Inputs, comparator: str, target: Decimal, baseline: Decimal | None, direction: str
) -> Judgement:
    if inp.value is None:
        return Judgement("no_data", target, reason="nessun valore per il periodo")
    met = meets(inp.value, comparator, target)
    prog = progress_of(inp.value, target, baseline, direction)
    return Judgement(_status(met, prog, inp.closed), target, _q(prog))


def _range(inp: Inputs, low: Decimal | None, high: Decimal | None) -> Judgement:
    target = low if low is not None else high
    if inp.value is None:
        return Judgement("no_data", target, reason="nessun valore per il periodo")
    v = inp.value
    if (low is None or v >= low) and (high is None or v <= high):
        return Judgement("achieved", target, Decimal(1))
    if low is not None and v < low:
        prog = v / low if low else Decimal(0)
        return Judgement(_status(False, prog, inp.closed), low, _q(prog))
    assert high is not None
    prog = high / v if v else Decimal(0)
    return Judgement(_status(False, prog, inp.closed), high, _q(prog))


def _versus(
    inp: Inputs,
    reference: Decimal | None,
    comparator: str,
    min_change: Decimal | None,
    percent: bool,
    what: str,
) -> Judgement:
    if inp.value is None:
        return Judgement("no_data", reason="nessun valore per il periodo")
    if reference is None:
        return Judgement("no_data", reason=f"manca il valore di riferimento ({what})")
    change = inp.value - reference
    if percent:
        change = change / reference * 100 if reference else Decimal(0)
    needed = min_change or Decimal(0)
    improving = comparator in (">", ">=")
    target = reference + needed if improving else reference - needed
    if percent:
        target = reference * (1 + needed / 100) if improving else reference * (1 - needed / 100)
    met = (
        meets(inp.value, comparator, target)
        if needed == 0
        else (change >= needed if improving else -change >= needed)
    )
    if met:
        return Judgement("achieved", _q(target), Decimal(1))
    if change == 0 and not inp.closed:
        return Judgement("at_risk", _q(target), Decimal(0), reason=f"uguale a {what}")
    return Judgement("off_track", _q(target), Decimal(0), reason=f"peggiore di {what}")


def _milestone(inp: Inputs, due: date | None) -> Judgement:
    if inp.value is not None and inp.value > 0:
        return Judgement("achieved", Decimal(1), Decimal(1))
    if due is None:
        return Judgement("no_data", Decimal(1), reason="traguardo senza scadenza né valore")
    if inp.today > due:
        return Judgement("off_track", Decimal(1), Decimal(0), reason=f"scaduto il {due}")
    if (due - inp.today).days <= 90:
        return Judgement("at_risk", Decimal(1), Decimal(0), reason=f"scade il {due}")
    return Judgement("on_track", Decimal(1), Decimal(0))


_CONDITION = re.compile(
    r"^\s*(?:value|valore)?\s*(>=|>|<=|<|=|≥|≤)\s*(-?[0-9]+(?:[.,][0-9]+)?)\s*$"
)


def parse_condition(text: str) -> tuple[str, Decimal] | None:
    m = _CONDITION.match(text)
    if not m:
        return None
    op = {"≥": ">=", "≤": "<="}.get(m.group(1), m.group(1))
    return op, Decimal(m.group(2).replace(",", "."))


def _applies(year: int | None, due: date | None, inp: Inputs) -> bool:
    wanted = year if year is not None else (due.year if due is not None else None)
    return wanted is None or wanted == inp.year


def judge(target: Any, inp: Inputs) -> Judgement:
    """``target`` is one of the plans contract's target models."""
    t = target
    baseline = _d(t.baseline.value) if t.baseline is not None else None
    if isinstance(t, plans.ThresholdTarget):
        if not _applies(t.year, t.due_date, inp):
            return Judgement("no_data", _d(t.value), reason="target di un altro anno")
        return _threshold(inp, t.comparator, Decimal(str(t.value)), baseline, t.direction)
    if isinstance(t, plans.RangeTarget):
        if not _applies(t.year, t.due_date, inp):
            return Judgement("no_data", reason="target di un altro anno")
        return _range(inp, _d(t.min_value), _d(t.max_value))
    if isinstance(t, plans.YearlySeriesTarget):
        step = next((s for s in t.steps if s.year == inp.year), None)
        if step is None or step.relative_to == "none":
            return Judgement("no_data", reason=f"nessun target per il {inp.year}")
        comparator = step.comparator or _default_comparator(t.direction)
        if step.relative_to == "previous_year":
            return _versus(
                inp,
                inp.previous,
                comparator if step.comparator else (">" if t.direction == "increase" else "<"),
                None,
                False,
                "l'anno precedente",
            )
        if step.relative_to == "baseline":
            return _versus(inp, baseline, comparator, None, False, "la baseline")
        if step.relative_to == "milestone":
            return _milestone(inp, date(step.year, 12, 31))
        if step.min_value is not None or step.max_value is not None:
            return _range(inp, _d(step.min_value), _d(step.max_value))
        if step.value is None:
            return Judgement("no_data", reason=f"nessun valore di target per il {inp.year}")
        return _threshold(inp, comparator, Decimal(str(step.value)), baseline, t.direction)
    if isinstance(t, plans.TrendTarget):
        if (t.from_year and inp.year < t.from_year) or (t.to_year and inp.year > t.to_year):
            return Judgement("no_data", reason="fuori dagli anni del target")
        comparator = (
            ">" if t.direction == "increase" else ("<" if t.direction == "decrease" else "=")
        )
        ref = inp.previous if t.reference == "previous_year" else baseline
        what = "l'anno precedente" if t.reference == "previous_year" else "la baseline"
        return _versus(inp, ref, comparator, _d(t.min_change), t.change_unit == "percent", what)
    if isinstance(t, plans.MilestoneTarget):
        due = t.due_date
        stage = next(
            (
                s
                for s in t.stages
                if s.year == inp.year or (s.due_date and s.due_date.year == inp.year)
            ),
            None,
        )
        if stage is not None:
            due = stage.due_date or date(inp.year, 12, 31)
        return _milestone(inp, due)
    if isinstance(t, plans.ShareOfComuniTarget):
        if not _applies(t.year, t.due_date, inp):
            return Judgement("no_data", _d(t.share), reason="target di un altro anno")
        cond = parse_condition(t.condition)
        if cond is None:
            return Judgement("no_data", _d(t.share), reason="condizione non calcolabile")
        known = [v for v in inp.comuni if v is not None]
        if not known:
            return Judgement("no_data", _d(t.share), reason="nessun valore per i comuni")
        share = Decimal(sum(1 for v in known if meets(v, *cond))) * 100 / len(inp.comuni)
        inner = Inputs(inp.year, share, closed=inp.closed, today=inp.today)
        j = _threshold(inner, t.comparator, Decimal(str(t.share)), None, "increase")
        return Judgement(j.status, j.target_value, j.progress, f"quota comuni {_q(share)}%")
    if isinstance(t, plans.FloorPerSubTerritoryTarget):
        if not _applies(t.year, t.due_date, inp):
            return Judgement("no_data", _d(t.value), reason="target di un altro anno")
        if not inp.comuni or all(v is None for v in inp.comuni):
            return Judgement("no_data", _d(t.value), reason="nessun valore per i comuni")
        floor = Decimal(str(t.value))
        ok = sum(1 for v in inp.comuni if v is not None and meets(v, t.comparator, floor))
        prog = Decimal(ok) / len(inp.comuni)
        met = ok == len(inp.comuni)
        return Judgement(
            _status(met, prog, inp.closed),
            floor,
            _q(prog),
            f"{ok} comuni su {len(inp.comuni)} raggiungono la soglia",
        )
    raise AssertionError(f"unknown target {t!r}")  # pragma: no cover


def target_for_year(target: Any, year: int) -> Decimal | None:
    """The single number a chart can draw as the target of ``year`` (None if there is none)."""
    t = target
    if isinstance(t, plans.ThresholdTarget | plans.FloorPerSubTerritoryTarget):
        return Decimal(str(t.value)) if _applies(t.year, t.due_date, Inputs(year, None)) else None
    if isinstance(t, plans.RangeTarget):
        bound = t.min_value if t.min_value is not None else t.max_value
        return _d(bound) if _applies(t.year, t.due_date, Inputs(year, None)) else None
    if isinstance(t, plans.YearlySeriesTarget):
        step = next((s for s in t.steps if s.year == year), None)
        if step is None or step.relative_to not in ("absolute",):
            return None
        if step.value is not None:
            return Decimal(str(step.value))
        return _d(step.min_value if step.min_value is not None else step.max_value)
    if isinstance(t, plans.ShareOfComuniTarget):
        return None
    return None
