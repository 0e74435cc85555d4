"""Sample-level helpers: mono mix-down, gain, decibels and a streaming polyphase resampler."""

from __future__ import annotations

from math import ceil, gcd

import numpy as np
from numpy.typing import NDArray
from scipy.signal import resample_poly

ANALYSIS_RATE = 16_000
"""Every analyser works on 16 kHz mono float32, the rate of AudioSet-family models and Silero VAD."""

FloatArray = NDArray[np.float32]

DB_FLOOR = -120.0


def to_mono(samples: NDArray[np.generic]) -> FloatArray:
    """Average the channels of a (frames,) or (frames, channels) block into float32 mono."""
    data = np.asarray(samples)
    if data.dtype.kind in "iu":
        scale = float(np.iinfo(data.dtype).max) + 1.0
        data = data.astype(np.float32) / np.float32(scale)
    data = data.astype(np.float32, copy=False)
    if data.ndim == 2:
        data = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    elif data.ndim != 1:
        raise ValueError(f"audio block must be 1-D or 2-D (frames, channels), got shape {data.shape}")
    return np.ascontiguousarray(data)


def power_db(power: NDArray[np.floating], floor_db: float = DB_FLOOR) -> FloatArray:
    """10·log10 of a power quantity, floored so digital silence stays finite."""
    floor = 10.0 ** (floor_db / 10.0)
    out: FloatArray = (10.0 * np.log10(np.maximum(power, floor))).astype(np.float32)
    return out


def gain(samples: FloatArray, gain_db: float) -> FloatArray:
    """Apply a calibration gain in dB (returns the input unchanged for 0 dB)."""
    if gain_db == 0.0:
        return samples
    return (samples * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)


def resample(samples: FloatArray, rate_in: int, rate_out: int = ANALYSIS_RATE) -> FloatArray:
    """Resample a whole signal with a polyphase filter (scipy `resample_poly`)."""
    if rate_in == rate_out:
        return samples.astype(np.float32, copy=False)
    g = gcd(rate_in, rate_out)
    out: FloatArray = resample_poly(samples, rate_out // g, rate_in // g).astype(np.float32)
    return out


class StreamResampler:
    """Resample a stream block by block, identical to resampling the whole signal at once.

    `resample_poly` zero-pads both ends, so blocks resampled independently click at every boundary.
    This keeps `margin` input samples of context on each side (`margin` ≥ the filter's half length
    in input samples, a multiple of the decimation factor so output phases line up) and emits only
    the output samples whose filter support is complete; the price is `margin` samples of latency.
    """

    def __init__(self, rate_in: int, rate_out: int = ANALYSIS_RATE) -> None:
        if rate_in <= 0 or rate_out <= 0:
            raise ValueError("sample rates must be positive")
        g = gcd(rate_in, rate_out)
        self.up, self.down = rate_out // g, rate_in // g
        self.rate_in, self.rate_out = rate_in, rate_out
        half = 10 * max(self.up, self.down) / self.up  # resample_poly's default filter half-length, input samples
        self._blocks = ceil(half / self.down) + 1
        self._margin = self._blocks * self.down
        self._buf = np.zeros(self._margin, dtype=np.float32)  # leading zeros, as resample_poly pads
        self._fed = 0
        self._emitted = 0

    @property
    def passthrough(self) -> bool:
        """True when input and output rates are equal."""
        return self.up == self.down

    def process(self, samples: FloatArray) -> FloatArray:
        """Feed a block; return the output samples that are final."""
        if self.passthrough:
            return samples.astype(np.float32, copy=False)
        self._fed += len(samples)
        self._buf = np.concatenate([self._buf, samples.astype(np.float32, copy=False)])
        usable = len(self._buf) // self.down - 2 * self._blocks
        if usable <= 0:
            return np.zeros(0, dtype=np.float32)
        return self._run(usable)

    def flush(self) -> FloatArray:
        """Emit the remaining output at end of stream (zero-padding the tail like `resample_poly`)."""
        if self.passthrough:
            return np.zeros(0, dtype=np.float32)
        total = ceil(self._fed * self.up / self.down)
        missing = total - self._emitted
        if missing <= 0:
            return np.zeros(0, dtype=np.float32)
        pad = (2 * self._blocks + ceil(missing / self.up)) * self.down
        self._buf = np.concatenate([self._buf, np.zeros(pad, dtype=np.float32)])
        usable = len(self._buf) // self.down - 2 * self._blocks
        return self._run(usable)[:missing]

    def _run(self, usable: int) -> FloatArray:
        span = (usable + 2 * self._blocks) * self.down
        out = resample_poly(self._buf[:span], self.up, self.down)
        keep: FloatArray = out[self._blocks * self.up: (self._blocks + usable) * self.up].astype(np.float32)
        self._buf = self._buf[usable * self.down:]
        self._emitted += len(keep)
        return keep
