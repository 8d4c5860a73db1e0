"""The channel plugin interface: an App IO or PEC channel is one more module like these."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery, as the channel sees it."""

    id: uuid.UUID
    event_id: str
    event_type: str
    recipient: str
    channel: str
    attempt: int
    language: str
    critical: bool
    ambito_code: str | None = None
    address: str | None = None
    subject: str | None = None
    body: str | None = None
    payload: dict[str, Any] | None = None
    webhook_id: uuid.UUID | None = None


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str | None = None
    retryable: bool = True
    response_status: int | None = None


class Channel(Protocol):
    name: str

    async def send(self, message: Outgoing) -> SendResult: ...

    async def close(self) -> None: ...
