"""The notifications service: e-mail, signed webhooks and an in-app inbox."""

from pdz_notifications import models  # noqa: F401  (tables)
from pdz_notifications.settings import settings
from pdz_shared.app import ServiceSpec, create_app

app = create_app(
    ServiceSpec(
        name="notifications",
        title="Piano di Zona - Notifiche",
        summary="Notifiche per e-mail, webhook firmati e casella interna",
        description="API del servizio notifications: regole, canali, preferenze e consegne.",
        settings=settings(),
    )
)
