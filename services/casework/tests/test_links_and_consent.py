"""Cartella Sociale links (scoped to the system's comuni) and append-only consent records."""

from __future__ import annotations

import pytest
from casework_helpers import (
    ANNA,
    ISEO,
    MARIO,
    MARONE,
    SEBINO,
    assert_no_personal_data,
    open_case,
    outbox,
    worker,
)
from sqlalchemy import text

from pdz_shared.contracts import casework as contract
from pdz_shared.testing.plugin import Harness


def cartella(h: Harness, comuni: list[str], system: str | None = "sicare") -> str:
    extra: dict[str, object] = {"comuni": comuni}
    if system:
        extra["system"] = system
    return h.token(roles=["cartella_sociale_system"], ambiti=[SEBINO], sub="cs", extra=extra)


async def register(h: Harness, system: str = "sicare", comune: str = ISEO) -> None:
    admin = h.token(roles=["udp_admin"], ambiti=[SEBINO])
    async with h.client(admin) as c:
        r = await c.put(
            f"/v1/external-systems/{system}/comuni/{comune}",
            json={"ambito_code": SEBINO, "name": f"Cartella Sociale {comune}"},
        )
        assert r.status_code == 201, r.text


async def test_link_lookup_change_and_unlink(harness: Harness) -> None:
    await register(harness)
    case = await open_case(harness, ANNA)  # comune Iseo
    url = f"/v1/cases/{case['id']}/external-links/sicare"
    async with harness.client(cartella(harness, [ISEO])) as c:
        r = await c.put(url, json={"external_id": "CS-ISEO-2026-00042"})
        assert r.status_code == 201, r.text
        assert r.headers["location"] == url and r.headers["etag"] == 'W/"1"'
        found = await c.get(
            "/v1/external-links", params={"system": "sicare", "external_id": "CS-ISEO-2026-00042"}
        )
        assert [i["case_id"] for i in found.json()["items"]] == [case["id"]]
        assert (await c.put(url, json={"external_id": "CS-ISEO-2026-00043"})).status_code == 428
        r = await c.put(
            url,
            json={"external_id": "CS-ISEO-2026-00043", "url": "https://cs.iseo.example/42"},
            headers={"If-Match": r.headers["etag"]},
        )
        assert r.status_code == 200 and r.json()["version"] == 2
        assert (await c.delete(url, headers={"If-Match": 'W/"1"'})).status_code == 412
        assert (await c.delete(url)).status_code == 204
        assert (await c.get("/v1/external-links", params={"system": "sicare"})).json()["total"] == 0
        assert (await c.delete(url)).status_code == 404
    events = [(t, d) for t, d in await outbox(harness) if "external-link" in t]
    assert [(t, d["external_id"]) for t, d in events] == [
        (contract.EXTERNAL_LINK_CREATED, "CS-ISEO-2026-00042"),
        (contract.EXTERNAL_LINK_REMOVED, "CS-ISEO-2026-00042"),
        (contract.EXTERNAL_LINK_CREATED, "CS-ISEO-2026-00043"),
        (contract.EXTERNAL_LINK_REMOVED, "CS-ISEO-2026-00043"),
    ]
    assert all(d["system"] == "sicare" and d["case_id"] == case["id"] for _, d in events)
    assert_no_personal_data(events)


async def test_cartella_is_scoped_to_its_comuni_and_system(harness: Harness) -> None:
    await register(harness)
    iseo = await open_case(harness, ANNA)
    marone = await open_case(harness, MARIO, comune_code=MARONE, residence_comune=MARONE)
    body = {"external_id": "CS-1"}
    async with harness.client(cartella(harness, [ISEO])) as c:
        r = await c.put(f"/v1/cases/{marone['id']}/external-links/sicare", json=body)
        assert r.status_code == 404  # not one of its comuni
        r = await c.put(f"/v1/cases/{iseo['id']}/external-links/other-soft", json=body)
        assert r.status_code == 404  # not its system
        assert (await c.get(f"/v1/cases/{iseo['id']}")).status_code == 403  # no case reading
        assert (
            await c.put(f"/v1/cases/{iseo['id']}/external-links/sicare", json=body)
        ).status_code == 201
    async with harness.client(cartella(harness, [MARONE])) as c:
        assert (await c.get("/v1/external-links", params={"external_id": "CS-1"})).json()[
            "total"
        ] == 0
    async with harness.client(worker(harness)) as c:
        # not registered for Marone
        r = await c.put(
            f"/v1/cases/{marone['id']}/external-links/sicare", json={"external_id": "X-9"}
        )
        assert r.status_code == 422
        # the same external id cannot point to two cases
        await register(harness, comune=MARONE)
        r = await c.put(f"/v1/cases/{marone['id']}/external-links/sicare", json=body)
        assert r.status_code == 409 and r.json()["code"] == "external-id-taken"
    viewer = harness.token(roles=["udp_viewer"], ambiti=[SEBINO])
    async with harness.client(viewer) as c:
        assert (await c.get("/v1/external-links")).status_code == 403


async def test_consent_is_append_only(harness: Harness) -> None:
    case = await open_case(harness, ANNA)
    url = f"/v1/cases/{case['id']}/consents"
    grant = {
        "purpose": "presa_in_carico",
        "recipients": ["ASST Franciacorta", "Comune di Iseo"],
        "legal_basis": "consenso",
        "state": "granted",
    }
    async with harness.client(worker(harness)) as c:
        withdraw = {**grant, "state": "withdrawn"}
        assert (await c.post(url, json=withdraw)).status_code == 409
        assert (await c.post(url, json=grant)).status_code == 201
        assert (await c.post(url, json=withdraw)).status_code == 201
        assert (await c.post(url, json=withdraw)).status_code == 409
        other = {**grant, "purpose": "ricerca_statistica", "legal_basis": "interesse_pubblico"}
        assert (await c.post(url, json=other)).status_code == 201
        items = (await c.get(url)).json()["items"]
    assert [(i["purpose"], i["state"], i["current"]) for i in items] == [
        ("presa_in_carico", "granted", False),
        ("presa_in_carico", "withdrawn", True),
        ("ricerca_statistica", "granted", True),
    ]
    async with harness.factory() as s:
        with pytest.raises(Exception, match="append-only"):
            await s.execute(text("UPDATE consent_record SET state = 'granted'"))
