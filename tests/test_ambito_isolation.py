"""Cross-ambito probes: a token for another ambito never reads or changes Sebino's case data.

Every casework, notifications and indicators list answers without a single Sebino record, and
every casework operation on a Sebino case (read or write) answers exactly as for a case that does
not exist. Published plans and the territory are public by design and are not probed.
"""

import re
import uuid
from typing import Any

import httpx

from pdz_shared.auth import mint_token
from pdz_shared.settings import CommonSettings

GATEWAY = "http://127.0.0.1:8000"
SEBINO, OTHER = "AMBITO-05-SEBINO", "AMBITO-06-MONTE-ORFANO"
ROLES = [
    "udp_admin",
    "udp_viewer",
    "pua_operator",
    "social_worker",
    "uvm_member",
    "asst_system",
    "cartella_sociale_system",
]
PRIVATE = ("/casework/", "/notifications/", "/indicators/v1/reported-values")
METHODS = ("get", "post", "put", "delete", "patch")


def mentions(body: Any, value: str) -> bool:
    if isinstance(body, dict):
        return any(mentions(v, value) for v in body.values())
    if isinstance(body, list):
        return any(mentions(v, value) for v in body)
    return bool(body == value)


async def test_another_ambito_sees_and_touches_nothing(stack: Any, common: CommonSettings) -> None:
    from codicefiscale import codicefiscale

    def auth(sub: str, ambito: str) -> dict[str, str]:
        return {
            "Authorization": "Bearer " + mint_token(common, sub=sub, roles=ROLES, ambiti=[ambito])
        }

    sebino, other = auth("as-sebino", SEBINO), auth("as-monte-orfano", OTHER)
    fiscal = codicefiscale.encode(
        lastname="Zanotti",
        firstname="Isolata",
        gender="F",
        birthdate="02/02/1940",
        birthplace="Iseo",
    )
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=30) as http:
        r = await http.post(
            "/casework/v1/cases",
            headers=sebino,
            json={
                "ambito_code": SEBINO,
                "comune_code": "COMUNE-ISEO",
                "source": "sportello",
                "person": {
                    "codice_fiscale": fiscal,
                    "given_name": "Isolata",
                    "family_name": "Zanotti",
                    "residence_comune": "COMUNE-ISEO",
                },
                "request_summary": "Richiesta di sostegno al domicilio",
            },
        )
        assert r.status_code in (200, 201), r.text
        case_id, nowhere = r.json()["id"], str(uuid.uuid4())
        doc = (await http.get("/openapi.json")).json()

        probed = 0
        for path, item in doc["paths"].items():
            if not path.startswith(PRIVATE):
                continue
            params = re.findall(r"{([^}]+)}", path)
            if "get" in item and not params:
                r = await http.get(path, headers=other, params={"limit": 500})
                assert r.status_code in (200, 403, 404, 422), (path, r.status_code, r.text)
                if r.status_code == 200:
                    assert not mentions(r.json(), SEBINO), f"{path} shows Sebino data"
                probed += 1
            if params != ["case_id"]:
                continue
            for method in (m for m in METHODS if m in item):
                kw: dict[str, Any] = {"headers": {**other, "If-Match": "*"}}
                if method != "get":
                    kw["json"] = {}
                foreign = await http.request(
                    method.upper(), path.replace("{case_id}", case_id), **kw
                )
                ghost = await http.request(method.upper(), path.replace("{case_id}", nowhere), **kw)
                assert foreign.status_code >= 400, (method, path, foreign.status_code)
                # A foreign case is indistinguishable from a case that does not exist.
                assert foreign.status_code == ghost.status_code, (method, path, foreign.text)
                probed += 1
        assert probed > 15
        # Sebino's own token does see the case: the probe can fail.
        assert (await http.get(f"/casework/v1/cases/{case_id}", headers=sebino)).status_code == 200
