"""Shared fixtures: sample media fetched by the repo's script, synthetic clips, a worker runner."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from detectors.config import parse_site_config
from detectors.events import Detection
from detectors.sinks.callback import CallbackSink
from detectors.synthetic import Scene
from detectors.worker import Worker, WorkerStats

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """`.media/` with vtest.avi and messi5.jpg, fetched from Debian's opencv-doc when missing."""
    media = ROOT / ".media"
    if not (media / "vtest.avi").is_file() or not (media / "messi5.jpg").is_file():
        subprocess.run([str(ROOT / "scripts" / "fetch_media.sh"), str(media)], check=True, timeout=600)
    return media


@pytest.fixture(scope="session")
def vtest(media_dir: Path) -> Path:
    """Pedestrians on a plaza, 768×576, 10 fps (795 frames)."""
    return media_dir / "vtest.avi"


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Scene], Path]:
    """Write a synthetic scene once per session under a name."""
    folder = tmp_path_factory.mktemp("clips")
    written: dict[str, Path] = {}

    def write(name: str, scene: Scene) -> Path:
        if name not in written:
            written[name] = scene.write(folder / f"{name}.avi")
        return written[name]

    return write


RunWorker = Callable[..., tuple[list[Detection], WorkerStats]]


@pytest.fixture
def run_worker(tmp_path: Path) -> RunWorker:
    """Run a one-feed worker on a clip; returns the detections (in order) and the stats."""

    def run(path: Path, analysers: list[dict[str, Any]], zones: list[dict[str, Any]] | None = None,
            **feed: Any) -> tuple[list[Detection], WorkerStats]:
        source = {"type": "file", "path": str(path), **feed.pop("source", {})}
        config = parse_site_config({
            "site": {"venue": "Test Arena", "municipality": "Testville"},
            "feeds": [{"id": "cam-1", "source": source, "zones": zones or [], "analysers": analysers, **feed}],
            "evidence": {"directory": str(tmp_path / "evidence")},
        })
        found: list[Detection] = []
        stats = Worker(config, [CallbackSink(found.append)]).run()
        return found, stats

    return run
