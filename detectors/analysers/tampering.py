"""Camera tampering: the view covered (dark, bright or featureless), defocused, or moved.

Baselines (sharpness, a reference view) are learnt while the camera looks normal and frozen while it
is tampered with, so a covered lens never becomes the new normal.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from detectors.analysers.base import ANALYSERS, Analyser, AnalyserConfig, FrameContext
from detectors.events import Observation


class TamperingConfig(AnalyserConfig):
    """Thresholds of the three tampering checks."""

    type: Literal["tampering"] = "tampering"
    stage: ClassVar[int] = 60
    gated: bool = False
    width: int = Field(default=320, ge=32)
    check_fps: float = Field(default=2.0, gt=0, description="checks per second (tampering is not sudden)")
    dark_level: float = Field(default=25.0, ge=0, le=255, description="mean gray below this: covered")
    bright_level: float = Field(default=235.0, ge=0, le=255)
    min_contrast: float = Field(default=8.0, ge=0, description="gray std-dev below this: covered")
    blur_ratio: float = Field(default=0.25, gt=0, lt=1, description="sharpness below this share of normal")
    move_px: float = Field(default=0.04, gt=0, le=1, description="global shift, share of the width")
    move_min_response: float = Field(default=0.1, ge=0, le=1)
    learn_s: float = Field(default=2.0, ge=0, description="normal view learnt for this long before checks")
    adapt: float = Field(default=0.02, gt=0, le=1, description="baseline update rate while normal")
    relearn_s: float | None = Field(
        default=300.0, gt=0, description="a view moved this long becomes the new normal (None: never)"
    )


@ANALYSERS.register(TamperingConfig)
class Tampering(Analyser[FrameContext]):
    """Emits `camera-tamper` observations keyed by kind (covered, defocused, moved)."""

    name = "tampering"
    config: TamperingConfig

    def __init__(self, config: TamperingConfig) -> None:
        self.config = config
        self._sharpness: float | None = None
        self._reference: np.ndarray | None = None
        self._started: float | None = None
        self._window: np.ndarray | None = None
        self._last_check = -1e9
        self._last_found: list[Observation] = []
        self._moved_since: float | None = None

    def analyse(self, ctx: FrameContext) -> list[Observation]:
        """Check the frame against the learnt normal view."""
        cfg = self.config
        now = ctx.item.stream_time
        if now - self._last_check < 1.0 / cfg.check_fps - 1e-6:
            return self._last_found
        self._last_check = now
        small = ctx.small_gray(cfg.width)
        if self._started is None:
            self._started = now
        mean, std = (float(v[0][0]) for v in cv2.meanStdDev(small))
        sharpness = float(cv2.Laplacian(small, cv2.CV_32F).var())
        found: list[Observation] = []
        if mean < cfg.dark_level or mean > cfg.bright_level or std < cfg.min_contrast:
            severity = 1.0 - min(std / max(cfg.min_contrast, 1e-6), 1.0) * 0.3
            found.append(self._obs("covered", severity, mean=round(mean, 1), contrast=round(std, 1)))
        elif self._sharpness is not None and sharpness < cfg.blur_ratio * self._sharpness:
            ratio = sharpness / self._sharpness
            found.append(self._obs("defocused", 1.0 - ratio, sharpness_ratio=round(ratio, 3)))
        elif self._reference is not None:
            shift, response = self._shift(small)
            if shift >= cfg.move_px * cfg.width and response >= cfg.move_min_response:
                self._moved_since = now if self._moved_since is None else self._moved_since
                if cfg.relearn_s is not None and now - self._moved_since >= cfg.relearn_s:
                    self._reference, self._moved_since = None, None  # re-aimed for good: learn the new view
                else:
                    found.append(self._obs("moved", min(1.0, 0.6 + shift / cfg.width), shift_px=round(shift, 1)))
            else:
                self._moved_since = None
        learning = now - self._started < cfg.learn_s
        if not found:
            rate = 1.0 if self._sharpness is None else (0.2 if learning else cfg.adapt)
            self._sharpness = sharpness if self._sharpness is None else (
                (1 - rate) * self._sharpness + rate * sharpness)
            ref = small.astype(np.float32)
            if self._reference is None:
                self._reference = ref
            else:
                cv2.accumulateWeighted(ref, self._reference, rate)
        self._last_found = [] if learning else found
        return self._last_found

    def _shift(self, small: np.ndarray) -> tuple[float, float]:
        assert self._reference is not None
        if self._window is None or self._window.shape != small.shape:
            self._window = cv2.createHanningWindow((small.shape[1], small.shape[0]), cv2.CV_32F)
        (dx, dy), response = cv2.phaseCorrelate(self._reference, small.astype(np.float32), self._window)
        return float(np.hypot(dx, dy)), float(response)

    def _obs(self, kind: str, confidence: float, **attributes: float) -> Observation:
        return Observation("camera-tamper", max(0.5, min(1.0, confidence)), self.name, key=kind,
                           attributes={"kind": kind, **attributes})
