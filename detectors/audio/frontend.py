"""The shared spectral front end: one STFT pass per block feeds every hand-built detector.

Frames are 32 ms Hann windows every 10 ms at 16 kHz. Per frame it computes the band levels, the
broadband and A-weighted levels, a subharmonic-summation pitch estimate with its harmonicity (the
share of energy on the harmonics of the best F0, corrected for the share a comb catches in noise),
and the high-frequency spectral peakiness that marks ringing glass. All of it is matrix products
over the block, so the per-frame Python cost is nil.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from detectors.audio.signal import ANALYSIS_RATE, FloatArray, power_db

N_FFT = 512
HOP = 160
FRAME_RATE = ANALYSIS_RATE / HOP  # 100 frames per second
BIN_HZ = ANALYSIS_RATE / N_FFT

#: band edges in Hz; detectors refer to bands by index (0 = lowest).
BAND_EDGES = (50.0, 150.0, 400.0, 1000.0, 2000.0, 3000.0, 4500.0, 6000.0, 8000.0)
HF_LOW_HZ = 2500.0
F0_MIN_HZ, F0_MAX_HZ = 300.0, 2500.0
HARMONIC_DECAY = 0.84  # subharmonic-summation weight per harmonic (Hermes 1988)


def _band_matrix() -> FloatArray:
    freqs = np.arange(N_FFT // 2 + 1) * BIN_HZ
    bands = np.zeros((len(freqs), len(BAND_EDGES) - 1), dtype=np.float32)
    for b, (lo, hi) in enumerate(zip(BAND_EDGES[:-1], BAND_EDGES[1:], strict=True)):
        bands[(freqs >= lo) & (freqs < hi), b] = 1.0
    return bands


def _a_weights() -> FloatArray:
    f2 = (np.arange(N_FFT // 2 + 1) * BIN_HZ) ** 2
    num = (12194.0**2) * f2**2
    den = (f2 + 20.6**2) * np.sqrt((f2 + 107.7**2) * (f2 + 737.9**2)) * (f2 + 12194.0**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.where(den > 0, num / den, 0.0) ** 2 * 10 ** (2.0 / 10)
    return gain.astype(np.float32)


def _comb_matrices() -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Weighted harmonic combs (selection), unweighted masks (harmonicity) and their noise coverage."""
    n_bins = N_FFT // 2 + 1
    cands = np.geomspace(F0_MIN_HZ, F0_MAX_HZ, 96).astype(np.float32)  # ~ 1/3 semitone apart
    weighted = np.zeros((n_bins, len(cands)), dtype=np.float32)
    mask = np.zeros((n_bins, len(cands)), dtype=np.float32)
    top = 7600.0
    for c, f0 in enumerate(cands):
        for h in range(1, int(top // f0) + 1):
            pos = h * f0 / BIN_HZ
            lo = int(np.floor(pos))
            frac = pos - lo
            weight = HARMONIC_DECAY ** (h - 1)
            weighted[lo, c] += weight * (1 - frac)
            weighted[lo + 1, c] += weight * frac
            mask[max(lo - 1, 0): lo + 3, c] = 1.0
    lo_bin, hi_bin = int(F0_MIN_HZ // BIN_HZ) - 1, int(top // BIN_HZ) + 2
    span = np.zeros(n_bins, dtype=np.float32)
    span[lo_bin:hi_bin] = 1.0
    mask *= span[:, None]
    coverage = mask.sum(axis=0) / span.sum()
    return cands, weighted, mask, coverage.astype(np.float32)


# Sparse transposed combs and plain reductions instead of dense matrix products: products this small
# go to a multithreaded BLAS whose thread hand-offs cost more than the arithmetic (10x slower on a
# busy 2-core machine), and sparse products run single-threaded in scipy's own C loops.
_BANDS = _band_matrix()
_AWEIGHT = _a_weights()
_F0_CANDS, _comb_w, _comb_mask, _COMB_COVER = _comb_matrices()
_COMB_W_T = sparse.csr_matrix(_comb_w.T)
_COMB_MASK_T = sparse.csr_matrix(_comb_mask.T)
_SPAN = _comb_mask.max(axis=1).astype(bool)
_HF = slice(int(HF_LOW_HZ // BIN_HZ), N_FFT // 2)
_WINDOW = np.hanning(N_FFT).astype(np.float32)
# Parseval with the window's energy, doubled for the one-sided spectrum and again so that a
# full-scale sine (mean square 1/2) reads 0 dBFS (AES17)
_NORM = np.float32(4.0 / (N_FFT * np.sum(_WINDOW**2)))


@dataclass(frozen=True)
class Frames:
    """Features of consecutive STFT frames; `index` is the absolute frame number of row 0."""

    index: int
    times: NDArray[np.float64]  # stream seconds of each frame's centre
    power: FloatArray  # (n, bins) power spectrum, dBFS-scaled
    band_db: FloatArray  # (n, bands)
    level_db: FloatArray  # broadband 50 Hz .. 8 kHz
    level_a_db: FloatArray  # A-weighted
    hf_db: FloatArray  # level above 2.5 kHz
    hf_share: FloatArray  # share of the power above 2.5 kHz
    hf_peak_db: FloatArray  # strongest HF bin over the median HF bin, dB
    hf_peak_hz: FloatArray  # frequency of that bin
    f0_hz: FloatArray
    harmonicity: FloatArray  # 0 noise .. 1 perfectly harmonic
    h2_db: FloatArray  # second harmonic relative to the first

    def __len__(self) -> int:
        return len(self.times)


_BAND_SLICES = [
    slice(int(np.argmax(_BANDS[:, b])), int(len(_BANDS) - np.argmax(_BANDS[::-1, b])))
    for b in range(_BANDS.shape[1])
]


def _band_power(power: FloatArray) -> FloatArray:
    return np.stack([power[:, band].sum(axis=1) for band in _BAND_SLICES], axis=1)


def analyse_frames(frames: NDArray[np.float32], index: int, time0: float) -> Frames:
    """Compute every per-frame feature of a (n, N_FFT) array of windows starting at absolute `index`."""
    n = len(frames)
    spec = np.fft.rfft(frames * _WINDOW, axis=1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32) * _NORM
    band_pow = _band_power(power)
    total = band_pow.sum(axis=1)
    level_a = (power * _AWEIGHT).sum(axis=1)
    hf = power[:, _HF]
    hf_total = hf.sum(axis=1)
    hf_share = hf_total / np.maximum(total, 1e-20)
    hf_db = power_db(hf)
    hf_peak = hf_db.max(axis=1) - np.median(hf_db, axis=1)
    hf_peak_hz = ((np.argmax(hf_db, axis=1) + _HF.start) * BIN_HZ).astype(np.float32)
    mag = np.sqrt(power)
    best = np.argmax(_COMB_W_T @ mag.T, axis=0)
    on_comb = np.take_along_axis(_COMB_MASK_T @ power.T, best[None, :], axis=0)[0]
    in_span = power[:, _SPAN].sum(axis=1)
    cover = _COMB_COVER[best]
    share = on_comb / np.maximum(in_span, 1e-20)
    harmonicity = np.clip((share - cover) / (1.0 - cover), 0.0, 1.0)
    f0 = _F0_CANDS[best]
    rows = np.arange(n)
    k1 = np.clip(np.rint(f0 / BIN_HZ).astype(np.int64), 1, power.shape[1] - 2)
    k2 = np.clip(np.rint(2 * f0 / BIN_HZ).astype(np.int64), 1, power.shape[1] - 2)
    p1 = np.maximum(np.maximum(power[rows, k1 - 1], power[rows, k1]), power[rows, k1 + 1])
    p2 = np.maximum(np.maximum(power[rows, k2 - 1], power[rows, k2]), power[rows, k2 + 1])
    times = (time0 + (np.arange(n, dtype=np.float64) + index) * HOP / ANALYSIS_RATE + N_FFT / 2 / ANALYSIS_RATE)
    return Frames(
        index=index,
        times=times,
        power=power,
        band_db=power_db(band_pow),
        level_db=power_db(total),
        level_a_db=power_db(level_a),
        hf_db=power_db(hf_total),
        hf_share=hf_share.astype(np.float32),
        hf_peak_db=hf_peak.astype(np.float32),
        hf_peak_hz=hf_peak_hz,
        f0_hz=f0,
        harmonicity=harmonicity.astype(np.float32),
        h2_db=(power_db(p2) - power_db(p1)),
    )


class SpectralFrontend:
    """Cuts a 16 kHz mono stream into overlapping frames and analyses each new batch of them."""

    def __init__(self, time0: float = 0.0) -> None:
        self.time0 = time0
        self._tail = np.zeros(0, dtype=np.float32)
        self._next = 0  # absolute index of the next frame

    def process(self, samples: FloatArray) -> Frames | None:
        """Feed samples; return the features of every frame they complete (None if none)."""
        buf = np.concatenate([self._tail, samples]) if len(self._tail) else samples
        if len(buf) < N_FFT:
            self._tail = buf
            return None
        count = 1 + (len(buf) - N_FFT) // HOP
        windows = np.lib.stride_tricks.sliding_window_view(buf, N_FFT)[::HOP][:count]
        out = analyse_frames(windows, self._next, self.time0)
        self._next += count
        self._tail = buf[count * HOP:].copy()
        return out
