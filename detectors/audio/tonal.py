"""Harmonic sounds: screams (short, high, unstable pitch) and sirens (long, periodic pitch sweeps).

Screams: sustained harmonic energy with F0 well above speech (Huang et al. 2010; Foggia et al. 2015
use pitch, harmonicity and high-band energy), lasting ~0.3–4 s, whose pitch is never as steady as
an alarm beep; shouted speech is vetoed by the Silero speech gate when its pitch is speech-like.
Sirens: a harmonic tone that glides continuously or repeats a pitch pattern (wail, yelp, hi-lo)
for seconds (Carmel et al. 2017; Marchegiani & Newman 2018 track the dominant pitch and its sweep).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from detectors.audio.analyzer import AnalysisContext
from detectors.audio.base import AUDIO_DETECTORS, AudioDetector, AudioDetectorConfig, AudioEvent, clip01
from detectors.audio.frontend import FRAME_RATE


def _runs(mask: NDArray[np.bool_], max_gap: int) -> list[tuple[int, int]]:
    """[start, stop) runs of True, bridging gaps of at most `max_gap` frames."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return []
    breaks = np.flatnonzero(np.diff(idx) > max_gap + 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    stops = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def semitones(f0: NDArray[np.float32]) -> NDArray[np.float64]:
    """Pitch in semitones relative to 440 Hz."""
    return 12.0 * np.log2(np.maximum(f0.astype(np.float64), 1.0) / 440.0)


@dataclass
class _Run:
    start: int
    stop: int


class _RunTracker:
    """Keeps the open run of frames matching a mask across blocks."""

    def __init__(self, max_gap: int) -> None:
        self.max_gap = max_gap
        self.cursor = 0
        self.open: _Run | None = None

    def feed(self, mask: NDArray[np.bool_], start: int, final: bool) -> list[_Run]:
        """Add the mask of frames [start, start+len); return the runs that are closed."""
        closed: list[_Run] = []
        for a, b in _runs(mask, self.max_gap):
            a, b = a + start, b + start
            if self.open is not None and a - self.open.stop <= self.max_gap:
                self.open.stop = b
            else:
                if self.open is not None:
                    closed.append(self.open)
                self.open = _Run(a, b)
        end = start + len(mask)
        if self.open is not None and (final or end - self.open.stop > self.max_gap):
            closed.append(self.open)
            self.open = None
        self.cursor = end
        return closed


class ScreamConfig(AudioDetectorConfig):
    """Thresholds of the scream detector."""

    type: Literal["scream"] = "scream"
    f0_min_hz: float = Field(default=320.0, gt=0, description="screams sit above speech pitch (vetoed below 600)")
    f0_max_hz: float = Field(default=2500.0, gt=0)
    min_harmonicity: float = Field(default=0.45, gt=0, lt=1)
    prominence_db: float = Field(default=10.0, description="level over the adaptive background")
    min_duration_s: float = Field(default=0.25, gt=0)
    max_duration_s: float = Field(default=4.0, gt=0, description="longer harmonic sounds are alarms or sirens")
    min_pitch_spread_st: float = Field(default=0.25, ge=0, description="pitch std (semitones): a scream is no beep")
    speech_veto: float = Field(default=0.6, gt=0, le=1, description="speech probability that vetoes low screams")
    speech_f0_max_hz: float = Field(default=600.0, gt=0, description="a vetoed segment's median pitch is below this")


@AUDIO_DETECTORS.register(ScreamConfig)
class ScreamDetector(AudioDetector):
    """Scream detector."""

    config: ScreamConfig

    def __init__(self, config: ScreamConfig) -> None:
        super().__init__(config)
        self._runs = _RunTracker(max_gap=6)

    def update(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Extend the open harmonic run; judge runs that ended."""
        h, cfg = ctx.history, self.config
        start, stop = max(self._runs.cursor, h.base), h.end
        if stop <= start and not ctx.final:
            return []
        f0 = h.col("f0_hz", start, stop)
        mask = ((h.col("harmonicity", start, stop) >= cfg.min_harmonicity)
                & (f0 >= cfg.f0_min_hz) & (f0 <= cfg.f0_max_hz) & (h.col("h2_db", start, stop) >= -30.0)
                & (h.col("level_db", start, stop) - h.col("level_bg", start, stop) >= cfg.prominence_db))
        return [e for run in self._runs.feed(mask, start, ctx.final) for e in self._judge(ctx, run)]

    def flush(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Judge the open run."""
        return self.update(ctx)

    def _judge(self, ctx: AnalysisContext, run: _Run) -> list[AudioEvent]:
        h, cfg = ctx.history, self.config
        duration = (run.stop - run.start) / FRAME_RATE
        if not cfg.min_duration_s <= duration <= cfg.max_duration_s or run.start < h.base:
            return []
        harm = h.col("harmonicity", run.start, run.stop)
        voiced = harm >= cfg.min_harmonicity
        pitch = semitones(h.col("f0_hz", run.start, run.stop)[voiced])
        spread = float(np.std(pitch))
        if spread < cfg.min_pitch_spread_st:
            return []
        f0_median = float(np.median(h.col("f0_hz", run.start, run.stop)[voiced]))
        prominence = float(np.median(h.col("level_db", run.start, run.stop) - h.col("level_bg", run.start, run.stop)))
        start_s, end_s = h.time(run.start), h.time(run.stop)
        speech = 0.0
        if ctx.speech is not None:
            context = min(1.0, max(0.0, start_s - ctx.time0))
            speech = ctx.speech.probability(h.audio(start_s - context, end_s, ctx.time0), skip_s=context)
            if speech >= cfg.speech_veto and f0_median < cfg.speech_f0_max_hz:
                return []
        confidence = clip01(0.3 + 0.4 * float(np.mean(harm[voiced])) + (prominence - cfg.prominence_db) / 40.0
                            + min(duration, 1.0) / 5.0 - 0.2 * speech)
        return [AudioEvent("scream", start_s, end_s, confidence, self.name,
                           low_hz=float(f0_median * 0.8), high_hz=min(8000.0, f0_median * 6),
                           attributes={"f0_hz": round(f0_median, 1), "pitch_spread_st": round(spread, 2),
                                       "prominence_db": round(prominence, 1), "speech": round(speech, 2)})]


class SirenConfig(AudioDetectorConfig):
    """Thresholds of the siren detector."""

    type: Literal["siren"] = "siren"
    f0_min_hz: float = Field(default=400.0, gt=0)
    f0_max_hz: float = Field(default=2000.0, gt=0)
    min_harmonicity: float = Field(default=0.4, gt=0, lt=1)
    min_level_over_bg_db: float = Field(default=-3.0, description="a siren that lasts becomes the background itself")
    min_duration_s: float = Field(default=2.5, gt=0, description="evidence needed before a siren is reported")
    min_sweep_st: float = Field(default=3.0, gt=0, description="pitch range (5th–95th percentile), semitones")
    min_gliding: float = Field(default=0.5, gt=0, le=1, description="share of frames whose pitch moves (wail, yelp)")
    min_periodicity: float = Field(default=0.5, gt=0, le=1, description="pitch-track autocorrelation (hi-lo, yelp)")
    report_s: float = Field(default=5.0, gt=0, description="an ongoing siren is reported in segments this long")


@AUDIO_DETECTORS.register(SirenConfig)
class SirenDetector(AudioDetector):
    """Siren detector."""

    config: SirenConfig

    def __init__(self, config: SirenConfig) -> None:
        super().__init__(config)
        self._runs = _RunTracker(max_gap=30)
        self._reported = -1  # absolute frame up to which the open run was reported

    def update(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Track the tonal run; report it once its pitch track proves a siren."""
        h, cfg = ctx.history, self.config
        start, stop = max(self._runs.cursor, h.base), h.end
        events: list[AudioEvent] = []
        if stop > start or ctx.final:
            f0 = h.col("f0_hz", start, stop)
            mask = ((h.col("harmonicity", start, stop) >= cfg.min_harmonicity)
                    & (f0 >= cfg.f0_min_hz) & (f0 <= cfg.f0_max_hz)
                    & (h.col("level_db", start, stop) - h.col("level_bg", start, stop) >= cfg.min_level_over_bg_db))
            for run in self._runs.feed(mask, start, ctx.final):
                events.extend(self._report(ctx, run, closing=True))
        if self._runs.open is not None:
            events.extend(self._report(ctx, self._runs.open, closing=False))
        return events

    def flush(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Report the open run."""
        return self.update(ctx)

    def _report(self, ctx: AnalysisContext, run: _Run, closing: bool) -> list[AudioEvent]:
        h, cfg = ctx.history, self.config
        reported = self._reported
        if closing:
            self._reported = -1
        first = max(run.start, h.base) if reported < 0 else reported
        due = cfg.min_duration_s if reported < 0 else (0.5 if closing else cfg.report_s)
        if run.stop - first < due * FRAME_RATE:
            return []
        evidence = self._evidence(ctx, max(h.base, run.stop - round(12 * FRAME_RATE)), run.stop)
        if evidence is None:
            return []
        if not closing:
            self._reported = run.stop
        confidence, attrs = evidence
        return [AudioEvent("siren", h.time(first), h.time(run.stop), confidence, self.name,
                           low_hz=cfg.f0_min_hz, high_hz=8000.0, attributes=attrs)]

    def _evidence(self, ctx: AnalysisContext, start: int, stop: int) -> tuple[float, dict[str, float]] | None:
        h, cfg = ctx.history, self.config
        harm = h.col("harmonicity", start, stop)
        voiced = harm >= cfg.min_harmonicity
        if voiced.sum() < cfg.min_duration_s * FRAME_RATE * 0.6:
            return None
        pitch = semitones(h.col("f0_hz", start, stop))
        # fill unvoiced frames with the previous voiced pitch, then smooth over 50 ms
        idx = np.maximum.accumulate(np.where(voiced, np.arange(len(pitch)), 0))
        track = np.convolve(pitch[idx], np.ones(5) / 5, mode="valid")
        lo, hi = np.percentile(track, [5, 95])
        sweep = float(hi - lo)
        if sweep < cfg.min_sweep_st:
            return None
        gliding = float(np.mean(np.abs(np.diff(track)) > 0.02))
        centred = track - track.mean()
        acf = np.correlate(centred, centred, mode="full")[len(centred) - 1:]
        acf = acf / max(float(acf[0]), 1e-9)
        periodicity, period = 0.0, 0.0
        negative = np.flatnonzero(acf < 0)
        if len(negative) and negative[0] < len(acf) * 2 // 3:
            # the first peak after the first zero crossing is the repetition period (hi-lo, yelp, wail)
            lags = acf[negative[0]: len(acf) * 2 // 3]
            if len(lags):
                period = (int(np.argmax(lags)) + int(negative[0])) / FRAME_RATE
                periodicity = float(lags.max())
        if gliding < cfg.min_gliding and periodicity < cfg.min_periodicity:
            return None
        confidence = clip01(0.45 + 0.25 * min(gliding / cfg.min_gliding, 1.0)
                            + 0.3 * max(periodicity, 0.0) + 0.2 * float(np.mean(harm[voiced])) - 0.1)
        return confidence, {"sweep_st": round(sweep, 1), "gliding": round(gliding, 2),
                            "periodicity": round(periodicity, 2), "period_s": round(period, 2),
                            "f0_hz": round(float(np.median(h.col("f0_hz", start, stop)[voiced])), 1)}
