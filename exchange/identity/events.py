"""Identity events: every identity change and every refused credential, in `identity_events` and the log."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from exchange.audit.log import AuditEvent
from exchange.audit.log import append as audit_append
from exchange.identity.models import IdentityEvent
from exchange.store.db import Database
from exchange.timestamps import now_micros

log = logging.getLogger("popart.identity")


def add(session: Session, *, kind: str, outcome: str = "ok", org_id: str | None = None, actor: str | None = None,
        subject: str | None = None, ip: str | None = None, **details: Any) -> None:
    """Record an event inside the caller's transaction (so the change and its record commit together)."""
    at = now_micros()
    session.add(IdentityEvent(at=at, kind=kind, outcome=outcome, org_id=org_id, actor=actor,
                              subject=subject, ip=ip, details=details))
    # The same event in the hash-chained audit log, in the same transaction: identity changes and refused
    # credentials are part of what compliance officers verify and export.
    audit_append(session, [AuditEvent(f"identity.{kind}", outcome, actor_org=org_id, actor=actor,
                                      details={"subject": subject, "ip": ip, **details}, ts=at)])


def record(db: Database, *, kind: str, outcome: str = "ok", org_id: str | None = None, actor: str | None = None,
           subject: str | None = None, ip: str | None = None, **details: Any) -> None:
    """Record an event in its own transaction."""
    with db.write() as session:
        add(session, kind=kind, outcome=outcome, org_id=org_id, actor=actor, subject=subject, ip=ip, **details)


def refused(db: Database, kind: str, reason: str, *, ip: str | None = None, subject: str | None = None,
            **details: Any) -> None:
    """Log and record a refused credential (never the credential itself)."""
    log.warning("refused %s: %s", kind, reason,
                extra={"identity_event": kind, "reason": reason, "client": ip, "subject": subject})
    try:
        record(db, kind=kind, outcome="refused", subject=subject, ip=ip, reason=reason, **details)
    except Exception:  # the refusal stands even when its record cannot be written
        log.exception("could not record the refusal %s", kind)
