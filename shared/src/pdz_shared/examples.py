"""Examples in the OpenAPI documents, from the Sebino demo (Ambito n. 5 Sebino, Iseo, Marone...).

Every request body and every 2xx JSON response carries an ``example``. It is built from its
schema: a field's own ``examples`` (``Field(examples=[...])``) first, then the values below (by
``Schema.field``, then by field name), enums, and nested schemas built the same way. A required
field with none of these gives no example, and ``missing_examples`` (checked by the tests) names
the operation and the field, so that a new field needs a realistic example to pass.
"""

from __future__ import annotations

from typing import Any

SEBINO = "AMBITO-05-SEBINO"
ISEO = "017085"
MARONE = "017104"
PLAN_ID = "3f1c2a9e-5b7d-4c2e-9a10-0a5eb1202527"
OBJECTIVE_ID = "8d2e4f60-1a3b-4c5d-8e7f-a5eb00000003"
INDICATOR_ID = "c0a80105-2025-4e7a-b1d2-00000000a5e1"
CASE_ID = "6b1f0e52-9c3a-4f7d-8a21-5eb1a5c0ffee"
DISCHARGE_ID = "a3d4e5f6-0711-4c2b-9d3e-d15c4a26e001"
PERSON_ID = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
EVM_ID = "1e2d3c4b-5a69-4788-9a0b-eeaa00000001"
PAI_ID = "2f3e4d5c-6b7a-4899-8a1b-9a1000000001"
NOTIFICATION_ID = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f00000042"
DELIVERY_ID = "7c6b5a49-3827-4615-9a04-de11e0000001"
RULE_ID = "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
TEMPLATE_ID = "5b6c7d8e-9fa0-4b1c-8d2e-3f4a5b6c7d8e"
WEBHOOK_ID = "6c7d8e9f-a0b1-4c2d-9e3f-4a5b6c7d8e9f"
EVENT_ID = "0f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910"
AT = "2026-03-02T09:15:00Z"
LATER = "2026-03-02T10:40:00Z"

OMIT = object()  # an optional field the example leaves out

