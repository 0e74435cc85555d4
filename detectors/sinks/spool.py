"""A durable local spool (SQLite, WAL, fsync'd commits): what is spooled survives crashes and restarts.

Rows are keyed by the STIX bundle id, which is deterministic, so spooling the same detection phase
twice keeps one row: replays are idempotent before they even reach the hub.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',   -- pending | sent | rejected
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS spool_due ON spool (state, next_at);
"""


@dataclass(frozen=True)
class SpooledItem:
    """One spooled payload awaiting delivery."""

    id: int
    key: str
    payload: str
    attempts: int


class Spool:
    """A small persistent queue shared by a sink's caller and its delivery thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def put(self, key: str, payload: str) -> bool:
        """Store a payload unless its key is already spooled; True when it was new."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO spool (key, payload, created_at) VALUES (?, ?, ?)", (key, payload, time.time())
            )
            return cursor.rowcount == 1

    def due(self, limit: int, now: float | None = None) -> list[SpooledItem]:
        """Pending items whose retry time has come, oldest first."""
        now = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute(
                "SELECT id, key, payload, attempts FROM spool WHERE state = 'pending' AND next_at <= ? "
                "ORDER BY id LIMIT ?", (now, limit)).fetchall()
        return [SpooledItem(*row) for row in rows]

    def mark_sent(self, ids: list[int]) -> None:
        """Delivered: kept as 'sent' (payload dropped) so a later duplicate put stays a no-op."""
        with self._lock:
            self._db.executemany("UPDATE spool SET state = 'sent', payload = '', last_error = NULL WHERE id = ?",
                                 [(i,) for i in ids])

    def mark_rejected(self, ids: list[int], error: str) -> None:
        """The hub refused the payload for good; kept, with the reason, for an operator to inspect."""
        with self._lock:
            self._db.executemany("UPDATE spool SET state = 'rejected', last_error = ? WHERE id = ?",
                                 [(error, i) for i in ids])

    def retry_later(self, ids: list[int], error: str, next_at: float) -> None:
        """Delivery failed for now: count the attempt and schedule the next one."""
        with self._lock:
            self._db.executemany(
                "UPDATE spool SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?",
                [(next_at, error, i) for i in ids])

    def counts(self) -> dict[str, int]:
        """How many items are in each state."""
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM spool GROUP BY state").fetchall()
        return {"pending": 0, "sent": 0, "rejected": 0} | {state: n for state, n in rows}

    def next_due_at(self) -> float | None:
        """When the earliest pending item may be retried."""
        with self._lock:
            row = self._db.execute("SELECT MIN(next_at) FROM spool WHERE state = 'pending'").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
