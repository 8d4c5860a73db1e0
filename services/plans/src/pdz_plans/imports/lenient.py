"""Tolerant reading of the values people actually write in a Piano di Zona.

Every reader returns the typed value (or None) and records a warning when the value was not what
the field expects: the original text is never dropped, it is kept in the record's ``raw`` map and
exported back as written, so a re-import gives the same plan (and the same warnings).
"""

from __future__ import annotations

import calendar
import difflib
import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

NOT_AVAILABLE = {
    "n.d.",
    "nd",
    "n.d",
    "n/d",
    "n.a.",
    "na",
    "non disponibile",
    "not in document",
    "-",
    "—",
    "\u2013",
    "--",
    "//////////////",
    "/",
}
_HTML = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_NUM = re.compile(r"[-+]?\d[\d.,]*")
_IT_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+$")


@dataclass
class Warning:
    location: str
    code: str
    message: str
    message_en: str
    value: str | None = None
    suggestion: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
            "value": self.value,
            "suggestion": self.suggestion,
        }


@dataclass
class Report:
    warnings: list[Warning] = field(default_factory=list)

    def warn(
        self,
        location: str,
        code: str,
        message: str,
        message_en: str,
        *,
        value: Any = None,
        suggestion: str | None = None,
    ) -> None:
        self.warnings.append(
            Warning(
                location,
                code,
                message,
                message_en,
                None if value is None else str(value)[:500],
                suggestion,
            )
        )


