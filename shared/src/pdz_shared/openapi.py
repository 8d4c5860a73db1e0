"""OpenAPI documents that pass the Italian API guidelines ("Italian Guidelines Full")."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_INT32_MAX = 2**31 - 1

RATE_HEADERS = {
    "RateLimit-Limit": {
        "description": "Richieste consentite nella finestra corrente",
        "schema": {"type": "integer", "format": "int32", "minimum": 0},
    },
    "RateLimit-Remaining": {
        "description": "Richieste ancora disponibili nella finestra",
        "schema": {"type": "integer", "format": "int32", "minimum": 0},
    },
    "RateLimit-Reset": {
        "description": "Secondi alla fine della finestra",
        "schema": {"type": "integer", "format": "int32", "minimum": 0},
    },
}
CACHE_CONTROL = {
    "description": "Politica di cache: `no-store` (i dati della piattaforma non vanno conservati "
    "in cache da proxy o browser), salvo dove indicato diversamente",
    "schema": {"type": "string", "maxLength": 100},
}
RETRY_AFTER = {
    "description": "Secondi da attendere prima di riprovare",
    "schema": {"type": "integer", "format": "int32", "minimum": 0},
}

_ERRORS = {
    "400": "Richiesta non valida",
    "401": "Token assente, scaduto o non valido",
    "403": "Ruolo non autorizzato",
    "404": "Risorsa non trovata",
    "422": "Dati non validi (elenco dei parametri in invalid_params)",
    "429": "Troppe richieste",
    "500": "Errore interno",
    "503": "Servizio non disponibile",
}


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }


def _fix_schema_formats(node: Any) -> None:
    """Every integer and number schema states its format (RAC_REST_FORMAT_004)."""
    if isinstance(node, dict):
        if node.get("type") == "integer" and "format" not in node:
            maximum = node.get("maximum", node.get("exclusiveMaximum"))
            minimum = node.get("minimum", node.get("exclusiveMinimum"))
            small = (
                maximum is not None
                and maximum <= _INT32_MAX
                and (minimum is None or minimum >= -_INT32_MAX)
            )
            node["format"] = "int32" if small else "int64"
        if node.get("type") == "number" and "format" not in node:
            node["format"] = "double"
        for value in node.values():
            _fix_schema_formats(value)
    elif isinstance(node, list):
        for value in node:
            _fix_schema_formats(value)


def italian_openapi(app: FastAPI, service: str, summary: str) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=None,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    doc["info"].update(
        {
            "x-summary": summary,
            "x-api-id": f"pdz-{service}",
            "termsOfService": "https://pdz.example.it/termini",
            "contact": {
                "name": "Ufficio di Piano - supporto piattaforma",
                "email": "supporto@pdz.example.it",
                "url": "https://pdz.example.it",
            },
            "license": {"name": "EUPL-1.2", "url": "https://eupl.eu/1.2/it/"},
        }
    )
    doc["servers"] = [
        {
            "url": f"https://api.pdz.example.it/{service}",
            "description": f"Servizio {service} della piattaforma Piano di Zona",
        }
    ]
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Problem"] = {
        "type": "object",
        "description": "Errore nel formato RFC 9457 (problem+json)",
        "properties": {
            "type": {"type": "string", "format": "uri", "maxLength": 500},
            "title": {"type": "string", "maxLength": 500},
            "status": {"type": "integer", "format": "int32", "minimum": 100, "maximum": 599},
            "detail": {"type": "string", "maxLength": 4000},
            "instance": {"type": "string", "maxLength": 2000},
            "code": {"type": "string", "maxLength": 100},
            "invalid_params": {
                "type": "array",
                "maxItems": 1000,
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "maxLength": 500},
                        "reason": {"type": "string", "maxLength": 2000},
                        "type": {"type": "string", "maxLength": 200},
                    },
                },
            },
        },
        "required": ["title", "status"],
    }
    security_schemes = components.setdefault("securitySchemes", {})
    security_schemes.clear()
    security_schemes["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Token JWT (claims: sub, roles, ambiti, aud, exp)",
    }

    used_tags: dict[str, None] = {}
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete", "head"):
                continue
            public = path == "/status"
            if not op.get("description"):
                op["description"] = op.get("summary", "")
            for tag in op.get("tags", []):
                used_tags.setdefault(tag, None)
            if public:
                op["security"] = []
            else:
                op["security"] = [{"bearerAuth": []}]
            responses: dict[str, Any] = op.setdefault("responses", {})
            for code, response in responses.items():
                if code.startswith("2"):
                    response.setdefault("headers", {}).update(
                        {**RATE_HEADERS, "Cache-Control": CACHE_CONTROL}
                    )
                    if path == "/status":
                        response["content"] = {"application/problem+json": {"schema": PROBLEM_REF}}
                elif code[0] in "45":
                    response["content"] = {"application/problem+json": {"schema": PROBLEM_REF}}
            wanted = ["500"] if public else ["400", "401", "403", "404", "422", "429", "500"]
            if public:
                wanted.append("503")
            for code in wanted:
                responses.setdefault(code, _problem_response(_ERRORS[code]))
            if "429" in responses:
                responses["429"]["headers"] = {"Retry-After": RETRY_AFTER, **RATE_HEADERS}
    known = {t["name"] for t in doc.get("tags", [])}
    doc["tags"] = [
        *doc.get("tags", []),
        *({"name": t, "description": t.replace("-", " ")} for t in used_tags if t not in known),
    ]
    _fix_schema_formats(doc)
    return doc
