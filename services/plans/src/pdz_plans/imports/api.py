from __future__ import annotations

import json
import uuid
from email import policy
from email.parser import BytesParser
from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError

from pdz_plans.imports import export, service, xlsx
from pdz_plans.imports.normalize import Unusable
from pdz_plans.imports.schemas import ImportReport
from pdz_plans.plans import service as plans
from pdz_shared.app import SessionDep
from pdz_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from pdz_shared.errors import BadRequest, Conflict, Unprocessable, UnsupportedMediaType

router = APIRouter(tags=["imports"])
Writer = Annotated[Principal, Depends(require_roles(Role.udp_admin))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A small plan in the import format (pdz-plan/1), from the Sebino Piano di Zona 2025-2027.
PLAN_EXAMPLE = {
    "format": "pdz-plan/1",
    "plan": {
        "code": "PDZ-AMBITO-05-SEBINO-2025-2027",
        "title": "Piano di Zona 2025-2027 - Ambito n. 5 Sebino",
        "ambito_code": "AMBITO-05-SEBINO",
        "cycle_start_year": 2025,
        "cycle_end_year": 2027,
        "status": "in_force",
        "capofila_code": "COMUNE-ISEO",
        "approval_body": "Assemblea dei Sindaci dell'Ambito distrettuale",
    },
    "objectives": [
        {
            "code": "LEPS-3",
            "title": "Servizi sociali per le dimissioni protette",
            "section": "LEPS prioritari",
            "scope": "regionale",
            "classifications": [{"scheme": "leps", "code": "DIMISSIONI-PROTETTE"}],
            "indicators": [
                {
                    "code": "LEPS-3.I2",
                    "name": "Utenti che hanno beneficiato del servizio di dimissioni protette su "
                    "utenti che ne hanno espresso il bisogno",
                    "unit": "%",
                }
            ],
        }
    ],
}
_UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "maxLength": 5242880,
                            "description": "Il piano in YAML, JSON o XLSX "
                            "(vedi docs/import-format)",
                        },
                        "dry_run": {
                            "type": "boolean",
                            "default": False,
                            "description": "Solo verifica: restituisce il resoconto senza scrivere",
                        },
                    },
                }
            },
            "application/json": {
                "schema": {"type": "object", "additionalProperties": True},
                "example": PLAN_EXAMPLE,
            },
            "application/yaml": {
                "schema": {"type": "string", "maxLength": 5242880, "format": "binary"}
            },
            XLSX: {"schema": {"type": "string", "maxLength": 5242880, "format": "binary"}},
        },
    }
}


def _parse_multipart(content_type: str, body: bytes) -> tuple[str, bytes, bool]:
    message = BytesParser(policy=policy.default).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise BadRequest("Corpo multipart non valido", "Invalid multipart body")
    filename, content, dry_run = "", b"", False
    found = False
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if name == "file":
            filename = part.get_filename() or ""
            content = data
            found = True
            ctype = part.get_content_type()
            if ctype == XLSX and not filename:
                filename = "upload.xlsx"
        elif name == "dry_run":
            dry_run = data.decode().strip().lower() in ("1", "true", "yes", "si", "on")
    if not found:
        raise Unprocessable(
            "Manca il file da importare (campo 'file')",
            "The file to import is missing ('file' field)",
            invalid_params=[{"name": "file", "reason": "required"}],
        )
    return filename, content, dry_run


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors/aliases: a few aliases can expand to gigabytes ("billion laughs")."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not accepted", None
            )
        return super().compose_node(parent, index)


def _decode(filename: str, content_type: str, content: bytes) -> Any:
    lower = filename.lower()
    if lower.endswith(".xlsx") or content_type == XLSX or content[:2] == b"PK":
        return xlsx.read(content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unusable([{"name": "$", "reason": "the file is not UTF-8 text nor XLSX"}]) from exc
    try:
        if lower.endswith(".json") or content_type == "application/json":
            return json.loads(text)
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 (a SafeLoader subclass)
    except RecursionError as exc:
        raise Unusable([{"name": "$", "reason": "nested too deeply"}]) from exc
    except (ValueError, yaml.YAMLError) as exc:
        raise Unusable([{"name": "$", "reason": f"not valid YAML/JSON: {exc}"[:300]}]) from exc


@router.post(
    "/v1/plan-imports",
    response_model=ImportReport,
    operation_id="import_plan",
    summary="Importa un Piano di Zona da YAML, JSON o XLSX (con dry_run), con resoconto",
    description="Crea o aggiorna il piano, le schede, gli indicatori, il territorio e la "
    "popolazione. Ogni anomalia (date impossibili, N.D., totali incoerenti, comuni "
    "sconosciuti, HTML...) è un avviso con posizione, codice e messaggio; un file "
    "strutturalmente inutilizzabile risponde 422 e non scrive nulla.",
    openapi_extra=_UPLOAD_SCHEMA,
    responses={422: {"description": "File inutilizzabile: nulla è stato scritto"}},
)
async def import_plan(
    request: Request,
    session: SessionDep,
    principal: Writer,
    dry_run: Annotated[bool, Query(description="Solo verifica, nulla viene scritto")] = False,
) -> ImportReport:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if content_type == "multipart/form-data":
        filename, content, form_dry_run = _parse_multipart(request.headers["content-type"], body)
        dry_run = dry_run or form_dry_run
    elif content_type in ("application/json", "application/yaml", "text/yaml", XLSX):
        filename, content = "", body
    else:
        raise UnsupportedMediaType(
            "Invia il file come multipart/form-data, JSON, YAML o XLSX",
            "Send the file as multipart/form-data, JSON, YAML or XLSX",
        )
    try:
        doc = _decode(filename, content_type, content)
        return await service.run(session, principal, doc, dry_run=dry_run)
    except IntegrityError as exc:
        raise Conflict(
            "Il piano è stato modificato in contemporanea da un'altra importazione: riprova",
            "The plan was changed at the same time by another import: retry",
        ) from exc
    except Unusable as exc:
        raise Unprocessable(
            "Il file non è utilizzabile: nulla è stato importato",
            "The file cannot be used: nothing was imported",
            code="unusable-import-file",
            invalid_params=exc.problems[:200],
        ) from exc


@router.get(
    "/v1/plans/{plan_id}/export",
    operation_id="export_plan",
    summary="Esporta il piano nel formato di importazione (JSON o XLSX)",
    responses={
        200: {
            "description": "Il piano nel formato di importazione",
            "content": {
                "application/json": {
                    "schema": {"type": "object", "additionalProperties": True},
                    "example": PLAN_EXAMPLE,
                },
                XLSX: {"schema": {"type": "string", "format": "binary", "maxLength": 52428800}},
            },
        }
    },
    response_class=Response,
)
async def export_plan(
    plan_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    format: Annotated[Literal["json", "xlsx"], Query(description="Formato")] = "json",
) -> Response:
    plan = await plans.get(session, principal, plan_id)
    doc = await export.export_plan(session, plan)
    if format == "xlsx":
        return Response(
            xlsx.write(doc),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{plan.code}.xlsx"'},
        )
    return JSONResponse(doc)