# "Schema.field" first, then "field"; Page_* schemas use "Page.field".
VALUES: dict[str, Any] = {
    # --- pages and counts
    "Page.total": 1,
    "Page.limit": 50,
    "Page.offset": 0,
    "InboxPage.total": 3,
    "InboxPage.limit": 50,
    "InboxPage.offset": 0,
    "unread": 2,
    "marked": 2,
    # --- who and when
    "sub": "pua-iseo-01",
    "actor": "udp-sebino",
    "created_by": "udp-sebino",
    "updated_by": "udp-sebino",
    "recorded_by": "as-marone-02",
    "reported_by": "udp-sebino",
    "by_sub": "pua-iseo-01",
    "done_by": "as-marone-02",
    "approved_by": "udp-sebino",
    "case_manager_sub": "as-marone-02",
    "roles": ["pua_operator"],
    "ambiti": [SEBINO],
    "role": "pua_operator",
    "Signatory.role": "Sindaco",
    "Signatory.name": "Comune di Iseo",
    "GovernanceBody.role": "indirizzo politico e approvazione del Piano di Zona",
    "GovernanceMember.role": "Sindaco o assessore delegato",
    "at": AT,
    "created_at": AT,
    "updated_at": LATER,
    "received_at": AT,
    "processed_at": "2026-03-02T09:15:01Z",
    "recorded_at": AT,
    "computed_at": "2026-03-02T02:00:00Z",
    "started_at": AT,
    "triaged_at": LATER,
    "approved_at": "2026-03-20T11:00:00Z",
    "sent_at": "2026-03-02T09:15:03Z",
    "read_at": None,
    "next_attempt_at": "2026-03-02T09:16:00Z",
    "due_at": "2026-03-05T09:15:00Z",
    "met_at": None,
    "scheduled_for": "2026-03-09T10:00:00Z",
    "evaluated_at": "2026-03-09T11:30:00Z",
    "done_at": LATER,
    "version": 1,
    # --- territory and plan
    "ambito_code": SEBINO,
    "comune_code": ISEO,
    "territory_code": ISEO,
    "capofila_code": "COMUNE-ISEO",
    "TerritoryUpdate.name": "Iseo",
    "PopulationOut.territory_code": ISEO,
    "year": 2025,
    "plan_id": PLAN_ID,
    "objective_id": OBJECTIVE_ID,
    "plan_code": "PDZ-AMBITO-05-SEBINO-2025-2027",
    "Scorecard.title": "Piano di Zona 2025-2027 - Ambito n. 5 Sebino",
    "ScorecardObjective.title": "Servizi sociali per le dimissioni protette",
    "ObjectiveIn.title": "Servizi sociali per le dimissioni protette",
    "ObjectiveOut.title": "Servizi sociali per le dimissioni protette",
    "Action.title": "Protocollo per le dimissioni protette con la ASST Franciacorta",
    "EvaluationItemOut.title": "Dimissioni protette: protocollo con la ASST",
    "ChangeOut.entity": "objective",
    "ChangeOut.entity_id": OBJECTIVE_ID,
    "ChangeOut.action": "updated",
    "ChangeOut.changes": {"status": ["planned", "active"]},
    "entity": "objective",
    "entity_id": OBJECTIVE_ID,
    "SchemeIn.name": "LEPS - Livelli essenziali delle prestazioni sociali",
    "SchemeOut.name": "LEPS - Livelli essenziali delle prestazioni sociali",
    "SchemeOut.code": "leps",
    "CodeOut.scheme": "leps",
    "CodeOut.code": "DIMISSIONI-PROTETTE",
    "ClassificationRef.code": "DIMISSIONI-PROTETTE",
    "CodeIn.label": "Servizi sociali per le dimissioni protette",
    "CodeOut.label": "Servizi sociali per le dimissioni protette",
    "MilestoneStage.label": "Attivazione del protocollo/procedura",
    "MilestoneTarget.description": "Protocollo per le dimissioni protette con la ASST di "
    "riferimento, ATS e gli ETS",
    "ShareOfComuniTarget.condition": "servizio attivo",
    "ShareOfComuniTarget.share": 0.75,
    "ThresholdTarget.value": 80.0,
    "FloorPerSubTerritoryTarget.value": 1.0,
    "fund": "FNPS",
    "lines": 3,
    "BudgetWarning.code": "fund-total-mismatch",
    "BudgetWarning.message": "Il totale del FNPS non corrisponde alla somma delle righe",
    "location": "objectives[2].indicators[0]",
    "ImportWarning.message": "Obiettivo senza indicatori",
    "ImportWarning.message_en": "Objective without indicators",
    "ImportReport.counts": {
        "plans": {"created": 1},
        "objectives": {"created": 12},
        "indicators": {"created": 31, "unchanged": 2},
    },
    "PlanOut.id": PLAN_ID,
    "ObjectiveOut.id": OBJECTIVE_ID,
    "EvaluationItemOut.id": "e9f0a1b2-c3d4-4e5f-9a6b-7c8d9e0f1a2b",
    "comune_codes": ["COMUNE-ISEO", "COMUNE-MARONE", "COMUNE-MONTE-ISOLA"],
    "powers": ["approva il Piano di Zona e i suoi aggiornamenti"],
    "shared_with_ambiti": ["AMBITO-06-MONTE-ORFANO"],
    "partners": ["ASST Franciacorta", "ATS di Brescia", "Enti del Terzo Settore"],
    # --- indicators
    "indicator_id": INDICATOR_ID,
    "IndicatorOut.id": INDICATOR_ID,
    "ReportedValueOut.id": "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6",
    "indicator_code": "LEPS-3.I2",
    "IndicatorOut.code": "LEPS-3.I2",
    "ScorecardIndicator.code": "LEPS-3.I2",
    "IndicatorIn.name": "Utenti che hanno beneficiato del servizio di dimissioni protette su "
    "utenti che ne hanno espresso il bisogno",
    "IndicatorOut.name": "Utenti che hanno beneficiato del servizio di dimissioni protette su "
    "utenti che ne hanno espresso il bisogno",
    "ScorecardIndicator.name": "Utenti che hanno beneficiato del servizio di dimissioni protette "
    "su utenti che ne hanno espresso il bisogno",
    "IndicatorOut.kind": "outcome",
    "IndicatorOut.frequency": "yearly",
    "ReportedValueOut.value": "42",
    "ExpressionOut.formula": 'count("discharge.processed") / count("discharge.received") * 100',
    "formula": 'count("discharge.processed") / count("discharge.received") * 100',
    "facts": ["discharge.processed", "discharge.received"],
    "reported": ["posti_sad"],
    "ExpressionProblem.message": "Funzione sconosciuta: conta",
    "line": 1,
    "column": 1,
    "values_computed": 3,
    "ValueOut.territory_code": SEBINO,
    "ValueOut.period": "2025",
    "ValueOut.period_kind": "year",
    "ValueOut.value": "87.500000",
    "ValueOut.reason": None,
    "ValueOut.unit": "%",
    "IndicatorOut.unit": "%",
    "Reason.name": "no_data",
    "Reason.reason": "Nessun dato per il periodo",
    "summary": {"on_track": 4, "at_risk": 1, "unknown": 2},
    "ReportedValueOut.ambito_code": SEBINO,
    "rows_total": 12,
    "created": 11,
    "rejected": 1,
    "row": 7,
    "count": 12,
    # --- casework
    "case_id": CASE_ID,
    "CaseOut.id": CASE_ID,
    "CaseSummary.id": CASE_ID,
    "DischargeOut.id": DISCHARGE_ID,
    "discharge_id": DISCHARGE_ID,
    "person_id": PERSON_ID,
    "PersonOut.id": PERSON_ID,
    "TransitionOut.id": "b7c8d9e0-f1a2-4b3c-9d4e-5f6a7b8c9d0e",
    "TaskOut.id": "c8d9e0f1-a2b3-4c4d-8e5f-6a7b8c9d0e1f",
    "InterventionOut.id": "d9e0f1a2-b3c4-4d5e-8f6a-7b8c9d0e1f2a",
    "goals": [
        "Rientro a domicilio in sicurezza entro 72 ore dalla dimissione",
        "Sostegno alla figlia caregiver con il SAD tre volte a settimana",
    ],
    "EvmOut.id": EVM_ID,
    "PaiOut.id": PAI_ID,
    "ConsentOut.id": 1,
    "codice_fiscale": "BNCNNA40C52E333S",
    "given_name": "Anna",
    "family_name": "Bianchi",
    "birth_date": "1940-03-12",
    "sex": "F",
    "sending_organization": "ASST Franciacorta - Presidio Ospedaliero di Iseo",
    "encounter_identifier": "RIC-2026-004217",
    "reasons": [],
    "receipts": 1,
    "discharged_on": "2026-03-02",
    "arrived_on": "2026-03-02",
    "origin_setting": "ospedale",
    "TaskOut.code": "presa-in-carico-pua",
    "TaskOut.title": "Presa in carico da parte del PUA",
    "TaskOut.status": "done",
    "step": 1,
    "DeadlineOut.kind": "triage",
    "number": 1,
    "start_date": "2026-03-03",
    "AuditOut.operation": "get_case",
    "AuditOut.purpose": "presa-in-carico",
    "purpose": "presa-in-carico",
    "TriageAnswer.value": 1,
    "health_score": 3,
    "social_score": 2,
    "total_score": 5,
    "size": 3,
    "system": "sicare",
    "ExternalLinkOut.external_id": "CS-ISEO-2026-00042",
    "external_id": "CS-ISEO-2026-00042",
    "ExternalLinkOut.comune_code": ISEO,
    "timestamps": {"received_at": AT, "triaged_at": LATER},
    "changes_summary": "presa in carico",
    # --- notifications
    "event_id": EVENT_ID,
    "event_type": "pdz.casework.case.opened.v1",
    "NotificationOut.id": NOTIFICATION_ID,
    "DeliveryOut.id": DELIVERY_ID,
    "DeliveryDetail.id": DELIVERY_ID,
    "RuleOut.id": RULE_ID,
    "TemplateOut.id": TEMPLATE_ID,
    "WebhookOut.id": WEBHOOK_ID,
    "recipient": "pua-iseo-01",
    "RuleFilters.ambito_code": [SEBINO],
    "RuleFilters.comune_code": [ISEO, MARONE],
    "attempts": 1,
    "attempt": 1,
    "duration_ms": 84,
    "template_key": "pdz.casework.case.opened.v1",
    "secret": "cambiami-con-un-segreto-lungo-32-caratteri",
    "RuleIn.description": "Nuovo caso dalla dimissione protetta: avvisa gli operatori PUA",
    "RuleOut.description": "Nuovo caso dalla dimissione protetta: avvisa gli operatori PUA",
    "TemplateIn.subject": "Nuovo caso PUA a {{ comune }}",
    "TemplateOut.subject": "Nuovo caso PUA a {{ comune }}",
    "PreviewOut.subject": "Nuovo caso PUA a Iseo",
    "TemplateIn.body": "È stato aperto un caso dalla dimissione protetta di {{ ospedale }}: "
    "prendilo in carico entro {{ scadenza }}.",
    "TemplateOut.body": "È stato aperto un caso dalla dimissione protetta di {{ ospedale }}: "
    "prendilo in carico entro {{ scadenza }}.",
    "PreviewOut.body": "È stato aperto un caso dalla dimissione protetta di ASST Franciacorta: "
    "prendilo in carico entro il 05/03/2026.",
    "NotificationOut.title": "Nuovo caso PUA a Iseo",
    "NotificationOut.body": "È stato aperto un caso dalla dimissione protetta di ASST "
    "Franciacorta: prendilo in carico entro il 05/03/2026.",
    # --- problem+json (GET /status)
    "Problem.type": "about:blank",
    "Problem.title": "Servizio disponibile",
    "Problem.status": 200,
    "Problem.detail": "Database e broker raggiungibili",
    "Problem.instance": "/status",
    "Problem.code": OMIT,
    "Problem.invalid_params": OMIT,
    # --- booleans worth showing true
    "active": True,
    "enabled": True,
    "ExpressionOut.valid": True,
    "ExpressionOut.error": OMIT,
    "PreviewIn.data": {
        "comune": "Iseo",
        "ospedale": "ASST Franciacorta",
        "scadenza": "il 05/03/2026",
    },
    "PreviewIn.items": OMIT,
    "TriageOut.answers": {
        "autonomia_funzionale": 2,
        "patologie_croniche": 1,
        "deficit_cognitivo": 0,
        "bisogno_sanitario": 1,
        "rete_familiare": 1,
        "condizione_abitativa": 0,
        "situazione_economica": 0,
    },
}

