"""plans worker: outbox relay (and its event consumers, once it has some)."""

from pdz_plans import models  # noqa: F401
from pdz_plans.settings import settings
from pdz_shared.worker import worker_main


def main() -> None:
    worker_main("plans", settings())


if __name__ == "__main__":
    main()
