"""Every table of the notifications database (imported by Alembic)."""

from pdz_notifications.deliveries.models import Delivery, DeliveryAttempt
from pdz_notifications.digests.models import Digest
from pdz_notifications.inbox.models import Notification
from pdz_notifications.preferences.models import Preference
from pdz_notifications.recipients.models import Recipient
from pdz_notifications.rules.models import Rule
from pdz_notifications.templates.models import Template
from pdz_notifications.webhooks.models import Webhook
from pdz_shared.events.inbox import InboxMessage
from pdz_shared.events.outbox import OutboxMessage
from pdz_shared.idempotency import IdempotencyRecord

__all__ = [
    "Delivery",
    "DeliveryAttempt",
    "Digest",
    "IdempotencyRecord",
    "InboxMessage",
    "Notification",
    "OutboxMessage",
    "Preference",
    "Recipient",
    "Rule",
    "Template",
    "Webhook",
]