_MISSING = object()
_JSON_TYPES = ("application/json", "application/problem+json", "application/merge-patch+json")


def _is_json(media_type: str) -> bool:
    return media_type in _JSON_TYPES or media_type.endswith("+json")


class _Builder:
    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas
        self.gaps: list[str] = []

    def value(self, schema: dict[str, Any], owner: str, field: str | None, path: str) -> Any:
        scoped = f"{'Page' if owner.startswith('Page_') else owner}.{field}"
        if field is not None and scoped in VALUES:
            return _MISSING if VALUES[scoped] is OMIT else VALUES[scoped]
        for key in ("examples", "example"):
            if key in schema:
                found = schema[key]
                many = key == "examples" and isinstance(found, list) and found
                return found[0] if many else found
        if field is not None and field in VALUES:
            return _MISSING if VALUES[field] is OMIT else VALUES[field]
        if schema.get("default") not in (None, [], {}):
            return schema["default"]
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return self.value(self.schemas.get(name, {}), name, None, path)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                gaps = len(self.gaps)
                options = [s for s in schema[key] if s.get("type") != "null"]
                for option in options:
                    found = self.value(option, owner, None, path)
                    if found is not _MISSING:
                        del self.gaps[gaps:]
                        return found
                if len(options) < len(schema[key]):
                    del self.gaps[gaps:]
                    return None
                return _MISSING
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.value(schema["allOf"][0], owner, None, path)
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self.obj(schema, owner, path)
        if kind == "array":
            item = self.value(schema.get("items", {}), owner, None, path + "[]")
            return _MISSING if item is _MISSING else [item]
        if kind == "boolean":
            return False
        self.gaps.append(f"{owner}.{field}" if field else path)
        return _MISSING

    def obj(self, schema: dict[str, Any], owner: str, path: str) -> Any:
        required = set(schema.get("required", []))
        out: dict[str, Any] = {}
        for field, sub in schema.get("properties", {}).items():
            gaps = len(self.gaps)
            found = self.value(sub, owner, field, f"{path}.{field}")
            if found is _MISSING:
                if field in required:
                    return _MISSING
                del self.gaps[gaps:]  # an optional field without an example is left out
                continue
            out[field] = found
        return out


