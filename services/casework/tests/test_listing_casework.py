"""Sort and sparse fieldsets on the casework lists, ordered by PostgreSQL."""

from __future__ import annotations

from casework_helpers import ISEO, MARONE, SEBINO

from pdz_shared.testing.plugin import Harness

LOVERE = "016128"


async def test_external_systems_sort_fields_and_400(harness: Harness) -> None:
    admin = harness.token(roles=["udp_admin", "pua_operator"], ambiti=[SEBINO])
    async with harness.client(admin) as c:
        for comune, name in ((ISEO, "Iseo"), (LOVERE, "Lovere"), (MARONE, "Marone")):
            r = await c.put(
                f"/v1/external-systems/sicare/comuni/{comune}",
                json={"ambito_code": SEBINO, "name": f"Cartella Sociale {name}"},
            )
            assert r.status_code == 201, r.text
        url = "/v1/external-systems"
        asc = (await c.get(url, params={"sort": "name"})).json()
        desc = (await c.get(url, params={"sort": "-comune_code", "limit": 2})).json()
        trimmed = (await c.get(url, params={"fields": "name", "sort": "name"})).json()
        bad_sort = await c.get(url, params={"sort": "-nome"}, headers={"Accept-Language": "en"})
        bad_fields = await c.get(url, params={"fields": "name,token"})
    assert [i["comune_code"] for i in asc["items"]] == [ISEO, LOVERE, MARONE]
    assert [i["comune_code"] for i in desc["items"]] == [MARONE, ISEO]
    assert desc["total"] == 3 and desc["limit"] == 2
    assert trimmed["items"][0] == {
        "comune_code": ISEO,
        "system": "sicare",
        "name": "Cartella Sociale Iseo",
    }
    assert bad_sort.status_code == 400 and bad_sort.json()["code"] == "invalid-sort"
    assert bad_sort.json()["detail"].startswith("Invalid sort: '-nome'. Allowed fields:")
    assert bad_fields.status_code == 400 and bad_fields.json()["code"] == "invalid-fields"
