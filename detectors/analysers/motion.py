"""The motion gate: a cheap background subtractor deciding which frames and regions later stages see."""

from __future__ import annotations

from typing import ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from detectors.analysers.base import ANALYSERS, Analyser, AnalyserConfig, FrameContext, Motion
from detectors.events import Box, Observation


class MotionGateConfig(AnalyserConfig):
    """MOG2 on a downscaled grayscale frame; `min_fraction` of moving pixels opens the gate."""

    type: Literal["motion"] = "motion"
    stage: ClassVar[int] = 0
    gated: bool = False
    width: int = Field(default=320, ge=32, description="processing width (pixels); smaller is cheaper")
    history: int = Field(default=300, ge=10, description="frames; the background learning rate is 1/history")
    var_threshold: float = Field(default=25.0, gt=0)
    min_fraction: float = Field(default=0.001, ge=0, le=1)
    min_blob_area: float = Field(default=0.0004, ge=0, le=1, description="smallest blob, share of the frame")
    warmup_frames: int = Field(default=5, ge=1, description="frames treated as moving while the model learns")


def blobs_from_mask(mask: np.ndarray, min_area: float) -> list[Box]:
    """Connected components of a binary mask as normalised boxes, largest first."""
    height, width = mask.shape[:2]
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    boxes = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < min_area * width * height:
            continue
        boxes.append(Box(x / width, y / height, w / width, h / height, label="motion",
                         score=min(1.0, area / (w * h))))
    boxes.sort(key=lambda b: b.w * b.h, reverse=True)
    return boxes


@ANALYSERS.register(MotionGateConfig)
class MotionGate(Analyser[FrameContext]):
    """Fills `ctx.motion`; emits no observations itself."""

    name = "motion-gate"
    config: MotionGateConfig

    def __init__(self, config: MotionGateConfig) -> None:
        self.config = config
        self._model = cv2.createBackgroundSubtractorMOG2(
            history=config.history, varThreshold=config.var_threshold, detectShadows=False
        )
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        self._frames = 0

    def analyse(self, ctx: FrameContext) -> list[Observation]:
        """Update the background model and describe the motion of this frame."""
        small = cv2.GaussianBlur(ctx.small_gray(self.config.width), (5, 5), 0)
        # a fixed rate after warm-up: MOG2's default (1/frames seen) absorbs a person standing still in ~1 s
        rate = 1.0 / (self._frames + 1) if self._frames < self.config.warmup_frames else 1.0 / self.config.history
        mask = self._model.apply(small, learningRate=rate)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        mask = cv2.dilate(mask, self._kernel, iterations=2)
        fraction = float(np.count_nonzero(mask)) / mask.size
        self._frames += 1
        warming = self._frames <= self.config.warmup_frames
        blobs = [] if warming else blobs_from_mask(mask, self.config.min_blob_area)
        moving = warming or (fraction >= self.config.min_fraction and bool(blobs))
        ctx.motion = Motion(fraction=fraction, blobs=blobs, mask=mask, moving=moving)
        return []
