"""The notifications service: e-mail, signed webhooks and an in-app inbox."""

from pdz_notifications import models  # noqa: F401  (tables)
from pdz_notifications.deliveries.api import router as deliveries
from pdz_notifications.inbox.api import router as inbox
from pdz_notifications.preferences.api import router as preferences
from pdz_notifications.recipients.api import router as recipients
from pdz_notifications.rules.api import router as rules
from pdz_notifications.settings import settings
from pdz_notifications.templates.api import router as templates
from pdz_notifications.webhooks.api import router as webhooks
from pdz_shared.app import ServiceSpec, create_app

app = create_app(
    ServiceSpec(
        name="notifications",
        title="Piano di Zona - Notifiche",
        summary="Notifiche per e-mail, webhook firmati e casella interna",
        description="API del servizio notifications: destinatari, regole, modelli, preferenze, "
        "webhook firmati, casella interna e registro delle consegne.",
        settings=settings(),
        routers=[recipients, inbox, preferences, rules, templates, webhooks, deliveries],
    )
)
