"""Impulsive events — gunshots and explosions — from onset sharpness, bandwidth and decay.

Following the audio-surveillance literature (Clavel et al. 2005; Valenzise et al. 2007; Crocco et al.
2016, "Audio surveillance: a systematic review"): a shot is a level rise of tens of dB within a few
milliseconds, spread over most of the spectrum, followed by a decay; a blast is the same with its
energy weighted below 400 Hz and a longer decay. Each criterion is measured against the adaptive
background, so a loud crowd raises the bar. Shots closer than `merge_gap_s` form one event (a burst).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from detectors.audio.analyzer import AnalysisContext
from detectors.audio.base import AUDIO_DETECTORS, AudioDetector, AudioDetectorConfig, AudioEvent, clip01
from detectors.audio.frontend import FRAME_RATE

RISE_FRAMES = 3
PEAK_FRAMES = 6


class ImpulseConfig(AudioDetectorConfig):
    """Thresholds of the gunshot/explosion detector (dB relative to the adaptive background)."""

    type: Literal["impulse"] = "impulse"
    onset_db: float = Field(default=10.0, gt=0, description="level rise within 30 ms")
    prominence_db: float = Field(default=15.0, gt=0, description="peak over the background level")
    band_rise_db: float = Field(default=10.0, gt=0, description="rise over its background for a band to count")
    min_bands: int = Field(default=4, ge=1, le=8, description="bands (of 8) that must rise: broadband")
    decay_db: float = Field(default=10.0, gt=0, description="fall from the peak that proves a decay")
    max_decay_s: float = Field(default=2.0, gt=0, description="a sound not decaying within this is no impulse")
    max_plateau_s: float = Field(default=1.0, gt=0, description="time within 3 dB of the peak: music or a horn holds")
    max_harmonicity: float = Field(default=0.45, gt=0, le=1, description="median harmonicity after the peak: a shout")
    merge_gap_s: float = Field(default=1.0, ge=0, description="onsets closer than this form one burst (or one blast)")
    explosion_low_share: float = Field(default=0.45, gt=0, lt=1, description="energy share below 400 Hz of a blast")
    explosion_sure_share: float = Field(default=0.65, gt=0, lt=1, description="a blast whatever its decay")
    explosion_min_decay_s: float = Field(default=0.35, ge=0)


@dataclass
class _Burst:
    start: int
    peak: int
    peak_db: float
    prominence: float
    bands: int
    last_onset: int
    last_peak: int
    last_peak_db: float
    count: int = 1


@AUDIO_DETECTORS.register(ImpulseConfig)
class ImpulseDetector(AudioDetector):
    """Gunshot / explosion detector."""

    config: ImpulseConfig

    def __init__(self, config: ImpulseConfig) -> None:
        super().__init__(config)
        self._cursor = 0
        self._burst: _Burst | None = None

    def update(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Scan new frames for onsets; decide bursts whose decay window has passed."""
        h = ctx.history
        stop = h.end if ctx.final else h.end - PEAK_FRAMES
        events: list[AudioEvent] = []
        if stop > self._cursor:
            for onset in self._onsets(ctx, max(self._cursor, h.base + RISE_FRAMES), stop):
                events.extend(self._add_onset(ctx, onset))
            self._cursor = stop
        if self._burst is not None:
            events.extend(self._try_close(ctx, h.end))
        return events

    def flush(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Decide the open burst with what was heard."""
        events = self.update(ctx)
        if self._burst is not None:
            events.extend(self._try_close(ctx, ctx.history.end, force=True))
        return events

    def _onsets(self, ctx: AnalysisContext, start: int, stop: int) -> list[int]:
        h, cfg = ctx.history, self.config
        if stop <= start:
            return []
        level = h.col("level_db", start - RISE_FRAMES, stop)
        before = np.min(np.stack([level[i:len(level) - RISE_FRAMES + i] for i in range(RISE_FRAMES)]), axis=0)
        now = level[RISE_FRAMES:]
        rise = now - before
        prominent = now - h.col("level_bg", start, stop) >= cfg.prominence_db - cfg.onset_db / 2
        bands = (h.col("band_db", start, stop) - h.col("band_bg", start, stop) >= cfg.band_rise_db).sum(axis=1)
        mask = (rise >= cfg.onset_db) & prominent & (bands >= cfg.min_bands)
        first = mask & ~np.concatenate([[False], mask[:-1]])
        return [start + int(i) for i in np.flatnonzero(first)]

    def _add_onset(self, ctx: AnalysisContext, onset: int) -> list[AudioEvent]:
        h, cfg = ctx.history, self.config
        window = h.col("level_db", onset, onset + PEAK_FRAMES)
        peak = onset + int(np.argmax(window))
        peak_db = float(window.max())
        prominence = peak_db - float(h.col("level_bg", peak, peak + 1)[0])
        bands = int((h.col("band_db", peak, peak + 1) - h.col("band_bg", peak, peak + 1) >= cfg.band_rise_db).sum())
        events: list[AudioEvent] = []
        burst = self._burst
        if burst is not None and onset - burst.last_onset <= cfg.merge_gap_s * FRAME_RATE:
            burst.count += 1
            burst.last_onset, burst.last_peak, burst.last_peak_db = onset, peak, peak_db
            if prominence > burst.prominence:
                burst.peak, burst.peak_db, burst.prominence, burst.bands = peak, peak_db, prominence, bands
            return events
        if burst is not None:
            events.extend(self._try_close(ctx, onset, force=True))
        if prominence >= cfg.prominence_db:
            self._burst = _Burst(onset, peak, peak_db, prominence, bands, onset, peak, peak_db)
        return events

    def _try_close(self, ctx: AnalysisContext, upto: int, force: bool = False) -> list[AudioEvent]:
        burst, cfg, h = self._burst, self.config, ctx.history
        assert burst is not None
        if not force and upto - burst.last_onset <= cfg.merge_gap_s * FRAME_RATE:
            return []
        limit = burst.last_peak + round(cfg.max_decay_s * FRAME_RATE)
        tail = h.col("level_db", burst.last_peak, min(upto, limit))
        fallen = np.flatnonzero(tail <= burst.last_peak_db - cfg.decay_db)
        if not len(fallen):
            if upto < limit and not force:
                return []  # still decaying: wait for more frames
            self._burst = None  # a step into a sustained sound, not an impulse
            return []
        self._burst = None
        smooth = np.convolve(tail, np.ones(5) / 5, mode="same")
        plateau = np.flatnonzero(smooth < burst.last_peak_db - 3.0)
        if not len(plateau) or plateau[0] > cfg.max_plateau_s * FRAME_RATE:
            return []  # the level held: music starting or a horn, not an impulse
        harmonic = h.col("harmonicity", burst.last_peak, burst.last_peak + round(0.3 * FRAME_RATE))
        if float(np.median(harmonic)) > cfg.max_harmonicity:
            return []  # a voiced sound with a hard attack (a shout), not a shot
        end = burst.last_peak + int(fallen[0])
        decay_s = (end - burst.last_peak) / FRAME_RATE
        span = 10.0 ** (h.col("band_db", burst.peak, max(end, burst.peak + 1)) / 10.0)
        low_share = float(span[:, :2].sum() / max(span.sum(), 1e-20))
        blast = low_share >= cfg.explosion_sure_share or (
            low_share >= cfg.explosion_low_share and decay_s >= cfg.explosion_min_decay_s)
        confidence = clip01(0.5 + (burst.prominence - cfg.prominence_db) / 30.0
                            + 0.1 * (burst.bands - cfg.min_bands) / 4.0)
        return [AudioEvent(
            category="explosion" if blast else "gunshot",
            start=h.time(burst.start), end=h.time(end), confidence=confidence, detector=self.name,
            low_hz=50.0, high_hz=8000.0,
            attributes={"peak_s": round(h.time(burst.peak), 3), "prominence_db": round(burst.prominence, 1),
                        "bands": burst.bands, "decay_s": round(decay_s, 3), "low_share": round(low_share, 3),
                        "impulses": burst.count},
        )]
