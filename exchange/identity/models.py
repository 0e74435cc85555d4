"""Identity tables (on the hub's metadata): keys, revocations, people, passkeys, sessions, events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.store.models import Base, BigId


class SigningKey(Base):
    """A token signing key; the private half is stored encrypted with the hub's secret key."""

    __tablename__ = "identity_signing_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(10))
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[int] = mapped_column(BigInteger)
    # Set by rotation: the key stops signing, and stays published until its last token has expired.
    retired_at: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)


class RevokedToken(Base):
    """A token (by jti) refused before its expiry; the row can go once the token would have expired."""

    __tablename__ = "identity_revoked_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    revoked_at: Mapped[int] = mapped_column(BigInteger, index=True)
    reason: Mapped[str] = mapped_column(String(200))


class Person(Base):
    """A person of an organisation who logs into the portal with passkeys."""

    __tablename__ = "identity_people"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    user_handle: Mapped[str] = mapped_column(String(100), unique=True)  # WebAuthn user.id, base64url
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Passkey(Base):
    """One WebAuthn credential of a person."""

    __tablename__ = "identity_passkeys"
    credential_id: Mapped[str] = mapped_column(String(700), primary_key=True)  # base64url
    person_id: Mapped[str] = mapped_column(ForeignKey("identity_people.id", ondelete="CASCADE"), index=True)
    public_key: Mapped[str] = mapped_column(Text)  # COSE key, base64url
    sign_count: Mapped[int] = mapped_column(BigInteger)
    transports: Mapped[list[str]] = mapped_column(JSON)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class Invitation(Base):
    """A one-time link from an organisation administrator to register a person's first passkey."""

    __tablename__ = "identity_invitations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger)


class WebSession(Base):
    """A portal session; the cookie holds a random id, the table only its hash."""

    __tablename__ = "identity_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("identity_people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_seen_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class WebAuthnChallenge(Base):
    """A challenge handed to a browser; consumed by the first response that uses it (no replay)."""

    __tablename__ = "identity_challenges"
    challenge_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # register | login
    invitation_id: Mapped[str | None] = mapped_column(String(36))
    person_id: Mapped[str | None] = mapped_column(String(36))
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class IdentityEvent(Base):
    """Every identity change and every refused credential (folded into the audit log later)."""

    __tablename__ = "identity_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(10))  # ok | refused
    org_id: Mapped[str | None] = mapped_column(String(36))
    actor: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    __table_args__ = (Index("ix_identity_events_kind_at", "kind", "at"),)
