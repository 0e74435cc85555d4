"""Rolling state shared by the audio detectors: recent frame features, adaptive backgrounds, samples."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from detectors.audio.frontend import FRAME_RATE, N_FFT, Frames
from detectors.audio.signal import ANALYSIS_RATE, FloatArray

#: per-frame scalar features kept in the history (the spectra themselves are not kept)
SCALARS = ("level_db", "level_a_db", "hf_db", "hf_share", "hf_peak_db", "hf_peak_hz", "f0_hz", "harmonicity", "h2_db")


class RollingBackground:
    """A quantile of recent levels per channel: the adaptive background a detection must stand out from.

    Levels are averaged into steps of `step_s`; the background is the `quantile` of the last
    `horizon_s` of steps, recomputed at each step and applied to the frames of the next one, so a
    short event never raises its own background, while a concert that stays loud raises it within
    about half the horizon (median) — the property that keeps a loud crowd from firing everything.
    """

    def __init__(self, channels: int, horizon_s: float = 20.0, step_s: float = 0.25,
                 quantile: float = 0.5, floor_db: float = -90.0) -> None:
        self.step = max(1, round(step_s * FRAME_RATE))
        self.ring = np.full((max(2, round(horizon_s / step_s)), channels), np.nan, dtype=np.float32)
        self.quantile = quantile
        self.floor_db = floor_db
        self._pos = 0
        self._acc = np.zeros(channels, dtype=np.float64)
        self._count = 0
        self._current = np.full(channels, floor_db, dtype=np.float32)
        self._filled = 0

    def update(self, values: NDArray[np.float32]) -> FloatArray:
        """Feed (n, channels) frame levels in dB; return the background in force at each frame."""
        out = np.empty_like(values)
        i = 0
        while i < len(values):
            take = min(self.step - self._count, len(values) - i)
            out[i:i + take] = self._current
            self._acc += values[i:i + take].sum(axis=0, dtype=np.float64)
            self._count += take
            i += take
            if self._count == self.step:
                self.ring[self._pos % len(self.ring)] = self._acc / self._count
                self._pos += 1
                self._filled = min(self._filled + 1, len(self.ring))
                self._acc[:] = 0.0
                self._count = 0
                filled = self.ring if self._filled == len(self.ring) else self.ring[: self._filled]
                self._current = np.maximum(np.quantile(filled, self.quantile, axis=0), self.floor_db)
        return out


@dataclass
class FrameHistory:
    """The last `keep_s` seconds of frame features, backgrounds and 16 kHz samples, by absolute index."""

    keep_s: float = 8.0
    base: int = 0  # absolute index of row 0
    end: int = 0  # absolute index one past the last frame
    columns: dict[str, FloatArray] = field(default_factory=dict)
    times: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    samples: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    sample_base: int = 0  # absolute sample index of samples[0]
    time0: float = 0.0  # stream time of sample 0

    def append(self, frames: Frames, extra: dict[str, FloatArray]) -> None:
        """Add a batch of frames and the background columns computed for them."""
        cols = {name: getattr(frames, name) for name in SCALARS} | extra
        cols["band_db"] = frames.band_db
        if not self.columns:
            self.base = frames.index
            self.columns = {k: v.copy() for k, v in cols.items()}
            self.times = frames.times.copy()
        else:
            self.columns = {k: np.concatenate([self.columns[k], v]) for k, v in cols.items()}
            self.times = np.concatenate([self.times, frames.times])
        self.end = frames.index + len(frames)
        drop = max(0, len(self.times) - round(self.keep_s * FRAME_RATE))
        if drop:
            self.columns = {k: v[drop:] for k, v in self.columns.items()}
            self.times = self.times[drop:]
            self.base += drop

    def add_samples(self, samples: FloatArray) -> None:
        """Keep the raw samples (for detectors that re-read audio, e.g. the speech gate)."""
        self.samples = np.concatenate([self.samples, samples])
        drop = max(0, len(self.samples) - round(self.keep_s * ANALYSIS_RATE))
        if drop:
            self.samples = self.samples[drop:]
            self.sample_base += drop

    def col(self, name: str, start: int, stop: int) -> FloatArray:
        """Column `name` for absolute frames [start, stop), clipped to what is kept."""
        lo, hi = max(start, self.base) - self.base, max(min(stop, self.end), self.base) - self.base
        return self.columns[name][lo:hi]

    def time(self, index: int) -> float:
        """Stream time of the centre of absolute frame `index` (computed, so any block size agrees)."""
        return self.time0 + index / FRAME_RATE + N_FFT / 2 / ANALYSIS_RATE

    def audio(self, start_s: float, end_s: float, time0: float = 0.0) -> FloatArray:
        """The kept samples between two stream times."""
        lo = round((start_s - time0) * ANALYSIS_RATE) - self.sample_base
        hi = round((end_s - time0) * ANALYSIS_RATE) - self.sample_base
        return self.samples[max(lo, 0): max(hi, 0)]
