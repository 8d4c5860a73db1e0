"""Values as CSV (formula-injection safe), XLSX, FHIR R4 MeasureReport and a PNG chart."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pdz_indicators.values.periods import parse_period
from pdz_indicators.values.schemas import IndicatorOut, ValueOut
from pdz_shared.spreadsheets import safe_cell

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FHIR = "application/fhir+json"
JSON = "application/json"
PNG = "image/png"
COLUMNS = [
    "indicatore",
    "territorio",
    "periodo",
    "tipo_periodo",
    "valore",
    "motivo_mancanza",
    "unita",
    "calcolato_il",
    "dati_aggiornati_al",
]


def _row(v: ValueOut) -> list[Any]:
    return [
        v.indicator_code,
        v.territory_code,
        v.period,
        v.period_kind,
        v.value,
        v.reason,
        v.unit,
        v.computed_at.isoformat(),
        v.watermark.isoformat() if v.watermark else None,
    ]


def to_csv(values: Sequence[ValueOut]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for v in values:
        row = _row(v)
        writer.writerow(
            [safe_cell(c) if not isinstance(c, Decimal) else format(c, "f") for c in row]
        )
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(values: Sequence[ValueOut], title: str) -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "valori"
    ws.append([safe_cell(title[:200])])
    ws.append(COLUMNS)
    for v in values:
        row = _row(v)
        ws.append([float(c) if isinstance(c, Decimal) else safe_cell(c) for c in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_ABSENT = {
    "no_data": "unknown",
    "suppressed": "masked",
    "division_by_zero": "not-a-number",
    "invalid_formula": "error",
    "no_formula": "not-applicable",
}


def measure_report(indicator: IndicatorOut, v: ValueOut) -> Any:
    from fhir.resources.R4B.measurereport import MeasureReport

    period = parse_period(v.period)
    score: dict[str, Any]
    if v.value is not None:
        score = {"value": v.value, "unit": indicator.unit or ""}
        if not score["unit"]:
            score.pop("unit")
    else:
        score = {
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                    "valueCode": _ABSENT.get(v.reason or "no_data", "unknown"),
                }
            ]
        }
    return MeasureReport(
        id=str(uuid.uuid5(indicator.indicator_id, f"{v.territory_code}/{v.period}")),
        status="complete",
        type="summary",
        measure=f"https://pdz.example.it/fhir/Measure/{indicator.code}",
        subject={"reference": f"Location/{v.territory_code}", "display": v.territory_code},
        date=v.computed_at,
        period={
            "start": period.start.isoformat(),
            "end": (period.end - timedelta(days=1)).isoformat(),
        },
        group=[{"code": {"text": indicator.name[:500]}, "measureScore": score}],
    )


def to_fhir(indicator: IndicatorOut, values: Sequence[ValueOut], single: bool) -> bytes:
    """One MeasureReport for one value, else a searchset Bundle of MeasureReports."""
    from fhir.resources.R4B.bundle import Bundle

    reports = [measure_report(indicator, v) for v in values]
    if single and len(reports) == 1:
        data: str = reports[0].model_dump_json()
        return data.encode()
    bundle = Bundle(
        type="searchset",
        total=len(reports),
        entry=[{"fullUrl": f"urn:uuid:{r.id}", "resource": r} for r in reports],
    )
    return bundle.model_dump_json().encode()


def chart_png(
    indicator: IndicatorOut,
    values: Sequence[ValueOut],
    targets: dict[str, Decimal],
    territory: str,
) -> bytes:
    """A time series of the values against the target of each period."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5), dpi=100)
    ax = fig.subplots()
    labels = [v.period for v in values]
    xs = list(range(len(labels)))
    ys = [float(v.value) if v.value is not None else float("nan") for v in values]
    ax.plot(xs, ys, marker="o", color="#0066cc", label="valore")
    tx = [i for i, p in enumerate(labels) if p in targets]
    if tx:
        ax.plot(
            tx,
            [float(targets[labels[i]]) for i in tx],
            linestyle="--",
            marker="s",
            color="#cc3300",
            label="target",
        )
    for i, v in enumerate(values):
        if v.value is None:
            ax.annotate(v.reason or "", (i, 0), fontsize=7, color="#666666", rotation=90)
    ax.set_xticks(xs, labels, rotation=45 if len(labels) > 6 else 0, fontsize=8)
    unit = f" ({indicator.unit})" if indicator.unit else ""
    ax.set_title(f"{indicator.code} - {territory}", fontsize=10)
    ax.set_ylabel(f"valore{unit}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
