"""ModI security at the boundary with other public bodies (ASST, comuni), and PDND vouchers.

- **PDND voucher**: a JWT access token issued by the national interoperability platform; verified
  against the configured JWKS, ``iss``, ``aud``, ``exp`` and ``purposeId``; the calling client is
  mapped to a role and its ambiti through configuration.
- **ID_AUTH_REST_02**: the client authenticates with a JWT it signs itself (trusted keys by
  ``kid``), with replay protection on ``jti``.
- **INTEGRITY_REST_01**: the ``Agid-JWT-Signature`` header carries a signed digest of the body
  (``signed_headers``: ``digest`` and ``content-type``); it is verified before the body is
  accepted.

Dev and test may switch ModI off (``PDZ_MODI_ENABLED=false``); production cannot.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import asyncpg
import jwt
from fastapi import Request
from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Column, DateTime
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_shared.auth import Principal, current_principal
from pdz_shared.db import Statement
from pdz_shared.errors import Unauthorized

SIGNATURE_HEADER = "Agid-JWT-Signature"
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class ClientGrant(BaseModel):
    """What a calling body may do here."""

    role: str = Field(max_length=50)
    ambiti: list[str] = Field(default_factory=list, max_length=100)
    comuni: list[str] = Field(default_factory=list, max_length=500)
    purposes: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Accepted PDND purposeId values (empty: any)",
    )
    name: str | None = Field(None, max_length=200)


class ModiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PDZ_MODI_", extra="ignore")

    env: str = Field("prod", validation_alias="PDZ_ENV")
    enabled: bool = True
    audience: str = "https://api.pdz.example.it"
    pdnd_issuer: str = "interop.pagopa.it"
    pdnd_jwks_url: str | None = None
    pdnd_jwks: str | None = Field(None, description="PDND JWKS as JSON (offline alternative)")
    client_jwks: str | None = Field(None, description="JWKS (JSON) of the trusted client keys")
    clients: dict[str, ClientGrant] = Field(
        default_factory=dict, description="client id → role, ambiti, purposes"
    )
    max_age_seconds: int = 300
    leeway_seconds: int = 30

    @model_validator(mode="after")
    def _production_cannot_switch_off(self) -> ModiSettings:
        if not self.enabled and self.env not in ("dev", "test"):
            raise ValueError("PDZ_MODI_ENABLED=false is accepted only when PDZ_ENV is dev or test")
        return self


@lru_cache
def modi_settings() -> ModiSettings:
    return ModiSettings()


class ModiJti(SQLModel, table=True):
    """Token ids already seen (replay protection), kept until the token expires."""

    __tablename__ = "modi_jti"

    issuer: str = SQLField(primary_key=True, max_length=200)
    jti: str = SQLField(primary_key=True, max_length=200)
    expires_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))


def body_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def _refuse(it: str, en: str, code: str) -> Unauthorized:
    return Unauthorized(it, en, code=code, headers={"WWW-Authenticate": "Bearer"})


class ModiVerifier:
    def __init__(self, settings: ModiSettings) -> None:
        self.settings = settings
        self._pdnd_keys = _jwks(settings.pdnd_jwks)
        self._client_keys = _jwks(settings.client_jwks)
        self._pdnd_client = (
            jwt.PyJWKClient(settings.pdnd_jwks_url) if settings.pdnd_jwks_url else None
        )

    def _decode(self, token: str, key: Any, *, issuer: str | None = None) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.settings.audience,
                issuer=issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iat", "jti", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _refuse("Token ModI scaduto", "ModI token expired", "modi-expired") from exc
        except jwt.PyJWTError as exc:
            raise _refuse(
                f"Token ModI non valido: {exc}", f"Invalid ModI token: {exc}", "modi-invalid"
            ) from exc
        now = datetime.now(UTC).timestamp()
        if (
            claims["iat"] > now + self.settings.leeway_seconds
            or now - claims["iat"] > self.settings.max_age_seconds + self.settings.leeway_seconds
        ):
            raise _refuse(
                "Token ModI emesso fuori dalla finestra ammessa",
                "ModI token issued outside the accepted window",
                "modi-iat",
            )
        return claims

    def _header(self, token: str) -> dict[str, Any]:
        try:
            return jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _refuse(
                "Token ModI illeggibile", "Unreadable ModI token", "modi-invalid"
            ) from exc

    def _client_key(self, kid: str | None) -> Any:
        if kid is None or kid not in self._client_keys:
            raise _refuse(
                "Chiave del client sconosciuta (kid)",
                "Unknown client key (kid)",
                "modi-unknown-key",
            )
        return self._client_keys[kid]

    def _grant(self, client_id: str, purpose: str | None = None) -> ClientGrant:
        grant = self.settings.clients.get(client_id)
        if grant is None:
            raise _refuse(
                f"Client {client_id} non autorizzato",
                f"Client {client_id} not allowed",
                "modi-unknown-client",
            )
        if purpose is not None and grant.purposes and purpose not in grant.purposes:
            raise _refuse(
                "Finalità (purposeId) non autorizzata", "purposeId not allowed", "modi-purpose"
            )
        return grant

    def authenticate(self, token: str) -> tuple[Principal, dict[str, Any]]:
        """PDND voucher, else ID_AUTH_REST_02 client assertion."""
        header = self._header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
        if unverified.get("iss") == self.settings.pdnd_issuer:
            if self._pdnd_client is not None:
                key: Any = self._pdnd_client.get_signing_key_from_jwt(token).key
            elif header.get("kid") in self._pdnd_keys:
                key = self._pdnd_keys[header["kid"]]
            else:
                raise _refuse("Chiave PDND sconosciuta", "Unknown PDND key", "modi-unknown-key")
            claims = self._decode(token, key, issuer=self.settings.pdnd_issuer)
            if not claims.get("purposeId"):
                raise _refuse(
                    "Voucher PDND senza purposeId", "PDND voucher without purposeId", "modi-purpose"
                )
            client_id = str(claims.get("client_id") or claims.get("sub"))
            grant = self._grant(client_id, str(claims["purposeId"]))
        else:
            claims = self._decode(token, self._client_key(header.get("kid")))
            client_id = str(claims.get("iss"))
            if claims.get("sub") not in (None, client_id):
                raise _refuse(
                    "iss e sub del token ModI non coincidono",
                    "ModI token iss and sub differ",
                    "modi-invalid",
                )
            grant = self._grant(client_id)
        principal = Principal(
            sub=f"modi:{client_id}",
            roles=frozenset({grant.role}),
            ambiti=frozenset(grant.ambiti),
            claims={
                "client_id": client_id,
                "comuni": grant.comuni,
                "modi": True,
                "purposeId": claims.get("purposeId"),
            },
        )
        return principal, claims

    def check_integrity(
        self, token: str | None, body: bytes, content_type: str | None, client_id: str
    ) -> dict[str, Any]:
        """INTEGRITY_REST_01: the signed digest must match the body as received."""
        if not token:
            raise _refuse(
                f"Manca l'intestazione {SIGNATURE_HEADER}",
                f"Missing {SIGNATURE_HEADER} header",
                "modi-integrity-missing",
            )
        claims = self._decode(token, self._client_key(self._header(token).get("kid")))
        if claims.get("iss", client_id) != client_id and claims.get("sub") != client_id:
            raise _refuse(
                "Firma di un client diverso dal chiamante",
                "Signature by a client other than the caller",
                "modi-integrity",
            )
        signed: dict[str, str] = {}
        for item in claims.get("signed_headers") or []:
            if isinstance(item, dict):
                signed.update({str(k).lower(): str(v) for k, v in item.items()})
        if signed.get("digest") != body_digest(body):
            raise _refuse(
                "Il digest firmato non corrisponde al corpo della richiesta",
                "The signed digest does not match the request body",
                "modi-digest-mismatch",
            )
        if (
            content_type
            and "content-type" in signed
            and signed["content-type"].split(";")[0].strip() != content_type.split(";")[0].strip()
        ):
            raise _refuse(
                "Content-Type diverso da quello firmato",
                "Content-Type differs from the signed one",
                "modi-integrity",
            )
        return claims


def _jwks(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    keys: dict[str, Any] = {}
    for item in json.loads(raw).get("keys", []):
        keys[item["kid"]] = jwt.PyJWK(item).key
    return keys


_REMEMBER = Statement("""
    INSERT INTO modi_jti (issuer, jti, expires_at)
    SELECT * FROM unnest(CAST(:issuers AS text[]), CAST(:jtis AS text[]),
                         CAST(:expires AS timestamptz[]))
    ON CONFLICT DO NOTHING
    RETURNING issuer, jti
