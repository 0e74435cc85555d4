"""People of an organisation: list, change roles, disable (which ends their sessions)."""

from __future__ import annotations

from sqlalchemy import select, update

from exchange.errors import BadRequest, NotFound
from exchange.identity import events
from exchange.identity.models import Person, WebSession
from exchange.services.orgs import ROLES
from exchange.store.db import Database
from exchange.timestamps import now_micros


def get_all(db: Database, *, org_id: str | None = None) -> list[Person]:
    """People, by username (of one organisation when given)."""
    with db.read() as session:
        query = select(Person).order_by(Person.username)
        if org_id is not None:
            query = query.where(Person.org_id == org_id)
        return list(session.execute(query).scalars())


def update_person(db: Database, *, username: str, actor: str, org_id: str | None = None,
                  roles: list[str] | None = None, active: bool | None = None) -> Person:
    """Change a person's roles or state; disabling ends every session. `org_id` confines it to one org."""
    if roles is not None and sorted(set(roles) - set(ROLES)):
        raise BadRequest(f"unknown roles {sorted(set(roles) - set(ROLES))}; known roles: {', '.join(ROLES)}")
    with db.write() as session:
        person = session.execute(select(Person).where(Person.username == username)).scalar_one_or_none()
        if person is None or (org_id is not None and person.org_id != org_id):
            raise NotFound(f"no person {username!r}")
        subject = f"person:{person.username}"
        if roles is not None and sorted(set(roles)) != person.roles:
            events.add(session, kind="person.roles_changed", org_id=person.org_id, actor=actor, subject=subject,
                       before=person.roles, after=sorted(set(roles)))
            person.roles = sorted(set(roles))
        if active is not None and active != person.active:
            person.active = active
            events.add(session, kind="person.enabled" if active else "person.disabled", org_id=person.org_id,
                       actor=actor, subject=subject)
            if not active:
                session.execute(update(WebSession).where(WebSession.person_id == person.id,
                                                         WebSession.revoked_at.is_(None))
                                .values(revoked_at=now_micros()))
        return person
