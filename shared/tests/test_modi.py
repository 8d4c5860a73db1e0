"""ModI at the boundary: PDND vouchers, ID_AUTH_REST_02, INTEGRITY_REST_01, replay, dev switch.

A small API built with the platform's own app factory, on a real PostgreSQL database: every
refused call answers 401 problem+json and writes nothing.
"""

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Request
from sqlalchemy import text

from pdz_shared import devinfra, modi
from pdz_shared.app import ServiceSpec, SessionDep, create_app
from pdz_shared.settings import CommonSettings, ServiceSettings

AUD = "https://api.pdz.example.it/casework"
PDND = "interop.pagopa.it"


def rsa_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: Any, kid: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**data, "kid": kid, "use": "sig", "alg": "RS256"}


PDND_KEY, CLIENT_KEY, ROGUE_KEY = rsa_key(), rsa_key(), rsa_key()
CLIENT = "asst-franciacorta"
PURPOSE = "purpose-dimissioni-protette"


def settings_env(monkeypatch: pytest.MonkeyPatch, *, enabled: bool = True) -> None:
    monkeypatch.setenv("PDZ_MODI_ENABLED", str(enabled).lower())
    monkeypatch.setenv("PDZ_MODI_AUDIENCE", AUD)
    monkeypatch.setenv("PDZ_MODI_PDND_JWKS", json.dumps({"keys": [jwk(PDND_KEY, "pdnd-1")]}))
    monkeypatch.setenv("PDZ_MODI_CLIENT_JWKS", json.dumps({"keys": [jwk(CLIENT_KEY, "asst-1")]}))
    monkeypatch.setenv(
        "PDZ_MODI_CLIENTS",
        json.dumps(
            {CLIENT: {"role": "asst_system", "ambiti": ["AMBITO-05-SEBINO"], "purposes": [PURPOSE]}}
        ),
    )
    modi.modi_settings.cache_clear()
    modi._verifier.cache_clear()


def voucher(**over: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": PDND,
        "aud": AUD,
        "sub": CLIENT,
        "client_id": CLIENT,
        "purposeId": PURPOSE,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 120,
        **over,
    }
    return jwt.encode(
        claims, over.pop("_key", PDND_KEY), algorithm="RS256", headers={"kid": "pdnd-1"}
    )


