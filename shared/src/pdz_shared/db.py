"""Async database access: one engine per process, one session per request or handler."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import MetaData, TextClause, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

# Constraint names stable across services so that Alembic autogenerate stays deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

SessionFactory = async_sessionmaker[AsyncSession]


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    from pdz_shared.settings import common_settings

    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=common_settings().db_pre_ping,
        pool_recycle=1800,
    )


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def transaction(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A unit of work: commits when the block ends, rolls back on any error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def make_pool(url: str, *, max_size: int = 10) -> asyncpg.Pool:
    """A bare asyncpg pool, for the few hot paths where SQLAlchemy's own cost per statement
    (pool checkout, greenlet switches, result processing: about a millisecond of CPU, three
    times the statement's) matters. JSON works as through SQLAlchemy's asyncpg dialect:
    values go in as JSON text, come back decoded."""

    def encode(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    async def init(conn: asyncpg.Connection) -> None:
        for name in ("json", "jsonb"):
            await conn.set_type_codec(name, encoder=encode, decoder=json.loads, schema="pg_catalog")

    async def reset(conn: asyncpg.Connection) -> None:
        # asyncpg's default reset costs a round trip per release (UNLISTEN, RESET ALL...):
        # these connections never LISTEN, SET or lock for the session, so only an
        # interrupted transaction needs undoing.
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")

    pool: asyncpg.Pool = await asyncpg.create_pool(
        sync_url(url), min_size=1, max_size=max_size, init=init, reset=reset
    )
    return pool


class Statement:
    """One SQL text for both ways in: a SQLAlchemy session (named ``:params``) and a bare
    asyncpg connection (the same text compiled once to ``$n`` placeholders)."""

    def __init__(self, sql: str) -> None:
        self.text: TextClause = text(sql)
        compiled = self.text.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
        self.pg_sql = str(compiled)
        self.order: list[str] = list(compiled.positiontup or [])

    async def fetch(
        self, db: AsyncSession | asyncpg.Connection, params: Mapping[str, Any]
    ) -> list[Mapping[str, Any]]:
        if isinstance(db, AsyncSession):
            result = await db.execute(self.text, dict(params))
            return [dict(r) for r in result.mappings().all()]
        rows = await db.fetch(self.pg_sql, *[params[k] for k in self.order])
        return [dict(r) for r in rows]


async def driver(session: AsyncSession) -> AsyncSession | asyncpg.Connection:
    """For a :class:`Statement` in the session's transaction: the asyncpg connection under it,
    which skips SQLAlchemy's own cost per statement (about 80 µs of CPU and as much wall time
    on these machines, more than a small statement's), once the transaction has begun; until
    then, the session itself. Pending ORM changes are flushed first, as the session would. On
    this connection JSON parameters go as text and come back decoded."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    conn = await session.connection()
    raw: asyncpg.Connection = (await conn.get_raw_connection()).driver_connection
    return raw if raw.is_in_transaction() else session


def metadata() -> MetaData:
    """The metadata of the running service (each service runs in its own process)."""
    return SQLModel.metadata


def sync_url(url: str) -> str:
    """asyncpg URL → plain libpq-style URL (for asyncpg.connect / psql)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
