"""Who may configure what: platform_admin everything, udp_admin its own ambiti."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pdz_shared.auth import Principal, Role, require_roles
from pdz_shared.errors import Forbidden

Admin = Annotated[Principal, Depends(require_roles(Role.udp_admin))]
PlatformAdmin = Annotated[Principal, Depends(require_roles(Role.platform_admin))]


def check_scope(principal: Principal, ambito: str | None) -> None:
    """A configuration of one ambito needs that ambito; a global one needs platform_admin."""
    if principal.is_platform_admin:
        return
    if ambito is None:
        raise Forbidden(
            "Solo l'amministratore della piattaforma gestisce le configurazioni globali",
            "Only the platform administrator manages global configurations",
        )
    if ambito not in principal.ambiti:
        raise Forbidden(
            f"Puoi gestire solo le configurazioni dei tuoi ambiti (non {ambito})",
            f"You may manage only the configurations of your ambiti (not {ambito})",
        )
