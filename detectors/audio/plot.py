"""A spectrogram picture with detections marked, drawn with OpenCV (no plotting library needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.audio.base import AudioEvent
from detectors.audio.signal import ANALYSIS_RATE, FloatArray, power_db

COLOURS = {  # BGR
    "gunshot": (60, 60, 255), "explosion": (0, 140, 255), "scream": (255, 0, 255),
    "glass-break": (255, 255, 0), "siren": (255, 120, 0), "crowd-noise": (0, 255, 0),
}
N_FFT, HOP = 512, 160
MARGIN_L, MARGIN_B, MARGIN_T = 60, 36, 24


def spectrogram_db(samples: FloatArray, max_columns: int) -> NDArray[np.float32]:
    """(bins, columns) dB spectrogram, time max-pooled down to at most `max_columns` columns."""
    if len(samples) < N_FFT:
        samples = np.pad(samples, (0, N_FFT - len(samples)))
    frames = np.lib.stride_tricks.sliding_window_view(samples, N_FFT)[::HOP]
    window = np.hanning(N_FFT).astype(np.float32)
    power_cols: list[NDArray[np.float32]] = []
    group = max(1, -(-len(frames) // max_columns))
    for i in range(0, len(frames), 4096):  # bounded memory for hour-long files
        spec = np.abs(np.fft.rfft(frames[i:i + 4096] * window, axis=1)) ** 2
        power_cols.append(spec.astype(np.float32))
    power = np.concatenate(power_cols)
    usable = len(power) // group * group
    pooled = power[:usable].reshape(-1, group, power.shape[1]).max(axis=1) if usable else power
    return power_db(pooled * (4.0 / (N_FFT * float(np.sum(window**2))))).T


def draw_spectrogram(samples: FloatArray, events: Sequence[AudioEvent], out: str | Path,
                     width: int = 1600, height: int = 420, title: str = "") -> Path:
    """Write a PNG of the spectrogram of 16 kHz `samples` with each event boxed and labelled."""
    duration = max(len(samples) / ANALYSIS_RATE, 1e-3)
    spec = spectrogram_db(samples, width)
    top = float(np.percentile(spec, 99.5)) if spec.size else 0.0
    norm = np.clip((spec - (top - 80.0)) / 80.0, 0, 1)
    image = cv2.applyColorMap((norm[::-1] * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST)
    canvas = np.full((height + MARGIN_B + MARGIN_T, width + MARGIN_L + 10, 3), 255, np.uint8)
    canvas[MARGIN_T:MARGIN_T + height, MARGIN_L:MARGIN_L + width] = image
    font = cv2.FONT_HERSHEY_SIMPLEX

    def x_of(t: float) -> int:
        return MARGIN_L + int(round(min(max(t, 0.0), duration) / duration * (width - 1)))

    def y_of(hz: float) -> int:
        return MARGIN_T + int(round((1 - min(max(hz, 0.0), 8000.0) / 8000.0) * (height - 1)))

    step = _nice_step(duration / 10)
    for k in range(int(duration / step) + 1):
        t = k * step
        cv2.line(canvas, (x_of(t), MARGIN_T + height), (x_of(t), MARGIN_T + height + 5), (0, 0, 0), 1)
        cv2.putText(canvas, f"{t:g}s", (x_of(t) - 12, MARGIN_T + height + 20), font, 0.4, (0, 0, 0), 1)
    for hz in range(0, 8001, 2000):
        cv2.putText(canvas, f"{hz // 1000}k", (20, y_of(hz) + 4), font, 0.4, (0, 0, 0), 1)
    for i, event in enumerate(sorted(events, key=lambda e: e.start)):
        colour = COLOURS.get(event.category, (255, 255, 255))
        x0, x1 = x_of(event.start), max(x_of(event.end), x_of(event.start) + 2)
        cv2.rectangle(canvas, (x0, y_of(event.high_hz)), (x1, y_of(event.low_hz)), colour, 2)
        label = f"{event.category} {event.confidence:.2f}"
        y = MARGIN_T + 14 + 16 * (i % 4)
        cv2.putText(canvas, label, (x0 + 3, y), font, 0.45, (0, 0, 0), 3)
        cv2.putText(canvas, label, (x0 + 3, y), font, 0.45, colour, 1)
    if title:
        cv2.putText(canvas, title, (MARGIN_L, 16), font, 0.5, (0, 0, 0), 1)
    path = Path(out)
    if not cv2.imwrite(str(path), canvas):
        raise OSError(f"cannot write {path}")
    return path


def _nice_step(raw: float) -> float:
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if step >= raw:
            return float(step)
    return 7200.0
