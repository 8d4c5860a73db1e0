from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from pdz_shared.settings import ServiceSettings


class PlansSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PDZ_PLANS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/pdz_plans"
    port: int = 8001


@lru_cache
def settings() -> PlansSettings:
    return PlansSettings()