def example_for(schema: dict[str, Any], schemas: dict[str, Any]) -> tuple[Any, list[str]]:
    """The example of a schema, or None and the fields that lack one."""
    builder = _Builder(schemas)
    found = builder.value(schema, "", None, "$")
    return (None, builder.gaps) if found is _MISSING else (found, [])


def _media(op: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for media_type, media in op.get("requestBody", {}).get("content", {}).items():
        found.append((f"request {media_type}", media))
    for code, response in op.get("responses", {}).items():
        if code.startswith("2"):
            for media_type, media in response.get("content", {}).items():
                found.append((f"{code} {media_type}", media))
    return found


def _operations(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", op)
        for path, item in doc.get("paths", {}).items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def add_examples(doc: dict[str, Any]) -> None:
    """Sets the ``example`` of every JSON request body and 2xx response that lacks one."""
    schemas = doc.get("components", {}).get("schemas", {})
    for _, op in _operations(doc):
        for where, media in _media(op):
            media_type = where.split(" ", 1)[1]
            if not _is_json(media_type) or "example" in media or "examples" in media:
                continue
            found, gaps = example_for(media.get("schema", {}), schemas)
            if not gaps:
                media["example"] = found


def missing_examples(doc: dict[str, Any]) -> list[str]:
    """Operations whose request body, or whose 2xx JSON response, has no example."""
    schemas = doc.get("components", {}).get("schemas", {})
    problems: list[str] = []
    for name, op in _operations(doc):
        body = op.get("requestBody", {}).get("content", {})
        if body and not any("example" in m or "examples" in m for m in body.values()):
            problems.append(f"{name}: request body without an example")
        for where, media in _media(op):
            media_type = where.split(" ", 1)[1]
            if _is_json(media_type) and "example" not in media and "examples" not in media:
                _, gaps = example_for(media.get("schema", {}), schemas)
                problems.append(f"{name}: {where} without an example (missing: {', '.join(gaps)})")
    return problems
