"""Bearer JWT authentication, roles and ambito scoping."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pdz_shared.errors import Forbidden, NotFound, Unauthorized
from pdz_shared.settings import CommonSettings, common_settings


class Role(StrEnum):
    platform_admin = "platform_admin"
    udp_admin = "udp_admin"
    udp_viewer = "udp_viewer"
    pua_operator = "pua_operator"
    social_worker = "social_worker"
    uvm_member = "uvm_member"
    asst_system = "asst_system"
    cartella_sociale_system = "cartella_sociale_system"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    sub: str
    roles: frozenset[str]
    ambiti: frozenset[str]
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_platform_admin(self) -> bool:
        return Role.platform_admin in self.roles

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles.intersection(roles))

    def can_act_on(self, ambito: str | None) -> bool:
        return self.is_platform_admin or (ambito is not None and ambito in self.ambiti)

    def require_ambito(self, ambito: str | None) -> None:
        """A record of another ambito answers 404, so its existence is not disclosed."""
        if not self.can_act_on(ambito):
            raise NotFound("Risorsa non trovata", "Resource not found")


def mint_token(
    settings: CommonSettings,
    *,
    sub: str,
    roles: Iterable[str],
    ambiti: Iterable[str] = (),
    ttl_seconds: int = 3600,
    extra: dict[str, Any] | None = None,
) -> str:
    secret = settings.signing_secret()
    if secret is None:
        raise RuntimeError("Dev tokens can be minted only when PDZ_ENV is dev or test")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "roles": sorted(roles),
        "ambiti": sorted(ambiti),
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    claims.update(extra or {})
    return jwt.encode(claims, secret, algorithm="HS256")


class TokenVerifier:
    """Verifies bearer tokens: HS256 with the dev key in dev/test only, RS256 otherwise.

    A client sends the same token with many requests, and verifying one costs about a
    millisecond of CPU, as much as the rest of a lean request: the principals of the tokens
    verified lately are kept (by the exact token text, so a token changed in any way is verified
    again) until their ``exp``, at most ``CACHE_SECONDS``. Refusals are never kept.
    """

    CACHE_SIZE = 10_000
    CACHE_SECONDS = 300

    def __init__(self, settings: CommonSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def _key_and_algorithms(self, token: str) -> tuple[Any, list[str]]:
        header = jwt.get_unverified_header(token)
        alg = header.get("alg")
        if alg == "HS256":
            secret = self.settings.signing_secret()
            if secret is None:
                raise Unauthorized("Algoritmo del token non ammesso", "Token algorithm not allowed")
            return secret, ["HS256"]
        if alg == "RS256":
            if self._jwks is not None:
                return self._jwks.get_signing_key_from_jwt(token).key, ["RS256"]
            if self.settings.jwt_public_key:
                return self.settings.jwt_public_key, ["RS256"]
        raise Unauthorized("Algoritmo del token non ammesso", "Token algorithm not allowed")

    def verify(self, token: str) -> Principal:
        now = time.time()
        cached = self._verified.get(token)
        if cached is not None:
            if now < cached[0]:
                self._verified.move_to_end(token)
                return cached[1]
            del self._verified[token]
        principal = self._verify(token)
        until = min(float(principal.claims["exp"]), now + self.CACHE_SECONDS)
        self._verified[token] = (until, principal)
        if len(self._verified) > self.CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    def _verify(self, token: str) -> Principal:
        try:
            key, algorithms = self._key_and_algorithms(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["sub", "exp", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Il token è scaduto", "The token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("Token non valido", "Invalid token") from exc
        roles = claims.get("roles", [])
        ambiti = claims.get("ambiti", [])
        if not isinstance(roles, list) or not isinstance(ambiti, list):
            raise Unauthorized(
                "Token non valido: roles e ambiti devono essere liste",
                "Invalid token: roles and ambiti must be lists",
            )
        return Principal(
            sub=str(claims["sub"]),
            roles=frozenset(str(r) for r in roles),
            ambiti=frozenset(str(a) for a in ambiti),
            claims=claims,
        )


_bearer = HTTPBearer(auto_error=False, description="JWT bearer token (OAuth2)")


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    if verifier is None:
        verifier = TokenVerifier(common_settings())
        request.app.state.token_verifier = verifier
    return verifier


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "Serve un token Bearer nell'intestazione Authorization",
            "A Bearer token is required in the Authorization header",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = _verifier(request).verify(credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency: the caller must hold one of ``roles`` (platform_admin always may)."""
    allowed = frozenset(roles) | {Role.platform_admin.value}

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(allowed):
            raise Forbidden(
                "Il tuo ruolo non consente questa operazione",
                "Your role does not allow this operation",
            )
        return principal

    return dependency
