"""Sliding windows with overlap over a sample stream (for window-level models such as classifiers)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from detectors.audio.signal import ANALYSIS_RATE, FloatArray


class SlidingWindows:
    """Cut a stream into `window_s` windows every `hop_s`; each comes with its stream start time."""

    def __init__(self, window_s: float, hop_s: float, rate: int = ANALYSIS_RATE, time0: float = 0.0) -> None:
        if not 0 < hop_s <= window_s:
            raise ValueError("need 0 < hop_s <= window_s")
        self.size = round(window_s * rate)
        self.hop = round(hop_s * rate)
        self.rate = rate
        self._buf = np.zeros(0, dtype=np.float32)
        self._start = 0  # absolute sample index of _buf[0]
        self.time0 = time0

    def push(self, samples: FloatArray) -> Iterator[tuple[float, FloatArray]]:
        """Add samples; yield every (start time, window) they complete."""
        self._buf = np.concatenate([self._buf, samples])
        while len(self._buf) >= self.size:
            yield self.time0 + self._start / self.rate, self._buf[: self.size].copy()
            self._buf = self._buf[self.hop:]
            self._start += self.hop

    def flush(self, min_fill: float = 0.5) -> Iterator[tuple[float, FloatArray]]:
        """At end of stream, yield the last partial window zero-padded if it is at least `min_fill` full."""
        if len(self._buf) >= min_fill * self.size:
            out = np.zeros(self.size, dtype=np.float32)
            out[: len(self._buf)] = self._buf
            yield self.time0 + self._start / self.rate, out
        self._buf = np.zeros(0, dtype=np.float32)
