"""Reading objects, manifests and versions: the caller's ACL applied in SQL, pages on the keyset cursor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from exchange.audit.log import AuditBuffer, AuditEvent
from exchange.audit.log import append as audit_append
from exchange.auth.caller import Caller
from exchange.errors import NotFound
from exchange.services import collections as collection_service
from exchange.services.cursor import CursorCodec
from exchange.store import objects as store
from exchange.store.db import Database
from exchange.store.models import Deletion, StixObject
from exchange.timestamps import format_timestamp, now_micros

STIX_21 = "application/stix+json;version=2.1"
OBJ = StixObject.__table__


@dataclass(frozen=True)
class Page:
    """One page of a listing, already serialised, with the date_added range for the headers."""

    body: str
    first_added: int | None
    last_added: int | None


class ObjectReader:
    """The read side of the TAXII API."""

    def __init__(self, db: Database, cursors: CursorCodec, *, default_limit: int, max_limit: int,
                 audit: AuditBuffer | None = None) -> None:
        self.db = db
        self.audit = audit
        self.cursors = cursors
        self.default_limit = default_limit
        self.max_limit = max_limit

    def _limit(self, limit: int | None) -> int:
        return min(limit or self.default_limit, self.max_limit)

    def _consulted(self, caller: Caller, action: str, collection_id: str, ids: list[str]) -> None:
        if self.audit is not None and ids:
            self.audit.add(AuditEvent.by(caller, action, "ok", collection_id=collection_id, object_ids=tuple(ids)))

    def _open(self, session: Session, caller: Caller, root_name: str, collection_id: str) -> tuple[str, list[int]]:
        root = collection_service.get_api_root(session, root_name)
        view = collection_service.get(session, caller, root, collection_id)
        collection_service.require_read(view)
        return view.id, store.caller_audiences(session, caller.org_id, caller.roles, caller.subject)

    def objects(self, caller: Caller, root_name: str, collection_id: str, query: store.ObjectQuery,
                limit: int | None, next_value: str | None, *, object_id: str | None = None) -> Page:
        """An envelope of objects (the whole collection, or the versions of one object)."""
        n = self._limit(limit)
        with self.db.read() as session:
            cid, audiences = self._open(session, caller, root_name, collection_id)
            scope = f"{cid}/{object_id or ''}/objects"
            after = self.cursors.decode(scope, next_value) if next_value else None
            rows = store.page(session, cid, query, audiences, now_micros(), after, n,
                              columns=[OBJ.c.seq, OBJ.c.date_added, OBJ.c.stix_id, OBJ.c.raw])
        if object_id is not None and not rows and after is None:
            raise NotFound(f"no object {object_id!r} in this collection")
        more = len(rows) > n
        rows = rows[:n]
        self._consulted(caller, "object.read", cid, [r.stix_id for r in rows])
        head = '{"more":false'
        if more:
            head = '{"more":true,"next":' + json.dumps(self.cursors.encode(scope, rows[-1].seq))
        body = head + (',"objects":[' + ",".join(r.raw for r in rows) + "]}" if rows else "}")
        return Page(body, rows[0].date_added if rows else None, rows[-1].date_added if rows else None)

    def manifest(self, caller: Caller, root_name: str, collection_id: str, query: store.ObjectQuery,
                 limit: int | None, next_value: str | None) -> Page:
        """A manifest page: id, date_added, version and media type of each visible version."""
        n = self._limit(limit)
        with self.db.read() as session:
            cid, audiences = self._open(session, caller, root_name, collection_id)
            scope = f"{cid}//manifest"
            after = self.cursors.decode(scope, next_value) if next_value else None
            rows = store.page(session, cid, query, audiences, now_micros(), after, n,
                              columns=[OBJ.c.seq, OBJ.c.date_added, OBJ.c.stix_id, OBJ.c.version])
        more = len(rows) > n
        rows = rows[:n]
        self._consulted(caller, "manifest.read", cid, [r.stix_id for r in rows])
        body: dict[str, Any] = {"more": more}
        if more:
            body["next"] = self.cursors.encode(scope, rows[-1].seq)
        if rows:
            body["objects"] = [
                {"id": r.stix_id, "date_added": format_timestamp(r.date_added),
                 "version": format_timestamp(r.version), "media_type": STIX_21}
                for r in rows
            ]
        return Page(json.dumps(body, separators=(",", ":")), rows[0].date_added if rows else None,
                    rows[-1].date_added if rows else None)

    def versions(self, caller: Caller, root_name: str, collection_id: str, object_id: str,
                 query: store.ObjectQuery, limit: int | None, next_value: str | None) -> Page:
        """The versions of one object visible to the caller."""
        n = self._limit(limit)
        with self.db.read() as session:
            cid, audiences = self._open(session, caller, root_name, collection_id)
            scope = f"{cid}/{object_id}/versions"
            after = self.cursors.decode(scope, next_value) if next_value else None
            rows = store.page(session, cid, query, audiences, now_micros(), after, n,
                              columns=[OBJ.c.seq, OBJ.c.date_added, OBJ.c.version])
        if not rows and after is None:
            raise NotFound(f"no object {object_id!r} in this collection")
        more = len(rows) > n
        rows = rows[:n]
        body: dict[str, Any] = {"more": more}
        if more:
            body["next"] = self.cursors.encode(scope, rows[-1].seq)
        if rows:
            body["versions"] = [format_timestamp(r.version) for r in rows]
        return Page(json.dumps(body, separators=(",", ":")), rows[0].date_added if rows else None,
                    rows[-1].date_added if rows else None)

    def delete(self, caller: Caller, root_name: str, collection_id: str, object_id: str,
               query: store.ObjectQuery) -> int:
        """Delete the caller-visible versions of an object that match the filters; returns how many."""
        with self.db.write() as session:
            root = collection_service.get_api_root(session, root_name)
            view = collection_service.get(session, caller, root, collection_id)
            collection_service.require_read(view)
            collection_service.require_write(view)
            audiences = store.caller_audiences(session, caller.org_id, caller.roles, caller.subject)
            now = now_micros()
            deleted = store.delete_versions(session, view.id, object_id, query, audiences, now)
            if not deleted:
                raise NotFound(f"no object {object_id!r} in this collection")
            session.add(Deletion(collection_id=view.id, stix_id=object_id,
                                 versions=[format_timestamp(v) for v in deleted], deleted_at=now,
                                 org_id=caller.org_id, subject=caller.subject))
            audit_append(session, [AuditEvent.by(caller, "object.delete", "ok", collection_id=view.id,
                                                 object_ids=(object_id,),
                                                 details={"versions": [format_timestamp(v) for v in deleted]})])
            return len(deleted)
