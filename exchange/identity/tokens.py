"""RFC 9068 JWT access tokens: issued by the hub, verified with pinned algorithm, audience and issuer."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Any

from jose import JWTError, jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError

from exchange.identity.keys import CLOCK_SKEW_SECONDS, KeyRing
from exchange.identity.revocation import RevocationList

TOKEN_TYPE = "at+jwt"
CNF_THUMBPRINT = "x5t#S256"


class TokenRefused(Exception):
    """A token that does not pass; `reason` says why (safe to log: it never contains the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuedToken:
    """An access token and the claims inside it."""

    access_token: str
    claims: dict[str, Any]
    expires_in: int


class TokenService:
    """Issues and verifies the hub's own access tokens."""

    def __init__(self, keys: KeyRing, revocations: RevocationList, *, issuer: str, audience: str,
                 lifetime_s: int) -> None:
        self.keys = keys
        self.revocations = revocations
        self.issuer = issuer
        self.audience = audience
        self.lifetime_s = lifetime_s
        # Signature and claims checks of a token are done once per process; a cached token is still checked
        # against the published keys, the revocation list and its certificate binding on every request.
        self._verified: dict[bytes, tuple[str, dict[str, Any]]] = {}

    def issue(self, *, client_id: str, org_id: str, roles: list[str], scope: str | None,
              cert_thumbprint: str | None = None) -> IssuedToken:
        """Sign a token for an API client; bound to its certificate when a thumbprint is given (RFC 8705)."""
        key = self.keys.active()
        assert key.private_pem is not None
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": f"client:{client_id}", "aud": self.audience, "client_id": client_id,
            "iat": now, "nbf": now, "exp": now + self.lifetime_s, "jti": uuid.uuid4().hex,
            "org": org_id, "roles": sorted(roles),
        }
        if scope:
            claims["scope"] = scope
        if cert_thumbprint:
            claims["cnf"] = {CNF_THUMBPRINT: cert_thumbprint}
        token = jwt.encode(claims, key.private_pem, algorithm=key.algorithm,
                           headers={"kid": key.kid, "typ": TOKEN_TYPE})
        return IssuedToken(token, claims, self.lifetime_s)

    def verify(self, token: str, *, cert_thumbprint: str | None) -> dict[str, Any]:
        """The claims of a valid, unrevoked token presented with its bound certificate; TokenRefused otherwise."""
        digest = hashlib.sha256(token.encode()).digest()
        hit = self._verified.get(digest)
        if hit is not None and hit[1]["exp"] > time.time() - CLOCK_SKEW_SECONDS:
            kid, claims = hit
            if self.keys.verifier(kid) is None:
                raise TokenRefused("unknown or expired key id")
        else:
            kid, claims = self._verify_signed(token)
            if len(self._verified) > 10_000:
                self._verified = {}
            self._verified[digest] = (kid, claims)
        if self.revocations.is_revoked(claims["jti"]):
            raise TokenRefused("token revoked")
        check_binding(claims, cert_thumbprint)
        return claims

    def _verify_signed(self, token: str) -> tuple[str, dict[str, Any]]:
        header = unverified_header(token)
        alg = header.get("alg")
        if alg != self.keys.algorithm:
            raise TokenRefused(f"algorithm {str(alg)[:20]!r} is not accepted")
        if str(header.get("typ", "")).lower() not in (TOKEN_TYPE, "application/at+jwt"):
            raise TokenRefused("not an access token (typ must be at+jwt)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("no key id (kid)")
        key = self.keys.verifier(kid)
        if key is None:
            raise TokenRefused("unknown or expired key id")
        claims = decode(token, key.verifier, algorithm=key.algorithm, audience=self.audience, issuer=self.issuer)
        for name in ("jti", "sub", "org", "client_id"):
            if not isinstance(claims.get(name), str):
                raise TokenRefused(f"claim {name} is missing")
        if not isinstance(claims.get("exp"), int):
            raise TokenRefused("claim exp is missing")
        return kid, claims


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, read before any check (only to choose the key)."""
    try:
        header: dict[str, Any] = jwt.get_unverified_header(token)
    except JWTError:
        raise TokenRefused("malformed token") from None
    return header


def decode(token: str, key: Any, *, algorithm: str, audience: str, issuer: str) -> dict[str, Any]:
    """Verify signature and claims with exactly one algorithm, the audience and the issuer."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[algorithm], audience=audience, issuer=issuer,
            options={"require_exp": True, "require_iat": True, "require_aud": True, "require_iss": True,
                     "require_sub": True, "leeway": CLOCK_SKEW_SECONDS},
        )
    except ExpiredSignatureError:
        raise TokenRefused("token expired") from None
    except JWTClaimsError as exc:
        raise TokenRefused(f"claims rejected: {str(exc)[:80]}") from None
    except JWTError as exc:
        raise TokenRefused(f"signature or format rejected: {str(exc)[:80]}") from None
    return claims


def check_binding(claims: dict[str, Any], cert_thumbprint: str | None) -> None:
    """Refuse a certificate-bound token presented without its certificate (RFC 8705 §3)."""
    cnf = claims.get("cnf")
    if cnf is None:
        return
    bound = cnf.get(CNF_THUMBPRINT) if isinstance(cnf, dict) else None
    if not isinstance(bound, str):
        raise TokenRefused("unsupported confirmation (cnf) claim")
    if cert_thumbprint is None:
        raise TokenRefused("certificate-bound token presented without a client certificate")
    if not hmac.compare_digest(bound.encode(), cert_thumbprint.encode()):
        raise TokenRefused("certificate-bound token presented with another certificate")
