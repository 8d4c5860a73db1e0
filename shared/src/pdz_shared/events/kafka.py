"""Kafka clients configured from settings; topic creation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from pdz_shared.settings import CommonSettings


@dataclass(frozen=True)
class KafkaConfig:
    bootstrap_servers: str
    client_id: str = "pdz"
    idempotence: bool = False
    session_timeout_ms: int = 10_000
    fetch_max_wait_ms: int = 500
    # security_protocol, ssl_context, sasl_* keyword arguments of every aiokafka client
    security: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def from_settings(cls, settings: CommonSettings, client_id: str) -> KafkaConfig:
        return cls(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{settings.kafka_client_prefix}-{client_id}",
            idempotence=settings.kafka_idempotence,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
            security=security_kwargs(settings),
        )


def security_kwargs(settings: CommonSettings) -> dict[str, Any]:
    """TLS and SASL options from PDZ_KAFKA_SECURITY_PROTOCOL and friends (none by default)."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    kwargs: dict[str, Any] = {"security_protocol": protocol}
    if protocol.endswith("SSL"):
        kwargs["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile)
    if protocol.startswith("SASL"):
        password = settings.kafka_sasl_password
        kwargs |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism or "SCRAM-SHA-512",
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": password.get_secret_value() if password else None,
        }
    return kwargs


def make_producer(cfg: KafkaConfig) -> AIOKafkaProducer:
    # Idempotence needs InitProducerId, which the embedded tansu broker lacks: it is a setting,
    # and correctness never depends on it (the inbox deduplicates).
    return AIOKafkaProducer(
        bootstrap_servers=cfg.bootstrap_servers,
        client_id=cfg.client_id,
        acks="all",
        enable_idempotence=cfg.idempotence,
        linger_ms=2,
        request_timeout_ms=15000,
        **cfg.security,
    )


def make_consumer(cfg: KafkaConfig, *topics: str, group_id: str | None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=cfg.bootstrap_servers,
        client_id=cfg.client_id,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_uncommitted",
        session_timeout_ms=cfg.session_timeout_ms,
        heartbeat_interval_ms=max(cfg.session_timeout_ms // 10, 100),
        max_poll_records=500,
        fetch_max_wait_ms=cfg.fetch_max_wait_ms,
        **cfg.security,
    )


async def ensure_topics(
    cfg: KafkaConfig, topics: Iterable[str], *, partitions: int = 3, attempts: int = 20
) -> None:
    """Create the topics (and their ``.dlq``) that do not exist yet."""
    wanted = sorted({t for topic in topics for t in (topic, f"{topic}.dlq")})
    last: Exception | None = None
    for attempt in range(attempts):
        admin = AIOKafkaAdminClient(
            bootstrap_servers=cfg.bootstrap_servers,
            client_id=f"{cfg.client_id}-admin",
            **cfg.security,
        )
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(
                        [
                            NewTopic(t, num_partitions=partitions, replication_factor=1)
                            for t in missing
                        ]
                    )
            return
        except (KafkaError, OSError) as exc:
            last = exc
            await asyncio.sleep(min(0.2 * (attempt + 1), 2.0))
        finally:
            await admin.close()
    raise RuntimeError(f"cannot create topics on {cfg.bootstrap_servers}: {last}")
