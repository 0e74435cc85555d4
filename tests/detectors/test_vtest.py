"""On real footage (vtest.avi, pedestrians on a plaza): people are found, a calm scene raises nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from detectors.analysers.base import FrameContext
from detectors.analysers.people import HogPeople, HogPeopleConfig
from detectors.config import ZoneConfig
from detectors.defaults import default_analysers
from detectors.feeds.base import FeedItem
from tests.detectors.conftest import RunWorker


def test_hog_finds_the_people_on_the_plaza(vtest: Path) -> None:
    hog = HogPeople(HogPeopleConfig(detect_fps=None))
    capture = cv2.VideoCapture(str(vtest))
    counts = []
    plausible = total = 0
    for i in range(0, 400, 40):
        capture.set(cv2.CAP_PROP_POS_FRAMES, i)
        ok, frame = capture.read()
        assert ok
        ctx = FrameContext(FeedItem("plaza", i, i / 10, datetime.now(), frame), [])
        hog.analyse(ctx)
        people = [b for b in ctx.objects if b.label == "person"]
        counts.append(len(people))
        for box in people:  # pedestrians are upright, human-sized boxes
            total += 1
            plausible += 1.5 < (box.h * 576) / (box.w * 768) < 3.0 and 0.08 < box.h < 0.45
    assert plausible >= 0.8 * total
    assert np.median(counts) >= 3, counts
    assert min(counts) >= 1, counts


def test_the_default_chain_raises_nothing_on_a_calm_plaza(vtest: Path, run_worker: RunWorker) -> None:
    found, stats = run_worker(vtest, default_analysers(), source={"analysis_fps": 5, "end_s": 50})
    assert stats.feeds["cam-1"].frames == 251  # 0.0 .. 50.0 s at 5 fps
    assert found == [], [(d.category, d.stream_time) for d in found]


def test_people_walking_through_a_zone_are_intrusions(vtest: Path, run_worker: RunWorker) -> None:
    zone = {"name": "service-area", "polygon": [[0.36, 0.42], [0.62, 0.42], [0.62, 0.72], [0.36, 0.72]]}
    found, _ = run_worker(vtest, default_analysers([ZoneConfig.model_validate(zone)], crowd_motion=False),
                          zones=[zone], source={"analysis_fps": 5, "end_s": 40})
    intrusions = {d.incident_id for d in found if d.category == "intrusion"}
    assert intrusions
    assert {d.category for d in found} <= {"intrusion", "loitering"}
    assert all(d.zone == "service-area" and d.boxes for d in found)
