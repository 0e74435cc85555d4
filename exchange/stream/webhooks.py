"""Signed webhooks: the stream of one caller identity POSTed to a partner URL, at least once, in order.

Each subscription keeps a stream cursor; a worker turns new visible versions into queued deliveries (in the
same transaction that moves the cursor), then POSTs them one at a time per subscription with
`X-Popart-Signature: sha256=HMAC(secret, body)`, retrying with exponential backoff and dead-lettering after
`webhook_max_attempts`. Dead letters can be replayed; a subscription can be rewound to any cursor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from exchange.auth.caller import Caller
from exchange.errors import BadRequest, NotFound
from exchange.store.db import Database
from exchange.stream import changes, cursor
from exchange.stream.config import StreamSettings
from exchange.stream.feed import ChangeFeed
from exchange.stream.models import WebhookDelivery, WebhookSubscription
from exchange.timestamps import now_micros

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Popart-Signature"
US = 1_000_000


def sign(secret: str, body: bytes) -> str:
    """The signature header value of a body: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is the signature of `body` under `secret` (constant time)."""
    return bool(header) and hmac.compare_digest(sign(secret, body), str(header))


@dataclass(frozen=True)
class SubscriptionView:
    """A subscription as its owner sees it (the secret only once, at creation)."""

    id: str
    url: str
    types: tuple[str, ...]
    active: bool
    pending: int = 0
    dead: int = 0
    delivered: int = 0

    def as_json(self) -> dict[str, object]:
        """The API representation."""
        return {"id": self.id, "url": self.url, "types": list(self.types), "active": self.active,
                "deliveries": {"pending": self.pending, "dead": self.dead, "delivered": self.delivered}}


class Webhooks:
    """Subscriptions, the queue of deliveries and the worker that sends them."""

    def __init__(self, db: Database, settings: StreamSettings, *, secret_key: bytes, feed: ChangeFeed) -> None:
        self.db = db
        self.settings = settings
        self.feed = feed
        self._key = hashlib.sha256(b"popart-webhook\x00" + secret_key).digest()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- subscriptions --------------------------------------------------------------------------------------

    def secret_of(self, salt: str) -> str:
        """The signing secret of a subscription (derived, never stored)."""
        digest = hmac.new(self._key, salt.encode(), hashlib.sha256).digest()
        return "whsec_" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def create(self, caller: Caller, url: str, *, types: list[str], start: str = "now") -> tuple[SubscriptionView, str]:
        """Subscribe `url` to the caller's stream; returns the subscription and its signing secret."""
        parts = urlsplit(url)
        allowed = ("https", "http") if self.settings.webhook_allow_http else ("https",)
        if parts.scheme not in allowed or not parts.hostname or len(url) > 2000:
            raise BadRequest(f"url must be an absolute {' or '.join(allowed)} URL")
        reader = changes.Reader.of(caller)
        salt = secrets.token_urlsafe(24)
        with self.db.write() as session:
            sc = changes.scope(session, reader)
            heads = changes.heads(session)
            position = cursor.Cursor({cid: (0 if start == "start" else heads.get(cid, 0)) for cid in sc.collections},
                                     self.feed.epoch_at).as_json()
            sub = WebhookSubscription(id=str(uuid.uuid4()), org_id=caller.org_id, subject=caller.subject,
                                      roles=sorted(caller.roles), url=url, salt=salt, types=sorted(set(types)),
                                      position=position, active=True, created_at=now_micros())
            session.add(sub)
        self.feed.wake()
        return SubscriptionView(sub.id, sub.url, tuple(sub.types), True), self.secret_of(salt)

    def _owned(self, session: Session, caller: Caller, sub_id: str) -> WebhookSubscription:
        sub = session.get(WebhookSubscription, sub_id)
        if sub is None or sub.org_id != caller.org_id:
            raise NotFound(f"no webhook subscription {sub_id!r}")
        return sub

    def subscriptions(self, caller: Caller) -> list[SubscriptionView]:
        """The subscriptions of the caller's organisation, with delivery counts."""
        with self.db.read() as session:
            subs = list(session.execute(select(WebhookSubscription).where(
                WebhookSubscription.org_id == caller.org_id).order_by(WebhookSubscription.created_at)).scalars())
            out = []
            for s in subs:
                counts: dict[str, int] = {status: int(n) for status, n in session.execute(
                    select(WebhookDelivery.status, func.count()).where(WebhookDelivery.subscription_id == s.id)
                    .group_by(WebhookDelivery.status))}
                out.append(SubscriptionView(s.id, s.url, tuple(s.types), s.active, counts.get("pending", 0),
                                            counts.get("dead", 0), counts.get("delivered", 0)))
        return out

    def deliveries(self, caller: Caller, sub_id: str, status: str | None, limit: int = 100) -> list[dict[str, object]]:
        """The latest deliveries of a subscription (dead letters with `status=dead`)."""
        with self.db.read() as session:
            self._owned(session, caller, sub_id)
            stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub_id)
            if status:
                stmt = stmt.where(WebhookDelivery.status == status)
            rows = session.execute(stmt.order_by(WebhookDelivery.id.desc()).limit(limit)).scalars()
            return [{"id": d.id, "event_id": d.event_id, "object_id": d.stix_id, "status": d.status,
                     "attempts": d.attempts, "last_error": d.last_error} for d in rows]

    def delete(self, caller: Caller, sub_id: str) -> None:
        """Unsubscribe (queued deliveries are dropped)."""
        with self.db.write() as session:
            session.delete(self._owned(session, caller, sub_id))

    def replay(self, caller: Caller, sub_id: str, *, dead: bool, from_cursor: str | None) -> int:
        """Queue the dead letters again, and/or rewind the subscription to a cursor; returns deliveries requeued."""
        requeued = 0
        with self.db.write() as session:
            sub = self._owned(session, caller, sub_id)
            if from_cursor:
                sub.position = cursor.decode(from_cursor).as_json()
            if dead:
                result = session.execute(update(WebhookDelivery).where(
                    WebhookDelivery.subscription_id == sub_id, WebhookDelivery.status == "dead"
                ).values(status="pending", attempts=0, next_attempt_at=now_micros(), last_error=None))
                requeued = int(getattr(result, "rowcount", 0) or 0)
        self.feed.wake()
        return requeued

    # --- the worker -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread."""
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker (a delivery under way finishes or times out)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.webhook_timeout_seconds + 5)

    def _run(self) -> None:
        wake = self.feed.subscribe_sync()
        with httpx.Client(timeout=self.settings.webhook_timeout_seconds, follow_redirects=False) as client:
            while not self._stop.is_set():
                wake.wait(self.settings.webhook_poll_seconds)
                wake.clear()
                try:
                    while self.enqueue() and not self._stop.is_set():
                        pass
                    self.deliver_due(client)
                except Exception:
                    log.warning("webhook worker round failed", exc_info=True)

    def enqueue(self) -> bool:
        """Queue the new visible versions of every active subscription; True when a page was full."""
        with self.db.read() as session:
            ids = list(session.execute(select(WebhookSubscription.id).where(
                WebhookSubscription.active.is_(True))).scalars())
        more = False
        for sub_id in ids:
            more = self._enqueue_one(sub_id) or more
        return more

    def _enqueue_one(self, sub_id: str) -> bool:
        limit = self.settings.page_size
        heads = self.feed.heads()
        with self.db.write() as session:
            stmt = select(WebhookSubscription).where(WebhookSubscription.id == sub_id)
            if not self.db.is_sqlite:
                stmt = stmt.with_for_update(skip_locked=True)
            sub = session.execute(stmt).scalar_one_or_none()
            if sub is None or not sub.active:
                return False
            reader = changes.Reader(sub.org_id, tuple(sub.roles), sub.subject)
            sc = changes.scope(session, reader)
            cur = cursor.Cursor.from_json(sub.position)
            before = cur.as_json()
            types = tuple(sub.types)
            more = False
            now, until = now_micros(), max(self.feed.epoch_at, cur.since)
            queue: list[tuple[str, changes.Change]] = []
            if until > cur.since:  # versions at or below the positions whose embargo lifted since the last look
                late = [c for cid in sc.collections if cur.positions.get(cid, 0) > 0
                        for c in changes.became_visible(session, cid, sc.audiences, cur.positions[cid], cur.since,
                                                         until, types, 10_000)]
                cur.since = until
                queue += [(cur.encode(), c) for c in late]
            for cid in sc.collections:
                after, head = cur.positions.get(cid, 0), heads.get(cid, 0)
                if after >= head:
                    continue
                found = changes.page_after(session, cid, sc.audiences, after, types, limit, until)
                batch, page_more = changes.advance(cur.positions, cid, head, found, limit)
                more = more or page_more
                queue += [(cur.encode() if i == len(batch) - 1 else cur.encode(**{cid: c.seq}), c)
                          for i, c in enumerate(batch)]
            for event_id, change in queue:
                body = f'{{"event":"object","event_id":"{event_id}","data":{change.data()}}}'
                session.add(WebhookDelivery(subscription_id=sub.id, event_id=event_id, stix_id=change.stix_id,
                                            body=body, status="pending", attempts=0, next_attempt_at=now,
                                            last_error=None, created_at=now, delivered_at=None))
            # An idle round keeps the stored `since`: the next look covers a longer interval, and finds the same.
            if queue or cur.positions != before["p"]:
                sub.position = cur.as_json()
        return more

    def deliver_due(self, client: httpx.Client) -> int:
        """Send what is due, oldest first and one at a time per subscription; returns how many were delivered."""
        sent = 0
        with self.db.read() as session:
            subs = list(session.execute(select(WebhookSubscription).where(
                WebhookSubscription.active.is_(True))).scalars())
        for sub in subs:
            while not self._stop.is_set():
                outcome = self._deliver_head(client, sub)
                if outcome is not True:
                    break
                sent += 1
        return sent

    def _deliver_head(self, client: httpx.Client, sub: WebhookSubscription) -> bool | None:
        now = now_micros()
        with self.db.write() as session:
            head = session.execute(select(WebhookDelivery).where(
                WebhookDelivery.subscription_id == sub.id, WebhookDelivery.status == "pending"
            ).order_by(WebhookDelivery.id).limit(1)).scalar_one_or_none()
            if head is None or head.next_attempt_at > now:
                return None
            # A lease: another process skips it until the attempt's outcome is written (or the lease runs out).
            lease = now + int((self.settings.webhook_timeout_seconds * 2 + 5) * US)
            claimed = session.execute(update(WebhookDelivery).where(
                WebhookDelivery.id == head.id, WebhookDelivery.next_attempt_at == head.next_attempt_at
            ).values(next_attempt_at=lease))
            if not getattr(claimed, "rowcount", 0):
                return None
            delivery_id, body, event_id, attempts = head.id, head.body, head.event_id, head.attempts
        payload = body.encode()
        error: str | None = None
        try:
            response = client.post(sub.url, content=payload, headers={
                "Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret_of(sub.salt), payload),
                "X-Popart-Event-Id": event_id, "X-Popart-Delivery-Id": str(delivery_id),
                "X-Popart-Attempt": str(attempts + 1), "User-Agent": "popart-exchange-webhooks"})
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        with self.db.write() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return None
            delivery.attempts = attempts + 1
            if error is None:
                delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now_micros(), None
                return True
            delivery.last_error = error
            if delivery.attempts >= self.settings.webhook_max_attempts:
                delivery.status = "dead"
                log.warning("webhook delivery %s to subscription %s dead after %s tries: %s", delivery_id, sub.id,
                            delivery.attempts, error)
                return True  # the next one may go
            backoff = min(self.settings.webhook_backoff_seconds * 2 ** attempts,
                          self.settings.webhook_backoff_max_seconds)
            delivery.next_attempt_at = now_micros() + int(backoff * US)
        return False


def body_of(raw: bytes) -> dict[str, object]:
    """Parse a delivered body (for receivers written in Python)."""
    parsed: dict[str, object] = json.loads(raw)
    return parsed
