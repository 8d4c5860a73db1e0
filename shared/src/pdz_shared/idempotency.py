"""``Idempotency-Key`` on POST endpoints: the same key replays the first answer.

The key is claimed in the request's own transaction, so the stored answer commits together with
the change it describes; a concurrent request with the same key waits for the first to commit and
then replays it. The same key with a different body answers 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Column, DateTime, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_shared.auth import CurrentPrincipal, Principal
from pdz_shared.db import utcnow
from pdz_shared.errors import Conflict, Unprocessable
from pdz_shared.http import body_hash


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_key"

    principal: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=200)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None
    response_body: Any = Field(default=None, sa_column=Column(JSONB))
    response_headers: dict[str, str] | None = Field(default=None, sa_column=Column(JSONB))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


_CLAIM = text("""
    INSERT INTO idempotency_key (principal, key, method, path, request_hash, created_at)
    VALUES (:principal, :key, :method, :path, :hash, now())
    ON CONFLICT DO NOTHING
""")
_READ = text("""
    SELECT method, path, request_hash, status_code, response_body, response_headers
    FROM idempotency_key WHERE principal = :principal AND key = :key
""")
_STORE = text("""
    UPDATE idempotency_key SET status_code = :status, response_body = CAST(:body AS jsonb),
           response_headers = CAST(:headers AS jsonb)
    WHERE principal = :principal AND key = :key
""")


class Idempotency:
    """Per-request helper; ``key`` is None when the caller sent no Idempotency-Key."""

    def __init__(self, request: Request, key: str | None, principal: Principal) -> None:
        self.request = request
        self.key = key
        self.principal = principal.sub

    async def replay(self, session: AsyncSession, payload: Any) -> JSONResponse | None:
        """Claims the key, or returns the stored answer of the first request with it."""
        if self.key is None:
            return None
        params = {"principal": self.principal, "key": self.key}
        request_hash = body_hash(
            payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
        )
        claimed = await session.execute(
            _CLAIM,
            {
                **params,
                "method": self.request.method,
                "path": self.request.url.path,
                "hash": request_hash,
            },
        )
        if getattr(claimed, "rowcount", 0):
            return None
        row = (await session.execute(_READ, params)).mappings().one()
        if (
            row["request_hash"] != request_hash
            or row["path"] != self.request.url.path
            or row["method"] != self.request.method
        ):
            raise Unprocessable(
                "Idempotency-Key già usata per una richiesta diversa",
                "Idempotency-Key already used for a different request",
                code="idempotency-key-reused",
            )
        if row["status_code"] is None:
            raise Conflict(
                "Una richiesta con la stessa Idempotency-Key è in corso",
                "A request with the same Idempotency-Key is in progress",
            )
        headers = {**(row["response_headers"] or {}), "Idempotent-Replayed": "true"}
        return JSONResponse(row["response_body"], status_code=row["status_code"], headers=headers)

    async def store(
        self, session: AsyncSession, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        """Remembers the answer (call it in the same transaction as the change)."""
        if self.key is None:
            return
        import json

        data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
        await session.execute(
            _STORE,
            {
                "principal": self.principal,
                "key": self.key,
                "status": status,
                "body": json.dumps(data, default=str),
                "headers": json.dumps(headers or {}),
            },
        )


def _idempotency(
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=8,
            max_length=200,
            pattern=r"^[\x21-\x7e]+$",
            description="Chiave univoca del client: ripetere la richiesta con la stessa chiave "
            "restituisce la stessa risposta senza ripetere l'operazione",
        ),
    ] = None,
) -> Idempotency:
    return Idempotency(request, idempotency_key, principal)


IdempotencyDep = Annotated[Idempotency, Depends(_idempotency)]
