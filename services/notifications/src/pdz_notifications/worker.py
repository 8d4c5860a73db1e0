"""notifications worker: outbox relay (and its event consumers, once it has some)."""

from pdz_notifications import models  # noqa: F401
from pdz_notifications.settings import settings
from pdz_shared.worker import worker_main


def main() -> None:
    worker_main("notifications", settings())


if __name__ == "__main__":
    main()
