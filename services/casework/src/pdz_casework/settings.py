from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from pdz_shared.settings import ServiceSettings


class CaseworkSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PDZ_CASEWORK_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/pdz_casework"
    port: int = 8003
    sla_interval_seconds: float = 30.0


@lru_cache
def settings() -> CaseworkSettings:
    return CaseworkSettings()
