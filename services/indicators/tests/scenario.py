"""Builders of contract payloads (plans and casework models) and a direct event delivery."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel

from pdz_indicators.facts.events import HANDLERS as FACT_HANDLERS
from pdz_indicators.facts.events import POPULATION_HANDLERS, on_case_events
from pdz_indicators.targets.events import HANDLERS as PLAN_HANDLERS
from pdz_indicators.territories.events import HANDLERS as TERRITORY_HANDLERS
from pdz_shared.contracts import casework as cw
from pdz_shared.contracts import plans
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.inbox import handle_once
from pdz_shared.testing.plugin import Harness

ALL_HANDLERS = {**FACT_HANDLERS, **POPULATION_HANDLERS, **PLAN_HANDLERS, **TERRITORY_HANDLERS}
A5 = "AMBITO-05-SEBINO"
A6 = "AMBITO-06-MONTE-ORFANO"
ISEO, MARONE, SULZANO = "017085", "017088", "017181"
PALAZZOLO = "017133"
DIST, ASST, ATS = "DIST-SEBINO-MONTORFANO", "ASST-FRANCIACORTA", "ATS-BRESCIA"
PLAN_ID = uuid.UUID("00000000-0000-0000-0000-0000000000a5")
OBJ_ID = uuid.UUID("00000000-0000-0000-0000-0000000000b1")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def event(ce_type: str, payload: BaseModel, source: str = cw.SOURCE) -> CloudEvent:
    return CloudEvent.new(source=source, type=ce_type, data=payload.model_dump(mode="json"))


async def deliver(h: Harness, *events: CloudEvent, consumer: str = "indicators.test") -> int:
    """Delivers events through the real handlers and the inbox, one transaction each."""
    done = 0
    for e in events:
        async with h.factory() as s:
            done += await handle_once(s, consumer, "test", e, ALL_HANDLERS[e.type])
            await s.commit()
    return done


async def deliver_groups(h: Harness, events: list[CloudEvent], size: int) -> None:
    """Delivers case events in groups, one transaction each, through the group handler."""
    for start in range(0, len(events), size):
        async with h.factory() as s:
            await on_case_events(s, events[start : start + size])
            await s.commit()


def territory(code: str, kind: str, parents: list[str], ambito: str | None) -> CloudEvent:
    return event(
        plans.TERRITORY_CREATED,
        plans.TerritoryChanged(
            code=code,
            name=code,
            kind=kind,  # type: ignore[arg-type]
            parent_codes=parents,
            ambito_code=ambito,
            version=1,
            changed_at=NOW,
        ),
        plans.SOURCE,
    )


def territories() -> list[CloudEvent]:
    return [
        territory(ATS, "ats", [], None),
        territory(ASST, "asst", [ATS], None),
        territory(DIST, "distretto", [ASST], None),
        territory(A5, "ambito", [DIST], A5),
        territory(A6, "ambito", [DIST], A6),
        territory(ISEO, "comune", [A5], A5),
        territory(MARONE, "comune", [A5], A5),
        territory(SULZANO, "comune", [A5], A5),
        territory(PALAZZOLO, "comune", [A6], A6),
    ]


def plan(version: int = 1) -> CloudEvent:
    return event(
        plans.PLAN_PUBLISHED,
        plans.PlanChanged(
            plan_id=PLAN_ID,
            code="PDZ-A5-2025-2027",
            title="Piano di Zona Sebino 2025-2027",
            ambito_code=A5,
            cycle_start_year=2025,
            cycle_end_year=2027,
            status="in_force",
            comune_codes=[ISEO, MARONE, SULZANO],
            version=version,
            changed_at=NOW,
        ),
        plans.SOURCE,
    )


def objective() -> CloudEvent:
    return event(
        plans.OBJECTIVE_CREATED,
        plans.ObjectiveChanged(
            objective_id=OBJ_ID,
            plan_id=PLAN_ID,
            ambito_code=A5,
            code="LEPS-PUA",
            title="PUA integrati e UVM",
            scope="ambito",
            status="active",
            version=1,
            changed_at=NOW,
        ),
        plans.SOURCE,
    )


def indicator(
    code: str,
    formula: str | None,
    target: Any = None,
    *,
    indicator_id: uuid.UUID | None = None,
    version: int = 1,
    unit: str = "%",
    objective_id: uuid.UUID | None = OBJ_ID,
) -> CloudEvent:
    return event(
        plans.INDICATOR_DEFINITION_CREATED if version == 1 else plans.INDICATOR_DEFINITION_UPDATED,
        plans.IndicatorDefinitionChanged(
            indicator_id=indicator_id or uuid.uuid5(PLAN_ID, code),
            code=code,
            name=f"Indicatore {code}",
            kind="process",
            unit=unit,
            formula=formula,
            target=target,
            objective_id=objective_id,
            plan_id=PLAN_ID,
            ambito_code=A5,
            version=version,
            changed_at=NOW,
        ),
        plans.SOURCE,
    )


def series(v25: float, v26: float, v27: float) -> plans.YearlySeriesTarget:
    return plans.YearlySeriesTarget(
        steps=[
            plans.YearStep(year=2025, comparator=">=", value=v25),
            plans.YearStep(year=2026, comparator=">=", value=v26),
            plans.YearStep(year=2027, comparator=">=", value=v27),
        ]
    )


def _facts(case_id: uuid.UUID, comune: str, ambito: str, at: datetime) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "ambito_code": ambito,
        "comune_code": comune,
        "age_band": "75-84",
        "sex": "F",
        "source": "sportello",
        "occurred_at": at,
    }


def evm(
    comune: str,
    day: date,
    with_social_worker: bool,
    ambito: str = A5,
    case_id: uuid.UUID | None = None,
) -> CloudEvent:
    at = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    return event(
        cw.EVM_COMPLETED,
        cw.EvmCompleted(
            **_facts(case_id or uuid.uuid4(), comune, ambito, at),
            evm_id=uuid.uuid4(),
            evaluated_at=at,
            kind="multidimensional",
            team=cw.TeamComposition(
                has_ambito_social_worker=with_social_worker, has_asst_staff=True, size=3
            ),
            outcome="PAI",
        ),
    )


def pai(comune: str, day: date, ambito: str = A5, case_id: uuid.UUID | None = None) -> CloudEvent:
    at = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    return event(
        cw.PAI_APPROVED,
        cw.PaiApproved(
            **_facts(case_id or uuid.uuid4(), comune, ambito, at),
            pai_id=uuid.uuid4(),
            version=1,
            approved_at=at,
        ),
    )


def discharge(
    case_id: uuid.UUID, comune: str, received: datetime, channel: str = "api", ambito: str = A5
) -> CloudEvent:
    return event(
        cw.DISCHARGE_RECEIVED,
        cw.DischargeReceived(
            **_facts(case_id, comune, ambito, received),
            discharge_id=uuid.uuid5(case_id, "d"),
            channel=channel,  # type: ignore[arg-type]
            sending_organization="ASST Franciacorta",
            planned_discharge_date=received.date(),
            received_at=received,
        ),
    )


def transition(
    case_id: uuid.UUID,
    comune: str,
    arrived: date,
    destination: str = "domicilio",
    ambito: str = A5,
) -> CloudEvent:
    at = datetime(arrived.year, arrived.month, arrived.day, 18, tzinfo=UTC)
    return event(
        cw.TRANSITION_COMPLETED,
        cw.TransitionCompleted(
            **_facts(case_id, comune, ambito, at),
            discharge_id=uuid.uuid5(case_id, "d"),
            origin_setting="ospedale",
            destination=destination,  # type: ignore[arg-type]
            discharged_on=arrived,
            arrived_on=arrived,
            outcome="rientro",
        ),
    )


def population(code: str, year: int, total: int, kind: str = "comune") -> CloudEvent:
    return event(
        plans.TERRITORY_POPULATION_UPDATED,
        plans.TerritoryPopulationUpdated(
            code=code,
            kind=kind,  # type: ignore[arg-type]
            ambito_code=A5,
            year=year,
            reference_date=date(year, 1, 1),
            total=total,
            male=total // 2,
            female=total - total // 2,
            version=1,
            changed_at=NOW,
        ),
        plans.SOURCE,
    )
