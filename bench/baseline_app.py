"""Baselines measured in the same run as the platform: the least a Python service can do.

``intake``: a bare FastAPI + asyncpg endpoint that validates a JSON body and inserts one row —
what any discharge intake must at least do. ``hello``: an idle FastAPI app (memory baseline).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response

DSN = os.environ.get("BASELINE_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DSN, min_size=2, max_size=10)
    async with app.state.pool.acquire() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS baseline_intake "
            "(id bigserial primary key, body jsonb not null)"
        )
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/intake", status_code=202)
async def intake(request: Request) -> Response:
    body: Any = json.loads(await request.body())
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        return Response(status_code=422)
    async with request.app.state.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO baseline_intake (body) VALUES ($1::jsonb)", json.dumps(body)
        )
    return Response(status_code=202)


hello = FastAPI()


@hello.get("/status")
async def status() -> dict[str, str]:
    return {"status": "ok"}
