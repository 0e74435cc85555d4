"""The hub's demo: a worker on the sample plaza video, detections handed to an in-process callback.

    from detectors.demo import run_demo_worker
    stop = threading.Event()
    threading.Thread(target=run_demo_worker, args=(on_detection, stop), daemon=True).start()

`on_detection(detection)` runs on the worker's delivery thread; convert with
`detectors.sinks.stix.detection_bundle(detection)` (a STIX 2.1 bundle, deterministic ids) and hand it to
the hub's ingest service (from async code use `loop.call_soon_threadsafe`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from detectors.config import SiteConfig, ZoneConfig, parse_site_config
from detectors.defaults import default_analysers
from detectors.events import Detection
from detectors.feeds.base import FeedHealth
from detectors.media import sample_video
from detectors.sinks.callback import CallbackSink
from detectors.worker import Worker, WorkerStats

#: zones drawn on vtest.avi: a restricted service area in the middle, and the walkway calibrated for density.
DEMO_ZONES: list[dict[str, Any]] = [
    {"name": "service-area", "polygon": [[0.36, 0.42], [0.62, 0.42], [0.62, 0.72], [0.36, 0.72]]},
    {"name": "walkway", "polygon": [[0.0, 0.25], [1.0, 0.25], [1.0, 0.55], [0.0, 0.55]], "area_m2": 150.0,
     "max_people_per_m2": 0.03},
]


def demo_site(video: Path, evidence_dir: Path, *, loop: bool = True, realtime: bool = True,
              venue: str = "Demo Plaza", municipality: str = "Demo City") -> SiteConfig:
    """The demo's site config: one camera on `video` with the default analysers and the demo zones."""
    zones = [ZoneConfig.model_validate(z) for z in DEMO_ZONES]
    return parse_site_config({
        "site": {"venue": venue, "municipality": municipality},
        "feeds": [{
            "id": "demo-plaza-cam", "area": "plaza",
            "source": {"type": "file", "path": str(video), "loop": loop, "realtime": realtime},
            "zones": DEMO_ZONES,
            "analysers": default_analysers(zones),
        }],
        "evidence": {"directory": str(evidence_dir)},
    })


def run_demo_worker(callback: Callable[[Detection], None], stop_event: threading.Event, *,
                    video: Path | None = None, evidence_dir: Path | None = None, loop: bool = True,
                    realtime: bool = True, on_health: Callable[[FeedHealth], None] | None = None) -> WorkerStats:
    """Run the demo worker until `stop_event` is set (or the clip ends when `loop=False`)."""
    video = video or sample_video()
    evidence_dir = evidence_dir or Path("popart-demo") / "evidence"
    config = demo_site(video, evidence_dir, loop=loop, realtime=realtime)
    worker = Worker(config, [CallbackSink(callback, on_health)])
    return worker.run(stop_event)


def _with_microphone(config: SiteConfig, data_dir: Path) -> SiteConfig:
    """Add a microphone next to the camera: sample sounds (shot, scream, glass) mixed into crowd noise."""
    from detectors.audio.demo import write_demo_scene
    from detectors.media import ensure_sample_media

    scene = data_dir / "demo-microphone.wav"
    if not scene.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        write_demo_scene(scene, media=ensure_sample_media() / "audio")
    raw = config.model_dump(mode="json", exclude_none=True)
    raw["feeds"].append({"id": "demo-plaza-mic", "area": "plaza",
                         "source": {"type": "audio_file", "path": str(scene), "loop": True, "realtime": True},
                         "analysers": [{"type": "audio_events"}]})
    return parse_site_config(raw)


def main(argv: list[str] | None = None) -> None:
    """`python -m detectors.demo --hub-url … --collection …`: the demo worker posting to a hub over TAXII.

    `popart demo` starts this as a separate process: the worker reaches the hub only through its TAXII sink,
    as a real deployment's workers do. The password is read from the environment variable named by
    `--password-env`, never from the command line.
    """
    import argparse
    import os
    import signal

    from pydantic import SecretStr

    from detectors.sinks.taxii import TaxiiSinkConfig

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--hub-url", required=True, help="API root URL, e.g. http://127.0.0.1:6100/popart/")
    ap.add_argument("--collection", required=True)
    ap.add_argument("--username", required=True)
    ap.add_argument("--password-env", default="POPART_DEMO_WORKER_SECRET")
    ap.add_argument("--data-dir", type=Path, default=Path("popart-demo"))
    ap.add_argument("--municipality", default="Madrid")
    ap.add_argument("--venue", default="Plaza Mayor")
    args = ap.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    config = demo_site(sample_video(), args.data_dir / "evidence", venue=args.venue, municipality=args.municipality)
    config = _with_microphone(config, args.data_dir)
    sink = TaxiiSinkConfig(api_root=args.hub_url, collection_id=args.collection, username=args.username,
                           password=SecretStr(os.environ[args.password_env]),
                           spool=args.data_dir / "worker-spool.sqlite3", tlp="green")
    config = config.model_copy(update={"sinks": [sink]})
    Worker(config).run(stop)


if __name__ == "__main__":
    main()
