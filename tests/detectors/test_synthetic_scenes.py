"""Analysers on synthetic clips with exact ground truth: each incident found once, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from detectors import synthetic
from detectors.events import Detection, Phase
from tests.detectors.conftest import RunWorker

Clips = Callable[[str, synthetic.Scene], Path]
BLOB_TRACKING = [{"type": "motion", "history": 3000}, {"type": "tracker", "source": "motion"}]


def incidents(found: list[Detection], category: str) -> dict[str, list[Detection]]:
    out: dict[str, list[Detection]] = {}
    for d in found:
        if d.category == category:
            out.setdefault(d.incident_id, []).append(d)
    return out


def test_a_blob_entering_a_zone_is_one_intrusion_from_entry_to_exit(clips: Clips, run_worker: RunWorker) -> None:
    scene = synthetic.intrusion_scene()
    found, _ = run_worker(clips("intrusion", scene), [*BLOB_TRACKING, {"type": "zones", "loiter_s": 3}],
                          zones=[{"name": "stage", "polygon": scene.zone}])
    intrusions = incidents(found, "intrusion")
    assert len(intrusions) == 1
    phases = next(iter(intrusions.values()))
    assert [d.phase for d in phases] == [Phase.START, Phase.END]
    start, end = phases
    truth = scene.events[0]
    # starts once the feet are inside (+ min_duration 1 s), ends once it is gone for end_after_s
    assert truth.start + 0.9 <= start.stream_time <= truth.start + 1.5
    assert truth.end - 0.5 <= end.stream_time - 3.0 <= truth.end + 0.5  # emitted end_after_s after last seen
    assert end.ended == end.last_seen
    assert start.zone == "stage" and start.venue == "Test Arena"
    assert start.evidence and start.evidence[0].redacted and end.evidence == start.evidence


def test_loitering_fires_only_after_the_dwell_time(clips: Clips, run_worker: RunWorker) -> None:
    scene = synthetic.intrusion_scene()
    found, _ = run_worker(clips("intrusion", scene), [*BLOB_TRACKING, {"type": "zones", "loiter_s": 3}],
                          zones=[{"name": "stage", "polygon": scene.zone}])
    loiter = incidents(found, "loitering")
    assert len(loiter) == 1
    start = next(iter(loiter.values()))[0]
    assert start.attributes["dwell_s"] >= 3
    assert start.stream_time >= scene.events[0].start + 3


def test_a_short_dwell_is_not_loitering(clips: Clips, run_worker: RunWorker) -> None:
    scene = synthetic.intrusion_scene()
    found, _ = run_worker(clips("intrusion", scene), [*BLOB_TRACKING, {"type": "zones", "loiter_s": 20}],
                          zones=[{"name": "stage", "polygon": scene.zone}])
    assert incidents(found, "loitering") == {}


def test_an_object_left_behind_is_reported_once(clips: Clips, run_worker: RunWorker) -> None:
    scene = synthetic.abandoned_scene()
    found, _ = run_worker(clips("abandoned", scene), [*BLOB_TRACKING, {"type": "abandoned", "min_static_s": 4}])
    left = incidents(found, "abandoned-object")
    assert len(left) == 1
    start = next(iter(left.values()))[0]
    assert scene.events[0].start + 4 <= start.stream_time <= scene.events[0].start + 9
    box = start.boxes[0]
    assert abs(box.x + box.w / 2 - 0.54) < 0.05  # where the bag was put down
    assert {d.category for d in found} == {"abandoned-object"}


@pytest.mark.parametrize("kind,expected", [
    pytest.param("black", "covered", id="covered"),
    pytest.param("blurred", "defocused", id="defocused"),
    pytest.param("moved", "moved", id="moved"),
])
def test_camera_tampering_is_reported_with_its_kind(clips: Clips, run_worker: RunWorker, kind: str,
                                                    expected: str) -> None:
    scene = synthetic.tampering_scene(kind)
    found, _ = run_worker(clips(f"tamper-{kind}", scene), [{"type": "motion"}, {"type": "tampering"}])
    tamper = incidents(found, "camera-tamper")
    assert len(tamper) == 1
    start = next(iter(tamper.values()))[0]
    assert start.attributes["kind"] == expected
    assert 5.0 <= start.stream_time <= 7.0


def test_a_moved_camera_becomes_normal_after_relearn_s(clips: Clips, run_worker: RunWorker) -> None:
    scene = synthetic.tampering_scene("moved")
    found, _ = run_worker(clips("tamper-moved", scene), [{"type": "tampering", "relearn_s": 3}])
    start, end = found
    assert (start.phase, end.phase) == (Phase.START, Phase.END)
    assert end.stream_last_seen < 9.0  # re-learnt 3 s after the move at 5 s, not at the end of the clip


def test_a_crowd_running_apart_is_panic(clips: Clips, run_worker: RunWorker) -> None:
    scene = synthetic.crowd_scene(panic_at=8.0)
    found, _ = run_worker(clips("panic", scene), [{"type": "motion"}, {"type": "crowd-motion"}])
    panic = incidents(found, "crowd-panic")
    assert len(panic) == 1
    assert 8.0 <= next(iter(panic.values()))[0].stream_time <= 10.5


def test_people_fighting_is_violence(clips: Clips, run_worker: RunWorker) -> None:
    scene = synthetic.fight_scene()
    found, _ = run_worker(clips("fight", scene), [{"type": "motion"}, {"type": "crowd-motion"}])
    violence = incidents(found, "violence")
    assert len(violence) == 1
    assert scene.events[0].start <= next(iter(violence.values()))[0].stream_time <= scene.events[0].start + 3
    assert {d.category for d in found} == {"violence"}


def test_a_calm_crowd_raises_nothing(clips: Clips, run_worker: RunWorker) -> None:
    scene = synthetic.crowd_scene(panic_at=None)
    found, stats = run_worker(clips("calm", scene), [{"type": "motion"}, {"type": "crowd-motion"},
                                                     {"type": "tampering"}])
    assert found == []
    assert stats.feeds["cam-1"].frames == 140
