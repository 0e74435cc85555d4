"""A light multi-object tracker giving stable ids to detector boxes or motion blobs.

Greedy association by IoU (falling back to centre distance for small, fast objects) with a constant
velocity prediction; a track is confirmed after `min_hits` and dropped after `max_age_s` unseen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from detectors.analysers.base import ANALYSERS, Analyser, AnalyserConfig, FrameContext
from detectors.events import Box, Observation
from detectors.nms import iou_matrix


class TrackerConfig(AnalyserConfig):
    """Which boxes to track and how long a lost track survives."""

    type: Literal["tracker"] = "tracker"
    stage: ClassVar[int] = 30
    gated: bool = False
    source: Literal["objects", "motion"] = Field(
        default="objects", description="detector boxes (`objects`) or motion-gate blobs (`motion`)"
    )
    labels: list[str] | None = Field(default=None, description="only these labels (None: all)")
    min_iou: float = Field(default=0.2, ge=0, le=1)
    max_centre_distance: float = Field(default=0.08, ge=0, le=1, description="normalised, when IoU fails")
    min_hits: int = Field(default=2, ge=1)
    max_age_s: float = Field(default=1.5, gt=0)

    def requires(self) -> Sequence[tuple[str, ...]]:
        """The tracker follows detector boxes or motion blobs."""
        return [("hog", "onnx")] if self.source == "objects" else [("motion",)]


@dataclass
class Track:
    """One tracked object."""

    track_id: int
    box: Box
    velocity: tuple[float, float]
    last_time: float
    hits: int = 1

    def predicted(self, at: float) -> Box:
        """The box moved by the current velocity to time `at`."""
        dt = at - self.last_time
        return Box(self.box.x + self.velocity[0] * dt, self.box.y + self.velocity[1] * dt,
                   self.box.w, self.box.h, self.box.label, self.box.score, self.track_id)


def _corners(boxes: list[Box]) -> np.ndarray:
    return np.array([[b.x, b.y, b.x + b.w, b.y + b.h] for b in boxes], dtype=np.float64).reshape(-1, 4)


@ANALYSERS.register(TrackerConfig)
class Tracker(Analyser[FrameContext]):
    """Fills `ctx.tracks` with confirmed tracks carrying stable `track_id`s."""

    name = "tracker"
    config: TrackerConfig

    def __init__(self, config: TrackerConfig) -> None:
        self.config = config
        self.tracks: list[Track] = []
        self._next_id = 1

    def analyse(self, ctx: FrameContext) -> list[Observation]:
        """Associate this frame's boxes with the tracks."""
        now = ctx.item.stream_time
        if self.config.source == "motion":
            boxes = list(ctx.motion.blobs) if ctx.motion is not None else []
        else:
            boxes = list(ctx.objects)
        if self.config.labels is not None:
            boxes = [b for b in boxes if b.label in self.config.labels]
        self.update(boxes, now)
        ctx.tracks = [t.box for t in self.tracks if t.hits >= self.config.min_hits and t.last_time == now]
        return []

    def update(self, boxes: list[Box], now: float) -> None:
        """Match boxes to tracks, start new tracks, age out lost ones."""
        predicted = [t.predicted(now) for t in self.tracks]
        unmatched = set(range(len(boxes)))
        if predicted and boxes:
            ious = iou_matrix(_corners(predicted), _corners(boxes))
            centres_p = np.array([[b.x + b.w / 2, b.y + b.h / 2] for b in predicted])
            centres_b = np.array([[b.x + b.w / 2, b.y + b.h / 2] for b in boxes])
            dist = np.linalg.norm(centres_p[:, None, :] - centres_b[None, :, :], axis=2)
            score = np.where(ious >= self.config.min_iou, 1.0 + ious,
                             np.where(dist <= self.config.max_centre_distance, 1.0 - dist, 0.0))
            while True:
                t, b = np.unravel_index(int(np.argmax(score)), score.shape)
                if score[t, b] <= 0:
                    break
                self._assign(self.tracks[t], boxes[b], now)
                unmatched.discard(int(b))
                score[t, :] = 0
                score[:, b] = 0
        for i in sorted(unmatched):
            box = boxes[i]
            self.tracks.append(Track(self._next_id, _with_id(box, self._next_id), (0.0, 0.0), now))
            self._next_id += 1
        self.tracks = [t for t in self.tracks if now - t.last_time <= self.config.max_age_s]

    @staticmethod
    def _assign(track: Track, box: Box, now: float) -> None:
        dt = now - track.last_time
        if dt > 0:
            vx = (box.x + box.w / 2 - track.box.x - track.box.w / 2) / dt
            vy = (box.y + box.h / 2 - track.box.y - track.box.h / 2) / dt
            track.velocity = (0.5 * track.velocity[0] + 0.5 * vx, 0.5 * track.velocity[1] + 0.5 * vy)
        track.box = _with_id(box, track.track_id)
        track.last_time = now
        track.hits += 1


def _with_id(box: Box, track_id: int) -> Box:
    return Box(box.x, box.y, box.w, box.h, box.label, box.score, track_id)
