"""Person detection with OpenCV's HOG people detectors: the zero-download default.

The detector looks only at the regions the motion gate marked (grown by a margin), at most
`detect_fps` times a second; between runs, and when nothing moves, the last boxes stand.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from detectors.analysers.base import ANALYSERS, Analyser, AnalyserConfig, FrameContext
from detectors.events import Box, Observation
from detectors.nms import nms


class HogPeopleConfig(AnalyserConfig):
    """HOG + linear SVM people detector (`default` 64×128 window, `daimler` 48×96 for small people)."""

    type: Literal["hog"] = "hog"
    stage: ClassVar[int] = 20
    model: Literal["default", "daimler"] = "daimler"
    scale: float = Field(default=1.0, gt=0.1, le=4.0, description="resize factor before detection")
    max_width: int | None = Field(default=800, ge=64, description="wider frames are shrunk to this first")
    detect_fps: float | None = Field(default=2.0, gt=0, description="detector runs per second; None: each frame")
    hit_threshold: float = Field(default=0.5, description="SVM margin a window must reach")
    min_score: float = Field(default=0.5, ge=0)
    pyramid_scale: float = Field(default=1.1, gt=1.0, le=2.0)
    roi_margin: float = Field(default=0.06, ge=0, le=1, description="grow motion regions by this share")
    nms_iou: float = Field(default=0.4, gt=0, le=1)


def _detector(model: str) -> cv2.HOGDescriptor:
    if model == "daimler":
        hog = cv2.HOGDescriptor((48, 96), (16, 16), (8, 8), (8, 8), 9)
        hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDaimlerPeopleDetector(), np.float32))
    else:
        hog = cv2.HOGDescriptor()
        hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))
    return hog


def merge_regions(boxes: list[Box], margin: float) -> list[tuple[float, float, float, float]]:
    """Grow boxes by `margin` and merge overlapping ones; returns normalised (x0, y0, x1, y1)."""
    rects = [[max(0.0, b.x - margin), max(0.0, b.y - margin),
              min(1.0, b.x + b.w + margin), min(1.0, b.y + b.h + margin)] for b in boxes]
    merged = True
    while merged and len(rects) > 1:
        merged = False
        for i in range(len(rects)):
            for j in range(i + 1, len(rects)):
                a, c = rects[i], rects[j]
                if a[0] <= c[2] and c[0] <= a[2] and a[1] <= c[3] and c[1] <= a[3]:
                    rects[i] = [min(a[0], c[0]), min(a[1], c[1]), max(a[2], c[2]), max(a[3], c[3])]
                    del rects[j]
                    merged = True
                    break
            if merged:
                break
    return [(r[0], r[1], r[2], r[3]) for r in rects]


@ANALYSERS.register(HogPeopleConfig)
class HogPeople(Analyser[FrameContext]):
    """Adds `person` boxes to `ctx.objects`."""

    name = "hog-people"
    config: HogPeopleConfig
    version = cv2.__version__

    def __init__(self, config: HogPeopleConfig) -> None:
        self.config = config
        self.hog = _detector(config.model)
        self.window = self.hog.winSize
        self._last: list[Box] = []
        self._last_time = -1e9

    def analyse(self, ctx: FrameContext) -> list[Observation]:
        """Detect people in the moving regions (or the whole frame without a gate)."""
        due = (self.config.detect_fps is None
               or ctx.item.stream_time - self._last_time >= 1.0 / self.config.detect_fps - 1e-6)
        if not due:
            return self.hold(ctx)
        self._last_time = ctx.item.stream_time
        frame = ctx.frame
        height, width = frame.shape[:2]
        if ctx.motion is not None:
            regions = merge_regions(ctx.motion.blobs, self.config.roi_margin)
        else:
            regions = [(0.0, 0.0, 1.0, 1.0)]
        found: list[Box] = []
        for x0, y0, x1, y1 in regions:
            found += self.detect(frame, (int(x0 * width), int(y0 * height), int(x1 * width), int(y1 * height)))
        self._last = nms(found, self.config.nms_iou)
        ctx.objects.extend(self._last)
        return []

    def hold(self, ctx: FrameContext) -> list[Observation]:
        """Between detector runs the last boxes stand (people rarely vanish in 200 ms)."""
        ctx.objects.extend(self._last)
        return []

    def detect(self, frame: np.ndarray, roi: tuple[int, int, int, int]) -> list[Box]:
        """People in one pixel region of a frame, as normalised boxes."""
        x0, y0, x1, y1 = roi
        height, width = frame.shape[:2]
        scale = self.config.scale
        if self.config.max_width is not None and width * scale > self.config.max_width:
            scale = self.config.max_width / width
        win_w, win_h = self.window
        if (x1 - x0) * scale < win_w or (y1 - y0) * scale < win_h:
            return []
        crop = frame[y0:y1, x0:x1]
        if scale != 1.0:
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        rects, weights = self.hog.detectMultiScale(
            crop, hitThreshold=self.config.hit_threshold, winStride=(8, 8), padding=(8, 8),
            scale=self.config.pyramid_scale,
        )
        out = []
        for (rx, ry, rw, rh), weight in zip(rects, np.asarray(weights).reshape(-1), strict=False):
            if float(weight) < self.config.min_score:
                continue
            out.append(Box((x0 + rx / scale) / width, (y0 + ry / scale) / height,
                           rw / scale / width, rh / scale / height, label="person",
                           score=float(min(1.0, 0.5 + float(weight) / 4))))
        return out
