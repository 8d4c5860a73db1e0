"""The worker tasks of the casework service: consumers, the discharge processor, the SLA
scheduler."""

from __future__ import annotations

from pdz_casework.discharges.events import HANDLERS as DISCHARGE_HANDLERS
from pdz_casework.discharges.processing import DischargeProcessor
from pdz_casework.settings import settings
from pdz_casework.sla.scheduler import SlaScheduler
from pdz_shared.contracts import casework
from pdz_shared.db import SessionFactory
from pdz_shared.events.inbox import EventConsumer
from pdz_shared.events.kafka import KafkaConfig
from pdz_shared.worker import WorkerTask


def consumers(factory: SessionFactory, kafka: KafkaConfig) -> list[WorkerTask]:
    return [
        EventConsumer(
            service="casework",
            name="asst-dimissioni",
            topics=[casework.ASST_DIMISSIONI_TOPIC],
            handlers=DISCHARGE_HANDLERS,
            factory=factory,
            kafka=kafka,
        ),
        DischargeProcessor(factory, settings().database_url),
        SlaScheduler(factory, interval=settings().sla_interval_seconds),
    ]
