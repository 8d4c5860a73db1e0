"""Reading a dimissione protetta FHIR R4 message Bundle, collecting every problem at once.

What the Bundle must hold (our profile of the ASST boundary):

- ``Bundle.type = message``; the first entry a ``MessageHeader`` whose ``eventCoding.code`` is
  ``dimissione-protetta``, whose ``sender`` references the sending ``Organization`` (which has an
  identifier) and whose ``destination[0].receiver.identifier`` (system ``AMBITO_SYSTEM``) names
  the Ambito, unless the sender serves a single Ambito.
- a ``Patient`` identified by codice fiscale (system ``http://hl7.it/sid/codiceFiscale``), with
  names; the comune of residence, if given, as the ISTAT code extension on ``address``.
- an ``Encounter`` with the ASST's identifier, ``period.start`` (admission) and the planned
  discharge date (the R5 ``plannedEndDate`` extension, else ``period.end``); status
  ``cancelled`` withdraws the discharge. ``hospitalization.dischargeDisposition`` hints the
  destination.
- optionally ``Condition`` and ``ServiceRequest`` resources describing the needs.

Two levels of checking. ``parse`` reads the plain JSON in the request (tens of microseconds): every
element the platform uses is checked strictly (types, FHIR date and code formats, cardinality),
and every problem is reported at once, so an intake answers 422 with the full list. ``conformance``
validates the whole Bundle against FHIR R4, with the verdicts of the ``fhir.resources.R4B``
models (``conformance.check``: about 0.1 ms instead of their 1-2 ms and 30 MB); the discharge
processor runs it, not the API: a Bundle that is readable but not conformant is accepted (202)
and then ends ``rejected`` with the reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from pdz_shared.contracts.casework import Destination

CF_SYSTEM = "http://hl7.it/sid/codiceFiscale"
AMBITO_SYSTEM = "https://pdz.example.it/sid/ambito-territoriale"
ISTAT_EXTENSION = "http://hl7.it/fhir/StructureDefinition/address-it-codiceIstatComune"
PLANNED_END_EXTENSION = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate"
)
EVENT_CODE = "dimissione-protetta"
MAX_ENTRIES = 100
ENCOUNTER_STATUSES = {
    "planned",
    "arrived",
    "triaged",
    "in-progress",
    "onleave",
    "finished",
    "cancelled",
    "entered-in-error",
    "unknown",
}
GENDERS = {"male": "M", "female": "F", "other": None, "unknown": None}
DISPOSITIONS: dict[str, Destination] = {
    "home": "domicilio",
    "alt-home": "domicilio",
    "domicilio": "domicilio",
    "snf": "struttura_residenziale",
    "long": "struttura_residenziale",
    "struttura_residenziale": "struttura_residenziale",
    "rehab": "cure_intermedie",
    "cure_intermedie": "cure_intermedie",
    "ospedale_di_comunita": "ospedale_di_comunita",
    "hosp": "hospice",
    "hospice": "hospice",
}
# FHIR R4 primitive formats (http://hl7.org/fhir/R4/datatypes.html)
_DATE = re.compile(r"([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?")
_DATETIME = re.compile(
    r"([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?"
)
_CODE = re.compile(r"[^\s]+( [^\s]+)*")


@dataclass
class ParsedDischarge:
    sending_organization: str | None = None
    sending_organization_name: str | None = None
    encounter_identifier: str | None = None
    ambito_code: str | None = None
    codice_fiscale: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    comune_code: str | None = None
    encounter_status: str | None = None
    admission_date: date | None = None
    planned_discharge_date: date | None = None
    planned_destination: Destination | None = None
    origin_setting: str = "ospedale"
    needs: list[str] = field(default_factory=list)
    issues: list[dict[str, str]] = field(default_factory=list)

    def problem(self, name: str, reason: str) -> None:
        self.issues.append({"name": name, "reason": reason})

    @property
    def key_known(self) -> bool:
        return bool(self.sending_organization and self.encounter_identifier)

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in _FIELDS}
        for k in ("birth_date", "admission_date", "planned_discharge_date"):
            out[k] = out[k].isoformat() if out[k] else None
        out["needs"] = list(self.needs)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParsedDischarge:
        values = dict(data)
        for k in ("birth_date", "admission_date", "planned_discharge_date"):
            values[k] = date.fromisoformat(values[k]) if values.get(k) else None
        return cls(**values)


_FIELDS = [f.name for f in fields(ParsedDischarge) if f.name != "issues"]


class _Reader:
    """Typed access to plain JSON that records a problem, by path, for every wrong element."""

    def __init__(self, out: ParsedDischarge) -> None:
        self.out = out

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.out.problem(path, "must be a JSON object")
            return {}
        return value

    def objs(self, value: Any, path: str) -> list[tuple[str, dict[str, Any]]]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.out.problem(path, "must be a JSON array")
            return []
        return [(f"{path}.{i}", self.obj(v, f"{path}.{i}")) for i, v in enumerate(value)]

    def text(self, value: Any, path: str, pattern: re.Pattern[str] | None = None) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.out.problem(path, "must be a non-empty string")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.out.problem(path, "not a valid FHIR value")
            return None
        return value

    def day(self, value: Any, path: str, pattern: re.Pattern[str] = _DATE) -> date | None:
        """The calendar day of a FHIR date or dateTime (None when only a year or a month)."""
        if value is None:
            return None
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.out.problem(path, "invalid date (FHIR: YYYY, YYYY-MM or YYYY-MM-DD)")
            return None
        if len(value) < 10:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            self.out.problem(path, "no such day")
            return None

    def identifier_key(self, identifiers: Any, path: str) -> str | None:
        """``system|value`` of the first identifier with a value."""
        for where, ident in self.objs(identifiers, path):
            value = self.text(ident.get("value"), f"{where}.value")
            system = self.text(ident.get("system"), f"{where}.system") or ""
            if value:
                return f"{system}|{value}"
        return None

    def concept_text(self, concept: Any, path: str) -> str | None:
        c = self.obj(concept, path)
        text = self.text(c.get("text"), f"{path}.text")
        if text:
            return text
        for where, coding in self.objs(c.get("coding"), f"{path}.coding"):
            shown = self.text(coding.get("display"), f"{where}.display") or self.text(
                coding.get("code"), f"{where}.code", _CODE
            )
            if shown:
                return shown
        return None


def parse(data: Any) -> ParsedDischarge:
    """Every problem of the bundle in ``issues``; the fields found so far otherwise."""
    out = ParsedDischarge()
    r = _Reader(out)
    if not isinstance(data, dict):
        out.problem("body", "the body must be a FHIR Bundle (a JSON object)")
        return out
    if data.get("resourceType") != "Bundle":
        out.problem("resourceType", "must be Bundle")
        return out
    if data.get("type") != "message":
        out.problem("type", "must be message")
    entries = r.objs(data.get("entry"), "entry")
    if len(entries) > MAX_ENTRIES:
        out.problem("entry", f"at most {MAX_ENTRIES} entries")
        return out
    by_url: dict[str, dict[str, Any]] = {}
    by_type: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for where, entry in entries:
        resource = r.obj(entry.get("resource"), f"{where}.resource")
        rtype = resource.get("resourceType")
        if not resource or not isinstance(rtype, str):
            out.problem(f"{where}.resource", "missing, or without resourceType")
            continue
        by_type.setdefault(rtype, []).append((f"{where}.resource", resource))
        url = r.text(entry.get("fullUrl"), f"{where}.fullUrl")
        if url:
            by_url[url] = resource
        rid = resource.get("id")
        if isinstance(rid, str):
            by_url[f"{rtype}/{rid}"] = resource
    first = entries[0][1].get("resource") if entries else None
    if not isinstance(first, dict) or first.get("resourceType") != "MessageHeader":
        out.problem("entry.0", "the first entry must be a MessageHeader")
        return out
    _header(r, first, by_url)
    _patient(r, by_type.get("Patient", []))
    _encounter(r, by_type.get("Encounter", []))
    for rtype in ("Condition", "ServiceRequest"):
        for where, res in by_type.get(rtype, []):
            text = r.concept_text(res.get("code"), f"{where}.code")
            if text:
                out.needs.append(f"{rtype}: {text}")
    return out


def _header(r: _Reader, header: dict[str, Any], by_url: dict[str, dict[str, Any]]) -> None:
    out, where = r.out, "entry.0.resource"
    coding = r.obj(header.get("eventCoding"), f"{where}.eventCoding")
    if coding.get("code") != EVENT_CODE:
        out.problem(f"{where}.eventCoding.code", f"must be {EVENT_CODE}")
    sender = r.obj(header.get("sender"), f"{where}.sender")
    ref = r.text(sender.get("reference"), f"{where}.sender.reference")
    org = by_url.get(ref) if ref else None
    if org is None or org.get("resourceType") != "Organization":
        out.problem(f"{where}.sender", "must reference an Organization in the bundle")
    else:
        key = r.identifier_key(org.get("identifier"), "Organization.identifier")
        if key is None:
            out.problem("Organization.identifier", "the sending Organization needs an identifier")
        else:
            out.sending_organization = key
            out.sending_organization_name = r.text(org.get("name"), "Organization.name")
    for dest_at, dest in r.objs(header.get("destination"), f"{where}.destination"):
        receiver = r.obj(dest.get("receiver"), f"{dest_at}.receiver")
        ident = r.obj(receiver.get("identifier"), f"{dest_at}.receiver.identifier")
        value = r.text(ident.get("value"), f"{dest_at}.receiver.identifier.value")
        if ident.get("system") == AMBITO_SYSTEM and value:
            out.ambito_code = value


def _patient(r: _Reader, patients: list[tuple[str, dict[str, Any]]]) -> None:
    out = r.out
    if len(patients) != 1:
        out.problem("Patient", "the bundle must hold exactly one Patient")
        return
    where, patient = patients[0]
    cf = None
    for ident_at, ident in r.objs(patient.get("identifier"), f"{where}.identifier"):
        value = r.text(ident.get("value"), f"{ident_at}.value")
        if ident.get("system") == CF_SYSTEM and value and cf is None:
            cf = value
    if cf is None:
        out.problem(f"{where}.identifier", f"needs a codice fiscale ({CF_SYSTEM})")
    out.codice_fiscale = cf
    names = r.objs(patient.get("name"), f"{where}.name")
    name = names[0][1] if names else {}
    family = r.text(name.get("family"), f"{where}.name.0.family")
    given = [
        g
        for i, g in enumerate(
            name.get("given") or [] if isinstance(name.get("given"), list) else []
        )
        if r.text(g, f"{where}.name.0.given.{i}")
    ]
    if name.get("given") is not None and not isinstance(name.get("given"), list):
        out.problem(f"{where}.name.0.given", "must be a JSON array")
    if not family or not given:
        out.problem(f"{where}.name", "needs family and given name")
    else:
        out.family_name, out.given_name = family, " ".join(given)
    out.birth_date = r.day(patient.get("birthDate"), f"{where}.birthDate")
    gender = patient.get("gender")
    if gender is not None and gender not in GENDERS:
        out.problem(f"{where}.gender", "must be male, female, other or unknown")
    out.sex = GENDERS.get(gender) if isinstance(gender, str) else None
    for addr_at, address in r.objs(patient.get("address"), f"{where}.address"):
        for ext_at, ext in r.objs(address.get("extension"), f"{addr_at}.extension"):
            if ext.get("url") != ISTAT_EXTENSION:
                continue
            code = r.text(ext.get("valueCode"), f"{ext_at}.valueCode", _CODE)
            if code is None and "valueCoding" in ext:
                coding = r.obj(ext.get("valueCoding"), f"{ext_at}.valueCoding")
                code = r.text(coding.get("code"), f"{ext_at}.valueCoding.code", _CODE)
            if code:
                out.comune_code = code


def _encounter(r: _Reader, encounters: list[tuple[str, dict[str, Any]]]) -> None:
    out = r.out
    if len(encounters) != 1:
        out.problem("Encounter", "the bundle must hold exactly one Encounter")
        return
    where, enc = encounters[0]
    key = r.identifier_key(enc.get("identifier"), f"{where}.identifier")
    if key is None:
        out.problem(f"{where}.identifier", "the Encounter needs the ASST's identifier")
    out.encounter_identifier = key
    status = enc.get("status")
    if status not in ENCOUNTER_STATUSES:
        out.problem(f"{where}.status", f"unknown Encounter status {status!r}"[:200])
    out.encounter_status = status if isinstance(status, str) else None
    period = r.obj(enc.get("period"), f"{where}.period")
    out.admission_date = r.day(period.get("start"), f"{where}.period.start", _DATETIME)
    planned = None
    for ext_at, ext in r.objs(enc.get("extension"), f"{where}.extension"):
        if ext.get("url") == PLANNED_END_EXTENSION:
            value = ext.get("valueDateTime", ext.get("valueDate"))
            planned = r.day(value, f"{ext_at}.valueDateTime", _DATETIME)
    end = r.day(period.get("end"), f"{where}.period.end", _DATETIME)
    out.planned_discharge_date = planned or end
    if out.admission_date is None:
        out.problem(f"{where}.period.start", "the admission date is required (a full date)")
    if out.planned_discharge_date is None:
        out.problem(f"{where}.period.end", "the planned discharge date is required")
    elif out.admission_date and out.planned_discharge_date < out.admission_date:
        out.problem(f"{where}.period.end", "the planned discharge is before the admission")
    hosp = r.obj(enc.get("hospitalization"), f"{where}.hospitalization")
    disposition = r.obj(
        hosp.get("dischargeDisposition"), f"{where}.hospitalization.dischargeDisposition"
    )
    for coding_at, coding in r.objs(
        disposition.get("coding"), f"{where}.hospitalization.dischargeDisposition.coding"
    ):
        code = r.text(coding.get("code"), f"{coding_at}.code", _CODE)
        if code in DISPOSITIONS:
            out.planned_destination = DISPOSITIONS[code]
    klass = r.obj(enc.get("class"), f"{where}.class")
    shown = r.text(klass.get("display"), f"{where}.class.display") or r.text(
        klass.get("code"), f"{where}.class.code", _CODE
    )
    out.origin_setting = f"ospedale ({shown})"[:100] if shown else "ospedale"


def conformance(data: Any) -> list[dict[str, str]]:
    """Problems of the whole Bundle against FHIR R4 (none when it conforms): the same verdicts
    as the fhir.resources R4B models, from a table of their elements (``conformance``), at a
    tenth of the cost."""
    from pdz_casework.discharges.conformance import check

    return [{"name": p["name"][:300], "reason": p["reason"][:1000]} for p in check(data)[:100]]


def warm_up() -> None:
    """Loads the FHIR R4 element table once (in the processor), so the first bundle is fast."""
    conformance({"resourceType": "Bundle", "type": "message"})
