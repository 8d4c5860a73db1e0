"""Sort and sparse fieldsets on the indicators' lists, ordered by PostgreSQL."""

from __future__ import annotations

import scenario as sc

from pdz_shared.testing.plugin import Harness


async def test_reported_values_sort_fields_and_400(harness: Harness) -> None:
    await sc.deliver(harness, *sc.territories(), sc.plan(), sc.objective())
    admin = harness.token(roles=["udp_admin"], ambiti=[sc.A5])
    async with harness.client(admin) as c:
        for period, value in (("2024", 12), ("2025", 7), ("2023", 30)):
            body = {
                "metric": "posti_sad",
                "territory_code": sc.A5,
                "period": period,
                "value": value,
            }
            assert (await c.post("/v1/reported-values", json=body)).status_code == 201
        by_period = (await c.get("/v1/reported-values", params={"sort": "period"})).json()
        by_value = (
            await c.get("/v1/reported-values", params={"sort": "-value", "limit": 2})
        ).json()
        trimmed = (await c.get("/v1/reported-values", params={"fields": "period,value"})).json()
        bad_sort = await c.get("/v1/reported-values", params={"sort": "reported_by"})
        bad_fields = await c.get("/v1/reported-values", params={"fields": "valore"})
    assert [i["period"] for i in by_period["items"]] == ["2023", "2024", "2025"]
    assert [i["period"] for i in by_value["items"]] == ["2023", "2024"]
    assert by_value["total"] == 3
    assert {tuple(sorted(i)) for i in trimmed["items"]} == {("id", "period", "value")}
    assert bad_sort.status_code == 400 and bad_sort.json()["code"] == "invalid-sort"
    assert bad_sort.headers["content-type"] == "application/problem+json"
    assert bad_fields.status_code == 400 and bad_fields.json()["code"] == "invalid-fields"
