"""The revocation list: revoked token ids, kept in memory and refreshed from the database every few seconds."""

from __future__ import annotations

import threading
import time

from sqlalchemy import delete, select

from exchange.identity import events
from exchange.identity.models import RevokedToken
from exchange.store.db import Database
from exchange.timestamps import now_micros


class RevocationList:
    """Revoked jti values; a revocation made in this process applies at once, in others within `refresh_s`."""

    def __init__(self, db: Database, *, refresh_s: float) -> None:
        self.db = db
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._revoked: dict[str, int] = {}
        self._since = -1
        self._checked = -1e9

    def is_revoked(self, jti: str) -> bool:
        """True when this token id has been revoked."""
        if time.monotonic() - self._checked > self.refresh_s:
            self._refresh()
        return jti in self._revoked

    def revoke(self, jti: str, *, expires_at: int, reason: str, actor: str, org_id: str | None = None) -> bool:
        """Revoke a token id until `expires_at` (µs); False when it was already revoked."""
        now = now_micros()
        with self.db.write() as session:
            if session.get(RevokedToken, jti) is not None:
                return False
            session.add(RevokedToken(jti=jti, expires_at=expires_at, revoked_at=now, reason=reason[:200]))
            session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
            events.add(session, kind="token.revoked", actor=actor, subject=jti, org_id=org_id, reason=reason)
        with self._lock:
            self._revoked[jti] = expires_at
        return True

    def refresh(self) -> None:
        """Read revocations made by other processes now."""
        self._refresh()

    def _refresh(self) -> None:
        with self.db.read() as session:
            rows = session.execute(select(RevokedToken.jti, RevokedToken.expires_at, RevokedToken.revoked_at)
                                   .where(RevokedToken.revoked_at >= self._since)).all()
        now = now_micros()
        with self._lock:
            for jti, expires_at, revoked_at in rows:
                self._revoked[jti] = expires_at
                self._since = max(self._since, revoked_at)
            if len(self._revoked) > 1000:
                self._revoked = {j: e for j, e in self._revoked.items() if e > now}
            self._checked = time.monotonic()
