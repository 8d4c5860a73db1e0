"""Indicators API: values as JSON, CSV, XLSX, FHIR MeasureReport, chart; suppression; policy."""

from __future__ import annotations

import csv
import io
from datetime import date

import scenario as sc
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.measurereport import MeasureReport
from openpyxl import load_workbook  # type: ignore[import-untyped]
from test_values import EVM_SHARE, evm_events

from pdz_shared.testing.plugin import Harness

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def seeded(h: Harness) -> None:
    await sc.deliver(h, *sc.territories(), sc.plan(), sc.objective())
    await sc.deliver(h, sc.indicator("EVM-AS", EVM_SHARE, sc.series(50, 75, 100)))
    await sc.deliver(h, *evm_events())


async def test_list_and_read_indicators(harness: Harness) -> None:
    await seeded(harness)
    await sc.deliver(harness, sc.indicator("BROKEN", "count(evm.nope)"))
    async with harness.client(harness.token(roles=["udp_viewer"], ambiti=[sc.A5])) as c:
        page = (await c.get("/v1/indicators", params={"plan_id": str(sc.PLAN_ID)})).json()
        assert [i["code"] for i in page["items"]] == ["BROKEN", "EVM-AS"]
        broken = page["items"][0]
        assert broken["formula_error"].startswith("Tipo di fatto sconosciuto «evm.nope»")
        assert broken["formula_error"].endswith("(riga 1, colonna 7)")
        one = await c.get("/v1/indicators/EVM-AS")
        assert one.status_code == 200 and one.headers["etag"] == 'W/"1.skip_if_all_missing"'
        assert one.json()["description"].startswith("(numero di valutazioni")
        assert (await c.get("/v1/indicators", params={"q": "evm-"})).json()["total"] == 1
        missing = await c.get("/v1/indicators/NOPE", headers={"Accept-Language": "en"})
        assert missing.status_code == 404 and missing.json()["detail"] == "Indicator NOPE not found"
        values = (await c.get("/v1/indicators/BROKEN/values")).json()["items"]
        assert {v["reason"] for v in values} == {"invalid_formula"}


async def test_values_json_and_small_cell_suppression(harness: Harness) -> None:
    await seeded(harness)
    own = harness.token(roles=["udp_viewer"], ambiti=[sc.A5])
    other = harness.token(roles=["udp_viewer"], ambiti=[sc.A6])
    async with harness.client(own) as c:
        r = await c.get("/v1/indicators/EVM-AS/values")
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert [(v["period"], v["value"], v["reason"]) for v in items] == [
            ("2025", "40.000000", None),
            ("2026", None, "no_data"),
            ("2027", None, "no_data"),
        ]
        assert items[0]["watermark"].startswith("2025-11-11T10:00:00")
        months = await c.get(
            "/v1/indicators/EVM-AS/values",
            params={"territory": sc.ISEO, "from": "2025-02", "to": "2025-04"},
        )
        assert [(v["period"], v["value"], v["reason"]) for v in months.json()["items"]] == [
            ("2025-02", None, "no_data"),
            ("2025-03", "50.000000", None),
            ("2025-04", None, "no_data"),
        ]
        mixed = await c.get(
            "/v1/indicators/EVM-AS/values", params={"from": "2025", "to": "2025-Q2"}
        )
        assert mixed.status_code == 422
    # 2 of 5 people: a small cell for anyone outside Ambito 5; 3 of 6 at the distretto too
    # (its ambiti are 5 and 6, and the caller holds only 6).
    async with harness.client(other) as c:
        items = (await c.get("/v1/indicators/EVM-AS/values", params={"period": "2025"})).json()[
            "items"
        ]
        assert (items[0]["value"], items[0]["reason"]) == (None, "suppressed")
        dist = (
            await c.get(
                "/v1/indicators/EVM-AS/values", params={"period": "2025", "territory": sc.DIST}
            )
        ).json()["items"]
        assert (dist[0]["value"], dist[0]["reason"]) == (None, "suppressed")
    both = harness.token(roles=["udp_viewer"], ambiti=[sc.A5, sc.A6])
    async with harness.client(both) as c:
        dist = (
            await c.get(
                "/v1/indicators/EVM-AS/values", params={"period": "2025", "territory": sc.DIST}
            )
        ).json()["items"]
        assert dist[0]["value"] == "50.000000"


