"""JSON logs with a request id, Prometheus metrics, and the context that follows a request."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str | None] = ContextVar("pdz_request_id", default=None)
traceparent_var: ContextVar[str | None] = ContextVar("pdz_traceparent", default=None)

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")

HTTP_REQUESTS = Counter(
    "pdz_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "pdz_http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"]
)
EVENTS_PUBLISHED = Counter("pdz_events_published_total", "Outbox rows published", ["service"])
EVENTS_CONSUMED = Counter(
    "pdz_events_consumed_total", "Events consumed", ["service", "consumer", "outcome"]
)


def configure_logging(service: str, level: str = "INFO", json_logs: bool = True) -> None:
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def new_traceparent(parent: str | None = None) -> str:
    """A W3C traceparent: keeps the trace id of ``parent`` when it is valid."""
    fresh = os.urandom(24).hex()
    trace_id = fresh[:32]
    if parent and _TRACEPARENT.match(parent):
        trace_id = parent.split("-")[1]
    return f"00-{trace_id}-{fresh[32:]}-01"


class RequestContextMiddleware:
    """Request id (``X-Request-ID``) and ``traceparent`` in and out, metrics, access log."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self.log = structlog.get_logger("pdz.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given_id = given_parent = None
        for k, v in scope["headers"]:  # header names arrive lower-case (ASGI)
            if k == b"x-request-id":
                given_id = v.decode("latin-1")
            elif k == b"traceparent":
                given_parent = v.decode("latin-1")
        request_id = given_id or str(uuid.uuid4())
        if len(request_id) > 128 or not request_id.isprintable():
            request_id = str(uuid.uuid4())
        traceparent = new_traceparent(given_parent)
        rid_token = request_id_var.set(request_id)
        tp_token = traceparent_var.set(traceparent)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", request_id.encode()))
                message["headers"].extend(deprecation_headers(scope.get("route")))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(self.service, method, path, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, path).observe(elapsed)
            self.log.info(
                "request",
                method=method,
                route=path,
                status=status,
                ms=round(elapsed * 1000, 2),
            )
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(rid_token)
            traceparent_var.reset(tp_token)


def deprecation_headers(route: Any) -> list[tuple[bytes, bytes]]:
    """Deprecation policy: a route marked ``deprecated`` announces it on every response
    (``Deprecation: true``), with ``Sunset`` (RFC 8594) and a ``successor-version`` link when
    its ``openapi_extra`` gives ``x-sunset`` / ``x-successor``."""
    if not getattr(route, "deprecated", False):
        return []
    extra = getattr(route, "openapi_extra", None) or {}
    headers = [(b"deprecation", b"true")]
    if extra.get("x-sunset"):
        headers.append((b"sunset", str(extra["x-sunset"]).encode()))
    if extra.get("x-successor"):
        headers.append((b"link", f'<{extra["x-successor"]}>; rel="successor-version"'.encode()))
    return headers
