"""The live stream of one hub process: per-caller server-sent events over the change feed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.concurrency import run_in_threadpool

from exchange.audit.log import AuditBuffer, AuditEvent
from exchange.auth.caller import Caller
from exchange.store.db import Database
from exchange.stream import changes, cursor
from exchange.stream.config import StreamSettings
from exchange.stream.feed import ChangeFeed

if TYPE_CHECKING:
    from exchange.stream.webhooks import Webhooks

T = TypeVar("T")
log = logging.getLogger(__name__)
LATE_LIMIT = 10_000


class _Flights:
    """Single-flight per key and feed generation: a hundred streams of one organisation woken by one alert
    share one scope query and one page query instead of issuing a hundred."""

    def __init__(self) -> None:
        self._done: dict[Hashable, asyncio.Future[Any]] = {}
        self._generation = -1

    async def run(self, generation: int, key: Hashable, fn: Callable[[], T]) -> T:
        if generation != self._generation:
            self._done = {k: f for k, f in self._done.items() if not f.done()}
            self._generation = generation
        full = (generation, key)
        fut = self._done.get(full)
        if fut is None or (fut.done() and fut.exception() is not None):
            fut = asyncio.ensure_future(run_in_threadpool(fn))
            self._done[full] = fut
        result: T = await asyncio.shield(fut)
        return result


def frame(*, data: str | None = None, event: str | None = None, event_id: str | None = None) -> str:
    """One SSE frame (an id-only frame moves the client's Last-Event-ID without an event)."""
    out = []
    if event_id is not None:
        out.append(f"id: {event_id}")
    if event is not None:
        out.append(f"event: {event}")
    if data is not None:
        out.extend(f"data: {line}" for line in data.split("\n"))
    return "\n".join(out) + "\n\n"


class StreamService:
    """Opens streams for callers and runs the process's change feed (and the webhook worker)."""

    def __init__(self, db: Database, settings: StreamSettings, audit: AuditBuffer | None = None) -> None:
        self.db = db
        self.settings = settings
        self.audit = audit
        self.feed = ChangeFeed(db, poll_s=min(settings.poll_seconds, settings.late_check_seconds),
                               late_s=settings.late_check_seconds, listen_notify=settings.listen_notify)
        self._flights = _Flights()
        self.webhooks: Webhooks | None = None

    def start(self) -> None:
        """Start the change feed and the webhook worker."""
        self.feed.start()
        if self.webhooks is not None:
            self.webhooks.start()

    def stop(self) -> None:
        """Stop the webhook worker and the change feed; open streams end."""
        if self.webhooks is not None:
            self.webhooks.stop()
        self.feed.stop()

    def start_cursor(self, reader: changes.Reader, where: str) -> cursor.Cursor:
        """A cursor at the current end (`now`) or the beginning (`start`) of the reader's collections."""
        since = self.feed.epoch_at
        with self.db.read() as session:
            sc = changes.scope(session, reader)
        if where == "start":
            return cursor.Cursor({cid: 0 for cid in sc.collections}, since)
        heads = self.feed.heads()
        return cursor.Cursor({cid: heads.get(cid, 0) for cid in sc.collections}, since)

    async def events(self, caller: Caller, position: cursor.Cursor, *, types: Sequence[str] = (),
                     collections: Sequence[str] = ()) -> AsyncIterator[str]:
        """SSE frames for this caller from `position` on, until the hub stops or the stream's time is up."""
        reader = changes.Reader.of(caller)
        limit = self.settings.page_size
        types = tuple(sorted(set(types)))
        wanted = set(collections)
        cur = position.copy()
        yield f"retry: {self.settings.retry_ms}\n" + frame(event_id=cur.encode())
        wake = self.feed.subscribe()
        ends = time.monotonic() + self.settings.max_stream_seconds
        quiet_since = time.monotonic()
        try:
            while not self.feed.stopped and time.monotonic() < ends:
                wake.clear()
                generation, heads = self.feed.generation, self.feed.heads()
                now = max(self.feed.epoch_at, cur.since)  # a cursor from a replica whose clock runs ahead
                sc = await self._flights.run(generation, ("scope", reader), lambda: self._scope(reader))
                selected = [cid for cid in sc.collections if not wanted or cid in wanted]
                sent = False
                # Versions at or below the positions that became visible since the last look (an embargo lifted).
                if now > cur.since:
                    late: list[changes.Change] = []
                    for cid in selected:
                        upto = cur.positions.get(cid, 0)
                        if upto > 0:
                            late += await self._flights.run(
                                generation, ("late", cid, sc.audiences, upto, cur.since, now, types),
                                partial(self._late, cid, sc.audiences, upto, cur.since, now, types))
                    for i, change in enumerate(late):
                        if i == len(late) - 1:
                            cur.since = now
                        yield frame(event="object", event_id=cur.encode(), data=change.data())
                        sent = True
                    for cid in {c.collection_id for c in late}:
                        self._audit(caller, cid, [c.stix_id for c in late if c.collection_id == cid])
                    cur.since = now
                more_waiting = False
                for cid in selected:
                    after, head = cur.positions.get(cid, 0), heads.get(cid, 0)
                    if after >= head:
                        continue
                    found = await self._flights.run(
                        generation, ("page", cid, sc.audiences, after, types, limit, now),
                        partial(self._page, cid, sc.audiences, after, types, limit, now))
                    batch, more = changes.advance(cur.positions, cid, head, list(found), limit)
                    more_waiting = more_waiting or more
                    for i, change in enumerate(batch):
                        at = cur.encode() if i == len(batch) - 1 else cur.encode(**{cid: change.seq})
                        yield frame(event="object", event_id=at, data=change.data())
                        sent = True
                    if batch:
                        self._audit(caller, cid, [c.stix_id for c in batch])
                    elif cur.positions.get(cid) != after:
                        yield frame(event_id=cur.encode())
                        sent = True
                if sent:
                    quiet_since = time.monotonic()
                if more_waiting or self.feed.generation != generation:
                    continue
                try:
                    await asyncio.wait_for(wake.wait(), timeout=self.settings.late_check_seconds)
                except TimeoutError:
                    if time.monotonic() - quiet_since >= self.settings.keepalive_seconds:
                        quiet_since = time.monotonic()
                        yield ": keepalive\n\n"
        finally:
            self.feed.unsubscribe(wake)

    def _scope(self, reader: changes.Reader) -> changes.Scope:
        with self.db.read() as session:
            return changes.scope(session, reader)

    def _page(self, cid: str, audiences: tuple[int, ...], after: int, types: tuple[str, ...],
              limit: int, now: int) -> list[changes.Change]:
        with self.db.read() as session:
            return changes.page_after(session, cid, audiences, after, types, limit, now)

    def _late(self, cid: str, audiences: tuple[int, ...], upto: int, since: int, until: int,
              types: tuple[str, ...]) -> list[changes.Change]:
        with self.db.read() as session:
            found = changes.became_visible(session, cid, audiences, upto, since, until, types, LATE_LIMIT)
        if len(found) >= LATE_LIMIT:
            log.warning("more than %s versions of %s became visible at once; streams get the first ones",
                        LATE_LIMIT, cid)
        return found

    def _audit(self, caller: Caller, cid: str, ids: list[str]) -> None:
        if self.audit is not None:
            self.audit.add(AuditEvent.by(caller, "stream.read", "ok", collection_id=cid, object_ids=tuple(ids)))


def install(hub: Any) -> StreamService:
    """Wire the live stream (and the webhooks) into a hub; started and stopped with it."""
    from exchange.stream.webhooks import Webhooks

    settings: StreamSettings = hub.settings.stream
    service = StreamService(hub.db, settings, hub.audit)
    hub.extras["stream"] = service
    if settings.webhooks_enabled:
        service.webhooks = Webhooks(hub.db, settings, secret_key=hub.settings.secret_key.get_secret_value().encode(),
                                    feed=service.feed)
    return service
