"""CSV/XLSX upload of reported values with a row-level report.

Real files are messy: every row is either stored or reported with its reasons, never silently
dropped or "fixed". A decimal comma (12,5) is read as a decimal with a warning; a number that
could be read two ways (1.234 = one thousand or one point two?) and placeholders such as "N.D."
are refused for that row.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_indicators.reported import service
from pdz_indicators.reported.schemas import ReportedValueIn
from pdz_shared.auth import Principal
from pdz_shared.errors import PdzError, Unprocessable

COLUMNS = ("metric", "territory_code", "period", "value", "note")
MAX_ROWS = 5000
_AMBIGUOUS = re.compile(r"^-?\d{1,3}([.,]\d{3})+$")


class RowReport(BaseModel):
    row: int = Field(ge=1, le=1_000_000, description="Riga del file (1 = intestazione)")
    status: Literal["created", "rejected"]
    metric: str | None = Field(None, max_length=200)
    territory_code: str | None = Field(None, max_length=200)
    period: str | None = Field(None, max_length=200)
    value: str | None = Field(None, max_length=200, description="Il valore come scritto")
    errors: list[str] = Field(default_factory=list, max_length=20)
    warnings: list[str] = Field(default_factory=list, max_length=20)


class UploadReport(BaseModel):
    dry_run: bool
    rows_total: int = Field(ge=0, le=MAX_ROWS)
    created: int = Field(ge=0, le=MAX_ROWS)
    rejected: int = Field(ge=0, le=MAX_ROWS)
    rows: list[RowReport] = Field(max_length=MAX_ROWS)


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def read_rows(content: bytes, media_type: str) -> list[list[str]]:
    if "spreadsheetml" in media_type:
        from openpyxl import load_workbook  # type: ignore[import-untyped]

        try:
            values = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            formulas = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
        except Exception as exc:
            raise Unprocessable(
                "Il file XLSX non si può leggere", "The XLSX file cannot be read"
            ) from exc
        # A formula never computed by a spreadsheet has no cached value: show the formula,
        # so the row is refused with what the user wrote instead of looking empty.
        return [
            [_text(v if v is not None else f) for v, f in zip(vrow, frow, strict=False)]
            for vrow, frow in zip(
                values.worksheets[0].iter_rows(values_only=True),
                formulas.worksheets[0].iter_rows(values_only=True),
                strict=False,
            )
        ]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    return [[c.strip() for c in r] for r in csv.reader(io.StringIO(text), delimiter=delimiter)]


def parse_value(raw: str, english: bool) -> tuple[Decimal | None, list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    s = raw.replace(" ", "")
    if not s:
        errors.append("value is empty" if english else "valore vuoto")
        return None, errors, warnings
    if _AMBIGUOUS.match(s):
        errors.append(
            f"'{raw}' is ambiguous (thousands separator or decimal?): write it without separators"
            if english
            else f"«{raw}» è ambiguo (separatore delle migliaia o decimale?): scrivilo senza "
            "separatori"
        )
        return None, errors, warnings
    if "," in s and "." not in s:
        s = s.replace(",", ".")
        warnings.append(
            f"decimal comma read as {s}" if english else f"virgola decimale letta come {s}"
        )
    try:
        value = Decimal(s)
    except InvalidOperation:
        errors.append(f"'{raw}' is not a number" if english else f"«{raw}» non è un numero")
        return None, errors, warnings
    if not value.is_finite():
        errors.append("not a finite number" if english else "non è un numero finito")
        return None, errors, warnings
    return value, errors, warnings


async def upload(
    session: AsyncSession,
    principal: Principal,
    content: bytes,
    media_type: str,
    *,
    dry_run: bool,
    english: bool,
) -> UploadReport:
    rows = read_rows(content, media_type)
    if not rows:
        raise Unprocessable("Il file è vuoto", "The file is empty")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in COLUMNS[:4] if c not in header]
    if missing:
        raise Unprocessable(
            f"Colonne mancanti: {', '.join(missing)} (attese: {', '.join(COLUMNS)})",
            f"Missing columns: {', '.join(missing)} (expected: {', '.join(COLUMNS)})",
            invalid_params=[{"name": c, "reason": "missing column"} for c in missing],
        )
    if len(rows) - 1 > MAX_ROWS:
        raise Unprocessable(
            f"Al massimo {MAX_ROWS} righe per file", f"At most {MAX_ROWS} rows per file"
        )
    index = {name: header.index(name) for name in COLUMNS if name in header}
    reports: list[RowReport] = []
    for n, raw_row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in raw_row):
            continue  # a blank line is not a row
        cell = {k: (raw_row[i] if i < len(raw_row) else "") for k, i in index.items()}
        report = RowReport(
            row=n,
            status="rejected",
            metric=cell["metric"][:200] or None,
            territory_code=cell["territory_code"][:200] or None,
            period=cell["period"][:200] or None,
            value=cell["value"][:200] or None,
        )
        value, errors, warnings = parse_value(cell["value"], english)
        report.errors += errors
        report.warnings += warnings
        if value is not None:
            try:
                data = ReportedValueIn(
                    metric=cell["metric"],
                    territory_code=cell["territory_code"],
                    period=cell["period"],
                    value=value,
                    note=cell.get("note") or None,
                )
            except ValidationError as exc:
                report.errors += [
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                ]
            else:
                try:
                    async with session.begin_nested():
                        await service.record(session, principal, data)
                        await session.flush()
                except PdzError as exc:
                    detail = exc.detail_en if english else exc.detail_it
                    report.errors.append(detail or exc.code)
                else:
                    report.status = "created"
        reports.append(report)
    created = sum(1 for r in reports if r.status == "created")
    if dry_run:
        await session.rollback()
    return UploadReport(
        dry_run=dry_run,
        rows_total=len(reports),
        created=created,
        rejected=len(reports) - created,
        rows=reports,
    )
