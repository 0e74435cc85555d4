"""TAXII 2.1 sink: spool each detection's STIX objects durably, then POST them to a hub's collection.

A background thread delivers spooled envelopes (`{"objects": [...]}`) to
`{api_root}/collections/{collection_id}/objects/` with HTTP Basic credentials, reads the status
resource, and retries with exponential backoff while the hub is unreachable or answers 5xx/429.
A refusal (4xx other than 401/403/408/429) marks the item rejected, kept in the spool with the reason.
Deterministic STIX ids make replays idempotent at the hub.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr

from detectors.backoff import BackoffPolicy
from detectors.events import Detection
from detectors.sinks.base import SINKS, Sink, SinkConfig
from detectors.sinks.spool import Spool, SpooledItem
from detectors.sinks.stix import Tlp, detection_bundle

log = logging.getLogger(__name__)

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
RETRYABLE_STATUS = frozenset({401, 403, 408, 425, 429})


class TaxiiSinkConfig(SinkConfig):
    """Where the hub is, who we are, and where the spool lives."""

    type: Literal["taxii"] = "taxii"
    api_root: str = Field(pattern=r"^https?://", description="e.g. https://hub.example/taxii2/api1/")
    collection_id: str = Field(min_length=1)
    username: str
    password: SecretStr
    spool: Path = Path("detector-spool.sqlite3")
    tlp: Tlp = "amber"
    producer_identity_id: str | None = None
    timeout_s: float = Field(default=10.0, gt=0)
    verify_tls: bool = True
    max_objects: int = Field(default=200, ge=1, description="objects per POST (several detections)")
    retry: BackoffPolicy = BackoffPolicy(initial_s=1.0, max_s=60.0, max_attempts=None)
    status_polls: int = Field(default=3, ge=0, description="GETs of a pending status resource")
    flush_timeout_s: float = Field(default=10.0, ge=0, description="on close, keep trying this long")


class DeliveryError(Exception):
    """A POST failed; `retry` says whether trying again may help."""

    def __init__(self, message: str, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


class TaxiiClient:
    """Transport only: POST an envelope, read the status resource (explicit timeouts, typed errors)."""

    def __init__(self, config: TaxiiSinkConfig) -> None:
        self.config = config
        root = config.api_root if config.api_root.endswith("/") else config.api_root + "/"
        self.objects_url = f"{root}collections/{config.collection_id}/objects/"
        self.status_url = f"{root}status/"
        self.http = httpx.Client(
            auth=(config.username, config.password.get_secret_value()), timeout=config.timeout_s,
            verify=config.verify_tls, headers={"Accept": TAXII_MEDIA_TYPE},
        )

    def post(self, objects: list[dict[str, Any]]) -> dict[str, Any]:
        """POST objects; returns the final status resource or raises `DeliveryError`."""
        try:
            response = self.http.post(self.objects_url, content=json.dumps({"objects": objects}),
                                      headers={"Content-Type": TAXII_MEDIA_TYPE})
        except httpx.HTTPError as exc:
            raise DeliveryError(f"hub unreachable: {type(exc).__name__}: {exc}", retry=True) from exc
        if response.status_code != 202:
            retry = response.status_code >= 500 or response.status_code in RETRYABLE_STATUS
            raise DeliveryError(f"hub answered {response.status_code}: {response.text[:300]}", retry=retry)
        status: dict[str, Any] = response.json()
        polls = 0
        while status.get("status") == "pending" and polls < self.config.status_polls:
            polls += 1
            time.sleep(min(2.0, 0.2 * polls))
            try:
                reply = self.http.get(f"{self.status_url}{status['id']}/")
                if reply.status_code == 200:
                    status = reply.json()
            except httpx.HTTPError:
                break  # accepted already (202): the hub holds the objects; the status is informational
        return status

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.http.close()


class TaxiiSink(Sink):
    """Spools first (so `emit` never loses a detection), delivers in a background thread."""

    def __init__(self, config: TaxiiSinkConfig) -> None:
        self.config = config
        self.spool = Spool(config.spool)
        self.client = TaxiiClient(config)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self.delivered = 0
        self._thread = threading.Thread(target=self._deliver_loop, name="taxii-sink", daemon=True)
        self._thread.start()

    def emit(self, detection: Detection) -> None:
        """Convert to STIX and spool durably; delivery happens in the background."""
        bundle = detection_bundle(detection, tlp=self.config.tlp,
                                  producer_identity_id=self.config.producer_identity_id)
        self.spool.put(bundle["id"], json.dumps(bundle["objects"], sort_keys=True))
        self._idle.clear()
        self._wake.set()

    def flush(self, timeout_s: float) -> bool:
        """Wait until nothing pending is due (or the timeout); True when the spool is drained."""
        self._wake.set()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.spool.counts()["pending"] == 0:
                return True
            self._idle.wait(0.05)
            self._wake.set()
        return self.spool.counts()["pending"] == 0

    def close(self) -> None:
        """Try to deliver what is pending for `flush_timeout_s`; the rest stays spooled for next start."""
        self.flush(self.config.flush_timeout_s)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=self.config.timeout_s + 5)
        left = self.spool.counts()["pending"]
        if left:
            log.warning("TAXII sink closing with %s detection(s) still spooled in %s", left, self.config.spool)
        self.client.close()
        self.spool.close()

    def _deliver_loop(self) -> None:
        while not self._stop.is_set():
            try:
                items = self.spool.due(limit=50)
                if items:
                    self._deliver(items)
                    continue
            except Exception:
                log.exception("TAXII delivery loop error")
            self._idle.set()
            next_at = self.spool.next_due_at()
            wait = 1.0 if next_at is None else max(0.0, min(1.0, next_at - time.time()))
            self._wake.wait(wait)
            self._wake.clear()

    def _deliver(self, items: list[SpooledItem]) -> None:
        batch: list[SpooledItem] = []
        objects: list[dict[str, Any]] = []
        for item in items:
            payload = json.loads(item.payload)
            if batch and len(objects) + len(payload) > self.config.max_objects:
                break
            batch.append(item)
            objects += payload
        ids = [item.id for item in batch]
        try:
            status = self.client.post(_unique(objects))
        except DeliveryError as exc:
            if not exc.retry:
                log.error("hub rejected %s spooled detection(s): %s", len(ids), exc)
                self.spool.mark_rejected(ids, str(exc))
                return
            attempts = min(item.attempts for item in batch)
            delays = list(self.config.retry.model_copy(update={"max_attempts": attempts + 1}).delays())
            delay = delays[-1] if delays else self.config.retry.max_s
            log.warning("TAXII delivery failed (attempt %s), retrying in %.1fs: %s", attempts + 1, delay, exc)
            self.spool.retry_later(ids, str(exc), time.time() + delay)
            return
        failures = status.get("failures") or []
        if failures:
            log.error("hub refused %s object(s): %s", len(failures), failures[:3])
        self.spool.mark_sent(ids)
        self.delivered += len(ids)


def _unique(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop repeated (id, modified) pairs (shared marking definitions, the detector SCO)."""
    seen: set[tuple[str, str | None]] = set()
    out = []
    for obj in objects:
        ident = (obj["id"], obj.get("modified"))
        if ident not in seen:
            seen.add(ident)
            out.append(obj)
    return out


SINKS.add(TaxiiSinkConfig, TaxiiSink)
