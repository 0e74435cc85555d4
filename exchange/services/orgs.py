"""Organisations and their API clients."""

from __future__ import annotations

import re
import uuid
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.audit.log import AuditEvent
from exchange.audit.log import append as audit_append
from exchange.auth.secrets import hash_secret, new_secret, verify_secret
from exchange.errors import BadRequest, Conflict, NotFound
from exchange.store.db import Database
from exchange.store.models import ApiClient, Organisation
from exchange.timestamps import now_micros

OrgType = Literal["national_police", "associated_lea", "local_authority", "hub_operator", "other"]
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,35}$")
ORG_TYPES: tuple[str, ...] = ("national_police", "associated_lea", "local_authority", "hub_operator", "other")
ROLES: tuple[str, ...] = ("analyst", "field_officer", "coordinator", "compliance", "admin", "producer")


def upsert_organisation(db: Database, *, name: str, type: str, country: str | None = None,
                        area: str | None = None, org_id: str | None = None) -> tuple[Organisation, bool]:
    """Create or update an organisation by name; returns it and whether anything changed.

    `org_id` (a slug such as `policia-nacional-es`) lets the sharing policy's data documents name the
    organisation; without it a UUID is assigned.
    """
    if org_id is not None and (not _SLUG.match(org_id) or org_id == "*"):
        raise BadRequest(f"organisation id {org_id!r}: use 1-36 characters of a-z, 0-9 and '-'")
    if type not in ORG_TYPES:
        raise BadRequest(f"organisation type {type!r} is not one of {', '.join(ORG_TYPES)}")
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise BadRequest(f"country {country!r} must be an ISO 3166-1 alpha-2 code")
    country = country.upper() if country else None
    with db.write() as session:
        org = session.execute(select(Organisation).where(Organisation.name == name)).scalar_one_or_none()
        if org is None:
            if org_id is not None and session.get(Organisation, org_id) is not None:
                raise Conflict(f"organisation id {org_id!r} is taken by another organisation")
            org = Organisation(id=org_id or str(uuid.uuid4()), name=name, type=type, country=country, area=area,
                               created_at=now_micros())
            session.add(org)
            _audit(session, "admin.organisation.create", org_id=org.id, name=name, type=type, country=country,
                   area=area)
            return org, True
        if org_id is not None and org.id != org_id:
            raise Conflict(f"organisation {name!r} exists with id {org.id!r}; ids cannot change")
        changed = (org.type, org.country, org.area) != (type, country, area)
        if changed:
            _audit(session, "admin.organisation.update", org_id=org.id, before=[org.type, org.country, org.area],
                   after=[type, country, area])
        org.type, org.country, org.area = type, country, area
        return org, changed


def get_all_organisations(db: Database) -> list[Organisation]:
    """Every organisation, by name."""
    with db.read() as session:
        return list(session.execute(select(Organisation).order_by(Organisation.name)).scalars())


def create_client(db: Database, *, organisation: str, client_id: str, name: str | None = None,
                  roles: list[str], secret: str | None = None) -> tuple[ApiClient, str]:
    """Register an API client; returns it and its secret (shown once, stored only as a hash)."""
    _check_roles(roles)
    secret = secret or new_secret()
    with db.write() as session:
        org = _org(session, organisation)
        if session.execute(select(ApiClient).where(ApiClient.client_id == client_id)).scalar_one_or_none():
            raise Conflict(f"an API client {client_id!r} already exists")
        client = ApiClient(id=str(uuid.uuid4()), org_id=org.id, client_id=client_id, name=name or client_id,
                           roles=sorted(set(roles)), secret_hash=hash_secret(secret), active=True,
                           created_at=now_micros())
        session.add(client)
        _audit(session, "admin.client.create", org_id=org.id, client_id=client_id, roles=sorted(set(roles)))
        return client, secret


def upsert_client(db: Database, *, organisation: str, client_id: str, name: str | None, roles: list[str],
                  secret: str) -> tuple[ApiClient, bool]:
    """Create or update an API client with a given secret; unchanged when everything already matches."""
    _check_roles(roles)
    with db.write() as session:
        org = _org(session, organisation)
        client = session.execute(select(ApiClient).where(ApiClient.client_id == client_id)).scalar_one_or_none()
        if client is None:
            client = ApiClient(id=str(uuid.uuid4()), org_id=org.id, client_id=client_id, name=name or client_id,
                               roles=sorted(set(roles)), secret_hash=hash_secret(secret), active=True,
                               created_at=now_micros())
            session.add(client)
            _audit(session, "admin.client.create", org_id=org.id, client_id=client_id, roles=sorted(set(roles)))
            return client, True
        changed = False
        wanted = {"org_id": org.id, "name": name or client_id, "roles": sorted(set(roles)), "active": True}
        for attr, value in wanted.items():
            if getattr(client, attr) != value:
                setattr(client, attr, value)
                changed = True
        if not verify_secret(secret, client.secret_hash):
            client.secret_hash = hash_secret(secret)
            changed = True
        if changed:
            _audit(session, "admin.client.update", org_id=org.id, client_id=client_id, roles=sorted(set(roles)))
        return client, changed


def set_client_active(db: Database, client_id: str, active: bool) -> None:
    """Enable or disable an API client."""
    with db.write() as session:
        client = session.execute(select(ApiClient).where(ApiClient.client_id == client_id)).scalar_one_or_none()
        if client is None:
            raise NotFound(f"no API client {client_id!r}")
        client.active = active
        _audit(session, "admin.client.enable" if active else "admin.client.disable", org_id=client.org_id,
               client_id=client_id)


def _org(session: object, name_or_id: str) -> Organisation:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    org = session.execute(select(Organisation).where(
        (Organisation.name == name_or_id) | (Organisation.id == name_or_id))).scalar_one_or_none()
    if org is None:
        raise NotFound(f"no organisation {name_or_id!r}")
    return org


def _audit(session: Session, action: str, **details: object) -> None:
    audit_append(session, [AuditEvent.by(None, action, "ok", details=dict(details))])


def _check_roles(roles: list[str]) -> None:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise BadRequest(f"unknown roles {unknown}; known roles: {', '.join(ROLES)}")
