"""Annotated video: zones, tracked boxes and live incidents drawn on each analysed frame."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from detectors.analysers.base import FrameContext
from detectors.events import Box, Detection, Observation, Phase

COLOURS = {"person": (80, 220, 80), "motion": (200, 200, 200), "object": (0, 200, 255)}
ALERT = (40, 40, 230)


class Annotator:
    """Writes an MPEG-4 clip of the analysed frames with what the worker saw and decided."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path = path
        self.fps = fps
        self._writer: cv2.VideoWriter | None = None
        self._active: dict[str, Detection] = {}

    def __call__(self, ctx: FrameContext, observations: Sequence[Observation], due: Sequence[Detection]) -> None:
        """Draw one frame (worker `on_frame` hook)."""
        for detection in due:
            if detection.phase is Phase.END:
                self._active.pop(detection.incident_id, None)
            else:
                self._active[detection.incident_id] = detection
        frame = ctx.frame.copy()
        height, width = frame.shape[:2]
        for zone in ctx.zones:
            cv2.polylines(frame, [zone.polygon.reshape(-1, 1, 2)], True, (0, 220, 255), 2)
            x, y = zone.polygon[0]
            cv2.putText(frame, zone.name, (int(x) + 4, int(y) + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 220, 255), 2)
        tracked = {id(t) for t in ctx.tracks}
        for box in [*ctx.objects, *ctx.tracks]:
            self._box(frame, box, width, height, thick=2 if id(box) in tracked else 1)
        alerting = [o for o in observations if o.boxes]
        for obs in alerting:
            for box in obs.boxes:
                self._box(frame, box, width, height, colour=ALERT, thick=3)
        lines = [f"{d.category} {d.key} {d.confidence}%" for d in self._active.values()]
        for i, text in enumerate(lines[:8]):
            cv2.putText(frame, text, (10, 28 + 26 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.7, ALERT, 2)
        if any(d.phase is Phase.START for d in due):
            cv2.rectangle(frame, (0, 0), (width - 1, height - 1), ALERT, 8)
        stamp = f"{ctx.item.feed_id}  t={ctx.item.stream_time:7.1f}s"
        cv2.putText(frame, stamp, (10, height - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2)
        self._write(frame)

    def _box(self, frame: np.ndarray, box: Box, width: int, height: int, colour: tuple[int, int, int] | None = None,
             thick: int = 1) -> None:
        colour = colour or COLOURS.get(box.label, (255, 160, 0))
        p0 = (int(box.x * width), int(box.y * height))
        p1 = (int((box.x + box.w) * width), int((box.y + box.h) * height))
        cv2.rectangle(frame, p0, p1, colour, thick)
        if box.track_id is not None:
            cv2.putText(frame, f"#{box.track_id}", (p0[0], max(12, p0[1] - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                        colour, 1)

    def _write(self, frame: np.ndarray) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            height, width = frame.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter.fourcc(*"mp4v"), self.fps, (width, height))
            if not self._writer.isOpened():
                raise RuntimeError(f"cannot write annotated video {self.path}")
        self._writer.write(frame)

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
