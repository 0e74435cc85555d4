"""Status resources of Add Objects requests: persisted, counts that always add up, kept >= 24 hours."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from exchange.auth.caller import Caller
from exchange.errors import NotFound
from exchange.store.db import Database
from exchange.store.models import ApiRoot, Status
from exchange.timestamps import format_timestamp, now_micros

Detail = tuple[str, str, str | None, str | None]  # outcome, id, version, message


def as_taxii(status: Status, details: list[Detail]) -> dict[str, Any]:
    """The TAXII 2.1 status resource."""
    body: dict[str, Any] = {
        "id": status.id,
        "status": status.status,
        "request_timestamp": format_timestamp(status.request_timestamp),
        "total_count": status.total_count,
        "success_count": status.success_count,
        "failure_count": status.failure_count,
        "pending_count": status.pending_count,
    }
    lists: dict[str, list[dict[str, str]]] = {"success": [], "failure": [], "pending": []}
    for outcome, stix_id, version, message in details:
        item = {"id": stix_id, "version": version or ""}
        if message:
            item["message"] = message
        lists[outcome].append(item)
    for outcome, key in (("success", "successes"), ("failure", "failures"), ("pending", "pendings")):
        if lists[outcome]:
            body[key] = lists[outcome]
    return body


def counts(details: list[Detail]) -> tuple[int, int, int]:
    """success, failure, pending counts of a detail list."""
    s = sum(1 for d in details if d[0] == "success")
    f = sum(1 for d in details if d[0] == "failure")
    return s, f, len(details) - s - f


def get(session: Session, caller: Caller, root: ApiRoot, status_id: str) -> dict[str, Any]:
    """A status resource; NotFound unless it belongs to the caller's organisation and has not expired."""
    status = session.get(Status, status_id) if len(status_id) <= 36 else None
    if (status is None or status.api_root_id != root.id or status.org_id != caller.org_id
            or status.expires_at <= now_micros()):
        raise NotFound(f"no status {status_id!r}")
    return as_taxii(status, [tuple(d) for d in (status.details or [])])


def purge_expired(db: Database) -> int:
    """Delete statuses past their retention; returns how many went."""
    with db.write() as session:
        result = session.execute(
            delete(Status).where(Status.expires_at <= now_micros(), Status.status == "complete")
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def pending_ids(db: Database) -> list[str]:
    """Statuses still pending with their envelope kept (to resume after a restart)."""
    with db.read() as session:
        return list(session.execute(
            select(Status.id).where(Status.status == "pending", Status.envelope.is_not(None))
            .order_by(Status.request_timestamp)
        ).scalars())
