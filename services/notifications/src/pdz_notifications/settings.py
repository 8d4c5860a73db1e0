from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from pdz_shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    """``PDZ_NOTIFICATIONS_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="PDZ_NOTIFICATIONS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/pdz_notifications"
    port: int = 8004

    # ---- e-mail (SMTP)
    smtp_host: str = Field("127.0.0.1", description="SMTP server host")
    smtp_port: int = Field(1025, description="SMTP server port (25, 465 TLS, 587 STARTTLS)")
    smtp_starttls: bool = Field(False, description="Upgrade the connection with STARTTLS")
    smtp_tls: bool = Field(False, description="Implicit TLS from the first byte (port 465)")
    smtp_ca_file: str | None = Field(
        None, description="CA bundle that signs the SMTP server's certificate (default: system)"
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 15.0
    smtp_pool_size: int = Field(
        25, description="Open SMTP connections kept for reuse per dispatcher (0: one per e-mail)"
    )
    smtp_pool_max_messages: int = Field(
        100, description="E-mails sent over one SMTP connection before it is closed"
    )
    smtp_pool_idle_seconds: float = Field(
        20.0, description="An SMTP connection idle for longer is closed rather than reused"
    )
    mail_from: str = Field(
        "Piano di Zona <notifiche@pdz.example.it>", description="From: of every e-mail"
    )

    # ---- webhooks
    webhook_timeout_seconds: float = 10.0
    webhook_allow_private: bool = Field(
        False,
        description="Allow webhook URLs that resolve to loopback/private/link-local addresses "
        "(off in production: an ambito's admin must not reach the platform's internal network)",
    )

    # ---- dispatcher (in the worker)
    dispatch_batch_size: int = 100
    dispatch_concurrency: int = Field(25, description="Sends in flight at once per dispatcher")
    dispatch_poll_seconds: float = 1.0
    dispatch_lease_seconds: int = Field(
        120, description="A claimed delivery not finished within this time is claimed again"
    )
    max_attempts: int = Field(6, description="Attempts before a delivery is failed (and DLQ)")
    backoff_base_seconds: float = Field(2.0, description="First retry delay, doubled per attempt")
    backoff_cap_seconds: float = Field(3600.0, description="Longest retry delay")

    @model_validator(mode="after")
    def _one_tls_mode(self) -> "NotificationsSettings":
        if self.smtp_tls and self.smtp_starttls:
            raise ValueError("choose SMTP_TLS (implicit, port 465) or SMTP_STARTTLS, not both")
        if self.smtp_username and self.smtp_password is None:
            raise ValueError(
                "PDZ_NOTIFICATIONS_SMTP_USERNAME needs PDZ_NOTIFICATIONS_SMTP_PASSWORD"
            )
        return self


@lru_cache
def settings() -> NotificationsSettings:
    return NotificationsSettings()
