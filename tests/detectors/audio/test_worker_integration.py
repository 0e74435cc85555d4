"""Audio feeds and analysers in the site config, and their observations through the event rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.analysers.base import ANALYSERS
from detectors.audio import synth
from detectors.audio.feeds import AudioFileFeed
from detectors.audio.worker import AUDIO_EVENT_RULES, AudioContext, AudioEventsAnalyser
from detectors.config import parse_site_config
from detectors.errors import ConfigError
from detectors.events import Detection, EventRules, Phase
from detectors.feeds.base import create_feed
from detectors.registry import PluginError

from .conftest import write_wav


def site(path: Path, analysers: list[dict[str, object]] | None = None) -> dict[str, object]:
    return {"feeds": [{"id": "mic-north", "area": "north-gate",
                       "source": {"type": "audio_file", "path": str(path), "gain_db": 0.0, "block_s": 0.5},
                       "analysers": analysers if analysers is not None else [{"type": "audio_events"}]}]}


def test_audio_feed_and_analyser_are_plugin_types_of_the_site_config(tmp_path: Path) -> None:
    config = parse_site_config(site(tmp_path / "a.wav", [{"type": "audio_events", "detectors": [
        {"type": "impulse", "prominence_db": 12}, {"type": "scream"}]}]))
    feed = config.feeds[0]
    assert feed.source.media == "audio" and feed.source.type == "audio_file"
    assert [d.type for d in feed.analysers[0].detectors] == ["impulse", "scream"]
    default = parse_site_config(site(tmp_path / "a.wav")).feeds[0].analysers[0]
    assert [d.type for d in default.detectors] == ["impulse", "glass", "scream", "siren", "crowd"]


@pytest.mark.parametrize(("analysers", "message"), [
    pytest.param([{"type": "audio_events", "detectors": [{"type": "impulse", "prominance_db": 3}]}],
                 "feeds.0.analysers.0.detectors.0.prominance_db", id="typo"),
    pytest.param([{"type": "audio_events", "detectors": [{"type": "gunshot-ml"}]}],
                 "unknown audio detector type 'gunshot-ml'", id="unknown-detector"),
    pytest.param([{"type": "motion"}], "works on video", id="video-analyser-on-microphone"),
])
def test_bad_audio_config_names_the_field(tmp_path: Path, analysers: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_site_config(site(tmp_path / "a.wav", analysers))


def test_audio_observations_become_incidents_with_audio_segments(tmp_path: Path) -> None:
    x = synth.crowd_noise(20, 1, 0.01)
    x = synth.place(x, synth.gunshot(1), 5.0, 25)
    x = synth.place(x, synth.gunshot(2), 5.5, 25)
    x = synth.place(x, synth.scream(1.2, 950, 3), 12.0, 18)
    config = parse_site_config(site(write_wav(tmp_path / "scene.wav", x)))
    setup = config.feeds[0]
    feed = create_feed(setup.source, setup.id)
    assert isinstance(feed, AudioFileFeed)
    analyser = AudioEventsAnalyser(setup.analysers[0])
    rules = EventRules(setup.id, "microphone", "test", setup.events, AUDIO_EVENT_RULES)
    detections: list[Detection] = []
    last = 0.0
    for item in feed.items():
        detections += rules.step(item.stream_time, item.wall_time, analyser.analyse(AudioContext(item)))
        last = item.stream_time
    detections += rules.step(last, item.wall_time, analyser.finish())
    detections += rules.flush(last)
    starts = [d for d in detections if d.phase is Phase.START]
    assert [d.category for d in starts] == ["gunshot", "scream"]
    shot = starts[0]
    assert shot.sensor_kind == "microphone" and shot.detector == "audio/impulse"
    assert shot.attributes["stream_start_s"] == pytest.approx(5.0, abs=0.03)
    assert shot.audio_segment is not None and shot.audio_segment["low_hz"] == 50.0
    assert shot.audio_segment["end_s"] == pytest.approx(float(shot.attributes["stream_end_s"]) - 5.0, abs=0.05)
    assert shot.attributes["impulses"] == 2
    assert {d.phase for d in detections if d.category == "gunshot"} == {Phase.START, Phase.END}


def test_audio_events_analyser_cannot_start_with_a_broken_classifier(tmp_path: Path) -> None:
    config = parse_site_config(site(tmp_path / "a.wav", [{"type": "audio_events", "detectors": [
        {"type": "onnx_classifier", "model": str(tmp_path / "missing.onnx"), "class_map": str(tmp_path / "m.csv"),
         "categories": {"gunshot": ["Gunshot, gunfire"]}}]}]))
    with pytest.raises(PluginError, match="missing.onnx"):
        ANALYSERS.create(config.feeds[0].analysers[0])


@pytest.mark.parametrize("audio_rules", [pytest.param(True, id="audio-event-rules"),
                                         pytest.param(False, id="default-event-rules")])
def test_the_worker_runs_a_microphone_to_stix(tmp_path: Path, audio_media: Path, audio_rules: bool) -> None:
    """The site's worker with an audio feed: incidents per sound, microphone sensor, STIX with the segment."""
    import json

    from detectors.audio.demo import write_demo_scene
    from detectors.sinks.callback import CallbackSink
    from detectors.sinks.stix import detection_bundle
    from detectors.worker import Worker

    write_demo_scene(tmp_path / "mic.wav", media=audio_media)
    rules = {k: v.model_dump() for k, v in AUDIO_EVENT_RULES.items()} if audio_rules else {}
    config = parse_site_config({
        "feeds": [{"id": "mic-1", "area": "north-gate",
                   "source": {"type": "audio_file", "path": str(tmp_path / "mic.wav")},
                   "analysers": [{"type": "audio_events"}], "events_per_category": rules}],
        "evidence": {"directory": str(tmp_path / "evidence")}})
    found: list[Detection] = []
    stats = Worker(config, [CallbackSink(found.append)]).run()
    assert stats.feeds["mic-1"].error is None
    starts = [d for d in found if d.phase is Phase.START]
    assert [d.category for d in starts] == ["gunshot", "scream", "glass-break", "siren", "explosion"]
    assert all(d.sensor_kind == "microphone" and d.zone == "north-gate" for d in found)
    assert {d.incident_id for d in found if d.phase is Phase.END} == {d.incident_id for d in starts}
    bundle = json.dumps(detection_bundle(starts[0]))
    assert '"audio_segment"' in bundle and '"low_hz": 50.0' in bundle
