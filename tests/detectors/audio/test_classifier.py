"""The ONNX AudioSet-family classifier plugin, with a small model built here with the onnx helper API.

The model is YAMNet-shaped (waveform [1, 15600] -> scores [1, 521]); its scores are a sigmoid of the
window's mean power, rising for class 427 and falling for class 0, so loud windows are "gunfire".
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from detectors.audio import synth
from detectors.audio.analyzer import AudioAnalysisConfig, analyse_signal
from detectors.audio.base import AUDIO_DETECTORS
from detectors.audio.classifier import ClassifierConfig, OnnxAudioClassifier
from detectors.errors import ModelError, PluginError

N_CLASSES = 521
GUNFIRE, SPEECH = 427, 0


def build_model(path: Path, classes: int = N_CLASSES, rank: int = 2) -> Path:
    slope = np.zeros(classes, dtype=np.float32)
    bias = np.full(classes, -6.0, dtype=np.float32)
    slope[GUNFIRE], bias[GUNFIRE] = 400.0, -4.0  # mean power 0.01 (RMS 0.1) -> score 0.5
    slope[SPEECH], bias[SPEECH] = -400.0, 4.0
    shape = [1, 15600] if rank == 2 else [15600]
    axes = [1] if rank == 2 else [0]
    graph = helper.make_graph(
        [helper.make_node("Mul", ["waveform", "waveform"], ["sq"]),
         helper.make_node("ReduceMean", ["sq", "axes"], ["power"], keepdims=1),
         helper.make_node("Mul", ["power", "slope"], ["scaled"]),
         helper.make_node("Add", ["scaled", "bias"], ["logits"]),
         helper.make_node("Sigmoid", ["logits"], ["scores"])],
        "tiny_audioset",
        [helper.make_tensor_value_info("waveform", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, classes] if rank == 2 else [classes])],
        [numpy_helper.from_array(np.array(axes, dtype=np.int64), "axes"),
         numpy_helper.from_array(slope, "slope"), numpy_helper.from_array(bias, "bias")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def write_class_map(path: Path, classes: int = N_CLASSES) -> Path:
    names = {GUNFIRE: ("/m/032s66", "Gunshot, gunfire"), SPEECH: ("/m/09x0r", "Speech"),
             428: ("/m/04zjc", "Machine gun")}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "mid", "display_name"])
        for i in range(classes):
            mid, name = names.get(i, (f"/m/x{i}", f"Class {i}"))
            writer.writerow([i, mid, name])
    return path


@pytest.fixture
def model_files(tmp_path: Path) -> tuple[Path, Path]:
    return build_model(tmp_path / "tiny.onnx"), write_class_map(tmp_path / "class_map.csv")


def config(model: Path, class_map: Path, **extra: object) -> ClassifierConfig:
    return ClassifierConfig.model_validate({
        "model": model, "class_map": class_map,
        "categories": {"gunshot": ["Gunshot, gunfire", "/m/04zjc"], "speech": ["Speech"]},
        "thresholds": {"speech": 0.9}, **extra})


def loud_bursts() -> np.ndarray:
    x = synth.pink_noise(12, 1, 0.01)
    x[4 * 16000:6 * 16000] = synth.pink_noise(2, 2, 0.3)  # loud from 4 to 6 s
    return x


def test_windows_above_threshold_become_one_event_of_the_mapped_category(model_files: tuple[Path, Path]) -> None:
    cfg = AudioAnalysisConfig(detectors=[config(*model_files)], speech_gate=False)
    events = analyse_signal(loud_bursts(), cfg)
    gun = [e for e in events if e.category == "gunshot"]
    assert len(gun) == 1
    assert 3.0 <= gun[0].start <= 4.0 and 6.0 <= gun[0].end <= 7.0
    assert gun[0].confidence > 0.9 and gun[0].attributes["model"] == "tiny.onnx"
    speech = [e for e in events if e.category == "speech"]  # quiet windows score ~0.98 on class 0
    assert speech and all(e.end <= 4.5 or e.start >= 5.0 for e in speech)


def test_window_scores_follow_the_model(model_files: tuple[Path, Path]) -> None:
    classifier = OnnxAudioClassifier(config(*model_files))
    quiet = classifier.window_scores(np.zeros(15600, dtype=np.float32))
    loud = classifier.window_scores(np.full(15600, 0.2, dtype=np.float32))
    assert quiet.shape == (N_CLASSES,)
    assert quiet[GUNFIRE] < 0.05 < 0.95 < loud[GUNFIRE]
    assert loud[SPEECH] < 0.5 < quiet[SPEECH]


def test_rank1_waveform_models_and_resampled_inputs_work(tmp_path: Path) -> None:
    model = build_model(tmp_path / "rank1.onnx", rank=1)
    cfg = config(model, write_class_map(tmp_path / "map.csv"), input_rate=16000)
    assert OnnxAudioClassifier(cfg).input_rank == 1
    events = analyse_signal(loud_bursts(), AudioAnalysisConfig(detectors=[cfg], speech_gate=False))
    assert [e for e in events if e.category == "gunshot"]


def test_unknown_class_name_stops_startup_naming_it(model_files: tuple[Path, Path]) -> None:
    cfg = ClassifierConfig.model_validate({"model": model_files[0], "class_map": model_files[1],
                                           "categories": {"gunshot": ["Gunshots, gunfire"]}})
    with pytest.raises(PluginError, match="Gunshots, gunfire"):
        AUDIO_DETECTORS.create(cfg)


def test_missing_model_and_wrong_class_count_are_clear(tmp_path: Path) -> None:
    class_map = write_class_map(tmp_path / "map.csv")
    with pytest.raises(ModelError, match="no such file"):
        OnnxAudioClassifier(config(tmp_path / "none.onnx", class_map))
    small = build_model(tmp_path / "small.onnx", classes=500)
    classifier = OnnxAudioClassifier(config(small, class_map))
    with pytest.raises(ModelError, match="500 scores, class map has 521"):
        classifier.window_scores(np.zeros(15600, dtype=np.float32))
    bad_map = tmp_path / "bad.csv"
    bad_map.write_text("id,name\n0,x\n", encoding="utf-8")
    with pytest.raises(ModelError, match="index,mid,display_name"):
        OnnxAudioClassifier(config(small, bad_map))
