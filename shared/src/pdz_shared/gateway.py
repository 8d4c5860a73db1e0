"""The one front door of the devstack: every API under one origin (``/plans/v1/...``, ...).

In Kubernetes the same paths are served by the Gateway API (``deploy/k8s``); here a small
reverse proxy does it, with per-client rate limits, CORS from settings and the merged OpenAPI.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from pdz_shared.errors import PROBLEM_JSON, NotFound, ServiceUnavailable
from pdz_shared.http import problem_response
from pdz_shared.observability import (
    RequestContextMiddleware,
    configure_logging,
    request_id_var,
    traceparent_var,
)
from pdz_shared.openapi import merge_openapi
from pdz_shared.settings import common_settings

DEFAULT_UPSTREAMS = {
    "plans": "http://127.0.0.1:8001",
    "indicators": "http://127.0.0.1:8002",
    "casework": "http://127.0.0.1:8003",
    "notifications": "http://127.0.0.1:8004",
}
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


def upstreams() -> dict[str, str]:
    raw = os.environ.get("PDZ_GATEWAY_UPSTREAMS")
    return json.loads(raw) if raw else DEFAULT_UPSTREAMS


async def proxy(request: Request) -> Response:
    service = request.path_params["service"]
    base = request.app.state.upstreams.get(service)
    if base is None:
        return problem_response(
            request,
            NotFound(
                f"Nessun servizio '{service}' dietro al gateway",
                f"No service '{service}' behind the gateway",
            ),
        )
    client: httpx.AsyncClient = request.app.state.client
    headers = [
        (k, v)
        for k, v in request.headers.items()
        if k.lower() not in HOP_BY_HOP and k.lower() != "x-request-id"
    ]
    headers += [("x-forwarded-prefix", f"/{service}"), ("x-request-id", request_id_var.get() or "")]
    if (tp := traceparent_var.get()) is not None:
        headers = [(k, v) for k, v in headers if k.lower() != "traceparent"] + [("traceparent", tp)]
    url = f"{base}/{request.path_params['path']}"
    try:
        upstream = await client.request(
            request.method,
            url,
            params=request.query_params,
            headers=headers,
            content=await request.body(),
        )
    except httpx.HTTPError:
        return problem_response(
            request,
            ServiceUnavailable(
                f"Il servizio {service} non risponde",
                f"The {service} service does not answer",
                headers={"Retry-After": "5"},
            ),
        )
    # The gateway owns rate limits, CORS and the request id of what it answers.
    out = [
        (k, v)
        for k, v in upstream.headers.items()
        if k not in HOP_BY_HOP
        and k not in ("content-encoding", "x-request-id")
        and not k.startswith(("ratelimit-", "access-control-"))
    ]
    response = Response(upstream.content, status_code=upstream.status_code)
    response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out]
    response.headers["content-length"] = str(len(upstream.content))
    return response


async def merged_openapi(request: Request) -> JSONResponse:
    client: httpx.AsyncClient = request.app.state.client
    docs: dict[str, dict[str, Any]] = {}
    for service, base in request.app.state.upstreams.items():
        try:
            docs[service] = (await client.get(f"{base}/openapi.json")).json()
        except (httpx.HTTPError, ValueError):
            continue
    return JSONResponse(merge_openapi(docs))


async def status(request: Request) -> JSONResponse:
    client: httpx.AsyncClient = request.app.state.client
    checks: dict[str, bool] = {}
    for service, base in request.app.state.upstreams.items():
        try:
            checks[service] = (await client.get(f"{base}/status", timeout=2.0)).status_code == 200
        except httpx.HTTPError:
            checks[service] = False
    ok = all(checks.values())
    body: dict[str, object] = {
        "type": "about:blank",
        "title": "Gateway disponibile" if ok else "Servizi non disponibili",
        "status": 200 if ok else 503,
        "detail": "; ".join(
            f"{k}: {'ok' if v else 'non raggiungibile'}" for k, v in checks.items()
        ),
        "checks": checks,
    }
    return JSONResponse(body, status_code=200 if ok else 503, media_type=PROBLEM_JSON)


async def docs(request: Request) -> HTMLResponse:
    from fastapi.openapi.docs import get_swagger_ui_html

    return get_swagger_ui_html(openapi_url="/openapi.json", title="Piano di Zona - API")


def create_gateway(targets: dict[str, str] | None = None) -> Starlette:
    from pdz_shared.app import RateLimitMiddleware, install_cors

    common = common_settings()
    configure_logging("gateway", common.log_level, common.log_json)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=30.0) as client:
            app.state.client = client
            yield

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/status", status),
            Route("/openapi.json", merged_openapi),
            Route("/docs", docs),
            Route(
                "/{service}/{path:path}",
                proxy,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"],
            ),
        ],
    )
    app.state.upstreams = targets or upstreams()
    app.add_middleware(
        RateLimitMiddleware, limit=int(os.environ.get("PDZ_GATEWAY_RATE_LIMIT", "600"))
    )
    install_cors(app, common)
    app.add_middleware(RequestContextMiddleware, service="gateway")
    return app


app = create_gateway()
