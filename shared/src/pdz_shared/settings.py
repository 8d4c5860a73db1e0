"""Settings, read only from the environment (pydantic-settings).

Common variables use the ``PDZ_`` prefix; each service adds its own ``PDZ_<SVC>_`` variables.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["dev", "test", "staging", "prod"]


class CommonSettings(BaseSettings):
    """Variables shared by every service (prefix ``PDZ_``)."""

    model_config = SettingsConfigDict(env_prefix="PDZ_", extra="ignore")

    env: Environment = Field("prod", description="dev | test | staging | prod")
    log_level: str = "INFO"
    log_json: bool = True

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", description="Comma-separated Kafka bootstrap servers"
    )
    kafka_idempotence: bool = Field(
        False,
        description="Idempotent producer; on for real Kafka, off for the embedded tansu broker",
    )
    kafka_session_timeout_ms: int = Field(
        10_000,
        ge=1_000,
        le=300_000,
        description="Consumer group session timeout: how long a dead consumer keeps its "
        "partitions before the group hands them to another (heartbeat every tenth of it)",
    )
    kafka_fetch_max_wait_ms: int = Field(
        500,
        ge=5,
        le=5_000,
        description="Longest a consumer's fetch waits for new records. Kafka answers as soon "
        "as a record arrives, so this only bounds an idle wait; the embedded tansu broker "
        "waits it out, so the devstack sets 20 (else each hop adds up to this much latency)",
    )
    kafka_client_prefix: str = "pdz"
    worker_nice: int = Field(
        0,
        ge=0,
        le=19,
        description="CPU niceness of worker processes (relays, consumers, schedulers). Where "
        "they share CPUs with the APIs (the devstack: 19), the APIs that answer hospitals and "
        "comuni come first and the background work catches up right after",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="SASL_SSL for the Strimzi listener (deploy/README.md)"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = Field(None, description="CA bundle of the brokers (PEM)")

    jwt_audience: str = "pdz"
    jwt_issuer: str | None = None
    jwt_hs256_secret: SecretStr | None = Field(
        None, description="HS256 signing key, accepted only when PDZ_ENV=dev or test"
    )
    jwt_public_key: str | None = Field(None, description="RS256 public key (PEM)")
    jwt_jwks_url: str | None = Field(None, description="JWKS URL for RS256 tokens")

    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins of the Ufficio di Piano front-ends allowed by CORS (JSON list)",
    )

    rate_limit_per_minute: int = Field(
        1200, ge=1, description="Requests per minute per client (token or address)"
    )

    db_pre_ping: bool = Field(
        False,
        description="Test every pooled connection before use (one round trip per request); "
        "off, a connection lost with a restart of PostgreSQL fails one request with 503",
    )

    outbox_retention_hours: int = Field(
        168, description="How long published outbox rows are kept, so they can be re-published"
    )
    public_base_url: str = "http://127.0.0.1"

    @model_validator(mode="after")
    def _no_dev_key_outside_dev(self) -> CommonSettings:
        if self.jwt_hs256_secret is not None and self.env not in ("dev", "test"):
            raise ValueError("PDZ_JWT_HS256_SECRET is accepted only when PDZ_ENV is dev or test")
        return self

    @model_validator(mode="after")
    def _no_wildcard_cors(self) -> CommonSettings:
        if any(o.strip() == "*" for o in self.cors_origins):
            raise ValueError(
                "PDZ_CORS_ORIGINS must list origins: '*' is not allowed with credentials"
            )
        return self

    @property
    def is_dev(self) -> bool:
        return self.env in ("dev", "test")

    def signing_secret(self) -> str | None:
        """The HS256 key: the configured one, or the well-known dev key in dev/test."""
        if not self.is_dev:
            return None
        if self.jwt_hs256_secret is not None:
            return self.jwt_hs256_secret.get_secret_value()
        return DEV_SIGNING_KEY


# Dev-only key: refused outside PDZ_ENV=dev|test (see CommonSettings.signing_secret).
DEV_SIGNING_KEY = "pdz-dev-only-signing-key-not-for-production-use"


class ServiceSettings(BaseSettings):
    """Per-service variables. Subclasses set ``env_prefix`` to ``PDZ_<SVC>_``."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(
        "postgresql+asyncpg://postgres@127.0.0.1:5432/pdz",
        description="SQLAlchemy URL of the service database (asyncpg driver)",
    )
    db_pool_size: int = 10
    port: int = 8000


@lru_cache
def common_settings() -> CommonSettings:
    return CommonSettings()
