"""Trusted OIDC issuers: discovery and JWKS fetched, cached and refreshed; claims mapped to org and roles."""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from jose import jwk
from jose.backends.base import Key

from exchange.auth.caller import Caller
from exchange.identity.config import TrustedIssuer
from exchange.identity.directory import Directory
from exchange.identity.tokens import TokenRefused, decode, unverified_header
from exchange.services.orgs import ROLES

log = logging.getLogger(__name__)


@dataclass
class _Cached:
    keys: dict[str, tuple[str | None, Key]] = field(default_factory=dict)
    fetched_at: float = -1e9
    tried_at: float = -1e9


class Federation:
    """Verifies access tokens of the configured trusted issuers and maps them to Callers."""

    def __init__(self, issuers: list[TrustedIssuer], directory: Directory, *, timeout_s: float = 5.0) -> None:
        self.issuers = {i.issuer.rstrip("/"): i for i in issuers}
        self.directory = directory
        self.timeout_s = timeout_s
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def trusts(self, issuer: str) -> bool:
        """True when tokens of this issuer are accepted."""
        return issuer.rstrip("/") in self.issuers

    def verify(self, token: str, issuer: str) -> Caller:
        """The caller behind a token of a trusted issuer; TokenRefused otherwise."""
        conf = self.issuers.get(issuer.rstrip("/"))
        if conf is None:
            raise TokenRefused("untrusted issuer")
        header = unverified_header(token)
        alg = header.get("alg")
        if alg not in conf.algorithms:
            raise TokenRefused(f"algorithm {str(alg)[:20]!r} is not accepted for this issuer")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("no key id (kid)")
        key_alg, key = self._key(conf, kid)
        if key_alg is not None and key_alg != alg:
            raise TokenRefused("algorithm does not match the key")
        claims = decode(token, key, algorithm=str(alg), audience=conf.audience, issuer=conf.issuer)
        return self._caller(conf, claims)

    def _key(self, conf: TrustedIssuer, kid: str) -> tuple[str | None, Key]:
        cached = self._cache.setdefault(conf.issuer, _Cached())
        now = time.monotonic()
        if now - cached.fetched_at > conf.jwks_cache_seconds or (
                kid not in cached.keys and now - cached.tried_at >= conf.jwks_miss_refresh_seconds):
            self._fetch(conf, cached)
        found = cached.keys.get(kid)
        if found is None:
            raise TokenRefused("unknown key id for this issuer")
        return found

    def _fetch(self, conf: TrustedIssuer, cached: _Cached) -> None:
        cached.tried_at = time.monotonic()
        discovery_url = conf.discovery_url or f"{conf.issuer.rstrip('/')}/.well-known/openid-configuration"
        try:
            with httpx.Client(timeout=self.timeout_s, follow_redirects=False) as client:
                meta = _get_json(client, discovery_url)
                if str(meta.get("issuer", "")).rstrip("/") != conf.issuer.rstrip("/"):
                    raise ValueError("discovery document names another issuer")
                jwks = _get_json(client, str(meta.get("jwks_uri", "")))
        except (httpx.HTTPError, ValueError) as exc:
            # Keep serving the keys we have: an IdP outage must not lock its users out at once.
            log.warning("could not refresh the keys of issuer %s: %s", conf.issuer, exc)
            return
        keys: dict[str, tuple[str | None, Key]] = {}
        for item in jwks.get("keys", []):
            if not isinstance(item, dict) or item.get("use", "sig") != "sig" or not item.get("kid"):
                continue
            alg = item.get("alg")
            try:
                keys[str(item["kid"])] = (alg, jwk.construct(item, alg or _default_alg(item)))
            except Exception as exc:  # one unusable key must not hide the others
                log.warning("issuer %s: skipping key %s: %s", conf.issuer, item.get("kid"), exc)
        with self._lock:
            cached.keys, cached.fetched_at = keys, time.monotonic()

    def _caller(self, conf: TrustedIssuer, claims: dict[str, Any]) -> Caller:
        subject = claims.get(conf.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise TokenRefused(f"claim {conf.subject_claim} is missing")
        org_name = conf.organisation
        if org_name is None:
            value = claims.get(conf.organisation_claim or "")
            if not isinstance(value, str):
                raise TokenRefused(f"claim {conf.organisation_claim} is missing")
            org_name = conf.organisation_map.get(value) if conf.organisation_map else value
        org = self.directory.org(org_name) if org_name else None
        if org is None:
            raise TokenRefused("the token's organisation is not a member of this hub")
        raw = claims.get(conf.roles_claim, [])
        raw_roles = raw.split() if isinstance(raw, str) else [r for r in raw if isinstance(r, str)] \
            if isinstance(raw, list) else []
        roles = {conf.roles_map[r] for r in raw_roles if r in conf.roles_map} if conf.roles_map else \
            {r for r in raw_roles if r in ROLES}
        host = urlsplit(conf.issuer).hostname or conf.issuer
        return Caller(org_id=org.id, org_name=org.name, org_type=org.type, subject=f"oidc:{subject}@{host}"[:200],
                      auth_method="oidc", roles=frozenset(roles), country=org.country, area=org.area)


def _get_json(client: httpx.Client, url: str) -> dict[str, Any]:
    _check_url(url)
    response = client.get(url, headers={"Accept": "application/json"})
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError(f"{url}: expected a JSON object")
    return body


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback:
        raise ValueError(f"{url!r}: issuer metadata must be fetched over https")


def _default_alg(item: dict[str, Any]) -> str:
    return {"RSA": "RS256", "EC": "ES256"}.get(str(item.get("kty")), "RS256")
