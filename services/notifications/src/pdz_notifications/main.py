"""The notifications service: e-mail, signed webhooks and an in-app inbox."""

from pdz_notifications import models  # noqa: F401  (tables)
from pdz_notifications.inbox.api import router as inbox
from pdz_notifications.recipients.api import router as recipients
from pdz_notifications.settings import settings
from pdz_shared.app import ServiceSpec, create_app

app = create_app(
    ServiceSpec(
        name="notifications",
        title="Piano di Zona - Notifiche",
        summary="Notifiche per e-mail, webhook firmati e casella interna",
        description="API del servizio notifications: destinatari, regole, modelli, preferenze, "
        "webhook firmati, casella interna e registro delle consegne.",
        settings=settings(),
        routers=[recipients, inbox],
    )
)
