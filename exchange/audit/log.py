"""Appending to, verifying and exporting the hash-chained audit log."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from exchange.audit.models import AuditAnchor, AuditHead, AuditRecord
from exchange.auth.caller import Caller
from exchange.store.db import Database
from exchange.timestamps import format_timestamp, now_micros

log = logging.getLogger(__name__)
GENESIS = "0" * 64
ANCHOR_EVERY = 1000
FIELDS = ("seq", "ts", "action", "outcome", "actor_org", "actor", "auth_method", "collection_id", "object_ids",
          "revision", "details")


@dataclass(frozen=True)
class AuditEvent:
    """What happened, who did it, to what, under which policy revision, and why."""

    action: str
    outcome: str
    actor_org: str | None = None
    actor: str | None = None
    auth_method: str | None = None
    collection_id: str | None = None
    object_ids: tuple[str, ...] = ()
    revision: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    ts: int = field(default_factory=now_micros)

    @classmethod
    def by(cls, caller: Caller | None, action: str, outcome: str, **kwargs: Any) -> AuditEvent:
        """An event performed by `caller` (None: the hub itself)."""
        if caller is None:
            return cls(action, outcome, actor="hub", auth_method="system", **kwargs)
        return cls(action, outcome, actor_org=caller.org_id, actor=caller.subject, auth_method=caller.auth_method,
                   **kwargs)


def record_hash(prev_hash: str, body: dict[str, Any]) -> str:
    """sha256 over the previous hash and the canonical JSON of a record's fields."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical.encode()).hexdigest()


def _body(seq: int, e: AuditEvent) -> dict[str, Any]:
    return {"seq": seq, "ts": e.ts, "action": e.action, "outcome": e.outcome, "actor_org": e.actor_org,
            "actor": e.actor, "auth_method": e.auth_method, "collection_id": e.collection_id,
            "object_ids": list(e.object_ids), "revision": e.revision, "details": e.details}


def append(session: Session, events: Sequence[AuditEvent]) -> None:
    """Chain events into the log inside the caller's transaction (atomic with what they record)."""
    if not events:
        return
    stmt = select(AuditHead).where(AuditHead.id == 1)
    if session.bind is not None and session.bind.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    head = session.execute(stmt).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    seq, prev = head.seq, head.hash
    rows = []
    anchors = []
    for e in events:
        seq += 1
        body = _body(seq, e)
        digest = record_hash(prev, body)
        rows.append({**body, "prev_hash": prev, "hash": digest})
        prev = digest
        if seq % ANCHOR_EVERY == 0:
            anchors.append({"seq": seq, "hash": digest, "ts": e.ts, "note": None})
    session.execute(insert(AuditRecord), rows)
    if anchors:
        session.execute(insert(AuditAnchor), anchors)
        for a in anchors:
            # A copy outside the database: an attacker who rewrites the tables must also rewrite the logs.
            log.info("audit anchor", extra={"audit_seq": a["seq"], "audit_hash": a["hash"]})
    head.seq, head.hash = seq, prev


class AuditBuffer:
    """Collects read events (consultations) and appends them in batches from one background thread.

    Writes are audited inside their own transaction; reads would otherwise turn every GET into a write
    transaction on the chain's single lock. A crash loses at most `interval` seconds of read records.
    """

    def __init__(self, db: Database, *, interval: float = 0.2, max_batch: int = 2000) -> None:
        self.db = db
        self.interval = interval
        self.max_batch = max_batch
        self._events: list[AuditEvent] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, event: AuditEvent) -> None:
        """Queue an event for the next batch."""
        with self._lock:
            self._events.append(event)
            if len(self._events) >= self.max_batch:
                self._wake.set()

    def start(self) -> None:
        """Start the background writer."""
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def flush(self) -> None:
        """Write everything queued now."""
        with self._lock:
            events, self._events = self._events, []
        if events:
            with self.db.write() as session:
                append(session, events)

    def stop(self) -> None:
        """Write what is queued and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                log.exception("writing audit records failed; they stay queued")


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of `audit verify`: records checked and every problem found."""

    records: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


def verify(db: Database, *, batch: int = 5000) -> VerifyReport:
    """Walk the chain: an edited record breaks its hash, a deleted or reordered one breaks the links."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    count = 0
    with db.read() as session:
        last_seq = 0
        while True:
            rows = list(session.execute(
                select(AuditRecord).where(AuditRecord.seq > last_seq).order_by(AuditRecord.seq).limit(batch)
            ).scalars())
            if not rows:
                break
            for r in rows:
                count += 1
                if r.seq != expected_seq:
                    problems.append(f"record {expected_seq} is missing (next present: {r.seq})")
                if r.prev_hash != prev:
                    problems.append(f"record {r.seq} does not follow the record before it (deleted or reordered)")
                body = {name: getattr(r, name) for name in FIELDS}
                if record_hash(r.prev_hash, body) != r.hash:
                    problems.append(f"record {r.seq} was altered (its content does not match its hash)")
                prev = r.hash
                expected_seq = r.seq + 1
                last_seq = r.seq
        head = session.get(AuditHead, 1)
        if head is not None and (head.seq != last_seq or head.hash != prev):
            problems.append(f"the log ends at record {last_seq} but its head says {head.seq}: records were removed")
        for anchor in session.execute(select(AuditAnchor).order_by(AuditAnchor.seq)).scalars():
            rec = session.get(AuditRecord, anchor.seq)
            if rec is None or rec.hash != anchor.hash:
                problems.append(f"anchor at record {anchor.seq} does not match the log")
        stored = session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
        if stored != count:
            problems.append(f"{stored} records stored but {count} reachable in order")
    return VerifyReport(count, problems)


def export(db: Database, *, since: int | None, until: int | None, fmt: str = "jsonl") -> Iterator[str]:
    """Records of a period as JSON lines or CSV (with their hashes, so an export can be checked later)."""
    columns = (*FIELDS, "prev_hash", "hash")
    out = io.StringIO()
    writer = csv.writer(out)
    if fmt == "csv":
        writer.writerow([c if c != "ts" else "time" for c in columns])
        yield out.getvalue()
    last = 0
    with db.read() as session:
        while True:
            q = select(AuditRecord).where(AuditRecord.seq > last)
            if since is not None:
                q = q.where(AuditRecord.ts >= since)
            if until is not None:
                q = q.where(AuditRecord.ts < until)
            rows = list(session.execute(q.order_by(AuditRecord.seq).limit(5000)).scalars())
            if not rows:
                return
            for r in rows:
                last = r.seq
                values = {c: getattr(r, c) for c in columns}
                if fmt == "csv":
                    out.seek(0)
                    out.truncate()
                    writer.writerow([format_timestamp(r.ts) if c == "ts" else
                                     json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
                                     for c, v in values.items()])
                    yield out.getvalue()
                else:
                    values["time"] = format_timestamp(r.ts)
                    yield json.dumps(values, ensure_ascii=False) + "\n"
