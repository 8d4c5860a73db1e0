"""Keeps the territory projection in step with the plans service."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_indicators.territories.models import Territory
from pdz_indicators.values import service as indicator_values
from pdz_shared.contracts import plans as contract
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.inbox import Handler

TABLE = Territory.__table__  # type: ignore[attr-defined]


async def on_territory_changed(session: AsyncSession, event: CloudEvent) -> None:
    data = contract.TerritoryChanged.model_validate(event.data)
    values = data.model_dump(
        include={"code", "name", "kind", "parent_codes", "ambito_code", "version", "changed_at"}
    )
    before = (
        await session.execute(
            select(TABLE.c.kind, TABLE.c.parent_codes, TABLE.c.ambito_code).where(
                TABLE.c.code == data.code
            )
        )
    ).first()
    stmt = insert(Territory).values(**values)
    # Events of one unit arrive in order, but a replay may bring an older version: keep newest.
    stmt = stmt.on_conflict_do_update(
        index_elements=[TABLE.c.code],
        set_={k: stmt.excluded[k] for k in values if k != "code"},
        where=TABLE.c.version < stmt.excluded.version,
    )
    result = await session.execute(stmt)
    hierarchy = (data.kind, list(data.parent_codes), data.ambito_code)
    moved = before is None or (before[0], list(before[1]), before[2]) != hierarchy
    if getattr(result, "rowcount", 0) and moved:
        # The hierarchy changed: values summed over it (ambito, distretto, ASST, ATS) may too.
        # A new name or ISTAT code changes no value.
        await indicator_values.recompute_all(session)


HANDLERS: dict[str, Handler] = {
    contract.TERRITORY_CREATED: on_territory_changed,
    contract.TERRITORY_UPDATED: on_territory_changed,
}
