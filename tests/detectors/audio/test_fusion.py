"""Fusion rules: an audio and a video incident of the same place and time become one linked alert."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from detectors.events import Box, Detection, Phase
from detectors.fusion import Fuser, FusionConfig, FusionRule, fuse

T0 = datetime(2026, 7, 14, 21, 0, tzinfo=UTC)


def detection(incident: str, kind: str, sensor: str, category: str, confidence: int, at_s: float,
              zone: str | None = "north-gate", phase: Phase = Phase.START, seconds: float = 2.0) -> Detection:
    return Detection(
        incident_id=incident, phase=phase, revision=0, sensor_id=sensor, sensor_kind=kind, category=category,
        confidence=confidence, detector="test", detector_version="1", started=T0 + timedelta(seconds=at_s),
        last_seen=T0 + timedelta(seconds=at_s + seconds), ended=None, stream_time=at_s, zone=zone,
        boxes=(Box(0.1, 0.2, 0.3, 0.4, "person"),) if kind == "camera" else (),
        audio_segment=(at_s, at_s + 1.0) if kind == "microphone" else None,
    )


def scream(at_s: float = 10.0, **kw: object) -> Detection:
    return detection("a-1", "microphone", "mic-1", "scream", 70, at_s, **kw)  # type: ignore[arg-type]


def violence(at_s: float = 12.0, **kw: object) -> Detection:
    return detection("v-1", "camera", "cam-1", "violence", 60, at_s, **kw)  # type: ignore[arg-type]


def test_scream_and_violent_motion_in_the_same_zone_make_one_stronger_alert() -> None:
    alerts = fuse([scream(), violence()])
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.category == "violence" and alert.phase is Phase.START
    assert alert.confidence == 88 > 70  # 1 - (1 - .7)(1 - .6)
    assert alert.boxes == violence().boxes and alert.audio_segment == (10.0, 11.0)
    assert alert.attributes["audio_incident"] == "a-1" and alert.attributes["video_incident"] == "v-1"
    assert alert.started == T0 + timedelta(seconds=10) and alert.detector == "fusion/scream-violence"
    assert fuse([violence(), scream()])[0].incident_id == alert.incident_id  # order-independent, deterministic


@pytest.mark.parametrize(("audio", "video"), [
    pytest.param(scream(), violence(zone="south-gate"), id="other-zone"),
    pytest.param(scream(), violence(at_s=100.0), id="too-late"),
    pytest.param(detection("a-2", "microphone", "mic-1", "siren", 90, 10.0), violence(), id="no-rule"),
    pytest.param(detection("x", "camera", "cam-2", "violence", 90, 10.0), violence(), id="two-cameras"),
])
def test_nothing_is_linked_without_place_time_and_rule(audio: Detection, video: Detection) -> None:
    assert fuse([audio, video]) == []


def test_a_microphone_linked_to_its_camera_fuses_without_zone_names() -> None:
    config = FusionConfig(links={"mic-1": ["cam-1"]})
    assert len(fuse([scream(zone=None), violence(zone=None)], config)) == 1
    assert fuse([scream(zone=None), violence(zone=None)]) == []


def test_updates_raise_the_alert_and_it_ends_when_both_incidents_end() -> None:
    fuser = Fuser(FusionConfig(rules=[FusionRule(name="s-v", audio=["scream"], video=["violence"])]))
    assert len(fuser.add(scream())) == 0
    start = fuser.add(violence())
    stronger = fuser.add(replace(violence(), phase=Phase.UPDATE, revision=1, confidence=90))
    assert [a.phase for a in stronger] == [Phase.UPDATE] and stronger[0].confidence == 97
    assert stronger[0].incident_id == start[0].incident_id and stronger[0].revision == 1
    assert fuser.add(replace(scream(), phase=Phase.END)) == []
    ended = fuser.add(replace(violence(), phase=Phase.END))
    assert [a.phase for a in ended] == [Phase.END] and ended[0].ended is not None


def test_fusion_sink_in_a_site_config_forwards_detections_and_adds_linked_alerts() -> None:
    from detectors.config import parse_site_config
    from detectors.sinks.base import SINKS
    from detectors.sinks.callback import register_callback

    got: list[Detection] = []
    register_callback("fusion-test", got.append)
    config = parse_site_config({
        "feeds": [{"id": "mic-1", "source": {"type": "audio_file", "path": "x.wav"},
                   "analysers": [{"type": "audio_events"}]}],
        "sinks": [{"type": "fusion", "links": {"mic-1": ["cam-1"]},
                   "sinks": [{"type": "callback", "name": "fusion-test"}]}],
    })
    sink = SINKS.create(config.sinks[0])
    for d in (scream(zone=None), violence(zone=None)):
        sink.emit(d)
    sink.close()
    assert [d.detector for d in got] == ["test", "test", "fusion/scream-violence"]
    with pytest.raises(Exception, match="sinks"):
        parse_site_config({"feeds": config.model_dump(mode="json")["feeds"],
                           "sinks": [{"type": "fusion", "sinks": []}]})


def test_worker_links_a_scream_with_the_fight_the_camera_sees(tmp_path: Path) -> None:
    """A camera on a fight from 5 s and a microphone hearing a scream at 5.5 s, same zone: one linked alert."""
    from detectors.audio import synth
    from detectors.config import parse_site_config
    from detectors.sinks.callback import register_callback
    from detectors.synthetic import fight_scene
    from detectors.worker import Worker

    from .conftest import write_wav

    clip = fight_scene().write(tmp_path / "fight.avi")
    mic = write_wav(tmp_path / "mic.wav", synth.place(synth.crowd_noise(12, 2, 0.01), synth.scream(1.2, 1000, 1),
                                                      5.5, 20))
    got: list[Detection] = []
    register_callback("fusion-e2e", got.append)
    config = parse_site_config({
        "feeds": [
            {"id": "cam-1", "area": "stage-left", "source": {"type": "file", "path": str(clip)},
             "analysers": [{"type": "motion"}, {"type": "crowd-motion"}]},
            {"id": "mic-1", "area": "stage-left", "source": {"type": "audio_file", "path": str(mic)},
             "analysers": [{"type": "audio_events"}]},
        ],
        "sinks": [{"type": "fusion", "sinks": [{"type": "callback", "name": "fusion-e2e"}]}],
        "evidence": {"directory": str(tmp_path / "evidence")},
    })
    Worker(config).run()
    starts = {(d.sensor_id, d.category, d.detector) for d in got if d.phase is Phase.START}
    assert ("cam-1", "violence", "fusion/scream-violence") in starts
    assert {("mic-1", "scream"), ("cam-1", "violence")} <= {(s, c) for s, c, _ in starts}
    linked = next(d for d in got if d.detector == "fusion/scream-violence")
    assert linked.zone == "stage-left" and linked.audio_segment is not None
    assert linked.confidence >= max(int(linked.attributes["audio_confidence"]),
                                    int(linked.attributes["video_confidence"]))
