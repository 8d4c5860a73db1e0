"""CSV/XLSX upload of reported values: every row stored or rejected with its reasons."""

from __future__ import annotations

import io

import scenario as sc
from openpyxl import Workbook  # type: ignore[import-untyped]

from pdz_shared.testing.plugin import Harness

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MESSY = (
    "\ufeffmetric;territory_code;period;value;note\r\n"
    f"posti_sad;{sc.ISEO};2025;12;\r\n"
    f"posti_sad;{sc.MARONE};2025;3,5;da delibera\r\n"
    f"posti_sad;{sc.SULZANO};2025;N.D.;\r\n"
    f"posti_sad;{sc.ISEO};2025;13;doppione\r\n"
    f"posti_sad;{sc.PALAZZOLO};2025;4;altro ambito\r\n"
    "posti_sad;999999;2025;4;\r\n"
    f"posti_sad;{sc.A5};2025-13;4;\r\n"
    f"utenti_sad;{sc.A5};2025;54.346;\r\n"
    ";;;;\r\n"
    f"POSTI SAD;{sc.A5};2025;1;\r\n"
)


async def test_csv_upload_reports_every_row(harness: Harness) -> None:
    await sc.deliver(harness, *sc.territories())
    token = harness.token(roles=["udp_admin"], ambiti=[sc.A5])
    async with harness.client(token) as c:
        dry = await c.post(
            "/v1/reported-values/upload",
            params={"dry_run": "true"},
            content=MESSY.encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert dry.status_code == 200, dry.text
        assert (dry.json()["created"], dry.json()["rejected"]) == (2, 7)
        assert (await c.get("/v1/reported-values")).json()["total"] == 0
        r = await c.post(
            "/v1/reported-values/upload",
            content=MESSY.encode(),
            headers={"Content-Type": "text/csv; charset=utf-8"},
        )
        report = r.json()
        assert report["rows_total"] == 9 and report["created"] == 2
        rows = {row["row"]: row for row in report["rows"]}
        assert rows[2]["status"] == "created" and rows[2]["errors"] == []
        assert rows[3]["status"] == "created"
        assert rows[3]["warnings"] == ["virgola decimale letta come 3.5"]
        assert rows[4]["errors"] == ["«N.D.» non è un numero"]
        assert rows[5]["errors"][0].startswith("Valore già riportato per posti_sad / 017085")
        assert rows[6]["errors"] == ["Risorsa non trovata"]  # another ambito: not disclosed
        assert rows[7]["errors"] == ["Territorio 999999 sconosciuto"]
        assert rows[8]["errors"][0].startswith("period:")
        assert "ambiguo" in rows[9]["errors"][0]
        assert 10 not in rows  # the blank line
        assert rows[11]["errors"][0].startswith("metric:")
        stored = (await c.get("/v1/reported-values", params={"metric": "posti_sad"})).json()
        assert sorted((v["territory_code"], v["value"]) for v in stored["items"]) == [
            (sc.ISEO, "12.0000"),
            (sc.MARONE, "3.5000"),
        ]
        en = await c.post(
            "/v1/reported-values/upload",
            content=b"metric,territory_code,period,value\nposti_x,017085,2025,abc\n",
            headers={"Content-Type": "text/csv", "Accept-Language": "en"},
        )
        assert en.json()["rows"][0]["errors"] == ["'abc' is not a number"]
        wrong = await c.post(
            "/v1/reported-values/upload", content=b"x", headers={"Content-Type": "text/plain"}
        )
        assert wrong.status_code == 415
        no_cols = await c.post(
            "/v1/reported-values/upload",
            content=b"metrica;valore\n",
            headers={"Content-Type": "text/csv"},
        )
        assert no_cols.status_code == 422
        assert [p["name"] for p in no_cols.json()["invalid_params"]] == [
            "metric",
            "territory_code",
            "period",
            "value",
        ]


async def test_xlsx_upload(harness: Harness) -> None:
    await sc.deliver(harness, *sc.territories())
    wb = Workbook()
    ws = wb.active
    ws.append(["metric", "territory_code", "period", "value", "note"])
    ws.append(["posti_sad", sc.A5, "2025", 28, None])
    ws.append(["posti_sad", sc.ISEO, "2025-Q1", 2.5, "trimestre"])
    ws.append(["posti_sad", sc.ISEO, "2025", "=A1", None])
    buf = io.BytesIO()
    wb.save(buf)
    token = harness.token(roles=["udp_admin"], ambiti=[sc.A5])
    async with harness.client(token) as c:
        r = await c.post(
            "/v1/reported-values/upload", content=buf.getvalue(), headers={"Content-Type": XLSX}
        )
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["created"], report["rejected"]) == (2, 1)
        assert report["rows"][2]["errors"] == ["«=A1» non è un numero"]
        bad = await c.post(
            "/v1/reported-values/upload", content=b"PK not a zip", headers={"Content-Type": XLSX}
        )
        assert bad.status_code == 422
    viewer = harness.token(roles=["udp_viewer"], ambiti=[sc.A5])
    async with harness.client(viewer) as c:
        r = await c.post(
            "/v1/reported-values/upload", content=b"x", headers={"Content-Type": "text/csv"}
        )
        assert r.status_code == 403


async def test_backwards_cycle_is_refused(harness: Harness) -> None:
    await sc.deliver(harness, *sc.territories())
    token = harness.token(roles=["udp_admin"], ambiti=[sc.A5])
    async with harness.client(token) as c:
        r = await c.post(
            "/v1/reported-values",
            json={
                "metric": "posti_sad",
                "territory_code": sc.A5,
                "period": "2027-2025",
                "value": 1,
            },
        )
        assert r.status_code == 422
        assert r.json()["invalid_params"][0]["name"] == "body.period"
