from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from pdz_shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PDZ_NOTIFICATIONS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/pdz_notifications"
    port: int = 8004


@lru_cache
def settings() -> NotificationsSettings:
    return NotificationsSettings()
