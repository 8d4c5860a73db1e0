"""The codice fiscale decoder agrees with python-codicefiscale (the reference), in microseconds."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from codicefiscale import codicefiscale as reference
from codicefiscale.data import get_municipalities_data

from pdz_casework.cases import codice_fiscale as cf
from pdz_casework.cases.codice_fiscale import check_character

TODAY = date(2026, 12, 7)


def test_decodes_as_the_reference_does_with_omocodes() -> None:
    rng = random.Random(20261207)
    places = [m["code"] for m in get_municipalities_data() if m["active"]]
    checked = 0
    while checked < 300:
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(365 * 95))
        code = reference.encode(
            lastname=rng.choice(["Rossi", "Bo", "Zanotti", "Dell'Acqua"]),
            firstname=rng.choice(["Maria", "Li", "Giovanni"]),
            gender=rng.choice("MF"),
            birthdate=born.strftime("%d/%m/%Y"),
            birthplace=rng.choice(places),
        )
        expected = reference.decode(code)
        for variant in [code, *rng.sample(expected["omocodes"][1:], 3)]:
            mine = cf.decode(variant, today=TODAY)
            assert (mine.birth_date, mine.sex) == (expected["birthdate"].date(), expected["gender"])
            assert mine.code == variant
        checked += 1


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("BNCNNA40C52E333T", "wrong check character"),  # one letter changed
        ("BNCNNA40C52E33", "invalid syntax"),
        ("BNCNNA40Z52E333S", "invalid syntax"),  # Z is not a month
        ("BNCNNA40C32E333" + check_character("BNCNNA40C32E333"), "invalid birth date"),
        ("'; DROP TABLE x", "invalid syntax"),
    ],
)
def test_refuses_what_the_reference_refuses(code: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        cf.decode(code, today=TODAY)
    assert not reference.is_valid(code)


def test_unknown_birthplace_is_refused() -> None:
    first15 = "RSSMRA80A01Z99"  # Z99x: no state has such a Belfiore code
    code = first15 + "9" + check_character(first15 + "9")
    with pytest.raises(ValueError, match="unknown birthplace"):
        cf.decode(code, today=TODAY)


def test_century_future_dates_and_centenarians() -> None:
    # "26" with a day after today is 1926; before today it is 2026
    late = cf.decode("BNCNNA26T20E333" + check_character("BNCNNA26T20E333"), today=TODAY)
    early = cf.decode("BNCNNA26A20E333" + check_character("BNCNNA26A20E333"), today=TODAY)
    assert late.birth_date == date(1926, 12, 20) and early.birth_date == date(2026, 1, 20)
    # a woman born in 1925 has "25": 2025 unless her birth date says otherwise
    code = "BNCNNA25A60E333" + check_character("BNCNNA25A60E333")
    assert cf.decode(code, today=TODAY).birth_date == date(2025, 1, 20)
    hundred = cf.decode(code, today=TODAY, birth_hint=date(1925, 1, 20))
    assert hundred.birth_date == date(1925, 1, 20) and hundred.sex == "F"
