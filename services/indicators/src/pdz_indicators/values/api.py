"""Indicators and their values: JSON, CSV, XLSX, FHIR R4 MeasureReport, PNG chart."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from pdz_indicators.exports import formats
from pdz_indicators.expressions.checker import check
from pdz_indicators.expressions.describe import describe
from pdz_indicators.expressions.syntax import ExpressionError
from pdz_indicators.targets.judge import TARGET_ADAPTER
from pdz_indicators.targets.models import Indicator
from pdz_indicators.targets.service import judge_indicator
from pdz_indicators.territories.models import Territory
from pdz_indicators.values import service
from pdz_indicators.values.models import IndicatorValue
from pdz_indicators.values.periods import PERIOD_PATTERN, parse_period
from pdz_indicators.values.schemas import CODE, IndicatorOut, PolicyIn, RecomputeOut, ValueOut
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from pdz_shared.errors import NotAcceptable, NotFound, Unprocessable
from pdz_shared.http import Page, PageParams, check_if_match, etag_of, page_params
from pdz_shared.listing import Listing, ListQuery

router = APIRouter(prefix="/v1/indicators", tags=["indicators"])
Admin = Annotated[Principal, Depends(require_roles(Role.udp_admin))]
Code = Annotated[str, Path(pattern=CODE, description="Codice dell'indicatore")]
PeriodQ = Annotated[str | None, Query(pattern=PERIOD_PATTERN, description="Periodo esatto")]
TerritoryQ = Annotated[
    str | None,
    Query(pattern=CODE, description="Territorio (predefinito: l'ambito dell'indicatore)"),
]
FromQ = Annotated[
    str | None, Query(alias="from", pattern=PERIOD_PATTERN, description="Dal periodo")
]
ToQ = Annotated[str | None, Query(alias="to", pattern=PERIOD_PATTERN, description="Al periodo")]
INDICATORS = Listing(
    Indicator,
    IndicatorOut,
    sort=("code", "name", "kind", "frequency", "ambito_code", "version"),
    default="code",
    key=("indicator_id",),
)
# Not by value: the order would give away the counts hidden from other ambiti.
VALUES = Listing(
    IndicatorValue, ValueOut, sort=("period", "computed_at"), default="period", key=("period",)
)


def indicator_out(row: Indicator) -> IndicatorOut:
    description = None
    if row.formula and not row.formula_error:
        try:
            description = describe(check(row.formula))
        except ExpressionError:
            description = None
    out = IndicatorOut.model_validate(row, from_attributes=True)
    return out.model_copy(update={"description": description})


def value_out(principal: Principal, indicator: Indicator, row: IndicatorValue) -> ValueOut:
    value, reason = service.visible(principal, row)
    return ValueOut(
        indicator_code=indicator.code,
        territory_code=row.territory_code,
        period=row.period,
        period_kind=row.period_kind,
        value=value,
        reason=reason,
        unit=indicator.unit,
        computed_at=row.computed_at,
        watermark=row.watermark,
    )


async def get_indicator(session: SessionDep, code: Code, principal: CurrentPrincipal) -> Indicator:
    row = await service.find_indicator(session, code, principal)
    if row is None:
        raise NotFound(f"Indicatore {code} non trovato", f"Indicator {code} not found")
    return row


IndicatorDep = Annotated[Indicator, Depends(get_indicator)]


def _labels(
    indicator: Indicator, period: str | None, first: str | None, last: str | None
) -> list[str]:
    for name, label in (("period", period), ("from", first), ("to", last)):
        if label is not None:
            try:
                parse_period(label)
            except ValueError as exc:
                raise Unprocessable(
                    f"Periodo non valido: {label}",
                    f"Invalid period: {label}",
                    invalid_params=[{"name": name, "reason": "invalid period"}],
                ) from exc
    if period:
        return [period]
    if first or last:
        a = parse_period(first or last or "")
        b = parse_period(last or first or "")
        if a.kind != b.kind:
            raise Unprocessable(
                "from e to devono essere dello stesso tipo di periodo",
                "from and to must be periods of the same kind",
                invalid_params=[{"name": "to", "reason": "different period kind"}],
            )
        if b.start < a.start:
            raise Unprocessable(
                "to precede from",
                "to is before from",
                invalid_params=[{"name": "to", "reason": "before from"}],
            )
        return service.labels_between(a, b)
    return []


@router.get(
    "",
    response_model=Page[IndicatorOut],
    operation_id="list_indicators",
    summary="Elenca gli indicatori",
)
async def list_indicators(
    session: SessionDep,
    _: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(INDICATORS.query)],
    plan_id: uuid.UUID | None = None,
    ambito: Annotated[str | None, Query(pattern=CODE)] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Parte del nome o del codice")
    ] = None,
) -> Page[IndicatorOut] | JSONResponse:
    rows, total = await service.list_indicators(
        session,
        plan_id=plan_id,
        ambito=ambito,
        q=q,
        order_by=listing.order_by,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.page([indicator_out(r) for r in rows], total, page)


@router.get(
    "/{code}",
    response_model=IndicatorOut,
    operation_id="get_indicator",
    summary="Legge un indicatore",
)
async def read_indicator(
    indicator: IndicatorDep, _: CurrentPrincipal, response: Response
) -> IndicatorOut:
    response.headers["ETag"] = etag_of(f"{indicator.version}.{indicator.missing_value_policy}")
    return indicator_out(indicator)


_VALUE_MEDIA = {
    formats.CSV: {"schema": {"type": "string", "maxLength": 10_000_000}},
    formats.XLSX: {"schema": {"type": "string", "format": "binary", "maxLength": 10_000_000}},
    formats.FHIR: {
        "schema": {
            "type": "object",
            "description": "MeasureReport FHIR R4 (o Bundle di MeasureReport)",
        },
        "example": {
            "resourceType": "MeasureReport",
            "id": "0b7e8f3a-52c1-5d0e-9b6a-3c2d1e0f9a8b",
            "status": "complete",
            "type": "summary",
            "measure": "https://pdz.example.it/fhir/Measure/LEPS-3.I2",
            "subject": {"reference": "Location/AMBITO-05-SEBINO", "display": "AMBITO-05-SEBINO"},
            "date": "2026-01-02T02:00:00+00:00",
            "period": {"start": "2025-01-01", "end": "2025-12-31"},
            "group": [
                {
                    "code": {
                        "text": "Utenti con dimissione protetta su utenti che ne hanno "
                        "espresso il bisogno"
                    },
                    "measureScore": {"value": 87.5, "unit": "%"},
                }
            ],
        },
    },
}


def _negotiate(request: Request) -> str:
    accept = request.headers.get("accept", "*/*").lower()
    for media in (formats.FHIR, formats.XLSX, formats.CSV, formats.JSON):
        if media in accept:
            return media
    if "*/*" in accept or "application/*" in accept or not accept.strip():
        return formats.JSON
    raise NotAcceptable(
        "Formati disponibili: application/json, text/csv, XLSX, application/fhir+json",
        "Available formats: application/json, text/csv, XLSX, application/fhir+json",
    )


@router.get(
    "/{code}/values",
    response_model=Page[ValueOut],
    operation_id="list_indicator_values",
    summary="Valori di un indicatore per territorio e periodo",
    description=(
        "JSON (predefinito), CSV (text/csv), XLSX o MeasureReport FHIR R4 "
        "(application/fhir+json) secondo l'intestazione Accept. Senza period né from/to: "
        "gli anni del piano. I conteggi da 1 a 4 persone sono oscurati fuori dagli ambiti "
        "del chiamante (reason: suppressed)."
    ),
    responses={
        200: {"content": _VALUE_MEDIA},
        406: {"description": "Formato richiesto non disponibile"},
    },
)
async def list_values(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    indicator: IndicatorDep,
    page: Annotated[PageParams, Depends(page_params)],
    listing: Annotated[ListQuery, Depends(VALUES.query)],
    territory: TerritoryQ = None,
    period: PeriodQ = None,
    first: FromQ = None,
    last: ToQ = None,
) -> Response:
    media = _negotiate(request)
    code = await _territory(session, indicator, territory)
    labels = _labels(indicator, period, first, last)
    if not labels:
        years = await _plan_years(session, indicator)
        labels = [str(y) for y in years]
    rows = await service.series(session, indicator, code, labels)
    values = [value_out(principal, indicator, r) for r in rows]
    out = indicator_out(indicator)
    name = f"{indicator.code}_{code}".replace("/", "_")
    if media == formats.CSV:
        return Response(
            formats.to_csv(values),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if media == formats.XLSX:
        return Response(
            formats.to_xlsx(values, f"{indicator.code} - {indicator.name}"),
            media_type=formats.XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    if media == formats.FHIR:
        return Response(
            formats.to_fhir(out, values, single=period is not None), media_type=formats.FHIR
        )
    window, total = await service.series_page(
        session, indicator, code, labels, listing.order_by, page.limit, page.offset
    )
    body: Page[ValueOut] = Page(
        items=[value_out(principal, indicator, r) for r in window],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
    return listing.json(body)


async def _territory(session: SessionDep, indicator: Indicator, territory: str | None) -> str:
    code = territory or indicator.ambito_code
    if code is None:
        raise Unprocessable(
            "Indica il territorio",
            "Give the territory",
            invalid_params=[{"name": "territory", "reason": "required"}],
        )
    if code != indicator.ambito_code and await session.get(Territory, code) is None:
        raise NotFound(f"Territorio {code} sconosciuto", f"Unknown territory {code}")
    return code


async def _plan_years(session: SessionDep, indicator: Indicator) -> list[int]:
    cycles = await service._cycles(session, indicator)
    if cycles:
        return list(range(cycles[0][0], cycles[0][1] + 1))
    from pdz_indicators.targets.service import today

    return [today().year]


@router.get(
    "/{code}/chart.png",
    operation_id="get_indicator_chart",
    summary="Grafico dei valori rispetto al target",
    response_class=Response,
    responses={
        200: {
            "content": {
                "image/png": {
                    "schema": {"type": "string", "format": "binary", "maxLength": 5_000_000}
                }
            },
            "description": "Serie storica con il target",
        }
    },
)
async def chart(
    session: SessionDep,
    principal: CurrentPrincipal,
    indicator: IndicatorDep,
    territory: TerritoryQ = None,
    first: FromQ = None,
    last: ToQ = None,
) -> Response:
    code = await _territory(session, indicator, territory)
    labels = _labels(indicator, None, first, last) or [
        str(y) for y in await _plan_years(session, indicator)
    ]
    rows = await service.series(session, indicator, code, labels)
    values = [value_out(principal, indicator, r) for r in rows]
    targets: dict[str, Decimal] = {}
    if indicator.target:
        from pdz_indicators.targets.judge import target_for_year

        spec = TARGET_ADAPTER.validate_python(indicator.target)
        for label in labels:
            t = target_for_year(spec, parse_period(label).year)
            if t is not None:
                targets[label] = t
    png = formats.chart_png(indicator_out(indicator), values, targets, code)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post(
    "/{code}/recompute",
    response_model=RecomputeOut,
    operation_id="recompute_indicator",
    summary="Ricalcola tutti i valori di un indicatore",
)
async def recompute(session: SessionDep, principal: Admin, indicator: IndicatorDep) -> RecomputeOut:
    principal.require_ambito(indicator.ambito_code)
    n = await service.recompute(session, indicator)
    return RecomputeOut(indicator_code=indicator.code, values_computed=n)


@router.put(
    "/{code}/missing-value-policy",
    response_model=IndicatorOut,
    operation_id="set_missing_value_policy",
    summary="Imposta la regola per i valori mancanti",
    description=(
        "skip_if_any_missing: nessun valore se manca un input; skip_if_all_missing: nessun "
        "valore solo se mancano tutti (gli altri contano zero); zero: i mancanti contano zero. "
        "Richiede If-Match; ricalcola i valori."
    ),
)
async def set_policy(
    body: PolicyIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Admin,
    indicator: IndicatorDep,
) -> IndicatorOut:
    principal.require_ambito(indicator.ambito_code)
    check_if_match(request, f"{indicator.version}.{indicator.missing_value_policy}")
    indicator.missing_value_policy = body.missing_value_policy
    session.add(indicator)
    await session.flush()
    await service.recompute(session, indicator)
    await judge_indicator(session, indicator)
    response.headers["ETag"] = etag_of(f"{indicator.version}.{indicator.missing_value_policy}")
    return indicator_out(indicator)
