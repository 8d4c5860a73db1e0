"""Codice fiscale: syntax, check character, birth date, sex and birthplace, decoded in
microseconds and without loading the tables of names and places of ``python-codicefiscale``
(about 25 MB in every process that would import them).

Omocodia is accepted: a letter of ``LMNPQRSTUV`` in a digit position stands for ``0``-``9``.
The birthplace must be a Belfiore code that exists or existed (comuni and foreign states):
``belfiore.txt`` is generated from the data of python-codicefiscale (MIT, from ISTAT and the
Agenzia delle Entrate) by ``python -m pdz_casework.cases.codice_fiscale``. The century follows
the code's own rule (the latest one that does not put the birth in the future); a person aged
100 or more is recognised when the caller knows the birth date (``birth_hint``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).with_name("belfiore.txt")
_SYNTAX = re.compile(
    r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]"
)
_OMOCODIA = str.maketrans("LMNPQRSTUV", "0123456789")
_MONTHS = "ABCDEHLMPRST"
# The check character: values of a character in an odd (1st, 3rd...) and an even position.
_ODD_VALUES = "1 0 5 7 9 13 15 17 19 21 2 4 18 20 11 3 6 8 12 14 16 10 22 25 24 23"
_ODD = {
    c: int(v)
    for c, v in zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        _ODD_VALUES.split()[:10] + _ODD_VALUES.split(),
        strict=True,
    )
}
_EVEN = {c: (int(c) if c.isdigit() else ord(c) - ord("A")) for c in _ODD}


@dataclass(frozen=True)
class Decoded:
    code: str
    birth_date: date
    sex: str  # "M" or "F"
    birthplace: str  # Belfiore code, omocodia undone


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    return frozenset(_DATA.read_text().split())


def check_character(first15: str) -> str:
    total = sum(_ODD[c] if i % 2 == 0 else _EVEN[c] for i, c in enumerate(first15))
    return chr(ord("A") + total % 26)


def decode(value: str, *, birth_hint: date | None = None, today: date | None = None) -> Decoded:
    """The decoded code; ``ValueError`` (with the reason in English) when it is not valid."""
    code = value.strip().upper()
    if len(code) != 16 or not _SYNTAX.fullmatch(code):
        raise ValueError("invalid syntax")
    if check_character(code[:15]) != code[15]:
        raise ValueError("wrong check character")
    yy = int(code[6:8].translate(_OMOCODIA))
    month = _MONTHS.index(code[8]) + 1
    day = int(code[9:11].translate(_OMOCODIA))
    sex = "M"
    if day > 40:
        day, sex = day - 40, "F"
    today = today or date.today()
    year = today.year // 100 * 100 + yy
    if year > today.year:
        year -= 100
    born = _date(year, month, day)
    if born is not None and born > today:
        born = _date(year - 100, month, day)
    if born is None:  # 29 February of a year that was not leap: the century before
        born = _date(year - 100, month, day)
    if born is None:
        raise ValueError("invalid birth date")
    if birth_hint is not None and birth_hint == _date(born.year - 100, month, day):
        born = birth_hint  # 100 or more years old
    place = code[11] + code[12:15].translate(_OMOCODIA)
    if place not in _places():
        raise ValueError(f"unknown birthplace code {place}")
    return Decoded(code, born, sex, place)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def is_valid(value: str) -> bool:
    try:
        decode(value)
    except ValueError:
        return False
    return True


def _refresh(out: Path = _DATA) -> int:  # pragma: no cover - a maintenance command
    """Regenerates ``belfiore.txt`` from the installed python-codicefiscale data."""
    import json

    import codicefiscale

    base = Path(codicefiscale.__file__).with_name("data")
    codes: set[str] = set()
    for name in (
        "municipalities.json",
        "municipalities-patch.json",
        "countries.json",
        "countries-patch.json",
        "deleted-countries.json",
    ):
        path = base / name
        if path.exists():
            codes.update(str(x["code"]).upper() for x in json.loads(path.read_text()))
    ordered = sorted(codes)
    lines = [" ".join(ordered[i : i + 16]) for i in range(0, len(ordered), 16)]
    out.write_text("\n".join(lines) + "\n")
    return len(ordered)


if __name__ == "__main__":  # pragma: no cover
    print(f"{_refresh()} Belfiore codes written to {_DATA}", file=sys.stderr)
