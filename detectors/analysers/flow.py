"""Crowd motion from dense optical flow: violent motion and panic/dispersal.

Violent motion follows the idea of Violent Flows (Hassner et al. 2012) — abrupt *changes* of the flow
between frames, averaged over a window — scored per grid cell as |f_t - f_t-1| relative to the speed
(a rule in place of ViF's trained SVM, so it needs no training data).
Panic/dispersal is a sudden rise of the mean speed of moving pixels over its slow baseline together
with a strongly positive divergence (people running apart).
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from detectors.analysers.base import ANALYSERS, Analyser, AnalyserConfig, FrameContext
from detectors.events import Observation


class CrowdMotionConfig(AnalyserConfig):
    """Flow resolution and the thresholds of the two motion alarms."""

    type: Literal["crowd-motion"] = "crowd-motion"
    stage: ClassVar[int] = 50
    width: int = Field(default=160, ge=32, description="flow is computed at this width")
    min_moving_share: float = Field(default=0.01, ge=0, le=1, description="ignore frames with less motion")
    moving_speed: float = Field(default=0.02, gt=0, description="px/s as share of width per second: moving")
    violence_window: int = Field(default=10, ge=2, description="frames the erratic-motion score is averaged over")
    violence_threshold: float = Field(default=1.4, gt=0, description="erratic-motion score that alarms")
    grid: tuple[int, int] = Field(default=(6, 4), description="cells (columns, rows) scored separately")
    min_cell_share: float = Field(default=0.15, gt=0, le=1, description="moving share for a cell to count")
    violence_min_speed: float = Field(default=0.03, gt=0, description="mean moving speed, widths per second")
    panic_speed_ratio: float = Field(default=2.5, gt=1, description="speed over baseline that alarms")
    panic_min_speed: float = Field(default=0.06, gt=0, description="widths per second")
    panic_divergence: float = Field(default=0.1, description="mean divergence (1/s) of moving pixels")
    baseline_s: float = Field(default=20.0, gt=0)


@ANALYSERS.register(CrowdMotionConfig)
class CrowdMotion(Analyser[FrameContext]):
    """Emits `violence` and `crowd-panic` observations for the whole view."""

    name = "crowd-motion"
    config: CrowdMotionConfig

    def __init__(self, config: CrowdMotionConfig) -> None:
        self.config = config
        self._previous: np.ndarray | None = None
        self._previous_time = 0.0
        self._previous_flow: np.ndarray | None = None
        self._changes: deque[float] = deque(maxlen=config.violence_window)
        self._baseline: float | None = None

    def analyse(self, ctx: FrameContext) -> list[Observation]:
        """Compute dense flow against the previous analysed frame and score it."""
        cfg = self.config
        small = ctx.small_gray(cfg.width)
        now = ctx.item.stream_time
        previous, previous_time = self._previous, self._previous_time
        self._previous, self._previous_time = small, now
        if previous is None or now <= previous_time:
            return []
        dt = now - previous_time
        flow = cv2.calcOpticalFlowFarneback(previous, small, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # type: ignore[call-overload]
        # speed in frame widths per second, so thresholds hold across resolutions and rates
        flow = flow / (cfg.width * dt)
        magnitude = np.hypot(flow[..., 0], flow[..., 1])
        moving = magnitude > cfg.moving_speed
        share = float(moving.mean())
        out: list[Observation] = []
        mean_speed = float(magnitude[moving].mean()) if share >= cfg.min_moving_share else 0.0
        ctx.shared["flow_speed"] = mean_speed
        if self._previous_flow is not None:
            self._changes.append(self._erratic(flow, magnitude))
        self._previous_flow = flow
        if share < cfg.min_moving_share:
            self._update_baseline(mean_speed, dt)
            return out
        if len(self._changes) == cfg.violence_window:
            score = float(np.mean(self._changes))
            ctx.shared["violence_score"] = score
            if score >= cfg.violence_threshold and mean_speed >= cfg.violence_min_speed:
                out.append(Observation("violence", min(1.0, 0.5 + 0.5 * score / (2 * cfg.violence_threshold)),
                                       self.name, attributes={"erratic": round(score, 3),
                                                              "speed": round(mean_speed, 3)}))
        du_dx = np.gradient(flow[..., 0], axis=1) * cfg.width
        dv_dy = np.gradient(flow[..., 1], axis=0) * cfg.width
        divergence = float((du_dx + dv_dy)[moving].mean())
        ctx.shared["divergence"] = divergence
        baseline = self._baseline
        if (baseline is not None and mean_speed >= cfg.panic_min_speed
                and mean_speed >= cfg.panic_speed_ratio * max(baseline, 1e-3)
                and divergence >= cfg.panic_divergence):
            ratio = mean_speed / max(baseline, 1e-3)
            out.append(Observation("crowd-panic", min(1.0, 0.5 + ratio / (4 * cfg.panic_speed_ratio)), self.name,
                                   attributes={"speed": round(mean_speed, 3), "baseline": round(baseline, 3),
                                               "divergence": round(divergence, 3)}))
        else:
            self._update_baseline(mean_speed, dt)
        return out

    def _erratic(self, flow: np.ndarray, magnitude: np.ndarray) -> float:
        """Largest, over grid cells with enough motion, of |f_t - f_t-1| relative to the speed there.

        People walking keep their flow from one frame to the next (ratio well under 1); people fighting
        reverse and jerk it (ratio above 1), in one part of the view, hence the max over cells.
        """
        assert self._previous_flow is not None
        cfg = self.config
        previous = np.hypot(self._previous_flow[..., 0], self._previous_flow[..., 1])
        moving = (magnitude > cfg.moving_speed) & (previous > cfg.moving_speed)
        change = np.hypot(*(flow - self._previous_flow).transpose(2, 0, 1))
        height, width = moving.shape
        best = 0.0
        for i in range(cfg.grid[1]):
            for j in range(cfg.grid[0]):
                cell = (slice(i * height // cfg.grid[1], (i + 1) * height // cfg.grid[1]),
                        slice(j * width // cfg.grid[0], (j + 1) * width // cfg.grid[0]))
                mask = moving[cell]
                if mask.mean() < cfg.min_cell_share:
                    continue
                speed = (magnitude[cell][mask].mean() + previous[cell][mask].mean()) / 2
                best = max(best, float(change[cell][mask].mean() / (speed + 1e-6)))
        return best

    def _update_baseline(self, speed: float, dt: float) -> None:
        rate = min(1.0, dt / self.config.baseline_s)
        self._baseline = speed if self._baseline is None else (1 - rate) * self._baseline + rate * speed
