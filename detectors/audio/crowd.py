"""Crowd-noise level and its sudden changes, against a slow adaptive background.

The level is the median (L50) of A-weighted frame levels over 1 s windows every 0.5 s: a shot or a
shout moves the mean but not the median, a crowd that roars does. A surge is the L50 rising
`surge_db` over its background (the median of the last `horizon_s`) for `min_duration_s`; with a
calibrated feed (`spl_at_0dbfs`) an absolute limit in dB(A) can be set too.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from detectors.audio.analyzer import AnalysisContext
from detectors.audio.base import AUDIO_DETECTORS, AudioDetector, AudioDetectorConfig, AudioEvent, clip01
from detectors.audio.frontend import FRAME_RATE
from detectors.audio.history import RollingBackground

WINDOW = round(FRAME_RATE)
HOP = WINDOW // 2


class CrowdConfig(AudioDetectorConfig):
    """Thresholds of the crowd-noise detector."""

    type: Literal["crowd"] = "crowd"
    surge_db: float = Field(default=10.0, gt=0, description="L50 rise over the background that is a surge")
    drop_db: float | None = Field(default=None, gt=0, description="L50 fall that is reported (off by default)")
    min_duration_s: float = Field(default=1.5, gt=0, description="a change must hold this long")
    horizon_s: float = Field(default=60.0, gt=5, description="background window")
    warmup_s: float = Field(default=5.0, ge=0, description="no change is judged before this much background")
    max_level_dba: float | None = Field(default=None, description="absolute limit, dB(A) SPL; needs a calibrated feed")
    max_harmonicity: float = Field(default=0.35, gt=0, le=1, description="a tonal source (siren, alarm) is no crowd")
    report_s: float = Field(default=5.0, gt=0, description="an ongoing change is reported in segments this long")


@AUDIO_DETECTORS.register(CrowdConfig)
class CrowdNoiseDetector(AudioDetector):
    """Crowd-noise level and surge detector; also keeps the level series for plots and metrics."""

    config: CrowdConfig

    def __init__(self, config: CrowdConfig) -> None:
        super().__init__(config)
        self._background = RollingBackground(1, config.horizon_s, step_s=HOP / FRAME_RATE)
        self._next = 0  # absolute frame where the next window starts
        self._open: dict[str, list[float]] = {}  # kind -> [start, reported_until, peak_delta]
        self.levels: list[tuple[float, float, float]] = []  # (time, L50 dBFS(A), background)

    def update(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Judge every complete 1 s window."""
        h = ctx.history
        events: list[AudioEvent] = []
        self._next = max(self._next, h.base)
        while self._next + WINDOW <= h.end:
            frames = h.col("level_a_db", self._next, self._next + WINDOW)
            l50 = float(np.median(frames))
            tonal = float(np.median(h.col("harmonicity", self._next, self._next + WINDOW)))
            bg = float(self._background.update(np.full((HOP, 1), l50, dtype=np.float32))[0, 0])
            t = h.time(self._next + WINDOW)
            self.levels.append((t, l50, bg))
            events.extend(self._judge(ctx, t, l50, bg, tonal > self.config.max_harmonicity))
            self._next += HOP
        if ctx.final:
            t = h.time(h.end)
            for kind in list(self._open):
                events.extend(self._close(kind, t))
        return events

    def flush(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Close open changes."""
        return self.update(ctx)

    def _judge(self, ctx: AnalysisContext, t: float, l50: float, bg: float, tonal: bool) -> list[AudioEvent]:
        cfg = self.config
        if t < ctx.time0 + cfg.warmup_s:
            return []
        states = {"surge": l50 - bg >= cfg.surge_db and not tonal}
        if cfg.drop_db is not None:
            states["drop"] = bg - l50 >= cfg.drop_db
        spl = ctx.extras.get("spl_at_0dbfs")
        if cfg.max_level_dba is not None and spl is not None:
            states["level"] = l50 + float(spl) >= cfg.max_level_dba
        events: list[AudioEvent] = []
        for kind, active in states.items():
            delta = abs(l50 - bg) if kind != "level" else l50 + float(spl or 0) - float(cfg.max_level_dba or 0)
            if active:
                state = self._open.setdefault(kind, [t - WINDOW / FRAME_RATE, -1.0, 0.0, l50])
                state[2] = max(state[2], delta)
                state[3] = l50
                since = state[0] if state[1] < 0 else state[1]
                due = cfg.min_duration_s + WINDOW / FRAME_RATE if state[1] < 0 else cfg.report_s
                if t - since >= due:
                    events.append(self._event(kind, since, t, state))
                    state[1] = t
            elif kind in self._open:
                events.extend(self._close(kind, t))
        return events

    def _close(self, kind: str, t: float) -> list[AudioEvent]:
        state = self._open.pop(kind)
        if state[1] < 0 or t - state[1] < 0.5:
            return []
        return [self._event(kind, state[1], t, state)]

    def _event(self, kind: str, start: float, end: float, state: list[float]) -> AudioEvent:
        cfg = self.config
        ref = cfg.surge_db if kind == "surge" else (cfg.drop_db or 10.0) if kind == "drop" else 3.0
        attrs: dict[str, float | str] = {"kind": kind, "change_db": round(state[2], 1),
                                         "level_dbfs_a": round(state[3], 1)}
        return AudioEvent("crowd-noise", start, end, clip01(0.5 + (state[2] - ref) / 20.0), self.name,
                          low_hz=20.0, high_hz=8000.0, key=kind, attributes=attrs)
