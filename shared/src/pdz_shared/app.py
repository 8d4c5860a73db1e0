"""The application factory every service uses: one way to build a compliant API."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pdz_shared import heap
from pdz_shared.auth import CurrentPrincipal, TokenVerifier
from pdz_shared.db import make_engine, make_pool, make_session_factory
from pdz_shared.errors import (
    PROBLEM_JSON,
    PayloadTooLarge,
    PdzError,
    TooManyRequests,
    Unprocessable,
)
from pdz_shared.events.kafka import KafkaConfig
from pdz_shared.http import Problem, install_error_handlers, problem_response
from pdz_shared.observability import RequestContextMiddleware, configure_logging
from pdz_shared.openapi import italian_openapi
from pdz_shared.settings import CommonSettings, ServiceSettings, common_settings
from pdz_shared.wakeup import close_notifiers, notifier

Lifespan = Callable[[FastAPI], Awaitable[None]]


@dataclass
class ServiceSpec:
    name: str
    title: str
    summary: str
    description: str
    settings: ServiceSettings
    routers: Sequence[APIRouter] = ()
    version: str = "1.0.0"
    rate_limit_per_minute: int | None = None  # default: PDZ_RATE_LIMIT_PER_MINUTE
    max_body_bytes: int = 5 * 1024 * 1024
    on_startup: Sequence[Lifespan] = field(default_factory=list)
    on_shutdown: Sequence[Lifespan] = field(default_factory=list)  # before the pools close
    # An asyncpg pool beside SQLAlchemy's (``app.state.pg_pool``), for hot paths.
    bare_pool: bool = False


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; committed when the endpoint returns, rolled back on error."""
    async with request.app.state.session_factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


class RateLimitMiddleware:
    """Fixed-window limit per client, with ``RateLimit-*`` headers and 429 + ``Retry-After``."""

    EXEMPT = ("/metrics",)

    def __init__(self, app: ASGIApp, limit: int, window: int = 60) -> None:
        self.app = app
        self.limit = limit
        self.window = window
        self._counts: dict[tuple[str, int], int] = {}

    def _client(self, scope: Scope) -> str:
        for k, v in scope["headers"]:
            if k == b"authorization":
                return "t:" + str(hash(v))
        client = scope.get("client")
        return "ip:" + (client[0] if client else "?")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        now = int(time.time())
        window = now // self.window
        key = (self._client(scope), window)
        if len(self._counts) > 50_000:
            self._counts = {k: v for k, v in self._counts.items() if k[1] == window}
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        reset = (window + 1) * self.window - now
        headers = [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(max(self.limit - count, 0)).encode()),
            (b"ratelimit-reset", str(reset).encode()),
        ]
        if count > self.limit:
            from starlette.requests import Request as StarletteRequest

            err = TooManyRequests(
                f"Limite di {self.limit} richieste al minuto superato; riprova tra {reset} s",
                f"Limit of {self.limit} requests per minute exceeded; retry in {reset} s",
                headers={"Retry-After": str(reset)},
            )
            response = problem_response(StarletteRequest(scope), err)
            response.raw_headers.extend(headers)
            await response(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"].extend(headers)
                if not any(k.lower() == b"cache-control" for k, _ in message["headers"]):
                    message["headers"].append((b"cache-control", b"no-store"))
            await send(message)

        await self.app(scope, receive, send_wrapper)


# A NUL character (U+0000) can be neither stored in PostgreSQL text nor meant in our data: in
# a JSON body (raw, or as the escape \u0000 not itself escaped), a path or a query string.
_NUL_IN_JSON = re.compile(rb"\x00|(?<!\\)(?:\\\\)*\\u0000")


class BodyLimitMiddleware:
    """Refuses, with problem+json and before the endpoint sees it, a body larger than
    ``max_bytes`` (413) and a NUL character in a JSON body, the path or the query (422)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        json_body = False
        for k, v in scope["headers"]:
            if k == b"content-length" and v.isdigit() and int(v) > self.max_bytes:
                await self._refuse(scope, receive, send, too_large=True)
                return
            if k == b"content-type":
                media = v.split(b";")[0].strip().lower()
                json_body = media == b"application/json" or media.endswith(b"+json")
        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            await self._refuse(scope, receive, send, too_large=False)
            return
        received = 0
        tail = b""

        async def guarded_receive() -> Message:
            nonlocal received, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_bytes:
                    raise _Refused(too_large=True)
                if json_body and chunk:
                    seen = tail + chunk
                    # memchr-fast tests first: the pattern itself costs ~50 ns a byte
                    if (b"\x00" in seen or b"\\u0000" in seen) and _NUL_IN_JSON.search(seen):
                        raise _Refused(too_large=False)
                    tail = seen[-64:]
            return message

        try:
            await self.app(scope, guarded_receive, send)
        except _Refused as refused:
            await self._refuse(scope, receive, send, too_large=refused.too_large)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, *, too_large: bool) -> None:
        from starlette.requests import Request as StarletteRequest

        err: PdzError
        if too_large:
            err = PayloadTooLarge(
                f"Il corpo della richiesta supera {self.max_bytes} byte",
                f"The request body exceeds {self.max_bytes} bytes",
            )
        else:
            err = Unprocessable(
                "La richiesta contiene il carattere NUL (U+0000), che non è ammesso",
                "The request contains the NUL character (U+0000), which is not allowed",
                invalid_params=[{"name": "body", "reason": "NUL character (U+0000)"}],
                code="nul-character",
            )
        await problem_response(StarletteRequest(scope), err)(scope, receive, send)


class _Refused(BaseException):
    """Raised from ``receive``: a BaseException, so that no endpoint's ``except Exception``
    (FastAPI's own body parsing answers 400 to any Exception) hides the refusal."""

    def __init__(self, *, too_large: bool) -> None:
        self.too_large = too_large


class HealthProbe:
    """Database and broker reachability, cached for a moment so /status stays cheap."""

    def __init__(self, app: FastAPI, kafka: KafkaConfig) -> None:
        self.app = app
        self.kafka = kafka
        self._cached: tuple[float, dict[str, bool]] | None = None

    async def _broker_ok(self) -> bool:
        for server in self.kafka.bootstrap_servers.split(","):
            host, _, port = server.strip().rpartition(":")
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 1.0)
            except (OSError, TimeoutError, ValueError):
                continue
            writer.close()
            return True
        return False

    async def _db_ok(self) -> bool:
        try:
            async with asyncio.timeout(2.0), self.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def check(self) -> dict[str, bool]:
        now = time.monotonic()
        if self._cached and now - self._cached[0] < 2.0:
            return self._cached[1]
        db, broker = await asyncio.gather(self._db_ok(), self._broker_ok())
        result = {"database": db, "broker": broker}
        self._cached = (now, result)
        return result


def _ops_router(service: str) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get(
        "/status",
        summary="Stato del servizio",
        description="Salute del servizio: 200 se database e broker rispondono, 503 altrimenti.",
        operation_id="get_status",
        response_model=Problem,
        responses={503: {"model": Problem, "description": "Servizio non disponibile"}},
    )
    async def status(request: Request) -> JSONResponse:
        checks = await request.app.state.health.check()
        ok = all(checks.values())
        down = ", ".join(k for k, v in checks.items() if not v)
        body = {
            "type": "about:blank",
            "title": "Servizio disponibile" if ok else "Servizio non disponibile",
            "status": 200 if ok else 503,
            "detail": f"{service}: tutto funziona"
            if ok
            else f"{service}: non raggiungibile: {down}",
            "checks": checks,
        }
        return JSONResponse(
            body,
            status_code=body["status"],
            media_type=PROBLEM_JSON,
            headers={"Cache-Control": "no-store"},
        )

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


CORS_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "Accept-Language",
    "X-Request-ID",
    "Agid-JWT-Signature",
    "Digest",
]
CORS_EXPOSE_HEADERS = [
    "ETag",
    "Location",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "X-Request-ID",
    "Idempotent-Replayed",
    "Deprecation",
    "Sunset",
    "Content-Language",
]


