"""Add Objects: validate every object, decide its audience, store new versions, report in a status."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

from exchange.audit.log import AuditEvent
from exchange.audit.log import append as audit_append
from exchange.auth.caller import Caller
from exchange.config import Settings
from exchange.errors import NotFound
from exchange.services import collections as collection_service
from exchange.services.sharing import SharingOutcome, SharingPolicy, WriteContext
from exchange.services.status import Detail, as_taxii, counts
from exchange.services.validation import InvalidObject, ObjectValidator, ValidObject, id_text, version_of
from exchange.store import objects as store
from exchange.store.db import Database
from exchange.store.models import Organisation, Status
from exchange.timestamps import format_timestamp, now_micros

log = logging.getLogger(__name__)
INGESTED = Counter("popart_ingest_objects_total", "Objects posted to the hub, by outcome", ["outcome"])
HOUR_US = 3_600_000_000


@dataclass
class _Item:
    index: int
    valid: ValidObject
    outcome: SharingOutcome | None = None


class IngestService:
    """Stores posted envelopes; small ones at once, large ones in the background (status `pending`)."""

    def __init__(self, db: Database, settings: Settings, policy: SharingPolicy, validator: ObjectValidator) -> None:
        self.db = db
        self.settings = settings
        self.policy = policy
        self.validator = validator
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
        self._maintenance = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analyze")
        self._lock = threading.Lock()
        self._rows_since_analyze = 0
        self._rows_at_analyze = 0

    def add(self, caller: Caller, root_name: str, collection_id: str, envelope: dict[str, Any],
            body: bytes) -> dict[str, Any]:
        """Handle one Add Objects request; returns the TAXII status resource."""
        objects = envelope.get("objects", [])
        with self.db.read() as session:
            root = collection_service.get_api_root(session, root_name)
            view = collection_service.get(session, caller, root, collection_id)
        collection_service.require_write(view)
        now = now_micros()
        status = Status(
            id=str(uuid.uuid4()), api_root_id=root.id, collection_id=view.id, org_id=caller.org_id,
            subject=caller.subject, status="pending", request_timestamp=now, total_count=len(objects),
            success_count=0, failure_count=0, pending_count=len(objects),
            expires_at=now + self.settings.status_retention_hours * HOUR_US,
            details=[["pending", id_text(o), version_of(o), None] for o in objects], envelope=None,
        )
        if len(objects) > self.settings.ingest_sync_max_objects:
            status.envelope = body.decode("utf-8")
            with self.db.write() as session:
                session.add(status)
            self._executor.submit(self._run_pending, status.id, caller)
            return as_taxii(status, [tuple(d) for d in status.details])
        details = self._process(caller, view.id, objects, status.id)
        status.details = [list(d) for d in details]
        status.success_count, status.failure_count, status.pending_count = counts(details)
        status.status = "complete"
        with self.db.write() as session:
            session.add(status)
        return as_taxii(status, details)

    def resume(self, status_id: str) -> None:
        """Process a pending add whose envelope is stored (after a restart)."""
        with self.db.read() as session:
            status = session.get(Status, status_id)
            if status is None or status.envelope is None:
                return
            org = session.get(Organisation, status.org_id)
            caller = Caller(org_id=status.org_id, org_name=org.name if org else "", org_type=org.type if org else "",
                            subject=status.subject, auth_method="resumed", country=org.country if org else None,
                            area=org.area if org else None)
        self._executor.submit(self._run_pending, status_id, caller)

    def shutdown(self) -> None:
        """Finish the adds under way and stop the background workers."""
        self._executor.shutdown(wait=True)
        self._maintenance.shutdown(wait=True)

    def _run_pending(self, status_id: str, caller: Caller) -> None:
        try:
            with self.db.read() as session:
                status = session.get(Status, status_id)
                if status is None or status.envelope is None:
                    return
                envelope = json.loads(status.envelope)
                collection_id = status.collection_id
            objects = envelope.get("objects", [])
            details = self._process(caller, collection_id, objects, status_id)
            with self.db.write() as session:
                status = session.get(Status, status_id)
                if status is None:
                    return
                status.details = [list(d) for d in details]
                status.success_count, status.failure_count, status.pending_count = counts(details)
                status.status = "complete"
                status.envelope = None
        except Exception:
            # The envelope stays stored and the status pending: the next start resumes it.
            log.exception("background add %s failed; it will be resumed at the next start", status_id)

    def _process(self, caller: Caller, collection_id: str, objects: Sequence[Any],
                 status_id: str) -> list[Detail]:
        details: list[Detail] = [("pending", id_text(o), version_of(o), None) for o in objects]
        items: list[_Item] = []
        for i, checked in enumerate(self.validator.check_many(objects)):
            if isinstance(checked, InvalidObject):
                details[i] = ("failure", checked.stix_id, checked.version, checked.message)
            else:
                items.append(_Item(i, checked))
        if items:
            ctx = WriteContext(collection_id=collection_id, producer=caller, now=now_micros())
            outcomes = self.policy.decide([it.valid.obj for it in items], ctx)
            for it, outcome in zip(items, outcomes, strict=True):
                it.outcome = outcome
                if outcome.reject:
                    details[it.index] = ("failure", it.valid.stix_id, details[it.index][2], outcome.reject)
            items = [it for it in items if it.outcome is not None and not it.outcome.reject]
        if items:
            with self._lock:  # one writer per process; the collection row lock orders writers across processes
                stored = self._store(caller, collection_id, items, details, status_id)
            self._maybe_analyze(stored)
        for result in ("success", "failure"):
            n = sum(1 for d in details if d[0] == result)
            if n:
                INGESTED.labels(result).inc(n)
        return details

    def _maybe_analyze(self, stored: int) -> None:
        # PostgreSQL plans the page query by statistics; after a bulk load they say "tiny table" and the
        # planner sorts the whole collection instead of walking the (collection_id, seq) index.
        if self.db.is_sqlite or not stored:
            return
        self._rows_since_analyze += stored
        if self._rows_since_analyze >= max(5_000, self._rows_at_analyze // 5):
            self._rows_at_analyze += self._rows_since_analyze
            self._rows_since_analyze = 0
            self._maintenance.submit(self._analyze)

    def _analyze(self) -> None:
        try:
            self.db.analyze("stix_objects", "acl_grants", "collections")
        except Exception:
            log.warning("ANALYZE after a bulk load failed", exc_info=True)

    def _store(self, caller: Caller, collection_id: str, items: list[_Item], details: list[Detail],
               status_id: str) -> int:
        with self.db.write() as session:
            col = store.lock_collection(session, collection_id)
            if col is None:
                raise NotFound("the collection was deleted")
            date_added = max(now_micros(), col.last_added + 1)
            existing = store.stored_versions(session, collection_id, [it.valid.stix_id for it in items])
            seq = col.last_seq
            new_rows: list[dict[str, Any]] = []
            new_items: list[_Item] = []
            seen: dict[tuple[str, int], str] = {}
            new_by_id: dict[str, list[dict[str, Any]]] = {}
            flags_off: dict[str, set[int]] = {"is_first": set(), "is_last": set()}
            for it in items:
                v = it.valid
                version = v.version if v.version is not None else date_added
                stored = existing.get(v.stix_id, [])
                same = next((s for s in stored if s.version == version or
                             (v.version is None and s.content_hash == v.content_hash)), None)
                vtext = details[it.index][2] or format_timestamp(version)
                if same is not None or (v.stix_id, version) in seen:
                    digest = same.content_hash if same is not None else seen[(v.stix_id, version)]
                    if digest == v.content_hash:
                        details[it.index] = ("success", v.stix_id, vtext, "already stored")
                    else:
                        details[it.index] = ("failure", v.stix_id, vtext,
                                             "a different object with this id and version is already stored")
                    continue
                seen[(v.stix_id, version)] = v.content_hash
                siblings = new_by_id.setdefault(v.stix_id, [])
                versions = [s.version for s in stored] + [r["version"] for r in siblings]
                is_first = not versions or version < min(versions)
                is_last = not versions or version > max(versions)
                if is_first:
                    _clear(flags_off["is_first"], stored, siblings, "is_first")
                if is_last:
                    _clear(flags_off["is_last"], stored, siblings, "is_last")
                seq += 1
                row = {
                    "collection_id": collection_id, "seq": seq, "stix_id": v.stix_id, "type": v.type,
                    "spec_version": v.spec_version, "version": version, "date_added": date_added,
                    "is_first": is_first, "is_last": is_last, "is_spec_latest": True,
                    "content_hash": v.content_hash, "producer_org_id": caller.org_id, "status_id": status_id,
                    "raw": v.raw,
                }
                new_rows.append(row)
                siblings.append(row)
                new_items.append(it)
                details[it.index] = ("success", v.stix_id, vtext, None)
            for flag, cleared in flags_off.items():
                if cleared:
                    store.set_flags(session, sorted(cleared), **{flag: False})
            pks = store.insert_versions(session, collection_id, new_rows)
            self._grant(session, pks, new_items)
            col.last_seq = seq
            if new_rows:
                col.last_added = date_added
            audit_append(session, self._audit_events(caller, collection_id, new_items, details, status_id))
            return len(new_rows)

    def _audit_events(self, caller: Caller, collection_id: str, stored: list[_Item], details: list[Detail],
                      status_id: str) -> list[AuditEvent]:
        # One decision record per distinct outcome: a batch of 5,000 detections shared alike is one record
        # listing 5,000 object versions, not 5,000 records (the audit must not cost more than the ingest).
        groups: dict[SharingOutcome, list[_Item]] = {}
        for it in stored:
            assert it.outcome is not None
            groups.setdefault(it.outcome, []).append(it)
        events = []
        for outcome, items in groups.items():
            events.append(AuditEvent.by(
                caller, "share.decide", "allow" if outcome.grants else "deny", collection_id=collection_id,
                object_ids=tuple(it.valid.stix_id for it in items), revision=outcome.revision,
                details={"versions": [details[it.index][2] for it in items], "reasons": list(outcome.reasons),
                         "grants": [{"members": sorted(map(list, g.members)), "not_before": g.not_before,
                                     "not_after": g.not_after} for g in outcome.grants]}))
        failures = sum(1 for d in details if d[0] == "failure")
        events.append(AuditEvent.by(
            caller, "object.write", "ok" if not failures else "partial", collection_id=collection_id,
            object_ids=tuple(it.valid.stix_id for it in stored), revision=self.policy.revision,
            details={"status_id": status_id, "stored": len(stored), "failures": failures,
                     "already_stored": sum(1 for d in details if d[3] == "already stored")}))
        return events

    def _grant(self, session: Any, pks: list[int], items: list[_Item]) -> None:
        members = {g.audience_key: g.members for it in items if it.outcome for g in it.outcome.grants}
        if not members:
            return
        ids = store.audience_ids(session, members)
        rows = []
        for pk, it in zip(pks, items, strict=True):
            assert it.outcome is not None
            for g in it.outcome.grants:
                rows.append({"object_pk": pk, "audience_id": ids[g.audience_key],
                             "not_before": g.not_before, "not_after": g.not_after})
        store.insert_grants(session, rows)


def _clear(out: set[int], stored: list[store.StoredVersion], siblings: list[dict[str, Any]], flag: str) -> None:
    out.update(s.pk for s in stored if getattr(s, flag))
    for row in siblings:
        row[flag] = False

