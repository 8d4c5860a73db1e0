"""HTTP conventions shared by the services: pagination, ETag/If-Match, problem+json handlers."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Generic, TypeVar

import structlog
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from pdz_shared.errors import (
    PROBLEM_JSON,
    PdzError,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
    Unprocessable,
    UnsupportedMediaType,
    error_for_status,
    problem_body,
    wants_english,
)

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list, with the total count of matching items."""

    items: list[T] = Field(max_length=500)
    total: int = Field(ge=0, json_schema_extra={"format": "int64"})
    limit: int = Field(ge=1, le=500, json_schema_extra={"format": "int32"})
    offset: int = Field(ge=0, json_schema_extra={"format": "int64"})


class PageParams(BaseModel):
    limit: int = 50
    offset: int = 0


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="Page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field("about:blank", max_length=500)
    title: str = Field(max_length=500)
    status: int = Field(ge=100, le=599, json_schema_extra={"format": "int32"})
    detail: str | None = Field(None, max_length=4000)
    instance: str | None = Field(None, max_length=2000)
    code: str | None = Field(None, max_length=100)
    invalid_params: list[dict[str, Any]] | None = Field(None, max_length=1000)


# ------------------------------------------------------------------ ETag / If-Match


def etag_of(version: int | str) -> str:
    return f'W/"{version}"'


def check_if_match(request: Request, current_version: int | str, *, required: bool = True) -> None:
    """412 when the If-Match header names another version; 428 when it is missing."""
    header = request.headers.get("if-match")
    if header is None:
        if required:
            raise PreconditionRequired(
                "Per modificare la risorsa invia l'intestazione If-Match con il suo ETag",
                "Send the If-Match header with the resource ETag to change it",
            )
        return
    wanted = {t.strip() for t in header.split(",")}
    if "*" in wanted:
        return
    current = etag_of(current_version)
    strong = current.removeprefix("W/")
    if current not in wanted and strong not in wanted:
        raise PreconditionFailed(
            "La risorsa è stata modificata da qualcun altro: ricaricala e riprova",
            "The resource was changed by someone else: reload it and try again",
            extra={"current_etag": current},
        )


def canonical_json(payload: Any) -> str:
    """One text per JSON value whatever the key order (for hashes and idempotency)."""
    return json.dumps(payload, sort_keys=True, default=str)


def body_hash(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def loads_untrusted(raw: bytes | str) -> Any:
    """JSON sent by a caller. Anything that is not usable JSON raises ``ValueError``: invalid
    UTF-8 or syntax, but also nesting too deep for the parser (``RecursionError``) and integers
    beyond Python's digit limit, which ``json.loads`` raises as other exceptions or as errors a
    caller catching ``JSONDecodeError`` would miss."""
    try:
        return json.loads(raw)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def is_json_media(content_type: str | None) -> bool:
    """``application/json`` or any ``+json`` media type (parameters ignored)."""
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


# ------------------------------------------------------------------ problem+json handlers


def problem_response(request: Request, err: PdzError) -> JSONResponse:
    english = wants_english(request.headers.get("accept-language"))
    body = problem_body(err, english=english, instance=request.url.path)
    headers = {"Content-Language": "en" if english else "it", **err.headers}
    return JSONResponse(body, status_code=err.status, media_type=PROBLEM_JSON, headers=headers)


_HTTP_DETAILS: dict[int, tuple[str, str]] = {
    404: ("Il percorso richiesto non esiste", "The requested path does not exist"),
    405: ("Metodo HTTP non consentito su questo percorso", "HTTP method not allowed on this path"),
}


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _database_away(exc: BaseException) -> bool:
    """A lost or refused database connection (the pool drops it; the client may retry)."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError | ConnectionError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def install_error_handlers(app: FastAPI) -> None:
    log = structlog.get_logger("pdz.errors")

    @app.exception_handler(PdzError)
    async def _pdz(request: Request, exc: PdzError) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        content_type = request.headers.get("content-type")
        if (
            content_type
            and not is_json_media(content_type)
            and any(tuple(e.get("loc", ()))[:1] == ("body",) for e in exc.errors())
        ):
            # A JSON body sent as text/plain, a form or multipart: the media type is wrong,
            # not the data (FastAPI reads such a body as bytes and reports its fields).
            return problem_response(
                request,
                UnsupportedMediaType(
                    f"Il corpo va inviato come application/json, non {content_type[:100]}",
                    f"Send the body as application/json, not {content_type[:100]}",
                ),
            )
        params = [
            {
                "name": _location(e.get("loc", ())),
                "reason": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        names = ", ".join(p["name"] for p in params[:5])
        err = Unprocessable(
            f"La richiesta contiene {len(params)} valori non validi: {names}",
            f"The request has {len(params)} invalid values: {names}",
            invalid_params=params,
        )
        return problem_response(request, err)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cls = error_for_status(exc.status_code)
        it, en = _HTTP_DETAILS.get(exc.status_code, (str(exc.detail), str(exc.detail)))
        err = cls(it, en, status=exc.status_code, headers=dict(exc.headers or {}))
        return problem_response(request, err)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        if _database_away(exc):
            log.warning("database_unavailable", path=request.url.path, error=repr(exc))
            return problem_response(
                request,
                ServiceUnavailable(
                    "Il database non risponde; riprova tra poco",
                    "The database is not answering; retry shortly",
                    headers={"Retry-After": "1"},
                ),
            )
        log.exception("unhandled_error", path=request.url.path)
        return problem_response(
            request,
            PdzError(
                "Si è verificato un errore imprevisto; il problema è stato registrato",
                "An unexpected error occurred; it has been logged",
            ),
        )
