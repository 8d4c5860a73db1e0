"""Helpers of the notifications tests: events, recipients, running the consumer and dispatcher."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import text

from pdz_notifications.consumers import handled
from pdz_notifications.deliveries.dispatcher import Dispatcher
from pdz_shared.contracts import casework, indicators, plans
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.inbox import EventConsumer, Outcome
from pdz_shared.events.kafka import KafkaConfig, ensure_topics
from pdz_shared.testing.plugin import Harness, eventually

SEBINO = "AMBITO-05-SEBINO"
OTHER = "AMBITO-99-ALTROVE"


def case_facts(**kw: Any) -> dict[str, Any]:
    return {
        "case_id": str(uuid.uuid4()),
        "ambito_code": SEBINO,
        "comune_code": "017085",
        "age_band": "75-84",
        "sex": "F",
        "pua_level": "back_office_1",
        "source": "asst_dimissione",
        "case_manager_sub": None,
        "occurred_at": datetime.now(UTC).isoformat(),
        **kw,
    }


def discharge_event(**kw: Any) -> CloudEvent:
    data = {
        **case_facts(**kw),
        "discharge_id": str(uuid.uuid4()),
        "channel": "kafka",
        "sending_organization": "ASST Franciacorta - Presidio di Iseo",
        "admission_date": date(2026, 11, 10).isoformat(),
        "planned_discharge_date": date(2026, 11, 28).isoformat(),
        "received_at": datetime.now(UTC).isoformat(),
    }
    casework.DischargeReceived.model_validate(data)  # the test speaks the real contract
    return CloudEvent.new(
        source=casework.SOURCE,
        type=casework.DISCHARGE_RECEIVED,
        data=data,
        subject=data["case_id"],
    )


def sla_event(event_type: str, **kw: Any) -> CloudEvent:
    data = {
        **case_facts(**kw),
        "sla_id": str(uuid.uuid4()),
        "kind": "discharge",
        "due_at": datetime(2026, 11, 27, 12, 0, tzinfo=UTC).isoformat(),
    }
    casework.SlaEvent.model_validate(data)
    return CloudEvent.new(
        source=casework.SOURCE, type=event_type, data=data, subject=data["case_id"]
    )


async def put_recipient(h: Harness, sub: str, **body: Any) -> None:
    admin = h.token(roles=["platform_admin"], sub="idm-sync")
    payload = {"language": "it", "active": True, **body}
    async with h.client(admin) as c:
        r = await c.put(f"/v1/recipients/{sub}", json=payload)
    assert r.status_code == 201, r.text


async def fresh_topic(kafka: KafkaConfig) -> str:
    topic = f"test.notifications.{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka, [topic])
    return topic


class Run:
    """The notifications consumer (with its real handlers) running on a test topic."""

    def __init__(self, h: Harness, kafka: KafkaConfig, topic: str, name: str) -> None:
        self.outcomes: list[str] = []
        self.consumer = EventConsumer(
            service="notifications",
            name=name,
            topics=[topic],
            handlers=handled()[1],
            factory=h.factory,
            kafka=kafka,
            max_attempts=2,
            base_backoff=0.01,
            after_commit=self._after,
        )
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.consumer.run(self.stop))

    async def _after(self, record: ConsumerRecord[Any, Any], outcome: Outcome) -> None:
        self.outcomes.append(outcome.status)

    async def wait_for(self, n: int) -> None:
        async def ready() -> bool:
            return self.task.done() or len(self.outcomes) >= n

        await eventually(ready)

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(self.task, return_exceptions=True)


async def drain(dispatcher: Dispatcher, rounds: int = 50) -> None:
    """Runs the dispatcher until nothing is due (waiting out short retry delays)."""
    idle = 0
    for _ in range(rounds):
        if await dispatcher.run_once():
            idle = 0
            continue
        idle += 1
        if idle > 5:
            return
        await asyncio.sleep(0.05)


async def rows(h: Harness, sql: str, **params: Any) -> list[Any]:
    async with h.factory() as s:
        return list((await s.execute(text(sql), params)).all())


def target_event(**kw: Any) -> CloudEvent:
    data = {
        "indicator_id": str(uuid.uuid4()),
        "indicator_code": kw.pop("indicator_code", "LEPS-PUA-01"),
        "indicator_name": "Accessi al PUA con presa in carico entro 30 giorni",
        "plan_id": None,
        "objective_id": None,
        "ambito_code": SEBINO,
        "territory_code": SEBINO,
        "period": "2026",
        "status": "at_risk",
        "previous_status": "on_track",
        "value": 41.5,
        "target_value": 60.0,
        "progress": 0.4,
        "unit": "%",
        "reason": None,
        "judged_at": datetime.now(UTC).isoformat(),
        **kw,
    }
    indicators.TargetStatusChanged.model_validate(data)
    return CloudEvent.new(source=indicators.SOURCE, type=indicators.TARGET_AT_RISK, data=data)


def plan_published_event(**kw: Any) -> CloudEvent:
    data = {
        "plan_id": str(uuid.uuid4()),
        "code": "PDZ-AMBITO-05-SEBINO-2025-2027",
        "title": "Piano di Zona 2025-2027 dell'Ambito Sebino",
        "ambito_code": SEBINO,
        "cycle_start_year": 2025,
        "cycle_end_year": 2027,
        "valid_from": "2025-01-01",
        "valid_to": "2027-12-31",
        "status": "approved",
        "comune_codes": ["017085"],
        "capofila_code": "017085",
        "approved_on": "2024-12-18",
        "version": 1,
        "changed_at": datetime.now(UTC).isoformat(),
        **kw,
    }
    plans.PlanChanged.model_validate(data)
    return CloudEvent.new(source=plans.SOURCE, type=plans.PLAN_PUBLISHED, data=data)


async def handle(h: Harness, event: CloudEvent, consumer: str = "notifications.events") -> bool:
    """Runs the real handler the way the consumer does (inbox row + deliveries, one commit)."""
    from pdz_shared.events.inbox import handle_once

    _, handlers = handled()
    async with h.factory() as session:
        done = await handle_once(session, consumer, "test", event, handlers[event.type])
        await session.commit()
    return done
