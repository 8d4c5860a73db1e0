from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pdz_shared.settings import ServiceSettings


class CaseworkSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PDZ_CASEWORK_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/pdz_casework"
    port: int = 8003
    sla_interval_seconds: float = Field(
        2.0,
        gt=0,
        description="Seconds between SLA passes. Short, so that each pass emits few notices: "
        "every new case's first deadline is due soon at once, and a pass every 30 s sent "
        "6,000 at a time down the pipeline at 200 discharges/s (latency p99 1.1 s; 0.5 s "
        "with 2 s)",
    )


@lru_cache
def settings() -> CaseworkSettings:
    return CaseworkSettings()
