"""The casework service: PUA intake, triage, EVM/UVM, PAI, dimissioni protette, Cartella Sociale."""

from fastapi import FastAPI

from pdz_casework import models  # noqa: F401  (tables)
from pdz_casework.assessments.api import router as assessments_router
from pdz_casework.cases.api import router as cases_router
from pdz_casework.consent.api import router as consent_router
from pdz_casework.discharges.api import router as discharges_router
from pdz_casework.discharges.service import NOTIFY_CHANNEL, receipt_writer
from pdz_casework.links.api import router as links_router
from pdz_casework.pai.api import router as pai_router
from pdz_casework.settings import settings
from pdz_casework.sla.api import router as sla_router
from pdz_shared.app import ServiceSpec, create_app


async def _start_intake(app: FastAPI) -> None:
    """The discharge intake's writer (one statement per batch of concurrent receipts)."""
    wake = app.state.notifier.notify
    app.state.receipts = receipt_writer(app.state.pg_pool, lambda: wake(NOTIFY_CHANNEL))


async def _stop_intake(app: FastAPI) -> None:
    await app.state.receipts.drain()


app = create_app(
    ServiceSpec(
        name="casework",
        title="Piano di Zona - Accesso integrato",
        summary="PUA, triage, valutazione multidimensionale, PAI e dimissioni protette",
        description="API del servizio casework: l'accesso integrato dell'Ambito con l'ASST.",
        settings=settings(),
        bare_pool=True,  # the discharge intake
        on_startup=[_start_intake],
        on_shutdown=[_stop_intake],
        # Routes are matched in this order: the discharge intake, the hot path, first.
        routers=[
            discharges_router,
            cases_router,
            assessments_router,
            pai_router,
            sla_router,
            links_router,
            consent_router,
        ],
    )
)