def install_cors(app: Starlette, common: CommonSettings) -> None:
    """CORS for the allow-listed front-end origins only (never ``*`` with credentials)."""
    if not common.cors_origins:
        return
    from starlette.middleware.cors import CORSMiddleware

    app.add_middleware(
        CORSMiddleware,
        allow_origins=common.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=CORS_ALLOW_HEADERS,
        expose_headers=CORS_EXPOSE_HEADERS,
        max_age=600,
    )


def create_app(spec: ServiceSpec, common: CommonSettings | None = None) -> FastAPI:
    common = common or common_settings()
    configure_logging(spec.name, common.log_level, common.log_json)
    kafka = KafkaConfig.from_settings(common, spec.name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(spec.settings.database_url, pool_size=spec.settings.db_pool_size)
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        if spec.bare_pool:
            app.state.pg_pool = await make_pool(
                spec.settings.database_url, max_size=spec.settings.db_pool_size
            )
        app.state.notifier = notifier(engine)
        for hook in spec.on_startup:
            await hook(app)
        heap.settle()
        try:
            yield
        finally:
            for hook in spec.on_shutdown:
                await hook(app)
            await close_notifiers()
            if spec.bare_pool:
                await app.state.pg_pool.close()
            await engine.dispose()

    app = FastAPI(
        title=spec.title,
        summary=spec.summary,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url="/redoc",
        openapi_url="/openapi.json",
    )
    app.state.settings = spec.settings
    app.state.common = common
    app.state.kafka = kafka
    app.state.token_verifier = TokenVerifier(common)
    app.state.health = HealthProbe(app, kafka)
    install_error_handlers(app)
    app.include_router(_ops_router(spec.name))
    app.include_router(_me_router())
    for router in spec.routers:
        app.include_router(router)
    app.add_middleware(
        RateLimitMiddleware, limit=spec.rate_limit_per_minute or common.rate_limit_per_minute
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=spec.max_body_bytes)
    install_cors(app, common)
    app.add_middleware(RequestContextMiddleware, service=spec.name)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = italian_openapi(app, spec.name, spec.summary)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


class Me(BaseModel):
    """The authenticated subject."""

    sub: str = Field(max_length=200)
    roles: list[str] = Field(max_length=20)
    ambiti: list[str] = Field(max_length=500)


def _me_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get(
        "/v1/me",
        summary="Chi sono",
        operation_id="get_me",
        response_model=Me,
        description="Il soggetto autenticato con i suoi ruoli e ambiti.",
    )
    async def me(principal: CurrentPrincipal) -> Me:
        return Me(sub=principal.sub, roles=sorted(principal.roles), ambiti=sorted(principal.ambiti))

    return router
