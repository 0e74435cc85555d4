"""Passkeys (WebAuthn, py_webauthn): invitations, registration, login, several passkeys, revocation."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from exchange.errors import BadRequest, Conflict, NotFound
from exchange.identity import events
from exchange.identity.models import Invitation, Passkey, Person, WebAuthnChallenge
from exchange.identity.sessions import SessionService
from exchange.services.orgs import ROLES
from exchange.store.db import Database
from exchange.store.models import Organisation
from exchange.timestamps import now_micros

CHALLENGE_US = 5 * 60 * 1_000_000


class PasskeyRefused(Exception):
    """A WebAuthn response that does not pass; `reason` is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LoggedIn:
    """The outcome of a registration or login: the person and a fresh session id for the cookie."""

    person_id: str
    username: str
    session_id: str


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _digest(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


class PasskeyService:
    """The passkey ceremonies of the portal, bound to one relying party and its allowed origins."""

    def __init__(self, db: Database, sessions: SessionService, *, rp_id: str, rp_name: str, origins: list[str],
                 invitation_hours: int) -> None:
        self.db = db
        self.sessions = sessions
        self.rp_id = rp_id
        self.rp_name = rp_name
        self.origins = origins
        self.invitation_us = invitation_hours * 3600 * 1_000_000

    # --- invitations -------------------------------------------------------------------------------------

    def invite(self, *, organisation: str, username: str, display_name: str, roles: list[str],
               actor: str) -> tuple[Invitation, str]:
        """An invitation for a new person; returns it and its one-time token (only a hash is stored)."""
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise BadRequest(f"unknown roles {unknown}; known roles: {', '.join(ROLES)}")
        if not username or len(username) > 200:
            raise BadRequest("username must be 1 to 200 characters")
        token = secrets.token_urlsafe(32)
        now = now_micros()
        with self.db.write() as s:
            org = s.execute(select(Organisation).where(
                (Organisation.name == organisation) | (Organisation.id == organisation))).scalar_one_or_none()
            if org is None:
                raise NotFound(f"no organisation {organisation!r}")
            if s.execute(select(Person.id).where(Person.username == username)).first():
                raise Conflict(f"a person {username!r} already exists")
            inv = Invitation(id=str(uuid.uuid4()), token_hash=_digest(token), org_id=org.id, username=username,
                             display_name=display_name or username, roles=sorted(set(roles)), created_by=actor,
                             created_at=now, expires_at=now + self.invitation_us, used_at=None)
            s.add(inv)
            events.add(s, kind="invitation.created", org_id=org.id, actor=actor, subject=f"person:{username}",
                       roles=inv.roles)
        return inv, token

    def invitation(self, token: str) -> Invitation:
        """An open invitation by its token; NotFound when unknown, used or expired."""
        with self.db.read() as s:
            inv = s.execute(select(Invitation).where(Invitation.token_hash == _digest(token))).scalar_one_or_none()
        if inv is None or inv.used_at is not None or inv.expires_at <= now_micros():
            raise NotFound("this invitation is unknown, already used or expired")
        return inv

    # --- registration ------------------------------------------------------------------------------------

    def registration_options(self, *, invitation_token: str | None = None, person_id: str | None = None) -> str:
        """Options for navigator.credentials.create(), for an invitee or a logged-in person adding a passkey."""
        exclude: list[PublicKeyCredentialDescriptor] = []
        if invitation_token is not None:
            inv = self.invitation(invitation_token)
            user_id, name, display, inv_id = _invitee_handle(inv.id), inv.username, inv.display_name, inv.id
        else:
            with self.db.read() as s:
                person = s.get(Person, person_id)
                if person is None:
                    raise NotFound("no such person")
                keys = s.execute(select(Passkey.credential_id).where(Passkey.person_id == person.id,
                                                                     Passkey.revoked_at.is_(None))).scalars()
                exclude = [PublicKeyCredentialDescriptor(id=unb64url(k)) for k in keys]
            user_id, name, display, inv_id = unb64url(person.user_handle), person.username, person.display_name, None
        options = generate_registration_options(
            rp_id=self.rp_id, rp_name=self.rp_name, user_id=user_id, user_name=name, user_display_name=display,
            exclude_credentials=exclude,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED),
        )
        self._store_challenge(options.challenge, "register", invitation_id=inv_id, person_id=person_id)
        return options_to_json(options)

    def register(self, credential: dict[str, Any], *, invitation_token: str | None = None,
                 person_id: str | None = None, name: str = "passkey", ip: str | None = None) -> LoggedIn | None:
        """Verify a new passkey; an invitee becomes a person with a session, a logged-in person gains a key."""
        challenge = self._consume_challenge(credential, "register")
        try:
            verified = verify_registration_response(
                credential=credential, expected_challenge=challenge.raw, expected_rp_id=self.rp_id,
                expected_origin=self.origins, require_user_verification=True)
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            raise PasskeyRefused(f"registration rejected: {str(exc)[:120]}") from None
        now = now_micros()
        with self.db.write() as s:
            if invitation_token is not None:
                inv = s.execute(select(Invitation).where(Invitation.token_hash == _digest(invitation_token))
                                .with_for_update()).scalar_one_or_none()
                if inv is None or inv.used_at is not None or inv.expires_at <= now or inv.id != challenge.invitation_id:
                    raise PasskeyRefused("invitation unknown, used, expired or not the one of this challenge")
                if s.execute(select(Person.id).where(Person.username == inv.username)).first():
                    raise PasskeyRefused("the invited person already exists")
                person = Person(id=str(uuid.uuid4()), org_id=inv.org_id, username=inv.username,
                                display_name=inv.display_name, roles=inv.roles, user_handle=b64url(
                                    _invitee_handle(inv.id)), active=True, created_at=now)
                s.add(person)
                inv.used_at = now
                events.add(s, kind="person.created", org_id=person.org_id, actor=f"invitation:{inv.id}",
                           subject=f"person:{person.username}", ip=ip, roles=person.roles)
            else:
                existing = s.get(Person, person_id)
                if existing is None or existing.id != challenge.person_id or not existing.active:
                    raise PasskeyRefused("this challenge was issued to someone else")
                person = existing
            credential_id = b64url(verified.credential_id)
            if s.get(Passkey, credential_id) is not None:
                raise PasskeyRefused("this passkey is already registered")
            s.add(Passkey(credential_id=credential_id, person_id=person.id,
                          public_key=b64url(verified.credential_public_key), sign_count=verified.sign_count,
                          transports=list(credential.get("response", {}).get("transports") or [])[:8],
                          name=(name or "passkey")[:120], created_at=now, last_used_at=None, revoked_at=None))
            events.add(s, kind="passkey.registered", org_id=person.org_id, actor=f"person:{person.username}",
                       subject=credential_id[:200], ip=ip)
            if invitation_token is None:
                return None
            session_id = self.sessions.create(s, person, ip=ip)
            return LoggedIn(person.id, person.username, session_id)

    # --- login -------------------------------------------------------------------------------------------

    def login_options(self) -> str:
        """Options for navigator.credentials.get() with discoverable credentials (no username asked)."""
        options = generate_authentication_options(rp_id=self.rp_id,
                                                  user_verification=UserVerificationRequirement.REQUIRED)
        self._store_challenge(options.challenge, "login")
        return options_to_json(options)

    def login(self, credential: dict[str, Any], *, ip: str | None = None) -> LoggedIn:
        """Verify an assertion and open a fresh session (a session id is never reused: no fixation)."""
        challenge = self._consume_challenge(credential, "login")
        credential_id = str(credential.get("id", ""))
        with self.db.read() as s:
            row = s.execute(select(Passkey, Person).join(Person, Person.id == Passkey.person_id)
                            .where(Passkey.credential_id == credential_id)).first()
        if row is None:
            raise PasskeyRefused("unknown passkey")
        key, person = row
        if key.revoked_at is not None or not person.active:
            raise PasskeyRefused("revoked passkey or disabled person")
        try:
            verified = verify_authentication_response(
                credential=credential, expected_challenge=challenge.raw, expected_rp_id=self.rp_id,
                expected_origin=self.origins, credential_public_key=unb64url(key.public_key),
                credential_current_sign_count=key.sign_count, require_user_verification=True)
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            raise PasskeyRefused(f"assertion rejected: {str(exc)[:120]}") from None
        with self.db.write() as s:
            stored = s.get(Passkey, credential_id)
            person_row = s.get(Person, person.id)
            assert stored is not None and person_row is not None
            if verified.new_sign_count and verified.new_sign_count <= stored.sign_count:
                raise PasskeyRefused("sign count did not increase (a concurrent login or a cloned key)")
            stored.sign_count, stored.last_used_at = verified.new_sign_count, now_micros()
            session_id = self.sessions.create(s, person_row, ip=ip)
        return LoggedIn(person.id, person.username, session_id)

    # --- managing passkeys ---------------------------------------------------------------------------------

    def passkeys(self, person_id: str) -> list[Passkey]:
        """A person's passkeys, newest first (revoked ones included)."""
        with self.db.read() as s:
            return list(s.execute(select(Passkey).where(Passkey.person_id == person_id)
                                  .order_by(Passkey.created_at.desc())).scalars())

    def revoke(self, person_id: str, credential_id: str, *, actor: str, ip: str | None = None) -> None:
        """Revoke one of a person's passkeys."""
        with self.db.write() as s:
            key = s.get(Passkey, credential_id)
            if key is None or key.person_id != person_id:
                raise NotFound("no such passkey")
            if key.revoked_at is None:
                key.revoked_at = now_micros()
                events.add(s, kind="passkey.revoked", actor=actor, subject=credential_id[:200], ip=ip)

    # --- challenges ----------------------------------------------------------------------------------------

    def _store_challenge(self, challenge: bytes, purpose: str, *, invitation_id: str | None = None,
                         person_id: str | None = None) -> None:
        now = now_micros()
        with self.db.write() as s:
            s.add(WebAuthnChallenge(challenge_hash=_digest(challenge), purpose=purpose, invitation_id=invitation_id,
                                    person_id=person_id, expires_at=now + CHALLENGE_US))
            # Old unused challenges go with each new one, so the table stays small.
            s.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at < now))

    def _consume_challenge(self, credential: dict[str, Any], purpose: str) -> _Challenge:
        try:
            client_data = json.loads(unb64url(credential["response"]["clientDataJSON"]))
            raw = unb64url(client_data["challenge"])
        except (KeyError, TypeError, ValueError):
            raise PasskeyRefused("malformed clientDataJSON") from None
        with self.db.write() as s:
            row = s.get(WebAuthnChallenge, _digest(raw))
            if row is None or row.purpose != purpose or row.expires_at <= now_micros():
                raise PasskeyRefused("unknown, expired or already used challenge (replay?)")
            found = _Challenge(raw, row.invitation_id, row.person_id)
            _delete(s, row)
        return found


@dataclass(frozen=True)
class _Challenge:
    raw: bytes
    invitation_id: str | None
    person_id: str | None


def _delete(session: Session, row: WebAuthnChallenge) -> None:
    session.delete(row)


def _invitee_handle(invitation_id: str) -> bytes:
    return hashlib.sha256(b"popart-user\x00" + invitation_id.encode()).digest()[:32]
