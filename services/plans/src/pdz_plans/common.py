"""Small helpers the plans concepts share: JSON snapshots, field assignment with a diff."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pdz_shared.auth import Principal, Role
from pdz_shared.errors import Forbidden


def jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def assign(obj: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Sets the attributes that differ; returns ``{field: {"from", "to"}}`` of the changes."""
    changes: dict[str, Any] = {}
    for key, value in values.items():
        old = getattr(obj, key)
        if isinstance(old, Decimal) and value is not None:
            value = Decimal(str(value))
        if jsonable(old) != jsonable(value):
            changes[key] = {"from": jsonable(old), "to": jsonable(value)}
            setattr(obj, key, value)
    return changes


def require_writer(principal: Principal, ambito: str | None) -> None:
    """udp_admin of the ambito (or platform_admin) may write its plans."""
    if principal.is_platform_admin:
        return
    if Role.udp_admin not in principal.roles:
        raise Forbidden(
            "Solo l'amministratore dell'Ufficio di Piano può modificare il piano",
            "Only the Ufficio di Piano administrator may change the plan",
        )
    if ambito is None or ambito not in principal.ambiti:
        raise Forbidden(
            "Puoi modificare solo i piani dei tuoi ambiti",
            "You may change only the plans of your ambiti",
        )
