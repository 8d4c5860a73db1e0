from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from pdz_casework.access import Auditor, PolicyReader
from pdz_casework.cases.schemas import CODE
from pdz_casework.sla import service
from pdz_casework.sla.models import SlaPolicy
from pdz_casework.sla.schemas import SlaPolicyIn, SlaPolicyOut
from pdz_shared.app import SessionDep
from pdz_shared.db import utcnow
from pdz_shared.http import check_if_match, etag_of

router = APIRouter(prefix="/v1/sla-policies", tags=["sla"])
Ambito = Annotated[str, Path(pattern=CODE, description="Codice dell'ambito")]


@router.get(
    "/{ambito_code}",
    response_model=SlaPolicyOut,
    operation_id="get_sla_policy",
    summary="Le scadenze dell'ambito (predefinite se mai configurate)",
)
async def get_sla_policy(
    ambito_code: Ambito, session: SessionDep, principal: PolicyReader, response: Response
) -> SlaPolicyOut:
    principal.require_ambito(ambito_code)
    policy = await service.policy_for(session, ambito_code)
    response.headers["ETag"] = etag_of(policy.version)
    return SlaPolicyOut.model_validate(
        {**policy.model_dump(), "updated_at": policy.updated_at or utcnow()}
    )


@router.put(
    "/{ambito_code}",
    response_model=SlaPolicyOut,
    operation_id="update_sla_policy",
    summary="Configura le scadenze dell'ambito (If-Match obbligatorio)",
    description="Vale per le scadenze aperte da qui in avanti.",
)
async def update_sla_policy(
    ambito_code: Ambito,
    body: SlaPolicyIn,
    request: Request,
    session: SessionDep,
    principal: Auditor,
    response: Response,
) -> SlaPolicyOut:
    principal.require_ambito(ambito_code)
    policy = await session.get(SlaPolicy, ambito_code, with_for_update=True)
    check_if_match(request, policy.version if policy else 1)
    if policy is None:
        policy = SlaPolicy(ambito_code=ambito_code, version=1)
    for key, value in body.model_dump().items():
        setattr(policy, key, value)
    policy.version += 1
    policy.updated_at = utcnow()
    session.add(policy)
    response.headers["ETag"] = etag_of(policy.version)
    return SlaPolicyOut.model_validate(policy.model_dump())
