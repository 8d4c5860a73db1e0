"""Classification schemes: tables of codes seeded from seed.yaml (idempotent)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_plans.classifications.models import ClassificationCode, ClassificationScheme
from pdz_plans.classifications.schemas import CodeIn, SchemeIn
from pdz_plans.common import assign
from pdz_shared.errors import NotFound
from pdz_shared.listing import paged

SEED = Path(__file__).with_name("seed.yaml")


def seed_data() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    return data


async def ensure_seeded(session: AsyncSession) -> None:
    present = (await session.exec(select(func.count()).select_from(ClassificationScheme))).one()
    schemes = seed_data()
    if present >= len(schemes):
        return
    for scheme in schemes:
        await session.execute(
            insert(ClassificationScheme)
            .values(
                code=scheme["code"],
                name=scheme["name"],
                description=scheme.get("description"),
                source=scheme.get("source"),
            )
            .on_conflict_do_nothing()
        )
        for pos, row in enumerate(scheme["codes"]):
            await session.execute(
                insert(ClassificationCode)
                .values(
                    scheme=scheme["code"],
                    code=str(row[0]),
                    label=row[1],
                    description=row[2] if len(row) > 2 else None,
                    position=pos,
                )
                .on_conflict_do_nothing()
            )
    await session.flush()


async def scheme(session: AsyncSession, code: str) -> ClassificationScheme:
    await ensure_seeded(session)
    found = await session.get(ClassificationScheme, code)
    if found is None:
        raise NotFound(
            f"Schema di classificazione {code} non trovato",
            f"Classification scheme {code} not found",
        )
    return found


async def schemes(session: AsyncSession) -> list[ClassificationScheme]:
    await ensure_seeded(session)
    return list((await session.exec(select(ClassificationScheme).order_by("code"))).all())


async def schemes_page(
    session: AsyncSession, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[ClassificationScheme], int]:
    await ensure_seeded(session)
    return await paged(session, select(ClassificationScheme), order_by, limit, offset)


async def codes(
    session: AsyncSession,
    scheme_code: str,
    *,
    q: str | None,
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[ClassificationCode], int]:
    await scheme(session, scheme_code)
    query = select(ClassificationCode).where(ClassificationCode.scheme == scheme_code)
    if q:
        query = query.where(col(ClassificationCode.label).ilike(f"%{q}%"))
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.all()), int(total)


async def known(session: AsyncSession) -> set[tuple[str, str]]:
    await ensure_seeded(session)
    rows = await session.exec(select(ClassificationCode.scheme, ClassificationCode.code))
    return {(s, c) for s, c in rows.all()}


async def put_scheme(
    session: AsyncSession, code: str, data: SchemeIn, if_match: Callable[[int], None]
) -> tuple[ClassificationScheme, bool]:
    """Creates the scheme, or updates it after ``if_match`` accepts its version."""
    await ensure_seeded(session)
    found = await session.get(ClassificationScheme, code)
    if found is None:
        found = ClassificationScheme(code=code, **data.model_dump())
        session.add(found)
        await session.flush()
        return found, True
    if_match(found.version)
    if assign(found, data.model_dump()):
        found.version += 1
        session.add(found)
    return found, False


async def put_code(
    session: AsyncSession,
    scheme_code: str,
    code: str,
    data: CodeIn,
    if_match: Callable[[int], None],
) -> tuple[ClassificationCode, bool]:
    await scheme(session, scheme_code)
    found = (
        await session.exec(
            select(ClassificationCode).where(
                ClassificationCode.scheme == scheme_code, ClassificationCode.code == code
            )
        )
    ).first()
    if found is None:
        position = (
            await session.exec(
                select(func.count())
                .select_from(ClassificationCode)
                .where(ClassificationCode.scheme == scheme_code)
            )
        ).one()
        found = ClassificationCode(
            scheme=scheme_code, code=code, position=int(position), **data.model_dump()
        )
        session.add(found)
        await session.flush()
        return found, True
    if_match(found.version)
    if assign(found, data.model_dump()):
        found.version += 1
        session.add(found)
    return found, False
