"""Portal sessions: random ids in secure cookies (hashes at rest), CSRF tokens, idle and absolute timeouts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exchange.identity import events
from exchange.identity.models import Person, WebSession
from exchange.store.db import Database
from exchange.timestamps import now_micros

CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_TOUCH_EVERY_US = 60 * 1_000_000


@dataclass(frozen=True)
class ActiveSession:
    """A valid session and its person."""

    id_hash: str
    person_id: str
    org_id: str
    username: str
    display_name: str
    roles: tuple[str, ...]


def hash_id(raw: str) -> str:
    """The stored form of a session id."""
    return hashlib.sha256(raw.encode()).hexdigest()


class SessionService:
    """Creates, finds and ends portal sessions."""

    def __init__(self, db: Database, *, secret: bytes, idle_s: int, absolute_s: int, secure: bool) -> None:
        self.db = db
        self._csrf_key = hashlib.sha256(b"popart-csrf\x00" + secret).digest()
        self.idle_us = idle_s * 1_000_000
        self.absolute_us = absolute_s * 1_000_000
        self.secure = secure
        self.cookie_name = "__Host-popart_session" if secure else "popart_session"

    def create(self, session: Session, person: Person, *, ip: str | None) -> str:
        """Open a session for `person` in the caller's transaction; returns the cookie value (a fresh id)."""
        raw = secrets.token_urlsafe(32)
        now = now_micros()
        session.add(WebSession(id_hash=hash_id(raw), person_id=person.id, created_at=now, last_seen_at=now,
                               expires_at=now + self.absolute_us, revoked_at=None))
        events.add(session, kind="session.created", org_id=person.org_id, actor=f"person:{person.username}",
                   subject=f"person:{person.username}", ip=ip)
        return raw

    def find(self, raw: str | None) -> ActiveSession | None:
        """The session behind a cookie value, unless unknown, revoked, idle too long or past its lifetime."""
        if not raw or len(raw) > 100:
            return None
        id_hash = hash_id(raw)
        now = now_micros()
        with self.db.read() as s:
            row = s.execute(select(WebSession, Person).join(Person, Person.id == WebSession.person_id)
                            .where(WebSession.id_hash == id_hash)).first()
        if row is None:
            return None
        ws, person = row
        if ws.revoked_at is not None or ws.expires_at <= now or ws.last_seen_at + self.idle_us <= now \
                or not person.active:
            return None
        if now - ws.last_seen_at > _TOUCH_EVERY_US:
            with self.db.write() as s:
                s.execute(update(WebSession).where(WebSession.id_hash == id_hash).values(last_seen_at=now))
        return ActiveSession(id_hash, person.id, person.org_id, person.username, person.display_name,
                             tuple(person.roles))

    def end(self, raw: str, *, ip: str | None) -> None:
        """Log out of one session."""
        with self.db.write() as s:
            ws = s.get(WebSession, hash_id(raw))
            if ws is not None and ws.revoked_at is None:
                ws.revoked_at = now_micros()
                events.add(s, kind="session.ended", subject=ws.person_id, ip=ip)

    def end_all(self, person_id: str, *, actor: str, ip: str | None) -> int:
        """Log a person out everywhere; returns how many sessions ended."""
        with self.db.write() as s:
            result = s.execute(update(WebSession).where(WebSession.person_id == person_id,
                                                        WebSession.revoked_at.is_(None))
                               .values(revoked_at=now_micros()))
            count = int(getattr(result, "rowcount", 0) or 0)
            events.add(s, kind="session.ended_everywhere", actor=actor, subject=person_id, ip=ip, sessions=count)
        return count

    def csrf_token(self, raw: str) -> str:
        """The CSRF token of a session (derived, so nothing more is stored)."""
        digest = hmac.new(self._csrf_key, raw.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def csrf_ok(self, raw: str, presented: str | None) -> bool:
        """True when `presented` is this session's CSRF token (constant-time)."""
        return bool(presented) and hmac.compare_digest(self.csrf_token(raw).encode(), str(presented).encode())
