"""Channel plugins: each module implements ``Channel`` (see ``base``)."""

from __future__ import annotations

from pdz_notifications.channels.base import Channel, Outgoing, SendResult
from pdz_notifications.channels.email import EmailChannel
from pdz_notifications.channels.inbox import InboxChannel
from pdz_notifications.channels.webhook import WebhookChannel
from pdz_notifications.settings import NotificationsSettings
from pdz_shared.db import SessionFactory


def build_channels(settings: NotificationsSettings, factory: SessionFactory) -> dict[str, Channel]:
    channels: list[Channel] = [
        EmailChannel(settings),
        InboxChannel(factory),
        WebhookChannel(factory, settings.webhook_timeout_seconds, settings.webhook_allow_private),
    ]
    return {c.name: c for c in channels}


__all__ = ["Channel", "Outgoing", "SendResult", "build_channels"]
