"""`detect_audio` (JSON lines, text, spectrogram plot) and the labelled-folder evaluation."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors.audio import synth
from detectors.audio.cli import detect_audio
from detectors.audio.decode import find_ffmpeg
from detectors.audio.evaluate import evaluate_folder, read_labels
from detectors.errors import DetectorError

from .conftest import write_wav

SCENE = [(3.0, "gunshot"), (8.0, "scream"), (13.0, "glass-break")]


@pytest.fixture(scope="module")
def scene_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    x = synth.crowd_noise(18, 4, 0.02)
    x = synth.place(x, synth.gunshot(1), 3.0, 25)
    x = synth.place(x, synth.scream(1.2, 950, 2), 8.0, 18)
    x = synth.place(x, synth.glass_break(3), 13.0, 25)
    return write_wav(tmp_path_factory.mktemp("cli") / "scene.wav", x)


def test_detect_prints_timestamped_json_lines(scene_wav: Path) -> None:
    out = io.StringIO()
    detect_audio(scene_wav, out=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["category"], round(r["start"])) for r in rows] == [(c, round(t)) for t, c in SCENE]
    assert all(r["file"] == str(scene_wav) and 0 < r["confidence"] <= 1 and r["end"] >= r["start"] for r in rows)


def test_plot_marks_detections_on_a_spectrogram(scene_wav: Path, tmp_path: Path) -> None:
    png = tmp_path / "scene.png"
    events = detect_audio(scene_wav, plot=png, fmt="text", out=io.StringIO())
    image = cv2.imread(str(png))
    assert image is not None and image.shape[1] > 1000 and image.shape[0] > 300
    # the gunshot box is drawn in its colour (BGR 60,60,255) at the right place on the time axis
    x = 60 + int(events[0].start / 18.0 * 1599)
    column = image[30:440, x - 1:x + 2].reshape(-1, 3)
    assert np.any(np.all(np.abs(column.astype(int) - [60, 60, 255]) < 30, axis=1))


def test_video_file_audio_track_via_the_command_line(scene_wav: Path, tmp_path: Path) -> None:
    video = tmp_path / "scene.mkv"
    subprocess.run([find_ffmpeg(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=18:size=64x48:rate=5",
                    "-i", str(scene_wav), "-shortest", "-c:v", "mpeg4", "-c:a", "flac", str(video)],
                   check=True, timeout=120)
    result = subprocess.run([sys.executable, "-m", "detectors.audio.cli", str(video), "--format", "text"],
                            capture_output=True, text=True, timeout=120, check=True)
    lines = result.stdout.splitlines()
    assert [line.split()[2] for line in lines] == [c for _, c in SCENE]
    bad = subprocess.run([sys.executable, "-m", "detectors.audio.cli", str(tmp_path / "none.wav")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no such file" in bad.stderr


def test_evaluation_reports_precision_recall_and_false_alarms_per_hour(scene_wav: Path, tmp_path: Path) -> None:
    folder = tmp_path / "labelled"
    folder.mkdir()
    (folder / "scene.wav").write_bytes(scene_wav.read_bytes())
    # Audacity labels: the scream and the glass are labelled, the shot is not, and one siren is missed
    (folder / "scene.txt").write_text("8.0\t9.2\tscream\n13.0\t13.5\tglass-break\n15.0\t17.0\tsiren\n",
                                      encoding="utf-8")
    write_wav(folder / "calm.wav", synth.crowd_noise(30, 9, 0.02))  # no labels: must stay quiet
    (folder / "crowd.csv").write_text("start,end,category\n", encoding="utf-8")
    write_wav(folder / "crowd.wav", synth.crowd_noise(12, 10, 0.02))
    report = evaluate_folder(folder)
    summary = report.as_dict()["categories"]
    assert report.files == 3 and report.hours == pytest.approx(60 / 3600, abs=1e-3)
    assert summary["scream"] == {"labels": 1, "found": 1, "detections": 1, "precision": 1.0, "recall": 1.0,
                                 "false_alarms_per_hour": 0.0}
    assert summary["siren"]["recall"] == 0.0 and summary["siren"]["precision"] is None
    assert summary["gunshot"]["precision"] == 0.0
    assert summary["gunshot"]["false_alarms_per_hour"] == pytest.approx(60.0, abs=1.0)
    assert "glass-break" in report.format()


def test_bad_labels_are_reported_with_their_line(tmp_path: Path) -> None:
    labels = tmp_path / "x.txt"
    labels.write_text("1.0\t2.0\tgunshot\nsoon\tlater\tscream\n", encoding="utf-8")
    with pytest.raises(DetectorError, match="label 2"):
        read_labels(labels)
    with pytest.raises(DetectorError, match="no recordings"):
        evaluate_folder(tmp_path)


@pytest.mark.parametrize("real", [pytest.param(True, id="debian-recordings"), pytest.param(False, id="synthetic")])
def test_demo_scene_is_found_with_full_recall_and_no_false_alarm(tmp_path: Path, real: bool,
                                                                 audio_media: Path) -> None:
    from detectors.audio.demo import write_demo_scene

    labels = write_demo_scene(tmp_path / "demo" / "mic.wav", media=audio_media if real else None)
    assert [lab.category for lab in labels] == ["gunshot", "scream", "glass-break", "siren", "explosion"]
    report = evaluate_folder(tmp_path / "demo")
    for category, stats in report.as_dict()["categories"].items():  # type: ignore[union-attr]
        assert stats["recall"] == 1.0 and stats["precision"] == 1.0, (category, stats)


def test_detect_takes_a_detector_config_and_names_its_errors(scene_wav: Path, tmp_path: Path) -> None:
    only_shots = tmp_path / "shots.yaml"
    only_shots.write_text("detectors:\n  - type: impulse\n    prominence_db: 12\nspeech_gate: false\n",
                          encoding="utf-8")
    events = detect_audio(scene_wav, config=only_shots, out=io.StringIO())
    assert [e.category for e in events] == ["gunshot"]
    typo = tmp_path / "typo.yaml"
    typo.write_text("detectors:\n  - type: impulse\n    prominance_db: 12\n", encoding="utf-8")
    with pytest.raises(DetectorError, match="prominance_db"):
        detect_audio(scene_wav, config=typo, out=io.StringIO())
