from pdz_indicators import models  # noqa: F401  (registers the tables)
from pdz_indicators.settings import settings
from pdz_shared.db import metadata
from pdz_shared.migrations import run_migrations

run_migrations(metadata(), settings().database_url)
