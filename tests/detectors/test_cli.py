"""The typer sub-application: detect (jsonl/stix, annotate), worker (bad config), eval on labelled clips."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import yaml
from typer.testing import CliRunner

from detectors import synthetic
from detectors.cli import app
from stix_profiles.validate import errors, validate

Clips = Callable[[str, synthetic.Scene], Path]
runner = CliRunner()


def site_file(tmp_path: Path, clip: Path, zone: list[tuple[float, float]]) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({
        "site": {"venue": "Test Arena"},
        "feeds": [{"id": "gate-cam", "source": {"type": "file", "path": str(clip)},
                   "zones": [{"name": "stage", "polygon": [list(p) for p in zone]}],
                   "analysers": [{"type": "motion", "history": 3000}, {"type": "tracker", "source": "motion"},
                                 {"type": "zones"}]}],
        "evidence": {"directory": str(tmp_path / "evidence")},
    }))
    return path


def test_detect_writes_json_lines_and_an_annotated_clip(clips: Clips, tmp_path: Path) -> None:
    scene = synthetic.intrusion_scene()
    clip = clips("intrusion", scene)
    out, annotated = tmp_path / "out.jsonl", tmp_path / "annotated.mp4"
    result = runner.invoke(app, ["detect", str(clip), "--config", str(site_file(tmp_path, clip, scene.zone or [])),
                                 "--annotate", str(annotated), "-o", str(out), "--evidence", str(tmp_path / "ev")])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(d["category"], d["phase"]) for d in lines] == [("intrusion", "start"), ("intrusion", "end")]
    assert lines[0]["evidence"][0]["redacted"] is True
    capture = cv2.VideoCapture(str(annotated))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 140
    assert "1 incidents, 2 detections" in result.output


def test_detect_can_emit_profile_valid_stix(clips: Clips, tmp_path: Path) -> None:
    scene = synthetic.intrusion_scene()
    clip = clips("intrusion", scene)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["detect", str(clip), "-c", str(site_file(tmp_path, clip, scene.zone or [])),
                                 "--format", "stix", "-o", str(out), "--evidence", str(tmp_path / "ev")])
    assert result.exit_code == 0, result.output
    bundles = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(bundles) == 2 and all(b["type"] == "bundle" for b in bundles)
    observed = [[o for o in b["objects"] if o["type"] == "observed-data"][0] for b in bundles]
    assert observed[0]["id"] == observed[1]["id"] and observed[0]["modified"] < observed[1]["modified"]
    for bundle in bundles:
        assert not errors(validate(bundle))


def test_a_missing_clip_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["detect", str(tmp_path / "nope.avi")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_worker_refuses_a_bad_config_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "site.yaml"
    bad.write_text("feeds:\n  - id: cam\n    source: {type: file, path: x.avi}\n"
                   "    analysers: [{type: hog, detect_fsp: 3}]\n")
    result = runner.invoke(app, ["worker", "--config", str(bad)])
    assert result.exit_code == 2
    assert "feeds.0.analysers.0.detect_fsp: Extra inputs are not permitted" in result.output


def test_worker_runs_a_site_to_the_end_of_its_files(clips: Clips, tmp_path: Path) -> None:
    scene = synthetic.intrusion_scene()
    clip = clips("intrusion", scene)
    config = site_file(tmp_path, clip, scene.zone or [])
    data = yaml.safe_load(config.read_text())
    data["sinks"] = [{"type": "jsonl", "path": str(tmp_path / "detections.jsonl")}]
    config.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["worker", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "detections.jsonl").read_text().splitlines()) == 2


def test_eval_reports_precision_recall_and_latency_per_category(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    for name, scene in (("black", synthetic.tampering_scene("black")), ("calm", synthetic.crowd_scene(None))):
        scene.write(folder / f"{name}.avi")
    (folder / "labels.yaml").write_text(yaml.safe_dump({
        "defaults": {"analysers": [{"type": "motion"}, {"type": "tampering"}, {"type": "crowd-motion"}]},
        "clips": [
            {"file": "black.avi", "events": [{"category": "camera-tamper", "start": 5.0, "end": 12.0},
                                             {"category": "crowd-panic", "start": 1.0, "end": 2.0}]},
            {"file": "calm.avi"},
        ],
    }))
    result = runner.invoke(app, ["eval", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    tamper, panic = report["categories"]["camera-tamper"], report["categories"]["crowd-panic"]
    assert (tamper["precision"], tamper["recall"], tamper["incidents"], tamper["events"]) == (1.0, 1.0, 1, 1)
    assert 0.0 <= tamper["mean_latency_s"] <= 2.0
    assert (panic["precision"], panic["recall"]) == (None, 0.0)  # a labelled event nobody found
    assert report["clips"] == 2 and report["frames"] == 260
