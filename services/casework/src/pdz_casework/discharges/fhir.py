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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from pdz_shared.contracts.casework import Destination

CF_SYSTEM = "http://hl7.it/sid/codiceFiscale"
AMBITO_SYSTEM = "https://pdz.example.it/sid/ambito-territoriale"
ISTAT_EXTENSION = "http://hl7.it/fhir/StructureDefinition/address-it-codiceIstatComune"
PLANNED_END_EXTENSION = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate"
)
EVENT_CODE = "dimissione-protetta"
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


def _key(identifier: Any) -> str | None:
    if identifier is None or not getattr(identifier, "value", None):
        return None
    system = getattr(identifier, "system", None) or ""
    return f"{system}|{identifier.value}"


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _text(concept: Any) -> str | None:
    if concept is None:
        return None
    if concept.text:
        return str(concept.text)
    for coding in concept.coding or []:
        if coding.display or coding.code:
            return str(coding.display or coding.code)
    return None


def parse(data: Any) -> ParsedDischarge:
    """Every problem of the bundle in ``issues``; the fields found so far otherwise."""
    out = ParsedDischarge()
    if not isinstance(data, dict):
        out.problem("body", "the body must be a FHIR Bundle (a JSON object)")
        return out
    if data.get("resourceType") != "Bundle":
        out.problem("resourceType", "must be Bundle")
        return out
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            out.problem(".".join(str(p) for p in err["loc"]), err["msg"])
        return out
    if bundle.type != "message":
        out.problem("type", "must be message")
    entries = bundle.entry or []
    by_url: dict[str, Any] = {}
    by_type: dict[str, list[tuple[int, Any]]] = {}
    for i, entry in enumerate(entries):
        if entry.resource is None:
            out.problem(f"entry.{i}.resource", "missing")
            continue
        rtype = entry.resource.get_resource_type()
        by_type.setdefault(rtype, []).append((i, entry.resource))
        if entry.fullUrl:
            by_url[str(entry.fullUrl)] = entry.resource
        if entry.resource.id:
            by_url[f"{rtype}/{entry.resource.id}"] = entry.resource
    if (
        not entries
        or entries[0].resource is None
        or (entries[0].resource.get_resource_type() != "MessageHeader")
    ):
        out.problem("entry.0", "the first entry must be a MessageHeader")
        return out
    _header(out, entries[0].resource, by_url)
    _patient(out, by_type.get("Patient", []))
    _encounter(out, by_type.get("Encounter", []))
    for rtype in ("Condition", "ServiceRequest"):
        for _, res in by_type.get(rtype, []):
            text = _text(getattr(res, "code", None))
            if text:
                out.needs.append(f"{rtype}: {text}")
    return out


def _header(out: ParsedDischarge, header: Any, by_url: dict[str, Any]) -> None:
    if header.eventCoding is None or header.eventCoding.code != EVENT_CODE:
        out.problem("entry.0.resource.eventCoding.code", f"must be {EVENT_CODE}")
    sender_ref = header.sender
    org = by_url.get(str(sender_ref.reference)) if sender_ref and sender_ref.reference else None
    if org is None or org.get_resource_type() != "Organization":
        out.problem("entry.0.resource.sender", "must reference an Organization in the bundle")
    else:
        keys = [k for k in (_key(i) for i in org.identifier or []) if k]
        if not keys:
            out.problem("Organization.identifier", "the sending Organization needs an identifier")
        else:
            out.sending_organization = keys[0]
            out.sending_organization_name = str(org.name) if org.name else None
    for dest in header.destination or []:
        ident = dest.receiver.identifier if dest.receiver is not None else None
        if ident is not None and ident.system == AMBITO_SYSTEM and ident.value:
            out.ambito_code = str(ident.value)


def _patient(out: ParsedDischarge, patients: list[tuple[int, Any]]) -> None:
    if len(patients) != 1:
        out.problem("Patient", "the bundle must hold exactly one Patient")
        return
    i, patient = patients[0]
    where = f"entry.{i}.resource"
    cf = next(
        (str(x.value) for x in patient.identifier or [] if x.system == CF_SYSTEM and x.value),
        None,
    )
    if cf is None:
        out.problem(f"{where}.identifier", f"needs a codice fiscale ({CF_SYSTEM})")
    out.codice_fiscale = cf
    name = (patient.name or [None])[0]
    if name is None or not name.family or not name.given:
        out.problem(f"{where}.name", "needs family and given name")
    else:
        out.family_name = str(name.family)
        out.given_name = " ".join(str(g) for g in name.given)
    out.birth_date = _as_date(patient.birthDate)
    out.sex = {"male": "M", "female": "F"}.get(str(patient.gender or ""))
    for address in patient.address or []:
        for ext in address.extension or []:
            if ext.url == ISTAT_EXTENSION:
                code = ext.valueCode or (ext.valueCoding.code if ext.valueCoding else None)
                if code:
                    out.comune_code = str(code)


def _encounter(out: ParsedDischarge, encounters: list[tuple[int, Any]]) -> None:
    if len(encounters) != 1:
        out.problem("Encounter", "the bundle must hold exactly one Encounter")
        return
    i, enc = encounters[0]
    where = f"entry.{i}.resource"
    keys = [k for k in (_key(x) for x in enc.identifier or []) if k]
    if not keys:
        out.problem(f"{where}.identifier", "the Encounter needs the ASST's identifier")
    else:
        out.encounter_identifier = keys[0]
    status = str(enc.status or "")
    if status not in ENCOUNTER_STATUSES:
        out.problem(f"{where}.status", f"unknown Encounter status {status!r}")
    out.encounter_status = status
    period = enc.period
    out.admission_date = _as_date(period.start) if period else None
    planned = next(
        (
            _as_date(x.valueDateTime or x.valueDate)
            for x in enc.extension or []
            if x.url == PLANNED_END_EXTENSION
        ),
        None,
    )
    out.planned_discharge_date = planned or (_as_date(period.end) if period else None)
    if out.admission_date is None:
        out.problem(f"{where}.period.start", "the admission date is required")
    if out.planned_discharge_date is None:
        out.problem(f"{where}.period.end", "the planned discharge date is required")
    elif out.admission_date and out.planned_discharge_date < out.admission_date:
        out.problem(f"{where}.period.end", "the planned discharge is before the admission")
    hosp = enc.hospitalization
    disposition = hosp.dischargeDisposition if hosp else None
    for coding in (disposition.coding if disposition else None) or []:
        if coding.code in DISPOSITIONS:
            out.planned_destination = DISPOSITIONS[str(coding.code)]
    klass = enc.class_fhir.display or enc.class_fhir.code if enc.class_fhir else None
    out.origin_setting = f"ospedale ({klass})" if klass else "ospedale"


def warm_up() -> None:
    """Loads the FHIR models and the codice fiscale tables once, so the first bundle is fast."""
    from codicefiscale import codicefiscale

    codicefiscale.is_valid("RSSMRA80A01H501U")
    parse(
        {
            "resourceType": "Bundle",
            "type": "message",
            "entry": [
                {"resource": {"resourceType": r}}
                for r in (
                    "MessageHeader",
                    "Organization",
                    "Patient",
                    "Encounter",
                    "Condition",
                    "ServiceRequest",
                )
            ],
        }
    )