""")
_PURGE = Statement("DELETE FROM modi_jti WHERE expires_at < now() - interval '1 day'")
PURGE_EVERY = 200  # calls: expired token ids go at about this pace, not on every call


@dataclass(frozen=True)
class UsedToken:
    """A token id that may be used once (until the token expires)."""

    issuer: str
    jti: str
    expires_at: datetime

    @classmethod
    def of(cls, issuer: str, claims: dict[str, Any]) -> UsedToken:
        return cls(issuer, str(claims["jti"]), datetime.fromtimestamp(int(claims["exp"]), UTC))

    @property
    def key(self) -> tuple[str, str]:
        return self.issuer, self.jti


def replay_refused() -> Unauthorized:
    return _refuse(
        "Token ModI già usato (replay)", "ModI token already used (replay)", "modi-replay"
    )


async def remember_calls(
    db: AsyncSession | asyncpg.Connection, calls: Sequence[Sequence[UsedToken]]
) -> list[bool]:
    """Records the token ids of several calls in one statement; for each call, whether all its
    ids were new (``False``: a replay, see ``replay_refused``). Run it in the transaction of the
    calls' changes, and drop a replayed call's change. No two calls may share a token id."""
    tokens = [t for call in calls for t in call]
    if not tokens:
        return [True] * len(calls)
    seen = await _REMEMBER.fetch(
        db,
        {
            "issuers": [t.issuer for t in tokens],
            "jtis": [t.jti for t in tokens],
            "expires": [t.expires_at for t in tokens],
        },
    )
    new = {(r["issuer"], r["jti"]) for r in seen}
    if secrets.randbelow(PURGE_EVERY) == 0:
        await _PURGE.fetch(db, {})
    return [all(t.key in new for t in call) for call in calls]


async def remember_jtis(db: AsyncSession | asyncpg.Connection, tokens: Sequence[UsedToken]) -> None:
    """Records the token ids in one statement; any already seen is a replay (401). Run it in
    the transaction of the request's change."""
    if not (await remember_calls(db, [tokens]))[0]:
        raise replay_refused()