class Reader:
    """Reads the fields of one record, recording warnings and the raw text of odd values."""

    def __init__(self, report: Report, data: dict[str, Any], location: str) -> None:
        self.report = report
        self.data = data
        self.raw: dict[str, Any] = dict(data.get("raw") or {}) if isinstance(data, dict) else {}
        self.location = location
        self.cell_locations: dict[str, str] = (
            dict(data.get("__loc__") or {}) if isinstance(data.get("__loc__"), dict) else {}
        )

    def loc(self, name: str) -> str:
        return self.cell_locations.get(name) or f"{self.location}.{name}"

    def has(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def get(self, name: str) -> Any:
        return self.data.get(name)

    def _keep(self, name: str, value: Any) -> None:
        self.raw[name] = value if isinstance(value, (str, int, float, bool)) else str(value)

    # ------------------------------------------------------------------ text

    def text(self, name: str, *, required: bool = False, max_length: int = 20000) -> str | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.report.warn(
                    self.loc(name),
                    "blank",
                    f"Campo obbligatorio vuoto: {name}",
                    f"Required field is blank: {name}",
                )
            return None
        if isinstance(value, (list, dict)):
            self.report.warn(
                self.loc(name),
                "not-a-text",
                f"Atteso un testo in {name}",
                f"Expected a text in {name}",
                value=value,
            )
            self._keep(name, value)
            return str(value)[:max_length]
        text = str(value) if not isinstance(value, str) else value
        if _HTML.search(text):
            cleaned = html.unescape(_HTML.sub(" ", text))
            cleaned = re.sub(r"[ \t]+", " ", cleaned).strip()
            self.report.warn(
                self.loc(name),
                "html-in-text",
                "Marcatori HTML nel testo: rimossi (il testo originale è conservato)",
                "HTML tags in the text: removed (the original text is kept)",
                value=text,
            )
            self._keep(name, text)
            text = cleaned
        if len(text) > max_length:
            self.report.warn(
                self.loc(name),
                "too-long",
                f"Testo oltre {max_length} caratteri: troncato (originale conservato)",
                f"Text longer than {max_length} characters: truncated (original kept)",
            )
            self._keep(name, text)
            text = text[:max_length]
        return text.strip()

    def texts(self, name: str) -> list[str]:
        value = self.data.get(name)
        if value is None:
            return []
        if isinstance(value, str):
            items: list[Any] = [v for v in re.split(r"\n|;", value) if v.strip()]
        elif isinstance(value, list):
            items = value
        else:
            items = [value]
        out: list[str] = []
        for i, item in enumerate(items):
            sub = Reader(self.report, {"v": item}, f"{self.location}.{name}[{i}]")
            text = sub.text("v")
            if text:
                out.append(text)
        if isinstance(value, list) and any(isinstance(v, str) and _HTML.search(v) for v in value):
            self._keep(name, "\n".join(str(v) for v in value))
        return out

    # ------------------------------------------------------------------ numbers

    def number(self, name: str, *, percent: bool = False) -> float | None:
        value = self.data.get(name)
        number, code = parse_number(value)
        if not percent and isinstance(value, str) and "%" in value:
            self._keep(name, value)
            self.report.warn(
                self.loc(name),
                "percentage-in-amount",
                f"Percentuale dove è atteso un importo o un numero: {name} (testo conservato)",
                f"A percentage where an amount or count is expected: {name} (text kept)",
                value=value,
            )
            return None
        if code is None:
            return number
        if code == "blank" and value is None:
            return None
        self._keep(name, value)
        messages = {
            "blank": ("Valore mancante", "Missing value"),
            "not-available": ("Valore non disponibile (N.D.)", "Value not available (N.D.)"),
            "percentage-with-text": (
                "Percentuale mescolata a testo: letto il numero, testo conservato",
                "Percentage mixed with text: the number was read, the text is kept",
            ),
            "number-with-text": (
                "Numero mescolato a testo: letto il numero, testo conservato",
                "Number mixed with text: the number was read, the text is kept",
            ),
            "not-a-number": ("Valore non numerico", "Not a number"),
        }
        it, en = messages[code]
        self.report.warn(self.loc(name), code, f"{it}: {name}", f"{en}: {name}", value=value)
        return number

    def integer(self, name: str) -> int | None:
        value = self.data.get(name)
        number = self.number(name)
        if number is None:
            return None
        if number != int(number):
            self._keep(name, value)
            self.report.warn(
                self.loc(name),
                "not-an-integer",
                f"Atteso un numero intero in {name}: valore conservato come testo",
                f"Expected a whole number in {name}: the value is kept as text",
                value=value,
            )
            return None
        return int(number)

    def year(self, name: str) -> int | None:
        year = self.integer(name)
        if year is not None and not 1900 <= year <= 2100:
            self._keep(name, self.data.get(name))
            self.report.warn(
                self.loc(name),
                "invalid-year",
                f"Anno non plausibile: {year}",
                f"Implausible year: {year}",
                value=year,
            )
            return None
        return year

    # ------------------------------------------------------------------ dates

    def date(self, name: str) -> date | None:
        value = self.data.get(name)
        parsed, code = parse_date(value)
        if code is None:
            return parsed
        if code == "blank":
            return None
        self._keep(name, value)
        if code == "not-available":
            self.report.warn(
                self.loc(name),
                "not-available",
                f"Data non disponibile (N.D.): {name}",
                f"Date not available (N.D.): {name}",
                value=value,
            )
        elif code == "impossible-date":
            self.report.warn(
                self.loc(name),
                "impossible-date",
                f"Data impossibile ({value}): conservata come testo",
                f"Impossible date ({value}): kept as text",
                value=value,
            )
        else:
            self.report.warn(
                self.loc(name),
                "invalid-date",
                f"Data non leggibile ({value}): conservata come testo",
                f"Unreadable date ({value}): kept as text",
                value=value,
            )
        return None


def parse_number(value: Any) -> tuple[float | None, str | None]:
    """(number, None) when clean; (number or None, warning code) otherwise."""
    if value is None:
        return None, "blank"
    if isinstance(value, bool):
        return None, "not-a-number"
    if isinstance(value, (int, float)):
        return float(value), None
    text = html.unescape(_HTML.sub(" ", str(value))).strip()
    if not text:
        return None, "blank"
    if text.lower() in NOT_AVAILABLE or text.lower().startswith("n.d"):
        return None, "not-available"
    compact = text.replace("€", "").replace("euro", "").replace("\u00a0", "").strip()
    compact = compact.replace(" ", "")
    is_percent = compact.endswith("%") and _NUM.fullmatch(compact[:-1]) is not None
    core = compact[:-1] if is_percent else compact
    if _NUM.fullmatch(core):
        return _to_float(core), None
    match = _NUM.search(text)
    if match is None:
        return None, "not-a-number"
    number = _to_float(match.group(0).rstrip(".,"))
    after = text[match.end() :].lstrip()
    return number, "percentage-with-text" if after.startswith("%") else "number-with-text"


def _to_float(text: str) -> float:
    if "," in text and "." in text:
        return float(text.replace(".", "").replace(",", "."))
    if "," in text:
        if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", text) and text.count(",") > 1:
            return float(text.replace(",", ""))
        return float(text.replace(",", "."))
    if _IT_THOUSANDS.match(text):
        return float(text.replace(".", ""))
    return float(text)


def parse_date(value: Any) -> tuple[date | None, str | None]:
    if value is None:
        return None, "blank"
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    text = str(value).strip()
    if not text:
        return None, "blank"
    if text.lower() in NOT_AVAILABLE:
        return None, "not-available"
    if m := _ISO.match(text):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _DATE.match(text):
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if y < 100:
            y += 2000
    else:
        return None, "invalid-date"
    if not 1 <= mo <= 12 or not 1 <= d <= calendar.monthrange(y, mo)[1]:
        return None, "impossible-date"
    return date(y, mo, d), None


def fold(name: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a place name."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\bd'|\bdi\b", "d ", text)
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def closest(name: str, candidates: list[str]) -> str | None:
    folded = {fold(c): c for c in candidates}
    match = difflib.get_close_matches(fold(name), list(folded), n=1, cutoff=0.6)
    return folded[match[0]] if match else None
