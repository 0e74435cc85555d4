"""Abandoned objects from a long- and a short-term background model (dual background, Porikli 2007).

A pixel that differs from the long-term background but already belongs to the short-term one is part
of something that arrived and stopped. Such pixels accumulate evidence; a blob of them that stays
`min_static_s` with no person or moving blob nearby (its owner left) is an abandoned object.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from detectors.analysers.base import ANALYSERS, Analyser, AnalyserConfig, FrameContext
from detectors.analysers.motion import blobs_from_mask
from detectors.events import Box, Observation


class AbandonedObjectConfig(AnalyserConfig):
    """Time constants of the two backgrounds and what counts as left behind."""

    type: Literal["abandoned"] = "abandoned"
    stage: ClassVar[int] = 55
    gated: bool = False
    width: int = Field(default=320, ge=32)
    long_term_s: float = Field(default=300.0, gt=0, description="time constant of the long-term background")
    short_term_s: float = Field(default=1.5, gt=0, description="time constant of the short-term background")
    difference: float = Field(default=30.0, gt=0, le=255, description="gray-level difference: foreground")
    min_static_s: float = Field(default=5.0, gt=0, description="static this long: candidate")
    min_area: float = Field(default=0.0008, gt=0, le=1, description="smallest object, share of the frame")
    max_area: float = Field(default=0.05, gt=0, le=1, description="larger static changes are not objects")
    owner_radius: float = Field(default=0.08, ge=0, le=1, description="a person/mover this close: attended")


@ANALYSERS.register(AbandonedObjectConfig)
class AbandonedObjects(Analyser[FrameContext]):
    """Emits `abandoned-object` observations keyed by the object's grid cell."""

    name = "abandoned-object"
    config: AbandonedObjectConfig

    def __init__(self, config: AbandonedObjectConfig) -> None:
        self.config = config
        self._long: np.ndarray | None = None
        self._short: np.ndarray | None = None
        self._static_since: np.ndarray | None = None
        self._last_time: float | None = None

    def analyse(self, ctx: FrameContext) -> list[Observation]:
        """Update both backgrounds and report static, unattended foreground."""
        cfg = self.config
        small = cv2.GaussianBlur(ctx.small_gray(cfg.width), (5, 5), 0).astype(np.float32)
        now = ctx.item.stream_time
        if self._long is None or self._short is None or self._static_since is None or self._last_time is None:
            self._long, self._short = small.copy(), small.copy()
            self._static_since = np.full(small.shape, np.inf, np.float32)
            self._last_time = now
            return []
        dt = max(now - self._last_time, 1e-3)
        self._last_time = now
        fg_long = np.abs(small - self._long) > cfg.difference
        fg_short = np.abs(small - self._short) > cfg.difference
        static = fg_long & ~fg_short
        self._static_since = np.where(static, np.minimum(self._static_since, now), np.inf).astype(np.float32)
        # the long-term model learns only where nothing stands still, so a left object is not absorbed
        # before it is reported; the short-term model learns everywhere.
        cv2.accumulateWeighted(small, self._short, min(1.0, dt / cfg.short_term_s))
        learn_long = (~static).astype(np.uint8)
        cv2.accumulateWeighted(small, self._long, min(1.0, dt / cfg.long_term_s), mask=learn_long)
        old_enough = ((now - self._static_since) >= cfg.min_static_s).astype(np.uint8) * 255
        mature = cv2.morphologyEx(old_enough, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        candidates = [b for b in blobs_from_mask(mature, cfg.min_area) if b.w * b.h <= cfg.max_area]
        owners = list(ctx.tracks) + list(ctx.objects) + (list(ctx.motion.blobs) if ctx.motion else [])
        out = []
        for box in candidates:
            if self._attended(box, owners):
                continue
            cell = f"{int((box.x + box.w / 2) * 20)}-{int((box.y + box.h / 2) * 20)}"
            since = float(np.min(self._static_since[mature > 0])) if mature.any() else now
            out.append(Observation(
                "abandoned-object", min(1.0, 0.6 + 0.4 * (now - since) / (4 * cfg.min_static_s)), self.name,
                key=f"cell-{cell}", boxes=(Box(box.x, box.y, box.w, box.h, label="object", score=box.score),),
                attributes={"static_s": round(now - since, 1)},
            ))
        return out

    def _attended(self, obj: Box, others: list[Box]) -> bool:
        ox, oy = obj.x + obj.w / 2, obj.y + obj.h / 2
        for other in others:
            if other.label == "motion" and _overlaps(obj, other):
                continue  # the object's own blob while it was being put down
            cx, cy = other.x + other.w / 2, other.y + other.h / 2
            if np.hypot(cx - ox, cy - oy) <= self.config.owner_radius + max(other.w, other.h) / 2:
                return True
        return False


def _overlaps(a: Box, b: Box) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h
