"""CloudEvents 1.0 in Kafka binary mode: attributes travel as ``ce_*`` headers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"

Headers = list[tuple[str, bytes]]


class EventDecodeError(ValueError):
    """The message is not a valid binary-mode CloudEvent (a permanent error)."""


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    data: dict[str, Any]
    subject: str | None = None
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    traceparent: str | None = None
    request_id: str | None = None

    @classmethod
    def new(
        cls,
        *,
        source: str,
        type: str,
        data: dict[str, Any],
        subject: str | None = None,
        traceparent: str | None = None,
        request_id: str | None = None,
    ) -> CloudEvent:
        return cls(
            id=str(uuid.uuid4()),
            source=source,
            type=type,
            data=data,
            subject=subject,
            traceparent=traceparent,
            request_id=request_id,
        )

    def kafka_headers(self) -> Headers:
        headers: Headers = [
            ("ce_specversion", SPECVERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_source", self.source.encode()),
            ("ce_type", self.type.encode()),
            ("ce_time", self.time.isoformat().encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]
        if self.subject:
            headers.append(("ce_subject", self.subject.encode()))
        if self.traceparent:
            headers.append(("traceparent", self.traceparent.encode()))
        if self.request_id:
            headers.append(("ce_requestid", self.request_id.encode()))
        return headers

    def kafka_value(self) -> bytes:
        return json.dumps(self.data, separators=(",", ":"), default=str).encode()

    def structured(self) -> dict[str, Any]:
        """Structured-mode JSON (used by webhooks)."""
        body: dict[str, Any] = {
            "specversion": SPECVERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.isoformat(),
            "datacontenttype": CONTENT_TYPE,
            "data": self.data,
        }
        if self.subject:
            body["subject"] = self.subject
        return body


def decode(headers: Headers | None, value: bytes | None) -> CloudEvent:
    h = {k: v.decode("utf-8", "replace") for k, v in (headers or [])}
    missing = [a for a in ("ce_id", "ce_source", "ce_type") if not h.get(a)]
    if missing:
        raise EventDecodeError(f"missing CloudEvents headers: {', '.join(missing)}")
    if h.get("ce_specversion", SPECVERSION) != SPECVERSION:
        raise EventDecodeError(f"unsupported specversion {h.get('ce_specversion')}")
    try:
        data = json.loads(value or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventDecodeError(f"data is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EventDecodeError("data must be a JSON object")
    try:
        when = datetime.fromisoformat(h["ce_time"]) if h.get("ce_time") else datetime.now(UTC)
    except ValueError as exc:
        raise EventDecodeError(f"bad ce_time: {h.get('ce_time')}") from exc
    return CloudEvent(
        id=h["ce_id"],
        source=h["ce_source"],
        type=h["ce_type"],
        data=data,
        subject=h.get("ce_subject"),
        time=when,
        traceparent=h.get("traceparent"),
        request_id=h.get("ce_requestid"),
    )
