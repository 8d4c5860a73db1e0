"""The ASST's dimissioni protette from Kafka (``asst.dimissioni.v1``): the HTTP code path."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.discharges import service
from pdz_shared.contracts import casework as contract
from pdz_shared.errors import PdzError
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.inbox import Handler, PermanentEventError


async def on_discharge(session: AsyncSession, event: CloudEvent) -> None:
    """Records the receipt as the HTTP intake does; the discharge processor applies it."""
    actor = f"kafka:{event.source}"[:200]
    try:
        await service.accept(session, event.data, channel="kafka", actor=actor)
    except PdzError as exc:  # a business rule refused it: never retry, dead-letter it
        raise PermanentEventError(exc.detail_en or str(exc)) from exc


HANDLERS: dict[str, Handler] = {contract.ASST_DIMISSIONE_TYPE: on_discharge}
