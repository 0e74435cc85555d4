"""HTTP Basic for API clients (TAXII 2.1 requires it); verified hashes are cached briefly."""

from __future__ import annotations

import base64
import hashlib
import threading
import time

from sqlalchemy import select

from exchange.auth.caller import Caller
from exchange.auth.secrets import verify_secret
from exchange.store.db import Database
from exchange.store.models import ApiClient, Organisation

CACHE_SECONDS = 30.0


class BasicAuthenticator:
    """Checks `Authorization: Basic` against hashed API client secrets."""

    def __init__(self, db: Database, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self.db = db
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[str, bytes], tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def authenticate(self, header: str) -> Caller | None:
        """The caller for a Basic header, or None when the credentials are wrong."""
        try:
            decoded = base64.b64decode(header, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        if not sep or not client_id or not secret:
            return None
        # scrypt costs ~50 ms: remember a verified pair for a short while, keyed by a digest (never the secret).
        key = (client_id, hashlib.sha256(secret.encode()).digest())
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit and hit[0] > now:
            return hit[1]
        caller = self._verify(client_id, secret)
        if caller is not None:
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[key] = (now + self.cache_seconds, caller)
        return caller

    def forget(self) -> None:
        """Drop every cached verification (after a client is disabled or its secret rotated)."""
        with self._lock:
            self._cache.clear()

    def _verify(self, client_id: str, secret: str) -> Caller | None:
        with self.db.read() as session:
            row = session.execute(
                select(ApiClient, Organisation)
                .join(Organisation, Organisation.id == ApiClient.org_id)
                .where(ApiClient.client_id == client_id)
            ).first()
        if row is None:
            # Spend the same time as a real check so timing does not reveal which client ids exist.
            verify_secret(secret, _DUMMY_HASH)
            return None
        client, org = row
        if not verify_secret(secret, client.secret_hash) or not client.active:
            return None
        return Caller(
            org_id=org.id,
            org_name=org.name,
            org_type=org.type,
            subject=f"client:{client.client_id}",
            auth_method="basic",
            roles=frozenset(client.roles),
            country=org.country,
            area=org.area,
        )


_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
