"""Sort and sparse fieldsets on the notifications' lists, ordered by PostgreSQL."""

from __future__ import annotations

from pdz_shared.testing.plugin import Harness

from .helpers import SEBINO


async def test_recipients_sort_fields_and_400(harness: Harness) -> None:
    udp = harness.token(roles=["udp_admin"], ambiti=[SEBINO], sub="udp-sebino")
    async with harness.client(udp) as c:
        for sub, email in (
            ("op-b", "carla@lovere.it"),
            ("op-a", "marco@sarnico.it"),
            ("op-c", "anna@iseo.it"),
        ):
            body = {"email": email, "roles": ["pua_operator"], "ambiti": [SEBINO]}
            assert (await c.put(f"/v1/recipients/{sub}", json=body)).status_code == 201
        default = (await c.get("/v1/recipients")).json()
        by_email = (await c.get("/v1/recipients", params={"sort": "-email", "limit": 2})).json()
        trimmed = (await c.get("/v1/recipients", params={"fields": "email"})).json()
        bad_sort = await c.get("/v1/recipients", params={"sort": "email,secret"})
        bad_fields = await c.get("/v1/recipients", params={"fields": "password"})
    assert [i["sub"] for i in default["items"]] == ["op-a", "op-b", "op-c"]
    assert [i["email"] for i in by_email["items"]] == ["marco@sarnico.it", "carla@lovere.it"]
    assert by_email["total"] == 3
    assert trimmed["items"] == [
        {"sub": "op-a", "email": "marco@sarnico.it"},
        {"sub": "op-b", "email": "carla@lovere.it"},
        {"sub": "op-c", "email": "anna@iseo.it"},
    ]
    assert bad_sort.status_code == 400 and bad_sort.json()["code"] == "invalid-sort"
    assert "secret" in bad_sort.json()["detail"]
    assert bad_fields.status_code == 400 and bad_fields.json()["code"] == "invalid-fields"
