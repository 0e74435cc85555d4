"""The identity of one hub process: every way in, wired once, behind `authenticate(request)`."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from jose import JWTError, jwt
from starlette.requests import Request

from exchange.auth.caller import Caller
from exchange.errors import TooManyRequests, Unauthenticated
from exchange.identity import events
from exchange.identity.directory import Directory
from exchange.identity.federation import Federation
from exchange.identity.keys import KeyRing
from exchange.identity.mtls import CertificateMap, peer_certificate
from exchange.identity.oauth import HubAuthorizationServer
from exchange.identity.passkeys import PasskeyService
from exchange.identity.ratelimit import AttemptLimiter
from exchange.identity.revocation import RevocationList
from exchange.identity.sessions import CSRF_HEADER, SessionService
from exchange.identity.tokens import TokenRefused, TokenService
from exchange.store.db import Database

if TYPE_CHECKING:
    from exchange.config import Settings
    from exchange.hub import Hub

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Identity:
    """Tokens, federation, certificates, passkeys, sessions and the attempt limiter of a hub."""

    def __init__(self, settings: Settings, db: Database) -> None:
        conf = settings.identity
        secret = settings.secret_key.get_secret_value().encode()
        self.settings = settings
        self.conf = conf
        self.db = db
        self.base_url = settings.public_url or f"http://{settings.host}:{settings.port}"
        self.issuer = (conf.issuer or self.base_url).rstrip("/")
        lifetime_s = conf.token_lifetime_minutes * 60
        self.directory = Directory(db)
        self.keys = KeyRing(db, secret=secret, algorithm=conf.signing_algorithm, token_lifetime_s=lifetime_s,
                            cache_seconds=conf.key_cache_seconds)
        self.revocations = RevocationList(db, refresh_s=conf.revocation_refresh_seconds)
        self.tokens = TokenService(self.keys, self.revocations, issuer=self.issuer, audience=conf.audience,
                                   lifetime_s=lifetime_s)
        self.federation = Federation(conf.trusted_issuers, self.directory)
        self.certificates = CertificateMap(conf.client_certificates)
        self.authorization = HubAuthorizationServer(self.directory, self.tokens, self.certificates,
                                                    bind_to_certificates=conf.bind_tokens_to_certificates)
        self.limiter = AttemptLimiter(max_failures=conf.lockout_failures, lockout_s=conf.lockout_minutes * 60,
                                      ip_per_minute=conf.ip_failures_per_minute)
        self.sessions = SessionService(db, secret=secret, idle_s=conf.session_idle_minutes * 60,
                                       absolute_s=conf.session_absolute_hours * 3600,
                                       secure=conf.session_cookie_secure)
        origins = conf.webauthn_origins or [self.base_url]
        rp_id = conf.webauthn_rp_id or urlsplit(origins[0]).hostname or "localhost"
        self.passkeys = PasskeyService(db, self.sessions, rp_id=rp_id, rp_name=conf.webauthn_rp_name,
                                       origins=[o.rstrip("/") for o in origins], invitation_hours=conf.invitation_hours)

    # --- the authenticator registered in Hub.authenticators ------------------------------------------------

    def authenticate(self, request: Request) -> Caller | None:
        """Bearer token, portal session or client certificate → Caller; None when none is presented."""
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            return self._bearer(request, credentials.strip())
        if header:
            return None
        raw = request.cookies.get(self.sessions.cookie_name)
        if raw:
            return self._session(request, raw)
        return self._certificate(request)

    def _bearer(self, request: Request, token: str) -> Caller:
        cert = peer_certificate(request)
        try:
            try:
                issuer = str(jwt.get_unverified_claims(token).get("iss", ""))
            except JWTError:
                raise TokenRefused("malformed token") from None
            if issuer == self.issuer:
                claims = self.tokens.verify(token, cert_thumbprint=cert.thumbprint if cert else None)
                client = self.directory.client(claims["client_id"])
                org = self.directory.org(claims["org"])
                if client is None or not client.active or org is None or client.org_id != org.id:
                    raise TokenRefused("client disabled or moved")
                roles = frozenset(r for r in claims.get("roles", []) if r in client.roles)
                return Caller(org_id=org.id, org_name=org.name, org_type=org.type, subject=claims["sub"],
                              auth_method="bearer", roles=roles, country=org.country, area=org.area)
            if self.federation.trusts(issuer):
                return self.federation.verify(token, issuer)
            raise TokenRefused("untrusted issuer")
        except TokenRefused as exc:
            events.refused(self.db, "bearer.refused", exc.reason, ip=client_ip(request))
            raise Unauthenticated("the access token is not valid") from None

    def _session(self, request: Request, raw: str) -> Caller:
        active = self.sessions.find(raw)
        if active is None:
            events.refused(self.db, "session.refused", "unknown, ended or expired session", ip=client_ip(request))
            raise Unauthenticated("the session has ended: log in again")
        if request.method not in SAFE_METHODS and not self.sessions.csrf_ok(raw, request.headers.get(CSRF_HEADER)):
            events.refused(self.db, "csrf.refused", "missing or wrong CSRF token", ip=client_ip(request),
                           subject=f"person:{active.username}")
            raise Unauthenticated("missing or wrong CSRF token")
        org = self.directory.org(active.org_id)
        if org is None:
            raise Unauthenticated("the session's organisation no longer exists")
        return Caller(org_id=org.id, org_name=org.name, org_type=org.type, subject=f"person:{active.username}",
                      auth_method="passkey", roles=frozenset(active.roles), country=org.country, area=org.area)

    def _certificate(self, request: Request) -> Caller | None:
        cert = peer_certificate(request)
        if cert is None:
            return None
        client_id = self.certificates.client_id(cert)
        client = self.directory.client(client_id) if client_id else None
        org = self.directory.org(client.org_id) if client is not None else None
        if client is None or not client.active or org is None:
            events.refused(self.db, "certificate.refused", "certificate not mapped to an active client",
                           ip=client_ip(request), subject=cert.subject[:200])
            return None
        return Caller(org_id=org.id, org_name=org.name, org_type=org.type, subject=f"client:{client.client_id}",
                      auth_method="mtls", roles=frozenset(client.roles), country=org.country, area=org.area)

    # --- hooks around every authentication (exchange.deps.get_caller) --------------------------------------

    def before(self, request: Request) -> None:
        """Turn away a locked account or an address with too many recent failures."""
        wait = self.limiter.retry_after(ip=client_ip(request), account=basic_account(request))
        if wait > 0:
            events.log.warning("throttled authentication from %s", client_ip(request))
            raise TooManyRequests(f"too many failed attempts: retry in {int(wait) + 1} s",
                                  details={"retry_after": int(wait) + 1})

    def failed(self, request: Request) -> None:
        """Count a failed attempt (and record it when it was an HTTP Basic one)."""
        if not request.headers.get("authorization") and not request.cookies.get(self.sessions.cookie_name):
            return
        account = basic_account(request)
        locked = self.limiter.failed(ip=client_ip(request), account=account)
        if account is not None:
            events.refused(self.db, "basic.refused", "wrong client id or secret", ip=client_ip(request),
                           subject=f"client:{account}"[:200], locked=locked)

    def admit(self, request: Request, caller: Caller) -> None:
        """Enforce the API roots that need a client certificate, whatever credential the caller used."""
        self.limiter.succeeded(account=basic_account(request))
        root = request.path_params.get("api_root")
        if root is None or root not in self.conf.client_certificate_required_roots:
            return
        cert = peer_certificate(request)
        mapped = self.certificates.client_id(cert) if cert else None
        if cert is None or (caller.subject.startswith("client:") and mapped != caller.subject[len("client:"):]):
            events.refused(self.db, "certificate.required", f"API root {root} needs the caller's certificate",
                           ip=client_ip(request), subject=caller.subject)
            raise Unauthenticated(f"the API root {root} requires a client certificate")


def client_ip(request: Request) -> str | None:
    """The peer address of a request."""
    return request.client.host if request.client else None


def basic_account(request: Request) -> str | None:
    """The client id of an HTTP Basic header (the account lockout counts against), if any."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(value.strip(), validate=True).decode().partition(":")[0][:120] or None
    except (ValueError, UnicodeDecodeError):
        return None


def install(hub: Hub) -> Identity:
    """Wire identity into a hub: the authenticator, the attempt guard and the services for the routers."""
    identity = Identity(hub.settings, hub.db)
    hub.authenticators.append(identity.authenticate)
    hub.extras["identity"] = identity
    hub.extras["auth_guard"] = identity
    return identity
