"""The indicators service: indicator values per period and territory, judged against targets."""

from pdz_indicators import models  # noqa: F401  (tables)
from pdz_indicators.expressions.api import router as expressions
from pdz_indicators.reported.api import router as reported
from pdz_indicators.scorecard.api import router as scorecard
from pdz_indicators.settings import settings
from pdz_indicators.values.api import router as indicators
from pdz_shared.app import ServiceSpec, create_app

app = create_app(
    ServiceSpec(
        name="indicators",
        title="Piano di Zona - Indicatori",
        summary="Valori degli indicatori per periodo e territorio, giudicati rispetto ai target",
        description="API del servizio indicators: valori riportati, indicatori calcolati e target.",
        settings=settings(),
        routers=[expressions, indicators, scorecard, reported],
    )
)
