"""Periods: month (2025-03), quarter (2025-Q1), year (2025) and plan cycle (2025-2027)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")
PeriodKind = Literal["month", "quarter", "year", "cycle"]
PERIOD_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4]|-[0-9]{4})?$"
_RE = re.compile(PERIOD_PATTERN)


@dataclass(frozen=True)
class Period:
    label: str
    kind: PeriodKind
    start: date  # first day
    end: date  # first day after

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(), ROME)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time(), ROME)

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def parse_period(label: str) -> Period:
    if not _RE.match(label):
        raise ValueError(f"invalid period {label!r}")
    year = int(label[:4])
    if len(label) == 4:
        return Period(label, "year", date(year, 1, 1), date(year + 1, 1, 1))
    rest = label[5:]
    if rest.startswith("Q"):
        q = int(rest[1])
        start = date(year, 3 * q - 2, 1)
        end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
        return Period(label, "quarter", start, end)
    if len(rest) == 4:
        last = int(rest)
        if last < year or last - year > 10:
            raise ValueError(f"invalid cycle {label!r}")
        return Period(label, "cycle", date(year, 1, 1), date(last + 1, 1, 1))
    month = int(rest)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(label, "month", date(year, month, 1), end)


def periods_containing(day: date, cycles: list[tuple[int, int]] = ()) -> list[Period]:  # type: ignore[assignment]
    """The month, quarter and year of ``day``, and each plan cycle that contains it."""
    labels = [
        f"{day.year}-{day.month:02d}",
        f"{day.year}-Q{(day.month - 1) // 3 + 1}",
        str(day.year),
    ]
    labels += [f"{a}-{b}" for a, b in cycles if a <= day.year <= b]
    return [parse_period(label) for label in labels]


def local_day(moment: datetime) -> date:
    return moment.astimezone(ROME).date()
