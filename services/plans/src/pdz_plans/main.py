"""The plans service: territory, Piani di Zona, objectives, indicators' definitions, budgets."""

from pdz_plans import models  # noqa: F401  (tables)
from pdz_plans.classifications.api import router as classifications
from pdz_plans.imports.api import router as imports
from pdz_plans.indicators_def.api import router as indicators
from pdz_plans.objectives.api import router as objectives
from pdz_plans.plans.api import router as plans
from pdz_plans.settings import settings
from pdz_plans.territories.api import router as territories
from pdz_shared.app import ServiceSpec, create_app

app = create_app(
    ServiceSpec(
        name="plans",
        title="Piano di Zona - Piani",
        summary="Territorio, Piani di Zona, schede obiettivo, indicatori e budget degli Ambiti",
        description="API del servizio plans: il territorio (Regione, ATS, ASST, distretti, ambiti, "
        "comuni) e ciò che l'Ufficio di Piano scrive nel suo Piano di Zona.",
        settings=settings(),
        routers=[territories, plans, objectives, indicators, classifications, imports],
    )
)
