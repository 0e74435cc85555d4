"""Synthetic clips with exact ground truth, for tests, `popart eval` demos and benchmarks.

Each scene is a textured static background plus simple moving shapes; it returns the frames' writer
parameters and the labelled events (category, start, end in seconds) the analysers must find.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

Frame = np.ndarray
FrameFn = Callable[[int, float], Frame]


@dataclass(frozen=True)
class LabelledEvent:
    """A ground-truth event of a clip."""

    category: str
    start: float
    end: float


@dataclass(frozen=True)
class Scene:
    """A synthetic clip: size, rate, duration, how to draw frame i, and its truth."""

    width: int
    height: int
    fps: float
    seconds: float
    draw: FrameFn
    events: list[LabelledEvent] = field(default_factory=list)
    zone: list[tuple[float, float]] | None = None

    def frames(self) -> Iterator[Frame]:
        """Every frame of the clip."""
        for i in range(round(self.seconds * self.fps)):
            yield self.draw(i, i / self.fps)

    def write(self, path: Path) -> Path:
        """Encode the clip (MJPG in .avi: lossless enough, decodable everywhere)."""
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), self.fps, (self.width, self.height))
        if not writer.isOpened():
            raise RuntimeError(f"cannot write {path}")
        for frame in self.frames():
            writer.write(frame)
        writer.release()
        return path


def background(width: int, height: int, seed: int = 7) -> Frame:
    """A static textured scene (paving-like blocks and noise) that a motion model can learn."""
    rng = np.random.default_rng(seed)
    tiles = rng.integers(70, 150, size=(height // 16 + 1, width // 16 + 1), dtype=np.uint8)
    base = cv2.resize(tiles, (width, height), interpolation=cv2.INTER_NEAREST)
    noise = rng.integers(0, 20, size=(height, width), dtype=np.uint8)
    gray = cv2.add(base, noise)
    for x in range(0, width, 64):
        cv2.line(gray, (x, 0), (x, height), 40, 1)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def _person(frame: Frame, cx: float, bottom: float, height: int = 90) -> None:
    """Draw a person-sized blob (body and head) whose feet are at (cx, bottom)."""
    w = height // 3
    x, y = int(cx - w / 2), int(bottom - height)
    cv2.rectangle(frame, (x, y + w), (x + w, int(bottom)), (40, 40, 200), -1)
    cv2.circle(frame, (int(cx), y + w // 2), w // 2, (60, 150, 220), -1)


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * min(1.0, max(0.0, t))


def intrusion_scene(width: int = 640, height: int = 360, fps: float = 10.0) -> Scene:
    """A blob walks into the right-hand zone at ~3 s, stays until ~9 s, and leaves; 14 s in all."""
    bg = background(width, height)
    zone = [(0.55, 0.3), (0.95, 0.3), (0.95, 0.95), (0.55, 0.95)]

    def draw(i: int, t: float) -> Frame:
        frame = bg.copy()
        if t < 1.0:
            return frame
        if t < 4.0:
            cx = _lerp(0.05, 0.75, (t - 1.0) / 3.0)
        elif t < 9.0:
            cx = 0.75 + 0.01 * np.sin(t * 3)
        else:
            cx = _lerp(0.75, 0.05, (t - 9.0) / 3.0)
        _person(frame, cx * width, 0.8 * height)
        return frame

    # the feet cross x=0.55 at t = 1 + 3 * (0.55-0.05)/0.7 ≈ 3.14 s and leave at 9 + 3 * 0.2/0.7 ≈ 9.86 s
    return Scene(width, height, fps, 14.0, draw, [LabelledEvent("intrusion", 3.14, 9.86),
                                                 LabelledEvent("loitering", 3.14, 9.86)], zone)


def abandoned_scene(width: int = 640, height: int = 360, fps: float = 10.0) -> Scene:
    """A blob carries a bag to the middle, puts it down at 3 s and walks off; the bag stays."""
    bg = background(width, height)

    def draw(i: int, t: float) -> Frame:
        frame = bg.copy()
        bag_x = 0.5 * width
        if t >= 1.0:
            cx = _lerp(0.1, 0.5, (t - 1.0) / 2.0) if t < 3.0 else _lerp(0.5, 1.2, (t - 3.0) / 3.0)
            if cx < 1.1:
                _person(frame, cx * width, 0.75 * height)
            if t < 3.0:
                bag_x = cx * width + 25
            else:
                bag_x = 0.5 * width + 25
            cv2.rectangle(frame, (int(bag_x - 14), int(0.75 * height - 22)), (int(bag_x + 14), int(0.75 * height)),
                          (15, 15, 15), -1)
        return frame

    return Scene(width, height, fps, 20.0, draw, [LabelledEvent("abandoned-object", 3.0, 20.0)])


def tampering_scene(kind: str, width: int = 640, height: int = 360, fps: float = 10.0) -> Scene:
    """A normal view with a walker; from 5 s the view is covered (`black`), `blurred`, or `moved`."""
    bg = background(width, height)
    big = background(width + 200, height + 200)

    def draw(i: int, t: float) -> Frame:
        if kind == "moved" and t >= 5.0:
            frame = big[60:60 + height, 90:90 + width].copy()
        else:
            frame = big[0:height, 0:width].copy() if kind == "moved" else bg.copy()
        _person(frame, _lerp(0.1, 0.9, (t % 6.0) / 6.0) * width, 0.8 * height)
        if t >= 5.0 and kind == "black":
            frame = np.full_like(frame, 6)
        elif t >= 5.0 and kind == "blurred":
            frame = cv2.GaussianBlur(frame, (0, 0), 6)
        return frame

    return Scene(width, height, fps, 12.0, draw, [LabelledEvent("camera-tamper", 5.0, 12.0)])


def crowd_scene(panic_at: float | None = 8.0, people: int = 24, width: int = 640, height: int = 360,
                fps: float = 10.0, seconds: float = 14.0, seed: int = 3) -> Scene:
    """People stroll slowly; at `panic_at` they all run away from the centre (None: calm throughout)."""
    bg = background(width, height)
    rng = np.random.default_rng(seed)
    start = rng.uniform([0.15, 0.3], [0.85, 0.9], size=(people, 2))
    stroll = rng.normal(0, 0.03, size=(people, 2))
    centre = np.array([0.5, 0.6])

    def position(t: float) -> np.ndarray:
        calm_t = t if panic_at is None else min(t, panic_at)
        pos = start + stroll * calm_t
        if panic_at is not None and t > panic_at:
            away = start + stroll * panic_at - centre
            away /= np.linalg.norm(away, axis=1, keepdims=True) + 1e-6
            pos = pos + away * 0.3 * (t - panic_at)
        return np.asarray(pos)

    def draw(i: int, t: float) -> Frame:
        frame = bg.copy()
        for x, y in position(t):
            if -0.1 < x < 1.1 and 0 < y < 1.3:
                _person(frame, x * width, y * height, height=70)
        return frame

    events = [] if panic_at is None else [LabelledEvent("crowd-panic", panic_at, min(seconds, panic_at + 3.0))]
    return Scene(width, height, fps, seconds, draw, events)


def fight_scene(width: int = 640, height: int = 360, fps: float = 10.0, fight_at: float = 5.0,
                seconds: float = 12.0, seed: int = 5) -> Scene:
    """Walkers cross calmly; from `fight_at` three figures in the middle lunge and flail erratically."""
    bg = background(width, height)
    rng = np.random.default_rng(seed)
    jolts = rng.normal(0, 0.035, size=(round(seconds * fps) + 1, 3, 2))
    arms = rng.uniform(0, np.pi, size=(round(seconds * fps) + 1, 3))

    def draw(i: int, t: float) -> Frame:
        frame = bg.copy()
        _person(frame, _lerp(0.05, 0.95, t / seconds) * width, 0.9 * height, height=80)
        _person(frame, _lerp(0.95, 0.05, t / seconds) * width, 0.35 * height, height=60)
        for k, (x, y) in enumerate([(0.45, 0.65), (0.52, 0.62), (0.58, 0.68)]):
            dx, dy = jolts[i, k] if t >= fight_at else (0.0, 0.0)
            cx, bottom = (x + dx) * width, (y + dy) * height
            _person(frame, cx, bottom, height=90)
            if t >= fight_at:
                angle = arms[i, k]
                tip = (int(cx + 45 * np.cos(angle)), int(bottom - 60 - 45 * np.sin(angle)))
                cv2.line(frame, (int(cx), int(bottom - 60)), tip, (60, 150, 220), 8)
        return frame

    return Scene(width, height, fps, seconds, draw, [LabelledEvent("violence", fight_at, seconds)])
