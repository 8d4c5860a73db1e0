"""The common library's pure parts: language negotiation, problem bodies, tokens, settings."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pdz_shared.auth import TokenVerifier, mint_token
from pdz_shared.errors import NotFound, Unauthorized, problem_body, wants_english
from pdz_shared.http import etag_of
from pdz_shared.settings import CommonSettings


@pytest.mark.parametrize(
    ("header", "english"),
    [
        (None, False),
        ("it-IT", False),
        ("en", True),
        ("en-US,en;q=0.9", True),
        ("it;q=0.9,en;q=0.8", False),
        ("en;q=0.5,it;q=0.9", False),
        ("de,en;q=0.1", True),
        ("fr", False),
        ("en;q=abc", False),
    ],
)
def test_language_negotiation(header: str | None, english: bool) -> None:
    assert wants_english(header) is english


def test_problem_body_in_both_languages() -> None:
    err = NotFound("Caso non trovato", "Case not found")
    it = problem_body(err, english=False, instance="/v1/cases/1")
    en = problem_body(err, english=True, instance="/v1/cases/1")
    assert it == {
        "type": "https://pdz.example.it/problems/not-found",
        "title": "Risorsa non trovata",
        "status": 404,
        "detail": "Caso non trovato",
        "instance": "/v1/cases/1",
        "code": "not-found",
    }
    assert en["title"] == "Not found" and en["detail"] == "Case not found"


def test_dev_key_is_refused_outside_dev() -> None:
    with pytest.raises(ValueError, match="only when PDZ_ENV"):
        CommonSettings(env="prod", jwt_hs256_secret="x" * 40)  # type: ignore[arg-type]
    prod = CommonSettings(env="prod")
    assert prod.signing_secret() is None
    with pytest.raises(RuntimeError):
        mint_token(prod, sub="x", roles=["udp_admin"])
    dev_token = mint_token(CommonSettings(env="dev"), sub="x", roles=["udp_admin"])
    with pytest.raises(Unauthorized):  # an HS256 token is never accepted in production
        TokenVerifier(prod).verify(dev_token)


def test_rs256_tokens_in_production() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings = CommonSettings(env="prod", jwt_public_key=public.decode(), jwt_issuer="https://idp")
    claims = {
        "sub": "asst-franciacorta",
        "roles": ["asst_system"],
        "ambiti": ["A5"],
        "aud": "pdz",
        "iss": "https://idp",
        "exp": int(time.time()) + 60,
    }
    principal = TokenVerifier(settings).verify(jwt.encode(claims, key, algorithm="RS256"))
    assert principal.sub == "asst-franciacorta" and principal.roles == {"asst_system"}
    for bad in (
        {**claims, "aud": "other"},
        {**claims, "iss": "https://evil"},
        {k: v for k, v in claims.items() if k != "exp"},
        {**claims, "roles": "platform_admin"},
    ):
        with pytest.raises(Unauthorized):
            TokenVerifier(settings).verify(jwt.encode(bad, key, algorithm="RS256"))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized):
        TokenVerifier(settings).verify(jwt.encode(claims, other_key, algorithm="RS256"))


def test_principal_scoping() -> None:
    settings = CommonSettings(env="test")
    verifier = TokenVerifier(settings)
    p = verifier.verify(mint_token(settings, sub="a", roles=["pua_operator"], ambiti=["A5"]))
    p.require_ambito("A5")
    with pytest.raises(NotFound):
        p.require_ambito("A6")
    admin = verifier.verify(mint_token(settings, sub="root", roles=["platform_admin"]))
    admin.require_ambito("A6")


def test_etag_format() -> None:
    assert etag_of(3) == 'W/"3"'


def test_verified_tokens_are_kept_until_they_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = CommonSettings(env="test")
    verifier = TokenVerifier(settings)
    token = mint_token(settings, sub="cot", roles=["asst_system"], ttl_seconds=2)
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # the second time costs a dictionary lookup
    head, payload, signature = token.split(".")
    forged = ".".join((head, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")))
    with pytest.raises(Unauthorized):  # a token changed in any way is verified again
        verifier.verify(forged)
    # once the token's exp has passed it is verified again (and refused for its exp), never
    # served from memory; PyJWT reads its own clock, so the refusal is checked with a token
    # minted already expired
    expired = mint_token(settings, sub="cot", roles=["asst_system"], ttl_seconds=-5)
    verified: list[str] = []
    real = verifier._verify
    monkeypatch.setattr(verifier, "_verify", lambda t: verified.append(t) or real(t))
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 3)
    verifier.verify(token)
    assert verified == [token]
    with pytest.raises(Unauthorized) as refused:
        verifier.verify(expired)
    assert refused.value.detail_en == "The token has expired"
