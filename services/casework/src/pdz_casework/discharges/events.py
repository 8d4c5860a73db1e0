"""The ASST's dimissioni protette from Kafka (``asst.dimissioni.v1``): the HTTP code path."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_casework.cases import service as cases
from pdz_casework.discharges import service
from pdz_shared.auth import Principal, Role
from pdz_shared.contracts import casework as contract
from pdz_shared.errors import PdzError
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.inbox import Handler, PermanentEventError


async def on_discharge(session: AsyncSession, event: CloudEvent) -> None:
    actor = f"kafka:{event.source}"[:200]
    try:
        receipt = await service.receive(session, event.data, channel="kafka", actor=actor)
    except PdzError as exc:  # a business rule refused it: never retry, dead-letter it
        raise PermanentEventError(exc.detail_en or str(exc)) from exc
    row = receipt.discharge
    if receipt.changed and row.case_id is not None:
        system = Principal(sub=actor, roles=frozenset({Role.asst_system.value}), ambiti=frozenset())
        await cases.audit(
            session,
            system,
            [row.case_id],
            action="write",
            operation="receive_discharge",
            purpose="dimissione_protetta",
            roles=(Role.asst_system,),
        )


HANDLERS: dict[str, Handler] = {contract.ASST_DIMISSIONE_TYPE: on_discharge}