def signature(body: bytes, *, key: Any = CLIENT_KEY, kid: str = "asst-1", **over: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": CLIENT,
        "sub": CLIENT,
        "aud": AUD,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
        "signed_headers": [
            {"digest": modi.body_digest(body)},
            {"content-type": "application/fhir+json"},
        ],
        **over,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
async def api(
    pg_server_url: str, common: CommonSettings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    settings_env(monkeypatch)
    name = f"pdz_test_modi_{uuid.uuid4().hex[:8]}"
    url = await devinfra.create_database(pg_server_url, name)
    router = APIRouter()

    @router.post("/v1/discharges", status_code=202)
    async def receive(request: Request, session: SessionDep) -> dict[str, str]:
        principal = await modi.modi_principal(request, session)
        await session.execute(
            text("INSERT INTO received (body, caller) VALUES (:b, :c)"),
            {"b": (await request.body()).decode(), "c": principal.sub},
        )
        return {"caller": principal.sub, "role": sorted(principal.roles)[0]}

    app = create_app(
        ServiceSpec(
            name="modi-test",
            title="t",
            summary="t",
            description="t",
            settings=ServiceSettings(database_url=url),
            routers=[router],
        ),
        common,
    )
    async with app.router.lifespan_context(app):
        async with app.state.engine.begin() as conn:
            await conn.run_sync(modi.ModiJti.__table__.create)  # type: ignore[attr-defined]
            await conn.execute(text("CREATE TABLE received (body text, caller text)"))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, url
    await devinfra.drop_database(pg_server_url, name)


async def received(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM received"))
    finally:
        await conn.close()


BODY = b'{"resourceType":"Bundle","type":"message"}'
CT = {"Content-Type": "application/fhir+json"}


async def post(
    client: httpx.AsyncClient, token: str, sig: str | None, body: bytes = BODY
) -> httpx.Response:
    headers = {**CT, "Authorization": f"Bearer {token}"}
    if sig is not None:
        headers[modi.SIGNATURE_HEADER] = sig
    return await client.post("/v1/discharges", content=body, headers=headers)


async def test_pdnd_voucher_with_integrity_is_accepted_once(
    api: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = api
    token, sig = voucher(), signature(BODY)
    r = await post(client, token, sig)
    assert r.status_code == 202, r.text
    assert r.json() == {"caller": f"modi:{CLIENT}", "role": "asst_system"}
    replay = await post(client, token, sig)
    assert replay.status_code == 401
    assert replay.json()["code"] == "modi-replay"
    assert replay.headers["content-type"] == "application/problem+json"
    assert await received(url) == 1


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("tampered body", "modi-digest-mismatch"),
        ("no signature", "modi-integrity-missing"),
        ("signature by a rogue key", "modi-unknown-key"),
        ("forged voucher", "modi-invalid"),
        ("expired voucher", "modi-expired"),
        ("wrong audience", "modi-invalid"),
        ("foreign purpose", "modi-purpose"),
        ("unknown client", "modi-unknown-client"),
        ("alg none", "modi-invalid"),
    ],
)
async def test_refused_calls_write_nothing(
    api: tuple[httpx.AsyncClient, str], case: str, code: str
) -> None:
    client, url = api
    now = int(time.time())
    token, sig, body = voucher(), signature(BODY), BODY
    if case == "tampered body":
        body = BODY.replace(b"message", b"history")
    elif case == "no signature":
        sig = None
    elif case == "signature by a rogue key":
        sig = signature(BODY, key=ROGUE_KEY, kid="rogue")
    elif case == "forged voucher":
        token = jwt.encode(
            {**jwt.decode(token, options={"verify_signature": False})},
            ROGUE_KEY,
            algorithm="RS256",
            headers={"kid": "pdnd-1"},
        )
    elif case == "expired voucher":
        token = voucher(iat=now - 200, exp=now - 100)
    elif case == "wrong audience":
        token = voucher(aud="https://other.example.it")
    elif case == "foreign purpose":
        token = voucher(purposeId="another-purpose")
    elif case == "unknown client":
        token = voucher(client_id="asst-unknown", sub="asst-unknown")
    elif case == "alg none":
        claims = jwt.decode(token, options={"verify_signature": False})
        token = jwt.encode(claims, None, algorithm="none", headers={"kid": "pdnd-1"})
    r = await post(client, token, sig, body)
    assert r.status_code == 401, r.text
    assert r.json()["code"] == code
    assert r.headers["content-type"] == "application/problem+json"
    assert await received(url) == 0


async def test_id_auth_rest_02_client_assertion(api: tuple[httpx.AsyncClient, str]) -> None:
    client, url = api
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": CLIENT,
            "sub": CLIENT,
            "aud": AUD,
            "iat": now,
            "exp": now + 60,
            "jti": str(uuid.uuid4()),
        },
        CLIENT_KEY,
        algorithm="RS256",
        headers={"kid": "asst-1"},
    )
    assert (await post(client, assertion, signature(BODY))).status_code == 202
    again = await post(client, assertion, signature(BODY))
    assert again.status_code == 401 and again.json()["code"] == "modi-replay"
    assert await received(url) == 1


async def test_platform_token_is_not_enough_when_modi_is_on(
    api: tuple[httpx.AsyncClient, str], common: CommonSettings
) -> None:
    from pdz_shared.auth import mint_token

    client, url = api
    token = mint_token(common, sub="x", roles=["asst_system"], ambiti=["AMBITO-05-SEBINO"])
    r = await post(client, token, signature(BODY))
    assert r.status_code == 401
    assert await received(url) == 0


def test_production_cannot_switch_modi_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDZ_ENV", "prod")
    with pytest.raises(ValueError, match="only when PDZ_ENV"):
        modi.ModiSettings(enabled=False)
    monkeypatch.setenv("PDZ_ENV", "dev")
    assert modi.ModiSettings(enabled=False).enabled is False


def test_openapi_documents_the_modi_patterns(common: CommonSettings) -> None:
    router = APIRouter()

    @router.post("/v1/discharges", status_code=202, openapi_extra=modi.MODI_OPENAPI)
    async def receive() -> None:
        return None

    @router.get("/v1/cases")
    async def cases() -> None:
        return None

    app = create_app(
        ServiceSpec(
            name="x",
            title="t",
            summary="t",
            description="t",
            settings=ServiceSettings(),
            routers=[router],
        ),
        common,
    )
    doc = app.openapi()
    post_op = doc["paths"]["/v1/discharges"]["post"]
    assert post_op["security"] == [
        {"pdndVoucher": [], "agidJwtSignature": []},
        {"modiIdAuth": [], "agidJwtSignature": []},
    ]
    assert "INTEGRITY_REST_01" in post_op["description"]
    assert doc["paths"]["/v1/cases"]["get"]["security"] == [{"bearerAuth": []}]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["agidJwtSignature"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Agid-JWT-Signature",
        "description": schemes["agidJwtSignature"]["description"],
    }
