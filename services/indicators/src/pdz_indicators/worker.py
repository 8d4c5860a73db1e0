"""indicators worker: outbox relay and event consumers."""

from pdz_indicators import models  # noqa: F401
from pdz_indicators.consumers import consumers
from pdz_indicators.settings import settings
from pdz_shared.worker import worker_main


def main() -> None:
    worker_main("indicators", settings(), consumers)


if __name__ == "__main__":
    main()
