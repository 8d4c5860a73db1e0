"""Who may do what in casework: roles per kind of operation, and the audit purpose header."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from pdz_shared.auth import Principal, Role, require_roles

CASE_READERS = (Role.pua_operator, Role.social_worker, Role.uvm_member)
CASE_WRITERS = (Role.pua_operator, Role.social_worker)
ASSESSORS = (Role.uvm_member, Role.social_worker)

Reader = Annotated[Principal, Depends(require_roles(*CASE_READERS))]
Writer = Annotated[Principal, Depends(require_roles(*CASE_WRITERS))]
Assessor = Annotated[Principal, Depends(require_roles(*ASSESSORS))]
Auditor = Annotated[Principal, Depends(require_roles(Role.udp_admin))]
AsstSystem = Annotated[Principal, Depends(require_roles(Role.asst_system))]
CartellaSystem = Annotated[Principal, Depends(require_roles(Role.cartella_sociale_system))]

PURPOSE_PATTERN = r"^[a-z][a-z0-9_]{1,49}$"

Purpose = Annotated[
    str | None,
    Header(
        alias="Pdz-Purpose",
        pattern=PURPOSE_PATTERN,
        max_length=50,
        description="Finalità dell'accesso ai dati del caso, registrata nell'audit "
        "(es. presa_in_carico, valutazione, verifica)",
    ),
]


def acting_role(principal: Principal, preferred: tuple[str, ...]) -> str:
    """The role under which the caller acts, for the audit trail."""
    for role in preferred:
        if role in principal.roles:
            return str(role)
    if principal.is_platform_admin:
        return Role.platform_admin.value
    return sorted(principal.roles)[0] if principal.roles else "unknown"


DischargeReader = Annotated[Principal, Depends(require_roles(*CASE_READERS, Role.asst_system))]

PolicyReader = Annotated[
    Principal, Depends(require_roles(*CASE_READERS, Role.udp_admin, Role.udp_viewer))
]

LINK_ROLES = (*CASE_WRITERS, Role.cartella_sociale_system)
LINK_READERS = (*CASE_READERS, Role.cartella_sociale_system)
Linker = Annotated[Principal, Depends(require_roles(*LINK_ROLES))]
LinkReader = Annotated[Principal, Depends(require_roles(*LINK_READERS))]
