"""One error base class, rendered as RFC 9457 problem+json in Italian or English."""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://pdz.example.it/problems/"


class PdzError(Exception):
    """Base of every error the platform answers with.

    ``code`` is a stable machine code; ``title``/``detail`` are given in Italian and English.
    """

    status: int = 500
    code: str = "internal-error"
    title_it: str = "Errore interno"
    title_en: str = "Internal error"

    def __init__(
        self,
        detail_it: str | None = None,
        detail_en: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        invalid_params: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail_en or detail_it or self.title_en)
        self.detail_it = detail_it
        self.detail_en = detail_en or detail_it
        if code:
            self.code = code
        if status:
            self.status = status
        self.invalid_params = invalid_params
        self.headers = headers or {}
        self.extra = extra or {}


class BadRequest(PdzError):
    status, code, title_it, title_en = 400, "bad-request", "Richiesta non valida", "Bad request"


class Unauthorized(PdzError):
    status, code = 401, "unauthorized"
    title_it, title_en = "Autenticazione richiesta", "Authentication required"


class Forbidden(PdzError):
    status, code, title_it, title_en = 403, "forbidden", "Operazione non consentita", "Forbidden"


class NotFound(PdzError):
    status, code, title_it, title_en = 404, "not-found", "Risorsa non trovata", "Not found"


class MethodNotAllowed(PdzError):
    status, code = 405, "method-not-allowed"
    title_it, title_en = "Metodo non consentito", "Method not allowed"


class NotAcceptable(PdzError):
    status, code = 406, "not-acceptable"
    title_it, title_en = "Formato non disponibile", "Not acceptable"


class Conflict(PdzError):
    status, code, title_it, title_en = 409, "conflict", "Conflitto", "Conflict"


class PreconditionFailed(PdzError):
    status, code = 412, "precondition-failed"
    title_it, title_en = "Versione non aggiornata", "Precondition failed"


class PayloadTooLarge(PdzError):
    status, code = 413, "payload-too-large"
    title_it, title_en = "Richiesta troppo grande", "Payload too large"


class UnsupportedMediaType(PdzError):
    status, code = 415, "unsupported-media-type"
    title_it, title_en = "Tipo di contenuto non supportato", "Unsupported media type"


class Unprocessable(PdzError):
    status, code = 422, "validation-error"
    title_it, title_en = "Dati non validi", "Invalid data"


class PreconditionRequired(PdzError):
    status, code = 428, "precondition-required"
    title_it, title_en = "Intestazione If-Match richiesta", "If-Match header required"


class TooManyRequests(PdzError):
    status, code = 429, "too-many-requests"
    title_it, title_en = "Troppe richieste", "Too many requests"


class ServiceUnavailable(PdzError):
    status, code = 503, "service-unavailable"
    title_it, title_en = "Servizio non disponibile", "Service unavailable"


_BY_STATUS: dict[int, type[PdzError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        NotAcceptable,
        Conflict,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        Unprocessable,
        PreconditionRequired,
        TooManyRequests,
        ServiceUnavailable,
    )
}


def error_for_status(status: int) -> type[PdzError]:
    return _BY_STATUS.get(status, PdzError)


def wants_english(accept_language: str | None) -> bool:
    """True when the caller prefers English over Italian (Italian is the default)."""
    if not accept_language:
        return False
    best_lang, best_q = "it", -1.0
    for part in accept_language.split(","):
        lang, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = lang.strip().lower().split("-")[0]
        if primary in ("it", "en") and q > 0 and q > best_q:
            best_lang, best_q = primary, q
    return best_lang == "en"


def problem_body(err: PdzError, *, english: bool, instance: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + err.code,
        "title": err.title_en if english else err.title_it,
        "status": err.status,
        "detail": (err.detail_en if english else err.detail_it)
        or (err.title_en if english else err.title_it),
        "instance": instance,
        "code": err.code,
    }
    if err.invalid_params is not None:
        body["invalid_params"] = err.invalid_params
    body.update(err.extra)
    return body
