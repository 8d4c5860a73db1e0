"""casework worker: outbox relay and event consumers (the ASST's dimissioni protette)."""

from pdz_casework import models  # noqa: F401
from pdz_casework.consumers import consumers
from pdz_casework.settings import settings
from pdz_shared.worker import worker_main


def main() -> None:
    worker_main("casework", settings(), consumers)


if __name__ == "__main__":
    main()
