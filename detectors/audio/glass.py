"""Breaking glass: a high-frequency transient followed by ringing (narrow resonances) and fragments.

After the impact, glass shards and the pane ring at a few kHz with sharp spectral lines, unlike the
smooth noise decay of a shot (cf. the glass-break features of Ntalampiras et al. 2011 and of
commercial acoustic sensors: an HF onset, then tonal HF energy for 50–300 ms).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from detectors.audio.analyzer import AnalysisContext
from detectors.audio.base import AUDIO_DETECTORS, AudioDetector, AudioDetectorConfig, AudioEvent, clip01
from detectors.audio.frontend import BIN_HZ, FRAME_RATE, HF_LOW_HZ

RISE_FRAMES = 3


class GlassConfig(AudioDetectorConfig):
    """Thresholds of the glass-break detector (dB relative to the adaptive HF background)."""

    type: Literal["glass"] = "glass"
    onset_db: float = Field(default=12.0, gt=0, description="HF level rise within 30 ms")
    prominence_db: float = Field(default=15.0, gt=0, description="HF peak over the HF background")
    min_hf_share: float = Field(default=0.3, gt=0, lt=1, description="share of the onset energy above 2.5 kHz")
    ring_s: float = Field(default=0.3, gt=0, description="how long after the onset ringing is looked for")
    min_ring_s: float = Field(default=0.06, gt=0, description="ringing must last at least this")
    ring_peak_db: float = Field(default=16.0, gt=0, description="HF spectral line over the HF median, dB")
    max_harmonicity: float = Field(default=0.5, gt=0, le=1, description="ringing glass is inharmonic (a scream is not)")
    min_stable: float = Field(default=0.5, gt=0, le=1, description="share of ringing frames keeping their line")
    merge_gap_s: float = Field(default=0.5, ge=0, description="fragments closer than this join one event")


@AUDIO_DETECTORS.register(GlassConfig)
class GlassDetector(AudioDetector):
    """Glass-break detector."""

    config: GlassConfig

    def __init__(self, config: GlassConfig) -> None:
        super().__init__(config)
        self._cursor = 0
        self._last: AudioEvent | None = None
        self._last_onset = -(10**9)

    def update(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Find HF onsets whose ringing window is complete and judge them."""
        h, cfg = ctx.history, self.config
        ring = round(cfg.ring_s * FRAME_RATE)
        stop = h.end if ctx.final else h.end - ring - RISE_FRAMES
        start = max(self._cursor, h.base + RISE_FRAMES)
        events: list[AudioEvent] = []
        if stop > start:
            hf = h.col("hf_db", start - RISE_FRAMES, stop)
            before = np.min(np.stack([hf[i:len(hf) - RISE_FRAMES + i] for i in range(RISE_FRAMES)]), axis=0)
            now = hf[RISE_FRAMES:]
            mask = ((now - before >= cfg.onset_db)
                    & (now - h.col("hf_bg", start, stop) >= cfg.prominence_db)
                    & (h.col("hf_share", start, stop) >= cfg.min_hf_share))
            first = mask & ~np.concatenate([[False], mask[:-1]])
            for i in np.flatnonzero(first):
                events.extend(self._judge(ctx, start + int(i), ring))
            self._cursor = stop
        if self._last is not None and (ctx.final or h.end - self._last_onset > (cfg.merge_gap_s + cfg.ring_s)
                                       * FRAME_RATE):
            events.append(self._last)
            self._last = None
        return events

    def flush(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Emit what is pending."""
        return self.update(ctx)

    def _judge(self, ctx: AnalysisContext, onset: int, ring: int) -> list[AudioEvent]:
        h, cfg = ctx.history, self.config
        first = onset + RISE_FRAMES  # the impact itself is broadband; ringing follows it
        peaks = h.col("hf_peak_db", first, first + ring)
        alive = h.col("hf_db", first, first + ring) - h.col("hf_bg", first, first + ring) >= 6.0
        harmonic = h.col("harmonicity", first, first + ring) > cfg.max_harmonicity
        ringing = alive & (peaks >= cfg.ring_peak_db) & ~harmonic
        ring_s = float(ringing.sum()) / FRAME_RATE
        if ring_s < cfg.min_ring_s:
            return []
        # resonances keep their frequency while they ring down; the strongest line of noise wanders
        lines = h.col("hf_peak_hz", first, first + ring)[ringing]
        stable = float(np.mean(np.abs(np.diff(lines)) <= 2 * BIN_HZ)) if len(lines) > 1 else 0.0
        if stable < cfg.min_stable:
            return []
        prominence = float(h.col("hf_db", onset, onset + 1)[0] - h.col("hf_bg", onset, onset + 1)[0])
        line_db = float(np.median(peaks[ringing]))
        confidence = clip01(0.5 + (line_db - cfg.ring_peak_db) / 20.0 + (prominence - cfg.prominence_db) / 40.0
                            + min(ring_s, 0.2))
        last_ring = first + int(np.flatnonzero(ringing)[-1]) + 1
        event = AudioEvent("glass-break", h.time(onset), h.time(last_ring), confidence, self.name,
                           low_hz=HF_LOW_HZ, high_hz=8000.0,
                           attributes={"ring_s": round(ring_s, 3), "stable": round(stable, 2),
                                       "line_db": round(line_db, 1), "prominence_db": round(prominence, 1),
                                       "fragments": 1})
        out: list[AudioEvent] = []
        prev = self._last
        if prev is not None and onset - self._last_onset <= (cfg.merge_gap_s + cfg.ring_s) * FRAME_RATE:
            frags = int(prev.attributes.get("fragments", 1)) + 1
            event = AudioEvent("glass-break", prev.start, max(prev.end, event.end),
                               max(prev.confidence, confidence), self.name, HF_LOW_HZ, 8000.0,
                               attributes={**prev.attributes, "fragments": frags})
        elif prev is not None:
            out.append(prev)
        self._last, self._last_onset = event, onset
        return out
