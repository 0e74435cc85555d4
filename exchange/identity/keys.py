"""Token signing keys: created on first use, rotated on demand, published until their last token expires."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk
from jose.backends.base import Key
from sqlalchemy import select

from exchange.identity import events
from exchange.identity.models import SigningKey
from exchange.store.db import Database
from exchange.timestamps import now_micros

log = logging.getLogger(__name__)
CLOCK_SKEW_SECONDS = 60
_MISS_REFRESH_SECONDS = 1.0


@dataclass(frozen=True)
class LoadedKey:
    """A key as the process uses it: public JWK and verifier always, private PEM only for the active key."""

    kid: str
    algorithm: str
    public_jwk: dict[str, Any]
    verifier: Key
    private_pem: str | None
    expires_at: int | None


class KeyRing:
    """The hub's signing keys, cached in memory and re-read from the database every few seconds."""

    def __init__(self, db: Database, *, secret: bytes, algorithm: str, token_lifetime_s: int,
                 cache_seconds: float) -> None:
        self.db = db
        self._password = hashlib.sha256(b"popart-signing-keys\x00" + secret).digest()
        self.algorithm = algorithm
        self.token_lifetime_s = token_lifetime_s
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._keys: dict[str, LoadedKey] = {}
        self._active: str | None = None
        self._loaded_at = -1e9
        self._private_cache: dict[str, str] = {}

    def active(self) -> LoadedKey:
        """The key that signs new tokens (one is created when there is none)."""
        self._refresh_if_stale()
        if self._active is None:
            self._create()
            self._load()
        assert self._active is not None
        return self._keys[self._active]

    def verifier(self, kid: str) -> LoadedKey | None:
        """A published key by kid; an unknown kid re-reads the database at most once a second."""
        self._refresh_if_stale()
        key = self._keys.get(kid)
        if key is None and time.monotonic() - self._loaded_at > _MISS_REFRESH_SECONDS:
            self._load()
            key = self._keys.get(kid)
        if key is not None and key.expires_at is not None and key.expires_at <= now_micros():
            return None
        return key

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set: the active key and every retired key whose tokens may still be valid."""
        self.active()
        now = now_micros()
        return {"keys": [k.public_jwk for k in self._keys.values() if k.expires_at is None or k.expires_at > now]}

    def rotate(self, *, actor: str = "cli") -> str:
        """Retire the active key (still published until its tokens expire) and create a new one."""
        now = now_micros()
        until = now + (self.token_lifetime_s + CLOCK_SKEW_SECONDS) * 1_000_000
        with self.db.write() as session:
            for key in session.execute(select(SigningKey).where(SigningKey.retired_at.is_(None))).scalars():
                key.retired_at, key.expires_at = now, until
                events.add(session, kind="key.retired", actor=actor, subject=key.kid, published_until=until)
            kid = self._insert(session, actor)
        self._load()
        return kid

    def refresh(self) -> None:
        """Re-read the keys from the database now (after a change made by another process)."""
        self._load()

    def _refresh_if_stale(self) -> None:
        if time.monotonic() - self._loaded_at > self.cache_seconds:
            self._load()

    def _create(self) -> None:
        with self.db.write() as session:
            # Another process may have created one meanwhile: the write lock makes this check safe.
            if session.execute(select(SigningKey.kid).where(SigningKey.retired_at.is_(None))).first() is None:
                self._insert(session, "hub")

    def _insert(self, session: Any, actor: str) -> str:
        private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        if self.algorithm == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        else:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
        public = jwk.construct(public_pem.decode(), self.algorithm).to_dict()
        public = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in public.items()}
        kid = _thumbprint(public)
        public.update(kid=kid, use="sig", alg=self.algorithm)
        encrypted = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.BestAvailableEncryption(self._password))
        session.add(SigningKey(kid=kid, algorithm=self.algorithm, private_pem=encrypted.decode(), public_jwk=public,
                               created_at=now_micros(), retired_at=None, expires_at=None))
        events.add(session, kind="key.created", actor=actor, subject=kid, algorithm=self.algorithm)
        log.info("new token signing key %s (%s)", kid, self.algorithm)
        return kid

    def _load(self) -> None:
        with self.db.read() as session:
            rows = list(session.execute(select(SigningKey)).scalars())
        keys: dict[str, LoadedKey] = {}
        active: str | None = None
        for row in rows:
            private_pem = None
            if row.retired_at is None:
                active = row.kid
                private_pem = self._private_cache.get(row.kid) or self._decrypt(row.kid, row.private_pem)
            keys[row.kid] = LoadedKey(row.kid, row.algorithm, row.public_jwk,
                                      jwk.construct(row.public_jwk, row.algorithm), private_pem, row.expires_at)
        with self._lock:
            self._keys, self._active, self._loaded_at = keys, active, time.monotonic()

    def _decrypt(self, kid: str, pem: str) -> str:
        private = serialization.load_pem_private_key(pem.encode(), password=self._password)
        clear = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()
        self._private_cache = {**self._private_cache, kid: clear}
        return clear


def _thumbprint(public: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (base64url SHA-256 of the required members, sorted)."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}[public["kty"]]
    canonical = json.dumps({k: public[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
