"""POST /v1/discharges with ModI on: PDND voucher + Agid-JWT-Signature, replay and tampering."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from casework_helpers import SEBINO, scalar
from cryptography.hazmat.primitives.asymmetric import rsa

from pdz_casework.discharges.processing import drain
from pdz_shared import modi
from pdz_shared.testing.plugin import Harness

AUD = "https://api.pdz.example.it/casework"
PDND = "interop.pagopa.it"
CLIENT = "asst-franciacorta"
PURPOSE = "purpose-dimissioni-protette"
PDND_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CLIENT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "dimissione-protetta-sebino.json"


def jwk(key: Any, kid: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**data, "kid": kid, "use": "sig", "alg": "RS256"}


@pytest.fixture
def modi_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PDZ_MODI_ENABLED", "true")
    monkeypatch.setenv("PDZ_MODI_AUDIENCE", AUD)
    monkeypatch.setenv("PDZ_MODI_PDND_JWKS", json.dumps({"keys": [jwk(PDND_KEY, "pdnd-1")]}))
    monkeypatch.setenv("PDZ_MODI_CLIENT_JWKS", json.dumps({"keys": [jwk(CLIENT_KEY, "asst-1")]}))
    monkeypatch.setenv(
        "PDZ_MODI_CLIENTS",
        json.dumps({CLIENT: {"role": "asst_system", "ambiti": [SEBINO], "purposes": [PURPOSE]}}),
    )
    modi.modi_settings.cache_clear()
    modi._verifier.cache_clear()
    yield
    monkeypatch.undo()
    modi.modi_settings.cache_clear()
    modi._verifier.cache_clear()


def voucher() -> str:
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
    }
    return jwt.encode(claims, PDND_KEY, algorithm="RS256", headers={"kid": "pdnd-1"})


def signature(body: bytes) -> str:
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
    }
    return jwt.encode(claims, CLIENT_KEY, algorithm="RS256", headers={"kid": "asst-1"})


def modi_headers(body: bytes, token: str | None = None) -> dict[str, str]:
    """A call's headers: a voucher (a fresh one unless given) and the body's signed digest."""
    return {
        "Authorization": f"Bearer {token or voucher()}",
        "Agid-JWT-Signature": signature(body),
        "Content-Type": "application/fhir+json",
    }


async def test_modi_voucher_and_signed_digest(harness: Harness, modi_on: None) -> None:
    body = SAMPLE.read_bytes()
    token = voucher()
    headers = {
        "Authorization": f"Bearer {token}",
        "Agid-JWT-Signature": signature(body),
        "Content-Type": "application/fhir+json",
    }
    async with harness.client() as c:
        r = await c.post("/v1/discharges", content=body, headers=headers)
        assert r.status_code == 202, r.text
        replay = await c.post("/v1/discharges", content=body, headers=headers)
        assert replay.status_code == 401 and replay.json()["code"] == "modi-replay"
        tampered = body.replace(b"2026-03-09", b"2026-03-19")
        r = await c.post(
            "/v1/discharges",
            content=tampered,
            headers={**headers, "Authorization": f"Bearer {voucher()}"},
        )
        assert r.status_code == 401 and r.json()["code"] == "modi-digest-mismatch"
        # a platform token is not enough when ModI is on
        platform = harness.token(roles=["asst_system"], ambiti=[SEBINO])
        r = await c.post("/v1/discharges", content=body, headers=modi_headers(body, platform))
        assert r.status_code == 401
    assert await drain(harness.factory) == 1
    assert await scalar(harness, "SELECT count(*) FROM discharge") == 1
    assert await scalar(harness, "SELECT planned_discharge_date::text FROM discharge") == (
        "2026-03-09"
    )
    case_id = await scalar(harness, "SELECT case_id FROM discharge")
    audit = await scalar(harness, "SELECT sub FROM case_audit WHERE case_id = :c", c=case_id)
    assert audit == f"modi:{CLIENT}"


async def test_one_token_posted_at_once_three_times_is_accepted_once(
    harness: Harness, modi_on: None
) -> None:
    body = SAMPLE.read_bytes()
    headers = modi_headers(body)
    async with harness.client() as c:
        answers = await asyncio.gather(
            *(c.post("/v1/discharges", content=body, headers=headers) for _ in range(3))
        )
        assert sorted(r.status_code for r in answers) == [202, 401, 401]
        assert {r.json().get("code") for r in answers if r.status_code == 401} == {"modi-replay"}
        # fresh tokens at once, for different discharges: every one accepted
        other = [body.replace(b"2026-IS-004512", f"2026-IS-9{i:05d}".encode()) for i in range(6)]
        answers = await asyncio.gather(
            *(c.post("/v1/discharges", content=b, headers=modi_headers(b)) for b in other)
        )
        assert [r.status_code for r in answers] == [202] * 6
    assert await scalar(harness, "SELECT count(*) FROM discharge") == 7
    assert await scalar(harness, "SELECT count(*) FROM modi_jti") == 14
