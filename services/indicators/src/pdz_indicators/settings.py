from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from pdz_shared.settings import ServiceSettings


class IndicatorsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PDZ_INDICATORS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/pdz_indicators"
    port: int = 8002


@lru_cache
def settings() -> IndicatorsSettings:
    return IndicatorsSettings()
