"""Every target type of the plans contract, judged by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from pdz_indicators.targets.judge import Inputs, judge, parse_condition, target_for_year
from pdz_shared.contracts import plans as p

TODAY = date(2026, 6, 30)


def inp(value: str | None, year: int = 2026, **kw: object) -> Inputs:
    closed = kw.pop("closed", year < TODAY.year)
    return Inputs(
        year=year,
        value=None if value is None else D(value),
        closed=bool(closed),
        today=TODAY,
        **kw,  # type: ignore[arg-type]
    )


def status(target: object, i: Inputs) -> tuple[str, D | None, D | None]:
    j = judge(target, i)
    return j.status, j.target_value, j.progress


def test_threshold_increase_with_baseline() -> None:
    t = p.ThresholdTarget(comparator=">=", value=80, baseline=p.Baseline(value=40), year=2026)
    assert status(t, inp("80")) == ("achieved", D(80), D("1.0000"))
    assert status(t, inp("77")) == ("on_track", D(80), D("0.9250"))  # (77-40)/(80-40)
    assert status(t, inp("70")) == ("at_risk", D(80), D("0.7500"))
    assert status(t, inp("50")) == ("off_track", D(80), D("0.2500"))
    assert status(t, inp(None))[0] == "no_data"
    assert judge(t, inp("90", year=2025)).status == "no_data"  # another year's target
    assert status(t, inp("79", closed=True))[0] == "off_track"  # the year is over


def test_threshold_decrease() -> None:
    t = p.ThresholdTarget(
        comparator="<=", value=10, direction="decrease", baseline=p.Baseline(value=20)
    )
    assert status(t, inp("9")) == ("achieved", D(10), D("1.1000"))
    assert status(t, inp("11")) == ("on_track", D(10), D("0.9000"))  # (20-11)/(20-10)
    assert status(t, inp("13")) == ("at_risk", D(10), D("0.7000"))
    assert status(t, inp("25"))[0] == "off_track"
    no_base = p.ThresholdTarget(comparator="<", value=10, direction="decrease")
    assert status(no_base, inp("10.5")) == ("on_track", D(10), D("0.9524"))  # 10/10.5


def test_yearly_series_leps_steps() -> None:
    t = p.YearlySeriesTarget(
        steps=[
            p.YearStep(year=2025, comparator=">=", value=50),
            p.YearStep(year=2026, min_value=40, max_value=60),
            p.YearStep(year=2027, relative_to="previous_year", comparator=">"),
            p.YearStep(year=2028, relative_to="none", text="—"),
            p.YearStep(year=2029, relative_to="milestone", milestone="protocollo"),
        ]
    )
    assert status(t, inp("49", year=2025)) == ("off_track", D(50), D("0.9800"))
    assert status(t, inp("50", year=2025))[0] == "achieved"
    assert status(t, inp("45", year=2026)) == ("achieved", D(40), D(1))
    assert status(t, inp("36", year=2026)) == ("on_track", D(40), D("0.9000"))
    assert status(t, inp("70", year=2026)) == ("at_risk", D(60), D("0.8571"))  # 60/70
    assert status(t, inp("90", year=2026)) == ("off_track", D(60), D("0.6667"))
    assert judge(t, inp("70", year=2027, previous=D(65))).status == "achieved"
    assert judge(t, inp("65", year=2027, previous=D(65))).status == "at_risk"
    assert judge(t, inp("60", year=2027, previous=D(65))).status == "off_track"
    assert (
        judge(t, inp("60", year=2027)).reason == "manca il valore di riferimento "
        "(l'anno precedente)"
    )
    assert judge(t, inp("1", year=2028)).status == "no_data"
    assert judge(t, inp("1", year=2029)).status == "achieved"
    assert judge(t, inp(None, year=2029)).status == "on_track"  # due 31/12/2029
    assert judge(t, inp("1", year=2030)).status == "no_data"
    assert target_for_year(t, 2025) == D(50)
    assert target_for_year(t, 2026) == D(40)
    assert target_for_year(t, 2027) is None


def test_trend_against_previous_year_and_baseline() -> None:
    fewer_days = p.TrendTarget(reference="previous_year", direction="decrease")
    assert judge(fewer_days, inp("8", previous=D(10))).status == "achieved"
    assert judge(fewer_days, inp("10", previous=D(10))).status == "at_risk"
    assert judge(fewer_days, inp("12", previous=D(10))).status == "off_track"
    assert judge(fewer_days, inp("10", previous=D(10), closed=True)).status == "off_track"
    more = p.TrendTarget(
        reference="baseline",
        baseline=p.Baseline(value=100),
        min_change=10,
        change_unit="percent",
        from_year=2025,
        to_year=2027,
    )
    j = judge(more, inp("111"))
    assert (j.status, j.target_value) == ("achieved", D("110.0000"))
    assert judge(more, inp("105")).status == "off_track"
    assert judge(more, inp("150", year=2024)).status == "no_data"
    absolute = p.TrendTarget(reference="previous_year", min_change=5)
    assert judge(absolute, inp("106", previous=D(100))).status == "achieved"
    assert judge(absolute, inp("104", previous=D(100))).status == "off_track"


def test_milestone() -> None:
    t = p.MilestoneTarget(description="Protocollo dimissioni protette", due_date=date(2026, 9, 1))
    assert judge(t, inp("1")).status == "achieved"
    assert judge(t, inp(None)).status == "at_risk"  # due within 90 days of 30/06/2026
    assert judge(t, inp("0")).status == "at_risk"
    later = p.MilestoneTarget(description="x", due_date=date(2027, 3, 1))
    assert judge(later, inp(None)).status == "on_track"
    late = p.MilestoneTarget(description="x", due_date=date(2026, 1, 31))
    assert judge(late, inp(None)).status == "off_track"
    assert judge(p.MilestoneTarget(description="x"), inp(None)).status == "no_data"
    staged = p.MilestoneTarget(
        description="x",
        stages=[
            p.MilestoneStage(label="definito", year=2025),
            p.MilestoneStage(label="attivo", year=2027),
        ],
    )
    assert judge(staged, inp(None, year=2025)).status == "off_track"  # 31/12/2025 passed


def test_share_of_comuni() -> None:
    t = p.ShareOfComuniTarget(condition=">= 1", share=80)
    five = (D(1), D(2), D(0), D(3), D(1))
    j = judge(t, inp("0", comuni=five))
    assert (j.status, j.target_value, j.progress) == ("achieved", D(80), D("1.0000"))
    j = judge(t, inp("0", comuni=(D(1), D(2), D(0), D(0), None)))
    assert (j.status, j.progress) == ("off_track", D("0.5000"))  # 2 of 5 = 40%
    assert j.reason == "quota comuni 40.0000%"
    assert judge(t, inp("0", comuni=(D(1), D(1), D(1), D(0)))).status == "on_track"  # 75/80
    assert judge(t, inp("0", comuni=(D(1), D(1), D(0), D(0)))).status == "off_track"  # 50/80
    assert judge(t, inp("0", comuni=(D(1), D(1), D(1), D(0), D(0), D(0)))).status == "off_track"
    sixty = (D(1), D(1), D(1), D(0), D(0))  # 60/80 = 0.75
    assert judge(t, inp("0", comuni=sixty)).status == "at_risk"
    assert judge(t, inp("0", comuni=(None, None))).status == "no_data"
    words = p.ShareOfComuniTarget(condition="almeno uno sportello PUA aperto", share=80)
    assert judge(words, inp("0", comuni=five)).reason == "condizione non calcolabile"
    assert parse_condition("valore ≥ 2,5") == (">=", D("2.5"))


def test_floor_per_subterritory() -> None:
    t = p.FloorPerSubTerritoryTarget(value=10, comparator=">=")
    assert judge(t, inp("0", comuni=(D(10), D(12)))).status == "achieved"
    j = judge(
        t, inp("0", comuni=(D(10), D(12), D(9), D(11), D(15), D(10), D(10), D(10), D(10), D(10)))
    )
    assert (j.status, j.progress) == ("on_track", D("0.9000"))
    assert j.reason == "9 comuni su 10 raggiungono la soglia"
    assert judge(t, inp("0", comuni=(D(10), D(1), None))).status == "off_track"
    assert judge(t, inp("0", comuni=(D(10), D(1)), closed=True)).status == "off_track"
    assert judge(t, inp("0")).status == "no_data"


def test_range() -> None:
    t = p.RangeTarget(min_value=5, max_value=10)
    assert judge(t, inp("7")).status == "achieved"
    assert judge(t, inp("4.6")).status == "on_track"  # 4.6/5 = 0.92
    assert judge(t, inp("13")).status == "at_risk"  # 10/13 = 0.77
    assert judge(t, inp("2")).status == "off_track"
    only_max = p.RangeTarget(max_value=3)
    assert judge(only_max, inp("2")).status == "achieved"
    assert judge(only_max, inp("2", year=2026, closed=True)).status == "achieved"


@pytest.mark.parametrize(
    "target",
    [
        p.ThresholdTarget(comparator=">=", value=1),
        p.YearlySeriesTarget(steps=[p.YearStep(year=2026, comparator=">=", value=1)]),
        p.TrendTarget(reference="previous_year"),
        p.MilestoneTarget(description="x", due_date=date(2027, 1, 1)),
        p.ShareOfComuniTarget(condition=">= 1", share=50),
        p.FloorPerSubTerritoryTarget(value=1),
        p.RangeTarget(min_value=1),
    ],
)
def test_every_type_reports_no_data_without_values(target: object) -> None:
    assert judge(target, inp(None)).status in ("no_data", "on_track")
