"""The TAXII sink against a small real HTTP server: spool, retry through an outage, idempotent replays."""

from __future__ import annotations

import base64
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from detectors.events import Box, Detection, Evidence, Phase
from detectors.sinks.taxii import TAXII_MEDIA_TYPE, TaxiiSink, TaxiiSinkConfig
from stix_profiles.validate import errors, validate

T0 = datetime(2026, 7, 14, 21, 0, tzinfo=UTC)


class Hub:
    """A minimal TAXII 2.1 objects endpoint: Basic auth, media types, versions kept by (id, modified)."""

    def __init__(self, port: int, reject: bool = False) -> None:
        self.objects: dict[tuple[str, str | None], dict[str, Any]] = {}
        self.posts = 0
        self.reject = reject
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", TAXII_MEDIA_TYPE)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                expected = "Basic " + base64.b64encode(b"sensor-7:s3cret").decode()
                if self.headers.get("Authorization") != expected:
                    return self._reply(401, {"title": "unauthorised"})
                if self.path != "/api1/collections/detections/objects/":
                    return self._reply(404, {"title": "no such collection"})
                if not self.headers.get("Content-Type", "").startswith("application/taxii+json"):
                    return self._reply(415, {"title": "unsupported media type"})
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if hub.reject:
                    return self._reply(422, {"title": "not profile-valid"})
                hub.posts += 1
                for obj in body["objects"]:
                    hub.objects.setdefault((obj["id"], obj.get("modified")), obj)
                self._reply(202, {"id": str(uuid.uuid4()), "status": "complete", "total_count": len(body["objects"]),
                                  "success_count": len(body["objects"]), "failure_count": 0, "pending_count": 0})

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def observed(self) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o["type"] == "observed-data"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def hub(port: int) -> Iterator[Hub]:
    running = Hub(port)
    yield running
    running.stop()


def config(port: int, spool: Path, **extra: Any) -> TaxiiSinkConfig:
    fields: dict[str, Any] = {
        "api_root": f"http://127.0.0.1:{port}/api1", "collection_id": "detections", "username": "sensor-7",
        "password": "s3cret", "spool": spool, "retry": {"initial_s": 0.05, "max_s": 0.2, "max_attempts": None},
        "flush_timeout_s": 5, "timeout_s": 2,
    }
    return TaxiiSinkConfig.model_validate(fields | extra)


def detection(n: int, phase: Phase = Phase.START) -> Detection:
    started = T0 + timedelta(minutes=n)
    return Detection(
        incident_id=f"incident-{n}", phase=phase, revision=0 if phase is Phase.START else 1, sensor_id="cam-1",
        sensor_kind="camera", category="intrusion", confidence=88, detector="zone-watch", detector_version="0.1.0",
        started=started, last_seen=started + timedelta(seconds=2),
        ended=started + timedelta(seconds=9) if phase is Phase.END else None, stream_time=2.0, key="stage",
        zone="stage", boxes=(Box(0.6, 0.4, 0.1, 0.3, "person", 0.9, 4),), attributes={"count": 1},
        evidence=(Evidence("ab" * 32, "image/jpeg", "/tmp/x.jpg", True),), venue="Arena", municipality="Lyon",
    )


def test_detections_arrive_as_profile_valid_stix(hub: Hub, port: int, tmp_path: Path) -> None:
    sink = TaxiiSink(config(port, tmp_path / "spool.db"))
    sink.emit(detection(1))
    sink.emit(detection(1, Phase.END))
    sink.close()
    observed = hub.observed()
    assert len(observed) == 2 and len({o["id"] for o in observed}) == 1  # two versions of one incident
    assert not errors(validate({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                "objects": list(hub.objects.values())}))


def test_an_outage_loses_nothing_and_delivery_resumes(port: int, tmp_path: Path) -> None:
    sink = TaxiiSink(config(port, tmp_path / "spool.db"))
    for n in range(5):
        sink.emit(detection(n))
    assert not sink.flush(0.5)  # nobody listening yet
    assert sink.spool.counts()["pending"] == 5
    hub = Hub(port)
    try:
        assert sink.flush(10)
        sink.close()
        assert len(hub.observed()) == 5
    finally:
        hub.stop()


def test_the_spool_survives_a_restart_of_the_worker(port: int, tmp_path: Path) -> None:
    spool = tmp_path / "spool.db"
    first = TaxiiSink(config(port, spool, flush_timeout_s=0.2))
    for n in range(3):
        first.emit(detection(n))
    first.close()  # hub down: everything stays on disk
    hub = Hub(port)
    try:
        second = TaxiiSink(config(port, spool))
        assert second.flush(10)
        second.close()
        assert len(hub.observed()) == 3
    finally:
        hub.stop()


def test_replaying_the_same_detection_changes_nothing(hub: Hub, port: int, tmp_path: Path) -> None:
    sink = TaxiiSink(config(port, tmp_path / "spool.db"))
    sink.emit(detection(1))
    assert sink.flush(10)
    posts, objects = hub.posts, dict(hub.objects)
    sink.emit(detection(1))  # e.g. the worker re-ran the same clip after a crash
    assert sink.flush(10)
    sink.close()
    assert hub.posts == posts and hub.objects == objects
    replay = TaxiiSink(config(port, tmp_path / "other-spool.db"))  # a fresh spool: the hub dedupes by id
    replay.emit(detection(1))
    replay.close()
    assert hub.objects.keys() == objects.keys()


def test_a_refusal_is_kept_as_rejected_not_retried_forever(port: int, tmp_path: Path) -> None:
    hub = Hub(port, reject=True)
    try:
        sink = TaxiiSink(config(port, tmp_path / "spool.db"))
        sink.emit(detection(1))
        assert sink.flush(10)
        assert sink.spool.counts()["rejected"] == 1
        sink.close()
    finally:
        hub.stop()


def test_the_password_is_a_secret_in_reprs(tmp_path: Path) -> None:
    assert "s3cret" not in repr(config(1, tmp_path / "s.db"))
