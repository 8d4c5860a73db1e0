"""Shared test data and helpers for the casework tests."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from pdz_shared.testing.plugin import Harness

SEBINO = "AMBITO-05-SEBINO"
OTHER = "AMBITO-06-MONTE-ORFANO"
ISEO = "017085"
MARONE = "017104"
# Real codici fiscali computed by hand from name, sex, birth date and place.
ANNA = "BNCNNA40C52E333S"  # Anna Bianchi, F, 12/03/1940, Iseo
ANNA_OMOCODE = "BNCNNA40C52E33PO"  # the same data, first omocodia substitution
MARIO = "RSSMRA52L01E967V"  # Mario Rossi, M, 01/07/1952, Marone
GIULIA = "FRRGLI10S63B157A"  # Giulia Ferrari, F, 23/11/2010, Brescia
LUIGI = "BNTLGU35E05H699D"  # Luigi Bonetti, M, 05/05/1935, Sale Marasino

NAMES = {
    ANNA: ("Anna", "Bianchi"),
    MARIO: ("Mario", "Rossi"),
    GIULIA: ("Giulia", "Ferrari"),
    LUIGI: ("Luigi", "Bonetti"),
    ANNA_OMOCODE: ("Anna", "Bianchi"),
}


def case_body(cf: str = ANNA, **kw: Any) -> dict[str, Any]:
    given, family = NAMES[cf]
    person = {
        "codice_fiscale": cf,
        "given_name": given,
        "family_name": family,
        "residence_comune": kw.pop("residence_comune", ISEO),
    }
    person.update(kw.pop("person", {}))
    return {
        "ambito_code": kw.pop("ambito_code", SEBINO),
        "comune_code": kw.pop("comune_code", ISEO),
        "source": kw.pop("source", "sportello"),
        "person": person,
        **kw,
    }


def operator(h: Harness, ambito: str = SEBINO, sub: str = "op1") -> str:
    return h.token(roles=["pua_operator"], ambiti=[ambito], sub=sub)


def worker(h: Harness, ambito: str = SEBINO, sub: str = "as1") -> str:
    return h.token(roles=["social_worker"], ambiti=[ambito], sub=sub)


def uvm(h: Harness, ambito: str = SEBINO, sub: str = "uvm1") -> str:
    return h.token(roles=["uvm_member"], ambiti=[ambito], sub=sub)


async def open_case(h: Harness, cf: str = ANNA, **kw: Any) -> dict[str, Any]:
    async with h.client(operator(h)) as c:
        r = await c.post("/v1/cases", json=case_body(cf, **kw))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def move(
    c: httpx.AsyncClient, case_id: str, to: str, reason: str | None = None
) -> httpx.Response:
    etag = (await c.get(f"/v1/cases/{case_id}")).headers["etag"]
    return await c.post(
        f"/v1/cases/{case_id}/transitions",
        json={"to_status": to, "reason": reason},
        headers={"If-Match": etag},
    )


async def rows(h: Harness, sql: str, **params: Any) -> list[Any]:
    async with h.factory() as s:
        return list((await s.execute(text(sql), params)).all())


async def scalar(h: Harness, sql: str, **params: Any) -> Any:
    async with h.factory() as s:
        return (await s.execute(text(sql), params)).scalar()


async def outbox(h: Harness) -> list[tuple[str, dict[str, Any]]]:
    return [(r[0], r[1]) for r in await rows(h, "SELECT type, data FROM outbox ORDER BY id")]


def assert_no_personal_data(events: list[tuple[str, dict[str, Any]]]) -> None:
    """No event that leaves casework carries a name or a codice fiscale."""
    import json

    for _, data in events:
        blob = json.dumps(data).upper()
        for cf, (given, family) in NAMES.items():
            assert cf not in blob and cf[:11] not in blob
            assert given.upper() not in blob and family.upper() not in blob
        assert "1940-03-12" not in blob and "1952-07-01" not in blob
