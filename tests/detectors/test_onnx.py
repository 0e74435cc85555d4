"""The ONNX path with a real model from a registry package (nudenet's YOLOv8n, 18 classes, 320×320)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors import synthetic
from detectors.analysers.onnx_detector import OnnxDetector, OnnxDetectorConfig, resolve_model
from detectors.config import parse_site_config
from detectors.errors import ModelError, PluginError
from detectors.onnx_runtime import OnnxRuntimeConfig, choose_providers, create_session
from detectors.worker import Worker
from detectors.yolo import Letterbox, decode, letterbox

MODEL = "package:nudenet/320n.onnx"
Clips = Callable[[str, synthetic.Scene], Path]
TRT, CUDA, CPU = "TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"


@pytest.fixture(scope="module")
def detector() -> OnnxDetector:
    return OnnxDetector(OnnxDetectorConfig(model=MODEL, score_threshold=0.3))


@pytest.fixture(scope="module")
def face_crops(media_dir: Path) -> list[np.ndarray]:
    image = cv2.imread(str(media_dir / "messi5.jpg"))
    return [image[50:170, 180:300], image[20:260, 150:340]]


@pytest.mark.parametrize(("available", "config", "expected"), [
    pytest.param([TRT, CUDA, CPU], OnnxRuntimeConfig(), [TRT, CUDA, CPU], id="gpu-build-prefers-tensorrt"),
    pytest.param([CUDA, CPU], OnnxRuntimeConfig(), [CUDA, CPU], id="no-tensorrt"),
    pytest.param([CPU], OnnxRuntimeConfig(), [CPU], id="cpu-build"),
    pytest.param([TRT, CUDA, CPU], OnnxRuntimeConfig(providers=("cuda",)), [CUDA], id="explicit-cuda"),
])
def test_providers_follow_tensorrt_cuda_cpu_by_what_is_installed(
        available: list[str], config: OnnxRuntimeConfig, expected: list[str]) -> None:
    assert [p for p, _ in choose_providers(config, available)] == expected


def test_an_explicit_provider_that_is_not_installed_is_an_error() -> None:
    with pytest.raises(ModelError, match="none of the requested"):
        choose_providers(OnnxRuntimeConfig(providers=("tensorrt",)), [CPU])


def test_the_packaged_model_loads_on_the_cpu_provider_with_its_class_names(detector: OnnxDetector) -> None:
    assert resolve_model(MODEL).is_file()
    assert detector.session.provider == CPU
    assert detector.input_size == (320, 320)
    assert len(detector.class_names) == 18 and "FACE_MALE" in detector.class_names


def test_a_face_is_found_where_opencv_finds_it(detector: OnnxDetector, face_crops: list[np.ndarray]) -> None:
    haar = cv2.CascadeClassifier(str(Path(cv2.__file__).parent / "data" / "haarcascade_frontalface_default.xml"))
    for crop in face_crops:
        boxes = [b for b in detector.detect([crop])[0] if b.label.startswith("FACE")]
        assert boxes, "no face found"
        (x, y, w, h), = haar.detectMultiScale(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), 1.1, 5)
        height, width = crop.shape[:2]
        cx, cy = (x + w / 2) / width, (y + h / 2) / height
        best = boxes[0]
        assert abs(best.x + best.w / 2 - cx) < 0.1 and abs(best.y + best.h / 2 - cy) < 0.15


def test_batching_gives_the_same_boxes_as_one_frame_at_a_time(
        detector: OnnxDetector, face_crops: list[np.ndarray], vtest: Path) -> None:
    capture = cv2.VideoCapture(str(vtest))
    frames = [capture.read()[1] for _ in range(6)] + face_crops
    one_by_one = [detector.detect([f])[0] for f in frames]
    batched = detector.detect(frames)
    assert len(batched) == 8
    for single, batch in zip(one_by_one, batched, strict=True):
        assert [b.label for b in single] == [b.label for b in batch]
        assert np.allclose([[b.x, b.y, b.w, b.h, b.score] for b in single],
                           [[b.x, b.y, b.w, b.h, b.score] for b in batch], atol=1e-4)


def test_io_binding_and_plain_run_agree(face_crops: list[np.ndarray]) -> None:
    session = create_session(resolve_model(MODEL), OnnxRuntimeConfig(io_binding=False))
    bound = create_session(resolve_model(MODEL), OnnxRuntimeConfig())
    image, _ = letterbox(face_crops[0], (320, 320))
    tensor = np.ascontiguousarray(image[..., ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255
    assert np.allclose(session.run(tensor)[0], bound.run(tensor)[0], atol=1e-5)


def test_yolov5_and_nanodet_outputs_decode_to_the_same_box() -> None:
    identity = Letterbox(scale=1.0, pad_x=0, pad_y=0, width=64, height=64)
    v5 = np.zeros((3, 7), np.float32)
    v5[1] = [32, 32, 16, 8, 0.9, 0.1, 0.8]  # centre 32,32, 16×8, objectness .9, class 1 .8
    out = decode(v5, "yolov5", 2, identity, (64, 64), 0.5, 0.5)
    assert out.classes.tolist() == [1] and np.allclose(out.scores, [0.72])
    assert np.allclose(out.corners, [[24 / 64, 28 / 64, 40 / 64, 36 / 64]])
    # nanodet: anchors of strides 8,16,32,64 over 64×64 → 64+16+4+1; anchor 36 is stride-8 point (32, 32)
    bins = 8
    nano = np.full((85, 2 + 4 * bins), -20.0, np.float32)
    nano[:, :2] = 0.0
    nano[36, 1] = 0.8
    for side, hot_bins in enumerate([(1,), (0, 1), (1,), (0, 1)]):  # left 1, top 0.5, right 1, bottom 0.5
        for hot in hot_bins:
            nano[36, 2 + side * bins + hot] = 20.0  # distances in stride units: mean of the hot bins
    out = decode(nano, "nanodet", 2, identity, (64, 64), 0.5, 0.5)
    assert out.classes.tolist() == [1]
    assert np.allclose(out.corners, [[24 / 64, 28 / 64, 40 / 64, 36 / 64]], atol=1e-3)


def test_a_wrong_output_format_is_a_clear_error(detector: OnnxDetector, face_crops: list[np.ndarray]) -> None:
    wrong = OnnxDetector(OnnxDetectorConfig(model=MODEL, output_format="yolov5"))
    with pytest.raises(ModelError, match="yolov5 output"):
        wrong.detect(face_crops[:1])


def test_frames_of_many_feeds_share_one_inference_call(clips: Clips, tmp_path: Path) -> None:
    clip = clips("tamper-black", synthetic.tampering_scene("black"))
    onnx = {"type": "onnx", "model": MODEL, "gated": False}
    config = parse_site_config({
        "feeds": [{"id": f"cam-{i}", "source": {"type": "file", "path": str(clip), "analysis_fps": 2},
                   "analysers": [onnx]} for i in range(3)],
        "evidence": {"directory": str(tmp_path)},
    })
    stats = Worker(config).run()
    assert all(f.frames == 24 for f in stats.feeds.values())
    assert stats.batches > 0 and stats.batched_frames >= 2 * stats.batches


def test_a_missing_model_stops_startup_naming_the_file(tmp_path: Path) -> None:
    config = parse_site_config({"feeds": [{"id": "cam", "source": {"type": "file", "path": "x.avi"},
                                           "analysers": [{"type": "onnx", "model": "/nope/yolo.onnx"}]}]})
    with pytest.raises(PluginError, match="analyser plugin 'onnx' could not start: ONNX model not found: /nope"):
        Worker(config)


def test_gated_frames_keep_the_last_boxes_of_their_own_feed(detector: OnnxDetector,
                                                            face_crops: list[np.ndarray]) -> None:
    from datetime import UTC, datetime

    from detectors.analysers.base import FrameContext
    from detectors.feeds.base import FeedItem

    def ctx(feed: str, frame: np.ndarray) -> FrameContext:
        return FrameContext(FeedItem(feed, 0, 0.0, datetime.now(UTC), frame), [])

    seen = [ctx("a", face_crops[0]), ctx("b", np.zeros_like(face_crops[0]))]
    detector.analyse_batch(seen)
    assert seen[0].objects and not seen[1].objects
    still_a, still_b = ctx("a", face_crops[0]), ctx("b", face_crops[0])
    other = OnnxDetector(OnnxDetectorConfig(model=MODEL, score_threshold=0.3))  # same model: shares state
    other.hold(still_a)
    other.hold(still_b)
    assert still_a.objects == seen[0].objects and still_b.objects == []
