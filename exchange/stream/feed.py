"""The change feed of one hub process: watches every collection's last sequence and wakes subscribers.

Commits of this process wake it at once; on PostgreSQL a trigger NOTIFYs `popart_stream` so commits of other
hub processes wake it too; a short poll catches anything else (and is the only mechanism on SQLite across
processes).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url

from exchange.store.db import Database
from exchange.stream import changes
from exchange.timestamps import now_micros

log = logging.getLogger(__name__)
CHANNEL = "popart_stream"
# The engine's commit event fires just before the driver commits: look again a little later if nothing showed.
_RECHECK_S = (0.002, 0.02, 0.1)


class ChangeFeed:
    """Heads of every collection, refreshed on commits, NOTIFY and a poll; async subscribers are woken."""

    def __init__(self, db: Database, *, poll_s: float, late_s: float = 2.0, listen_notify: bool = True) -> None:
        self.db = db
        self.poll_s = poll_s
        self.listen_notify = listen_notify and not db.is_sqlite
        self.generation = 0
        # The instant every stream evaluates visibility at: it moves in steps of `late_s`, so the streams of one
        # audience share their queries, and each step is when streams look for embargoes that lifted.
        self.epoch_at = now_micros()
        self._late_us = int(late_s * 1_000_000)
        self._heads: dict[str, int] = {}
        self._kick = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._waiters: dict[asyncio.Event, asyncio.AbstractEventLoop] = {}
        self._sync_waiters: list[threading.Event] = []
        self._threads: list[threading.Thread] = []

    def heads(self) -> dict[str, int]:
        """The last known sequence of every collection."""
        with self._lock:
            return dict(self._heads)

    def start(self) -> None:
        """Read the heads once and start watching."""
        self._refresh()
        event.listen(self.db.engine, "commit", self._on_commit)
        self._threads.append(threading.Thread(target=self._run, name="stream-feed", daemon=True))
        if self.listen_notify:
            self._threads.append(threading.Thread(target=self._listen, name="stream-listen", daemon=True))
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        """Stop watching and wake every subscriber (streams then end)."""
        self._stop.set()
        self._kick.set()
        if event.contains(self.db.engine, "commit", self._on_commit):
            event.remove(self.db.engine, "commit", self._on_commit)
        for t in self._threads:
            t.join(timeout=5)
        self._notify()

    @property
    def stopped(self) -> bool:
        """True once the hub is stopping."""
        return self._stop.is_set()

    def subscribe(self) -> asyncio.Event:
        """An event set whenever a head moves (register from inside the event loop)."""
        ev = asyncio.Event()
        with self._lock:
            self._waiters[ev] = asyncio.get_running_loop()
        return ev

    def unsubscribe(self, ev: asyncio.Event) -> None:
        """Forget a subscriber."""
        with self._lock:
            self._waiters.pop(ev, None)

    def subscribe_sync(self) -> threading.Event:
        """A threading event set whenever a head moves (for background workers)."""
        ev = threading.Event()
        with self._lock:
            self._sync_waiters.append(ev)
        return ev

    def wake(self) -> None:
        """Look at the store now."""
        self._kick.set()

    def _on_commit(self, conn: Any) -> None:
        self._kick.set()

    def _refresh(self) -> bool:
        at = now_micros()
        with self.db.read() as session:
            found = changes.heads(session)
        if at - self.epoch_at >= self._late_us:
            self.epoch_at = at
        with self._lock:
            moved = found != self._heads
            if moved:
                self._heads = found
                self.generation += 1
        return moved

    def _run(self) -> None:
        while not self._stop.is_set():
            kicked = self._kick.wait(self.poll_s)
            self._kick.clear()
            if self._stop.is_set():
                break
            try:
                moved = self._refresh()
                for delay in _RECHECK_S if kicked and not moved else ():
                    time.sleep(delay)
                    if self._refresh():
                        moved = True
                        break
            except Exception:
                log.warning("the change feed could not read the store", exc_info=True)
                continue
            if moved:
                self._notify()

    def _notify(self) -> None:
        with self._lock:
            waiters = list(self._waiters.items())
            sync_waiters = list(self._sync_waiters)
        for ev, loop in waiters:
            try:
                loop.call_soon_threadsafe(ev.set)
            except RuntimeError:  # the loop is closed: the stream is gone
                self.unsubscribe(ev)
        for sev in sync_waiters:
            sev.set()

    def _listen(self) -> None:
        import psycopg

        conninfo = make_url(self.db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self._kick.set()
            except Exception:
                if not self._stop.is_set():
                    log.warning("LISTEN %s failed; polling only, retrying in 5 s", CHANNEL, exc_info=True)
                    self._stop.wait(5)
