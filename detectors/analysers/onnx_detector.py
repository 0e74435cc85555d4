"""An object detector from any YOLO-family / NanoDet-style ONNX file, named in the config: no code change.

Frames of all feeds using the same model are letterboxed, stacked and run as one batch (the worker
groups analysers by `batch_key`). `model` may be a path or `package:NAME/FILE` for a model file
shipped inside an installed Python package (e.g. `package:nudenet/320n.onnx`).
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from detectors.analysers.base import ANALYSERS, Analyser, AnalyserConfig, FrameContext
from detectors.errors import ModelError
from detectors.events import Box, Observation
from detectors.onnx_runtime import OnnxRuntimeConfig, OnnxSession, create_session
from detectors.yolo import Decoded, OutputFormat, decode, letterbox, to_tensor


class OnnxDetectorConfig(AnalyserConfig):
    """The model file, its input size, output format and class names, and what to keep."""

    type: Literal["onnx"] = "onnx"
    stage: ClassVar[int] = 20
    model: str = Field(description="path, or package:NAME/FILE inside an installed package")
    model_version: str | None = None
    input_size: tuple[int, int] | None = Field(default=None, description="(width, height); None: from the model")
    output_format: OutputFormat = "yolov8"
    class_names: list[str] | None = Field(default=None, description="None: the model's `names` metadata")
    keep: list[str] | None = Field(default=None, description="classes to keep (None: all)")
    rename: dict[str, str] = Field(default_factory=dict, description="class name → object label, e.g. person")
    report: list[str] = Field(default_factory=list, description="labels that raise a detection themselves")
    category: str = Field(default="other", pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
    score_threshold: float = Field(default=0.35, ge=0, le=1)
    nms_iou: float = Field(default=0.45, gt=0, le=1)
    max_detections: int = Field(default=300, ge=1)
    reg_max: int = Field(default=7, ge=1, description="nanodet distribution bins - 1")
    rgb: bool = True
    max_batch: int = Field(default=32, ge=1)
    runtime: OnnxRuntimeConfig = Field(default_factory=OnnxRuntimeConfig)


def resolve_model(model: str) -> Path:
    """A model path, resolving `package:NAME/FILE` inside an installed package."""
    if not model.startswith("package:"):
        return Path(model)
    package, _, rest = model.removeprefix("package:").partition("/")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"model {model!r}: Python package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / rest


def class_names_of(session: OnnxSession, configured: Sequence[str] | None) -> list[str]:
    """Class names from the config, else from Ultralytics-style `names` metadata."""
    if configured is not None:
        return list(configured)
    raw = session.metadata.get("names")
    if raw is None:
        raise ModelError(f"{session.path}: no class_names configured and no `names` in the model metadata")
    names = ast.literal_eval(raw)
    return [str(names[i]) for i in sorted(names)] if isinstance(names, dict) else [str(n) for n in names]


_LAST_BOXES: dict[str, dict[str, list[Box]]] = {}


@ANALYSERS.register(OnnxDetectorConfig)
class OnnxDetector(Analyser[FrameContext]):
    """Adds detected objects to `ctx.objects`; labels in `report` also become observations."""

    name = "onnx-detector"
    config: OnnxDetectorConfig

    def __init__(self, config: OnnxDetectorConfig) -> None:
        self.config = config
        self.session = create_session(resolve_model(config.model), config.runtime)
        self.class_names = class_names_of(self.session, config.class_names)
        self.input_size = config.input_size or self._model_input_size()
        self.model_name = Path(self.session.path).name
        # last boxes per feed, shared by every instance batched together (any of them may run the batch)
        self._last = _LAST_BOXES.setdefault(self.batch_key(), {})

    def _model_input_size(self) -> tuple[int, int]:
        shape = self.session.input_shape
        if len(shape) == 4 and isinstance(shape[2], int) and isinstance(shape[3], int):
            return (shape[3], shape[2])
        raw = self.session.metadata.get("imgsz")
        if raw is not None:
            height, width = ast.literal_eval(raw)
            return (int(width), int(height))
        raise ModelError(f"{self.session.path}: dynamic input size; set input_size in the config")

    def batch_key(self) -> str:
        """Feeds using the same model and settings share inference calls."""
        return f"onnx:{self.config.model_dump_json()}"

    def analyse(self, ctx: FrameContext) -> list[Observation]:
        """Detect objects in one frame."""
        return self.analyse_batch([ctx])[0]

    def analyse_batch(self, ctxs: Sequence[FrameContext]) -> list[list[Observation]]:
        """Detect objects in frames of many feeds with one inference call per `max_batch` frames."""
        results = self.detect([c.frame for c in ctxs])
        out = []
        for ctx, boxes in zip(ctxs, results, strict=True):
            ctx.objects.extend(boxes)
            self._last[ctx.item.feed_id] = boxes
            out.append([
                Observation(self.config.category, b.score, self.name, key=b.label, boxes=(b,),
                            model=self.model_name, model_version=self.config.model_version,
                            attributes={"label": b.label})
                for b in boxes if b.label in self.config.report
            ])
        return out

    def hold(self, ctx: FrameContext) -> list[Observation]:
        """When the gate sees no motion the last boxes of this feed stand (still people stay found)."""
        ctx.objects.extend(self._last.get(ctx.item.feed_id, []))
        return []

    def detect(self, frames: Sequence[object]) -> list[list[Box]]:
        """Boxes per frame (normalised, labelled after `rename`)."""
        import numpy as np

        results: list[list[Box]] = []
        step = self.config.max_batch
        for start in range(0, len(frames), step):
            chunk = [np.asarray(f) for f in frames[start:start + step]]
            fitted = [letterbox(f, self.input_size) for f in chunk]
            outputs = self.session.run(to_tensor([img for img, _ in fitted], self.config.rgb))[0]
            for raw, (_, transform) in zip(outputs, fitted, strict=True):
                results.append(self._boxes(decode(
                    raw, self.config.output_format, len(self.class_names), transform, self.input_size,
                    self.config.score_threshold, self.config.nms_iou, self.config.max_detections,
                    self.config.reg_max)))
        return results

    def _boxes(self, decoded: Decoded) -> list[Box]:
        boxes = []
        for (x0, y0, x1, y1), score, cls in zip(decoded.corners, decoded.scores, decoded.classes, strict=True):
            name = self.class_names[int(cls)]
            if self.config.keep is not None and name not in self.config.keep:
                continue
            label = self.config.rename.get(name, name)
            boxes.append(Box(float(x0), float(y0), float(x1 - x0), float(y1 - y0), label, float(score)))
        return boxes
