"""OpenAPI documents that pass the Italian API guidelines ("Italian Guidelines Full")."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from pdz_shared.examples import add_examples

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
    "409": "Conflitto con lo stato della risorsa (codice già in uso, stato che non lo consente, "
    "Idempotency-Key ancora in elaborazione)",
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
    modi_used = False
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
            elif op.get("x-modi"):
                modi_used = True
                op["security"] = [
                    {"pdndVoucher": [], "agidJwtSignature": []},
                    {"modiIdAuth": [], "agidJwtSignature": []},
                ]
                op["description"] = (op.get("description") or op.get("summary", "")) + (
                    "\n\nSicurezza ModI: voucher PDND oppure ID_AUTH_REST_02 (JWT firmato dal "
                    "client, `jti` non riutilizzabile), più INTEGRITY_REST_01 "
                    "(`Agid-JWT-Signature` con il digest SHA-256 del corpo)."
                )
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
            if not public and method in ("post", "put", "patch", "delete"):
                wanted.append("409")
            if public:
                wanted.append("503")
            for code in wanted:
                responses.setdefault(code, _problem_response(_ERRORS[code]))
            if "429" in responses:
                responses["429"]["headers"] = {"Retry-After": RETRY_AFTER, **RATE_HEADERS}
    if modi_used:
        security_schemes["pdndVoucher"] = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Voucher PDND (iss, aud, exp, purposeId verificati; client mappato su "
            "ruolo e ambiti)",
        }
        security_schemes["modiIdAuth"] = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "ModI ID_AUTH_REST_02: JWT firmato dal client (kid), jti monouso",
        }
        security_schemes["agidJwtSignature"] = {
            "type": "apiKey",
            "in": "header",
            "name": "Agid-JWT-Signature",
            "description": "ModI INTEGRITY_REST_01: JWT firmato con signed_headers (digest "
            "SHA-256 del corpo, content-type)",
        }
    known = {t["name"] for t in doc.get("tags", [])}
    doc["tags"] = [
        *doc.get("tags", []),
        *({"name": t, "description": t.replace("-", " ")} for t in used_tags if t not in known),
    ]
    add_examples(doc)
    _fix_schema_formats(doc)
    return doc


_SCHEMAS = "#/components/schemas/"


def _prefixed(ref: str, prefix: str) -> str:
    name = ref.removeprefix(_SCHEMAS)
    return _SCHEMAS + (name if name == "Problem" else prefix + name)


def _prefix_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_SCHEMAS):
                out[key] = _prefixed(value, prefix)
            elif key == "mapping" and isinstance(value, dict):
                out[key] = {
                    k: _prefixed(v, prefix) if isinstance(v, str) and v.startswith(_SCHEMAS) else v
                    for k, v in value.items()
                }
            else:
                out[key] = _prefix_refs(value, prefix)
        return out
    if isinstance(node, list):
        return [_prefix_refs(v, prefix) for v in node]
    return node


def merge_openapi(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One document for the gateway: ``/<service>`` path prefixes, schemas and operationIds
    prefixed with the service so that nothing collides."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Piattaforma Piano di Zona - API",
            "version": "1.0.0",
            "x-summary": "Tutte le API della piattaforma dietro un unico ingresso",
            "description": "Plans, indicators, casework e notifications sotto un'unica origine.",
            "x-api-id": "pdz-gateway",
            "termsOfService": "https://pdz.example.it/termini",
            "contact": {
                "name": "Ufficio di Piano - supporto piattaforma",
                "email": "supporto@pdz.example.it",
                "url": "https://pdz.example.it",
            },
            "license": {"name": "EUPL-1.2", "url": "https://eupl.eu/1.2/it/"},
        },
        "servers": [
            {
                "url": "https://api.pdz.example.it",
                "description": "Ingresso unico della piattaforma Piano di Zona",
            }
        ],
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [],
    }
    seen_tags: set[str] = set()
    for service, doc in sorted(docs.items()):
        prefix = "".join(p.capitalize() for p in service.split("-"))
        for path, item in doc.get("paths", {}).items():
            if path == "/status" and "/status" in merged["paths"]:
                continue
            target = path if path == "/status" else f"/{service}{path}"
            item = _prefix_refs(item, prefix)
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op and path != "/status":
                    op["operationId"] = f"{service}_{op['operationId']}"
                    op["tags"] = [f"{service}:{t}" for t in op.get("tags", [])]
                    for t in op["tags"]:
                        if t not in seen_tags:
                            seen_tags.add(t)
                            merged["tags"].append({"name": t, "description": t})
            merged["paths"][target] = item
        components = doc.get("components", {})
        for name, schema in components.get("schemas", {}).items():
            key = name if name == "Problem" else prefix + name
            merged["components"]["schemas"][key] = _prefix_refs(schema, prefix)
        merged["components"]["securitySchemes"].update(components.get("securitySchemes", {}))
    for item in merged["paths"].values():
        for op in item.values():
            for t in op.get("tags", []) if isinstance(op, dict) else []:
                if t not in seen_tags:
                    seen_tags.add(t)
                    merged["tags"].append({"name": t, "description": t})
    return merged