async def test_csv_xlsx_are_formula_injection_safe(harness: Harness) -> None:
    await seeded(harness)
    await sc.deliver(harness, sc.indicator("=HYPERLINK(1)", EVM_SHARE))
    async with harness.client(harness.token(roles=["udp_viewer"], ambiti=[sc.A5])) as c:
        r = await c.get("/v1/indicators/EVM-AS/values", headers={"Accept": "text/csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
        assert rows[0][:6] == [
            "indicatore",
            "territorio",
            "periodo",
            "tipo_periodo",
            "valore",
            "motivo_mancanza",
        ]
        assert rows[1][:6] == ["EVM-AS", sc.A5, "2025", "year", "40.000000", ""]
        assert rows[2][5] == "no_data"
        evil = await c.get("/v1/indicators/=HYPERLINK(1)/values", headers={"Accept": "text/csv"})
        assert evil.status_code == 422  # not even a valid code
        x = await c.get("/v1/indicators/EVM-AS/values", headers={"Accept": XLSX})
        assert x.status_code == 200
        ws = load_workbook(io.BytesIO(x.content)).active
        assert [c.value for c in ws[3]][:6] == ["EVM-AS", sc.A5, "2025", "year", 40.0, None]
        bad = await c.get("/v1/indicators/EVM-AS/values", headers={"Accept": "image/gif"})
        assert bad.status_code == 406


def test_safe_cell() -> None:
    from pdz_indicators.exports.formats import safe_cell

    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-2") == "'-2"
    assert safe_cell("Iseo") == "Iseo"
    assert safe_cell(5) == 5


async def test_fhir_measure_report(harness: Harness) -> None:
    await seeded(harness)
    async with harness.client(harness.token(roles=["udp_viewer"], ambiti=[sc.A5])) as c:
        one = await c.get(
            "/v1/indicators/EVM-AS/values",
            params={"period": "2025"},
            headers={"Accept": "application/fhir+json"},
        )
        assert one.status_code == 200 and one.headers["content-type"] == "application/fhir+json"
        report = MeasureReport.model_validate_json(one.content)
        assert report.status == "complete" and report.type == "summary"
        assert str(report.period.start) == "2025-01-01" and str(report.period.end) == "2025-12-31"
        assert float(report.group[0].measureScore.value) == 40.0
        assert report.group[0].measureScore.unit == "%"
        assert report.subject.reference == f"Location/{sc.A5}"
        many = await c.get(
            "/v1/indicators/EVM-AS/values", headers={"Accept": "application/fhir+json"}
        )
        bundle = Bundle.model_validate_json(many.content)
        assert bundle.total == 3
        absent = bundle.entry[1].resource.group[0].measureScore
        assert absent.value is None and absent.extension[0].valueCode == "unknown"
    async with harness.client(harness.token(roles=["udp_viewer"], ambiti=[sc.A6])) as c:
        masked = await c.get(
            "/v1/indicators/EVM-AS/values",
            params={"period": "2025"},
            headers={"Accept": "application/fhir+json"},
        )
        score = MeasureReport.model_validate_json(masked.content).group[0].measureScore
        assert score.value is None and score.extension[0].valueCode == "masked"


async def test_chart_png(harness: Harness) -> None:
    await seeded(harness)
    async with harness.client(harness.token(roles=["udp_viewer"], ambiti=[sc.A5])) as c:
        r = await c.get("/v1/indicators/EVM-AS/chart.png")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.content.startswith(b"\x89PNG\r\n\x1a\n") and len(r.content) > 5000
        q = await c.get(
            "/v1/indicators/EVM-AS/chart.png",
            params={"territory": sc.ISEO, "from": "2025-01", "to": "2025-12"},
        )
        assert q.status_code == 200 and q.content.startswith(b"\x89PNG")


async def test_missing_value_policy_and_recompute(harness: Harness) -> None:
    await sc.deliver(harness, *sc.territories(), sc.plan(), sc.objective())
    admin = harness.token(roles=["udp_admin"], ambiti=[sc.A5])
    async with harness.client(admin) as c:
        r = await c.post(
            "/v1/reported-values",
            json={"metric": "posti_a", "territory_code": sc.A5, "period": "2025", "value": 5},
        )
        assert r.status_code == 201
    await sc.deliver(harness, sc.indicator("A-PIU-B", 'reported("posti_a") + reported("posti_b")'))

    async def value(c: object, period: str = "2025") -> tuple[object, object]:
        resp = await c.get("/v1/indicators/A-PIU-B/values", params={"period": period})  # type: ignore[attr-defined]
        item = resp.json()["items"][0]
        return item["value"], item["reason"]

    async with harness.client(admin) as c:
        assert await value(c) == ("5.000000", None)  # skip only if all missing
        assert await value(c, "2026") == (None, "no_data")
        no_match = await c.put(
            "/v1/indicators/A-PIU-B/missing-value-policy",
            json={"missing_value_policy": "skip_if_any_missing"},
        )
        assert no_match.status_code == 428
        r = await c.put(
            "/v1/indicators/A-PIU-B/missing-value-policy",
            json={"missing_value_policy": "skip_if_any_missing"},
            headers={"If-Match": 'W/"1.skip_if_all_missing"'},
        )
        assert r.status_code == 200, r.text
        assert r.headers["etag"] == 'W/"1.skip_if_any_missing"'
        assert await value(c) == (None, "no_data")
        r = await c.put(
            "/v1/indicators/A-PIU-B/missing-value-policy",
            json={"missing_value_policy": "zero"},
            headers={"If-Match": r.headers["etag"]},
        )
        assert await value(c) == ("5.000000", None)
        assert await value(c, "2026") == ("0.000000", None)
        recomputed = await c.post("/v1/indicators/A-PIU-B/recompute")
        assert recomputed.status_code == 200
        # 3 years x (12 months + 4 quarters + 1 year) + the cycle, for the ambito, its 3
        # comuni and its 3 parents (distretto, ASST, ATS).
        assert recomputed.json()["values_computed"] == (3 * 17 + 1) * 7
    viewer = harness.token(roles=["udp_viewer"], ambiti=[sc.A5])
    async with harness.client(viewer) as c:
        assert (await c.post("/v1/indicators/A-PIU-B/recompute")).status_code == 403
    stranger = harness.token(roles=["udp_admin"], ambiti=[sc.A6])
    async with harness.client(stranger) as c:
        assert (await c.post("/v1/indicators/A-PIU-B/recompute")).status_code == 404


async def test_evm_month_values_after_new_event(harness: Harness) -> None:
    await seeded(harness)
    await sc.deliver(harness, sc.evm(sc.ISEO, date(2025, 2, 14), True))
    async with harness.client(harness.token(roles=["udp_viewer"], ambiti=[sc.A5])) as c:
        r = await c.get(
            "/v1/indicators/EVM-AS/values", params={"territory": sc.ISEO, "period": "2025-02"}
        )
        assert r.json()["items"][0]["value"] == "100.000000"


async def test_unknown_territory_is_404(harness: Harness) -> None:
    await seeded(harness)
    async with harness.client(harness.token(roles=["udp_viewer"], ambiti=[sc.A5])) as c:
        r = await c.get("/v1/indicators/EVM-AS/values", params={"territory": "NOWHERE"})
        assert r.status_code == 404
        assert (
            await c.get("/v1/indicators/EVM-AS/chart.png", params={"territory": "X"})
        ).status_code == 404
