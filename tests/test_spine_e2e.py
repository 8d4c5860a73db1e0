"""Across processes: the services run as real processes; an event crosses Kafka.

A territory created through the plans API reaches the indicators service through the outbox,
the relay, the broker and the indicators consumer; then indicators accepts reported values for
it, scoped to its ambito. Only HTTP and Kafka are used.
"""

import asyncio

import httpx

from pdz_shared import devstack
from pdz_shared.auth import mint_token
from pdz_shared.settings import CommonSettings


async def test_territory_crosses_kafka_and_scopes_reported_values(
    stack: devstack.Stack, common: CommonSettings
) -> None:
    admin = mint_token(common, sub="admin", roles=["platform_admin"])
    sebino = mint_token(common, sub="anna", roles=["udp_admin"], ambiti=["AMBITO-05-SEBINO"])
    other = mint_token(common, sub="bruno", roles=["udp_admin"], ambiti=["AMBITO-06"])
    plans = httpx.AsyncClient(
        base_url="http://127.0.0.1:8001", headers={"Authorization": f"Bearer {admin}"}
    )
    indicators = "http://127.0.0.1:8002"
    async with plans:  # a comune created now must reach indicators through Kafka
        r = await plans.post(
            "/v1/territories",
            json={
                "code": "COMUNE-ISEO-E2E",
                "name": "Iseo (e2e)",
                "kind": "comune",
                "ambito_code": "AMBITO-05-SEBINO",
                "parent_codes": ["AMBITO-05-SEBINO"],
            },
        )
        assert r.status_code == 201, r.text

    async with httpx.AsyncClient(
        base_url=indicators, headers={"Authorization": f"Bearer {sebino}"}
    ) as ind:
        value = {
            "metric": "posti_sad",
            "territory_code": "COMUNE-ISEO-E2E",
            "period": "2025",
            "value": 12,
        }
        async with asyncio.timeout(30):
            while (r := await ind.post("/v1/reported-values", json=value)).status_code == 422:
                await asyncio.sleep(0.2)  # the territory has not arrived yet
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["ambito_code"] == "AMBITO-05-SEBINO"
        listed = (await ind.get("/v1/reported-values", params={"limit": 500})).json()
        assert created["id"] in [v["id"] for v in listed["items"]]  # other tests add theirs

    async with httpx.AsyncClient(
        base_url=indicators, headers={"Authorization": f"Bearer {other}"}
    ) as ind:
        assert (await ind.get(f"/v1/reported-values/{created['id']}")).status_code == 404
        assert (await ind.get("/v1/reported-values")).json()["total"] == 0
        r = await ind.post("/v1/reported-values", json={**value, "period": "2026"})
        assert r.status_code == 404

    async with httpx.AsyncClient() as client:
        for port in (8001, 8002):
            r = await client.get(f"http://127.0.0.1:{port}/status")
            assert r.status_code == 200 and r.json()["checks"]["broker"] is True


async def test_one_front_door_with_cors_for_the_front_ends(
    stack: devstack.Stack, common: CommonSettings, front_end: str
) -> None:
    token = mint_token(common, sub="anna", roles=["udp_viewer"], ambiti=["AMBITO-05-SEBINO"])
    async with httpx.AsyncClient(base_url="http://127.0.0.1:8000") as gw:
        preflight = await gw.options(
            "/plans/v1/territories",
            headers={
                "Origin": front_end,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization,accept-language",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == front_end
        assert preflight.headers["access-control-allow-credentials"] == "true"
        evil = await gw.options(
            "/plans/v1/territories",
            headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in evil.headers

        r = await gw.get(
            "/plans/v1/territories",
            params={"kind": "ambito"},
            headers={"Authorization": f"Bearer {token}", "Origin": front_end},
        )
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == front_end
        assert "ratelimit-remaining" in r.headers["access-control-expose-headers"].lower()
        assert int(r.headers["ratelimit-limit"]) > 0
        codes = {t["code"] for t in r.json()["items"]}
        assert "AMBITO-05-SEBINO" in codes
        r = await gw.get(
            "/indicators/v1/reported-values", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 200
        missing = await gw.get("/nowhere/v1/x")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        merged = (await gw.get("/openapi.json")).json()
        assert "/plans/v1/territories" in merged["paths"]
        assert "/indicators/v1/reported-values" in merged["paths"]
        assert set((await gw.get("/status")).json()["checks"].values()) == {True}
