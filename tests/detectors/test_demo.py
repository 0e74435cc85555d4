"""The hook `popart demo` calls: a worker on the sample video whose detections reach a callback as STIX."""

from __future__ import annotations

import threading
from pathlib import Path

from detectors.demo import run_demo_worker
from detectors.events import Detection
from detectors.sinks.stix import detection_bundle
from stix_profiles.validate import errors, validate


def test_the_demo_worker_delivers_detections_until_stopped(vtest: Path, tmp_path: Path) -> None:
    stop = threading.Event()
    received: list[Detection] = []

    def on_detection(detection: Detection) -> None:
        received.append(detection)
        if len(received) >= 2:
            stop.set()

    stats = run_demo_worker(on_detection, stop, video=vtest, evidence_dir=tmp_path, realtime=False)
    assert len(received) >= 2
    assert stats.feeds["demo-plaza-cam"].frames < 795  # stopped by the event, not the end of the clip
    first = received[0]
    assert first.venue == "Demo Plaza" and first.evidence and first.evidence[0].redacted
    assert not errors(validate(detection_bundle(first)))
