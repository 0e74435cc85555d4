"""Synthetic sounds with known truth, for tests, benchmarks and the demo feed (16 kHz mono)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.audio.signal import ANALYSIS_RATE, FloatArray

RATE = ANALYSIS_RATE


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _f32(x: NDArray[Any]) -> FloatArray:
    out: FloatArray = np.asarray(x, dtype=np.float32)
    return out


def rms(x: NDArray[Any]) -> float:
    """Root mean square of a signal."""
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def pink_noise(seconds: float, seed: int | np.random.Generator = 0, level: float = 0.05) -> FloatArray:
    """1/f noise with the given RMS."""
    n = round(seconds * RATE)
    spec = np.fft.rfft(_rng(seed).standard_normal(n))
    spec /= np.sqrt(np.maximum(np.arange(len(spec)), 1))
    x = np.fft.irfft(spec, n)
    return _f32(x * level / max(rms(x), 1e-12))


def crowd_noise(seconds: float, seed: int | np.random.Generator = 0, level: float = 0.05,
                voices: int = 30) -> FloatArray:
    """Steady babble: pink noise plus many low-pitched voices with syllabic amplitude modulation.

    The voices are synthesised for at most 8 s and tiled with random shifts (cheap for long signals).
    """
    rng = _rng(seed)
    n = round(seconds * RATE)
    m = min(n, 8 * RATE)
    t = np.arange(m) / RATE
    babble = np.zeros(m)
    for _ in range(voices):
        f0 = rng.uniform(90, 240) * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(0.2, 1) * t + rng.uniform(0, 6)))
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        voice = sum(np.sin(k * phase) / k for k in range(1, 9))
        syllables = np.clip(np.sin(2 * np.pi * rng.uniform(2, 5) * t + rng.uniform(0, 6)), 0, None) ** 2
        babble += voice * syllables
    reps = -(-n // m)
    tiled = np.concatenate([np.roll(babble, int(rng.integers(0, m))) for _ in range(reps)])[:n]
    out = pink_noise(seconds, rng, 1.0) + 0.6 * tiled / max(rms(babble), 1e-12) * np.sqrt(voices) / 4
    return _f32(out * level / rms(out))


def gunshot(seed: int | np.random.Generator = 0, decay_s: float = 0.06, peak: float = 0.8) -> FloatArray:
    """A muzzle-blast-like burst: instant broadband onset, exponential decay (0.5 s long)."""
    rng = _rng(seed)
    t = np.arange(round(0.5 * RATE)) / RATE
    env = np.exp(-t / decay_s) * (1 - np.exp(-t / 0.0005))
    x = rng.standard_normal(len(t)) * env
    return _f32(x * peak / np.abs(x).max())


def explosion(seed: int | np.random.Generator = 0, peak: float = 0.9) -> FloatArray:
    """A blast: a broadband crack, then a rumble below 400 Hz with a slow decay (2 s long)."""
    rng = _rng(seed)
    n = round(2.0 * RATE)
    t = np.arange(n) / RATE
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    spec *= 1 / (1 + (f / 150.0) ** 2)
    x = np.fft.irfft(spec, n) * np.exp(-t / 0.35) * (1 - np.exp(-t / 0.002))
    x /= np.abs(x).max()
    x += 0.3 * rng.standard_normal(n) * np.exp(-t / 0.015)
    return _f32(x * peak / np.abs(x).max())


def harmonic(f0: np.ndarray, amplitudes: tuple[float, ...] = (1.0, 0.6, 0.4, 0.25, 0.15)) -> FloatArray:
    """A harmonic complex following the instantaneous pitch track `f0` (Hz per sample)."""
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    x = sum(a * np.sin((k + 1) * phase) for k, a in enumerate(amplitudes) if np.all((k + 1) * f0 < RATE / 2))
    return _f32(x / np.abs(x).max())


def scream(seconds: float = 1.2, f0: float = 900.0, seed: int | np.random.Generator = 0,
           peak: float = 0.6) -> FloatArray:
    """A scream-like sound: high harmonic pitch with a rise-fall contour, vibrato and jitter."""
    rng = _rng(seed)
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    contour = f0 * (1 + 0.15 * np.sin(np.pi * t / seconds)) * (1 + 0.03 * np.sin(2 * np.pi * 6 * t))
    contour *= 1 + 0.01 * np.convolve(rng.standard_normal(n), np.ones(400) / 20, mode="same")
    env = np.minimum(1, t / 0.05) * np.minimum(1, (seconds - t) / 0.1)
    return _f32(harmonic(contour) * env * peak)


def siren(seconds: float = 8.0, kind: str = "wail", peak: float = 0.5) -> FloatArray:
    """A wail (slow sweep 600–1400 Hz, 4 s period), yelp (fast, 0.35 s) or hi-lo (two tones)."""
    t = np.arange(round(seconds * RATE)) / RATE
    if kind == "wail":
        f0 = 1000 + 400 * np.sin(2 * np.pi * t / 4.0)
    elif kind == "yelp":
        f0 = 1000 + 400 * np.sin(2 * np.pi * t / 0.35)
    elif kind == "hilo":
        f0 = np.where((t % 1.2) < 0.6, 750.0, 960.0)
    else:
        raise ValueError(f"unknown siren kind {kind!r}")
    return _f32(harmonic(f0, (1.0, 0.3, 0.5, 0.1, 0.3)) * peak)


def tone(seconds: float, freq: float, peak: float = 0.5) -> FloatArray:
    """A steady sine."""
    t = np.arange(round(seconds * RATE)) / RATE
    return _f32(peak * np.sin(2 * np.pi * freq * t))


def glass_break(seed: int | np.random.Generator = 0, peak: float = 0.7) -> FloatArray:
    """An impact click, ringing resonances at 3–7 kHz, and a few fragment tinkles (0.8 s long)."""
    rng = _rng(seed)
    n = round(0.8 * RATE)
    t = np.arange(n) / RATE
    x = rng.standard_normal(n) * np.exp(-t / 0.004) * 0.8
    for f in rng.uniform(3000, 7200, 6):
        x += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) * np.exp(-t / rng.uniform(0.06, 0.2))
    for start in rng.uniform(0.15, 0.6, 4):
        k = round(start * RATE)
        tt = t[: n - k]
        frag = sum(np.sin(2 * np.pi * f * tt) for f in rng.uniform(4000, 7500, 2)) * np.exp(-tt / 0.03)
        x[k:] += 0.3 * frag
    return _f32(x * peak / np.abs(x).max())


def place(background: FloatArray, sound: FloatArray, at_s: float, snr_db: float | None = None) -> FloatArray:
    """Add `sound` into a copy of `background` at `at_s`, scaled to `snr_db` (peak-segment RMS) if given."""
    out = background.copy()
    k = round(at_s * RATE)
    seg = sound[: max(0, len(out) - k)]
    if snr_db is not None:
        loud = seg[: max(1, min(len(seg), RATE // 10))]
        scale = rms(background) * 10 ** (snr_db / 20) / max(rms(loud), 1e-12)
        seg = seg * np.float32(scale)
    out[k:k + len(seg)] += seg
    return out


def concert(seconds: float, seed: int | np.random.Generator = 0, level: float = 0.5) -> FloatArray:
    """A loud band over a crowd: chords every beat (0.5 s), sung notes, kick and snare drums."""
    rng = _rng(seed)
    n = round(seconds * RATE)
    out = np.zeros(n)
    beat = round(0.5 * RATE)
    for a in range(0, n, beat):
        b = min(n, a + beat)
        tt = np.arange(b - a) / RATE
        root = float(rng.choice([110.0, 130.8, 146.8, 164.8, 196.0, 220.0]))
        for mult in (1, 1.25, 1.5, 2, 4):
            out[a:b] += sum(np.sin(2 * np.pi * root * mult * h * tt) / h for h in range(1, 6)) * 0.3 * np.exp(-tt / 0.8)
        if rng.random() < 0.5:
            sung = np.full(b - a, rng.uniform(300, 700)) * (1 + 0.01 * np.sin(2 * np.pi * 5 * tt))
            out[a:b] += 0.5 * harmonic(sung)
        out[a:b] += 1.5 * np.sin(2 * np.pi * 60 * tt * (1 + np.exp(-tt / 0.02))) * np.exp(-tt / 0.15)
        snare = a + beat // 2
        m = min(n - snare, round(0.2 * RATE))
        if m > 0:
            out[snare:snare + m] += 0.6 * rng.standard_normal(m) * np.exp(-np.arange(m) / RATE / 0.05)
    out = out / np.abs(out).max() * level
    return _f32(out + crowd_noise(seconds, rng, 0.06 * level))
