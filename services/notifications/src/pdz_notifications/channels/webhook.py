"""Webhooks: the CloudEvent in structured mode, signed with HMAC-SHA256 over timestamp + body.

Headers: ``X-PDZ-Timestamp`` (Unix seconds), ``X-PDZ-Signature: sha256=<hex>`` where the hex is
HMAC-SHA256(secret, f"{timestamp}." + body), and ``X-PDZ-Delivery`` (the delivery id, stable
across retries so the receiver can deduplicate). Receivers should refuse timestamps older than a
few minutes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import socket
import time
from urllib.parse import urlsplit

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.channels.base import Outgoing, SendResult
from pdz_notifications.webhooks.models import Webhook
from pdz_shared.db import SessionFactory

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
SIGNATURE_HEADER = "X-PDZ-Signature"
TIMESTAMP_HEADER = "X-PDZ-Timestamp"
DELIVERY_HEADER = "X-PDZ-Delivery"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


async def private_target(url: str) -> str | None:
    """The first loopback/private/link-local/reserved address ``url``'s host resolves to."""
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return None  # unresolvable: the POST itself will fail and be retried
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return str(address)
    return None


class WebhookChannel:
    name = "webhook"

    def __init__(
        self, factory: SessionFactory, timeout: float, allow_private: bool = False
    ) -> None:
        self.factory = factory
        self.allow_private = allow_private
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def _endpoint(self, message: Outgoing) -> Webhook | None:
        if message.webhook_id is None:
            return None
        session: AsyncSession
        async with self.factory() as session:
            return await session.get(Webhook, message.webhook_id)

    async def send(self, message: Outgoing) -> SendResult:
        hook = await self._endpoint(message)
        if hook is None or not hook.active:
            return SendResult(False, "webhook endpoint removed or disabled", retryable=False)
        if not self.allow_private and (address := await private_target(hook.url)) is not None:
            return SendResult(
                False, f"webhook URL resolves to a non-public address ({address})", retryable=False
            )
        body = json.dumps(message.payload, separators=(",", ":"), default=str).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": CONTENT_TYPE,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(hook.secret, timestamp, body),
            DELIVERY_HEADER: str(message.id),
            "User-Agent": "pdz-notifications/1.0",
        }
        try:
            response = await self.client.post(hook.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return SendResult(False, f"{type(exc).__name__}: {exc}")
        code = response.status_code
        if 200 <= code < 300:
            return SendResult(True, response_status=code)
        # 408/429 and 5xx are worth retrying; any other answer will not change by itself.
        retryable = code in (408, 425, 429) or code >= 500
        return SendResult(False, f"HTTP {code}", retryable=retryable, response_status=code)

    async def close(self) -> None:
        await self.client.aclose()
