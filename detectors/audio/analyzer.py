"""One stream's analysis: front end → adaptive backgrounds → history → detectors → arbitration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from detectors.audio.base import AUDIO_DETECTORS, AudioDetector, AudioDetectorSpec, AudioEvent
from detectors.audio.frontend import SpectralFrontend
from detectors.audio.history import FrameHistory, RollingBackground
from detectors.audio.signal import FloatArray


def default_detectors() -> list[Any]:
    """The default detector set: every hand-built detector with its defaults (no model files)."""
    import detectors.audio.plugins  # noqa: F401 - registers the built-in detectors

    return [AUDIO_DETECTORS.spec(name).config_type.model_validate({"type": name})
            for name in ("impulse", "glass", "scream", "siren", "crowd")]


class AudioAnalysisConfig(BaseModel):
    """Which detectors run on an audio stream and how the shared background adapts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    detectors: list[AudioDetectorSpec] = Field(default_factory=default_detectors)
    background_horizon_s: float = Field(default=20.0, gt=1.0, description="window of the adaptive background")
    background_quantile: float = Field(default=0.5, gt=0.0, lt=1.0)
    speech_gate: bool = Field(default=True, description="use Silero VAD to veto false alarms that are speech")
    arbitration_hold_s: float = Field(default=2.5, ge=0, description="shots and screams wait this for a rival")
    speech_contrast_db: float = Field(default=15.0, gt=0, description="an impulse in speech must stand out this much")


@dataclass
class AnalysisContext:
    """What detectors see: the rolling history and which frames are new since their last call."""

    history: FrameHistory
    new_start: int = 0
    final: bool = False
    time0: float = 0.0
    speech: Any = None  # a `SpeechGate` when enabled and available
    extras: dict[str, Any] = field(default_factory=dict)


#: when two categories overlap in time, the second is dropped (its evidence is explained by the first)
SUPPRESSES: tuple[tuple[str, str], ...] = (
    ("glass-break", "gunshot"),
    ("glass-break", "scream"),  # ringing shards can line up like harmonics for a moment
    ("siren", "scream"),
)


LOSERS = frozenset(loser for _, loser in SUPPRESSES)


def arbitrate(events: Sequence[AudioEvent], slack_s: float = 0.15) -> list[AudioEvent]:
    """Drop events explained by an overlapping stronger explanation (e.g. glass ringing vs a shot)."""
    out = []
    for event in events:
        explained = any(
            other.category == winner and event.category == loser
            and other.start - slack_s <= event.end and event.start <= other.end + slack_s
            for winner, loser in SUPPRESSES for other in events
        )
        if not explained:
            out.append(event)
    return out


class AudioAnalyzer:
    """Runs the configured detectors on one 16 kHz mono stream; feed blocks in stream order."""

    def __init__(self, config: AudioAnalysisConfig | None = None, time0: float = 0.0) -> None:
        self.config = config or AudioAnalysisConfig()
        self.frontend = SpectralFrontend(time0)
        self.background = RollingBackground(10, self.config.background_horizon_s,
                                             quantile=self.config.background_quantile)
        self.ctx = AnalysisContext(FrameHistory(time0=time0), time0=time0)
        self.detectors: list[AudioDetector] = [
            AUDIO_DETECTORS.create(spec) for spec in self.config.detectors if spec.enabled
        ]
        if self.config.speech_gate and self.detectors:
            from detectors.audio.vad import SpeechGate

            self.ctx.speech = SpeechGate.shared()
        self._pending: list[AudioEvent] = []
        self._recent: list[AudioEvent] = []

    def set_origin(self, time0: float) -> None:
        """Set the stream time of the first sample (before any is processed): live feeds start later."""
        if self.ctx.history.end or len(self.ctx.history.samples):
            raise RuntimeError("the origin of an audio analysis is fixed once samples were processed")
        self.frontend.time0 = self.ctx.time0 = self.ctx.history.time0 = time0

    def process(self, samples: FloatArray) -> list[AudioEvent]:
        """Analyse the next block of samples; return events decided with it (time-ordered)."""
        self.ctx.history.add_samples(samples)
        frames = self.frontend.process(samples)
        if frames is None:
            return []
        levels = np.concatenate([frames.band_db, frames.level_db[:, None], frames.hf_db[:, None]], axis=1)
        bg = self.background.update(levels)
        self.ctx.new_start = frames.index
        self.ctx.history.append(frames, {"band_bg": bg[:, :-2], "level_bg": bg[:, -2], "hf_bg": bg[:, -1]})
        return self._collect(lambda d: d.update(self.ctx))

    def flush(self) -> list[AudioEvent]:
        """End of stream: decide every pending candidate."""
        self.ctx.final = True
        self.ctx.new_start = self.ctx.history.end
        return self._collect(lambda d: d.flush(self.ctx), final=True)

    def _collect(self, call: Any, final: bool = False) -> list[AudioEvent]:
        events = [e for d in self.detectors for e in call(d) if e.confidence >= d.config.min_confidence]
        events = [e for e in events if not self._is_speech(e)]
        # only events that another may explain wait (briefly) for the detectors that decide later;
        # the others go out at once and are remembered a while to explain later ones
        self._pending.extend(events)
        now = self.ctx.history.time(self.ctx.history.end)
        horizon = now - self.config.arbitration_hold_s
        ready = [e for e in self._pending if final or e.category not in LOSERS or e.end < horizon]
        if not ready:
            return []
        decided = arbitrate([*self._pending, *self._recent])
        kept = [e for e in decided if any(e is r for r in ready)]
        self._pending = [e for e in self._pending if not any(e is r for r in ready)]
        self._recent = [e for e in [*self._recent, *kept] if e.end > now - 10.0]
        return sorted(kept, key=lambda e: (e.start, e.category))

    def _is_speech(self, event: AudioEvent) -> bool:
        """Plosives and sibilants of nearby speech look like shots and glass; the VAD tells them apart."""
        if self.ctx.speech is None or event.category not in SPEECH_VETOED:
            return False
        h = self.ctx.history
        context = min(1.0, max(0.0, event.start - self.ctx.time0))
        audio = h.audio(event.start - context, event.end + 1.0, self.ctx.time0)
        if self.ctx.speech.probability(audio, skip_s=context) < 0.3:
            return False
        # the talk right after the candidate is the reference: a plosive is about as loud as the vowel
        # after it, a shot stands far above the speech around it
        first = h.base + round((event.start - h.time(h.base)) * 100.0)
        levels = h.col("level_db", first, first + 150)
        if not len(levels):
            return False
        peak = float(levels.max())
        voiced = levels[levels > peak - 40.0]  # leave out the pauses between words
        return peak - float(np.median(voiced)) < self.config.speech_contrast_db


#: categories whose candidates are checked against speech activity
SPEECH_VETOED = frozenset({"gunshot", "explosion", "glass-break"})


def analyse_signal(samples: FloatArray, config: AudioAnalysisConfig | None = None,
                   block_s: float = 0.5) -> list[AudioEvent]:
    """Analyse a whole 16 kHz mono signal in blocks (as a live stream would arrive)."""
    analyzer = AudioAnalyzer(config)
    step = max(1, round(block_s * 16_000))
    events: list[AudioEvent] = []
    for i in range(0, len(samples), step):
        events.extend(analyzer.process(samples[i:i + step]))
    events.extend(analyzer.flush())
    return sorted(events, key=lambda e: (e.start, e.category))