async def remember_jti(session: AsyncSession, issuer: str, claims: dict[str, Any]) -> None:
    """Refuses a token id already used (replay); the row lives until the token expires."""
    await remember_jtis(session, [UsedToken.of(issuer, claims)])


@lru_cache
def _verifier() -> ModiVerifier:
    return ModiVerifier(modi_settings())


async def modi_authenticate(request: Request) -> tuple[Principal, list[UsedToken]]:
    """Authenticates a call from another public body and verifies the integrity of its body,
    writing nothing: the caller records the returned token ids (``remember_jtis``) with its
    change, once its own checks have passed, so a refused call leaves no trace.

    With ModI switched off (dev/test only) the platform's own bearer tokens are accepted.
    """
    settings = modi_settings()
    if not settings.enabled:
        from fastapi.security import HTTPAuthorizationCredentials

        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        creds = HTTPAuthorizationCredentials(scheme=scheme, credentials=token) if token else None
        return await current_principal(request, creds), []
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _refuse(
            "Serve un voucher PDND o un token ModI nell'intestazione Authorization",
            "A PDND voucher or a ModI token is required in Authorization",
            "modi-missing",
        )
    verifier = _verifier()
    principal, claims = verifier.authenticate(token)
    client_id = str(principal.claims["client_id"])
    used = [UsedToken.of(str(claims.get("iss")), claims)]
    if request.method in ("POST", "PUT", "PATCH"):
        integrity = verifier.check_integrity(
            request.headers.get(SIGNATURE_HEADER),
            await request.body(),
            request.headers.get("content-type"),
            client_id,
        )
        used.append(UsedToken.of(f"integrity:{client_id}", integrity))
    request.state.principal = principal
    return principal, used


async def modi_principal(request: Request, session: AsyncSession) -> Principal:
    """``modi_authenticate`` and ``remember_jtis`` at once, in the request's transaction."""
    principal, used = await modi_authenticate(request)
    await remember_jtis(session, used)
    return principal


MODI_OPENAPI: dict[str, Any] = {"x-modi": ["ID_AUTH_REST_02", "INTEGRITY_REST_01"]}
"""Put on a route (``openapi_extra=MODI_OPENAPI``) that other public bodies call with ModI."""

__all__ = [
    "MODI_OPENAPI",
    "SIGNATURE_HEADER",
    "ClientGrant",
    "ModiJti",
    "ModiSettings",
    "ModiVerifier",
    "body_digest",
    "modi_authenticate",
    "modi_principal",
    "modi_settings",
    "remember_calls",
    "remember_jtis",
    "replay_refused",
]
