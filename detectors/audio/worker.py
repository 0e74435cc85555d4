"""The `audio_events` analyser: plugs the audio detectors into the worker's analyser registry.

An audio feed's items are `AudioBlock`s; this analyser keeps one `AudioAnalyzer` per feed and turns
its events into `Observation`s (with `audio_segment` in stream seconds and the band in attributes),
which the worker's `EventRules` make into incidents like any video observation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import Field

from detectors.analysers.base import ANALYSERS, Analyser, AnalyserConfig, Zone, register_context
from detectors.audio.analyzer import AudioAnalysisConfig, AudioAnalyzer, default_detectors
from detectors.audio.base import AudioDetectorSpec, AudioEvent
from detectors.audio.feeds import AudioBlock
from detectors.events import EventRuleConfig, Observation
from detectors.feeds.base import FeedItem

VERSION = "1"

#: event rules suited to audio categories: events arrive confirmed (no minimum duration); sirens and
#: crowd noise report every 5 s, so their incidents stay open longer between reports.
AUDIO_EVENT_RULES: Mapping[str, EventRuleConfig] = {
    "gunshot": EventRuleConfig(min_duration_s=0.0, end_after_s=5.0),
    "explosion": EventRuleConfig(min_duration_s=0.0, end_after_s=5.0),
    "glass-break": EventRuleConfig(min_duration_s=0.0, end_after_s=5.0),
    "scream": EventRuleConfig(min_duration_s=0.0, end_after_s=5.0),
    "siren": EventRuleConfig(min_duration_s=0.0, end_after_s=8.0),
    "crowd-noise": EventRuleConfig(min_duration_s=0.0, end_after_s=8.0),
}


@dataclass
class AudioContext:
    """What the audio analysers of one feed see for one block."""

    item: FeedItem[AudioBlock]
    zones: Sequence[Zone] = ()
    shared: dict[str, Any] = field(default_factory=dict)


register_context("audio", lambda item, zones: AudioContext(item, zones))


class AudioEventsConfig(AnalyserConfig):
    """The audio detector set of one audio feed (default: every hand-built detector)."""

    type: Literal["audio_events"] = "audio_events"
    media: ClassVar[Literal["video", "audio"]] = "audio"
    stage: ClassVar[int] = 20
    gated: bool = Field(default=False, description="audio has no motion gate")
    detectors: list[AudioDetectorSpec] = Field(default_factory=default_detectors)
    speech_gate: bool = Field(default=True, description="Silero VAD vetoes speech-like false alarms")
    background_horizon_s: float = Field(default=20.0, gt=1.0)
    persist_s: float = Field(default=1.5, ge=0, description=(
        "an event is re-observed on the blocks of this long after it was decided, so event rules with a "
        "minimum duration (the default 1 s) still start an incident for a single shot"))

    def analysis(self) -> AudioAnalysisConfig:
        """The analysis config of this analyser."""
        return AudioAnalysisConfig(detectors=self.detectors, speech_gate=self.speech_gate,
                                   background_horizon_s=self.background_horizon_s)


def to_observation(event: AudioEvent, zone: str | None = None) -> Observation:
    """An audio event as an observation of the event layer.

    The segment is relative to the event's own start (0 .. duration) and its band; the stream times
    of start and end are in the attributes (`stream_start_s`, `stream_end_s`), since the incident's
    `started` is the time of the block that confirmed the event, up to ~2 s after it began.
    """
    attributes: dict[str, str | float | int | bool] = {
        **event.attributes, "stream_start_s": round(event.start, 3), "stream_end_s": round(event.end, 3),
    }
    segment = {"start_s": 0.0, "end_s": round(max(0.0, event.end - event.start), 3),
               "low_hz": float(event.low_hz), "high_hz": float(max(event.high_hz, event.low_hz + 1.0))}
    return Observation(category=event.category, confidence=event.confidence, detector=f"audio/{event.detector}",
                       key=event.key, zone=zone, attributes=attributes, audio_segment=segment)


@ANALYSERS.register(AudioEventsConfig)
class AudioEventsAnalyser(Analyser[AudioContext]):
    """Runs the audio detectors on a feed's blocks."""

    name: ClassVar[str] = "audio_events"
    version: ClassVar[str] = VERSION

    def __init__(self, config: AudioEventsConfig) -> None:
        self.config = config
        self._analyzer = AudioAnalyzer(config.analysis())  # a detector that cannot load fails here, at start
        self._started = False
        self._recent: list[tuple[float, Observation]] = []  # (re-observe until stream time, observation)

    def analyse(self, ctx: AudioContext) -> list[Observation]:
        """Observations decided with this block."""
        block = ctx.item.data
        if not self._started:
            self._analyzer.set_origin(block.start)
            self._started = True
        self._analyzer.ctx.extras["spl_at_0dbfs"] = block.spl_at_0dbfs
        assert isinstance(self.config, AudioEventsConfig)
        now = ctx.item.stream_time
        fresh = [to_observation(e) for e in self._analyzer.process(block.samples)]
        held = [obs for until, obs in self._recent if until >= now]
        self._recent = [(u, o) for u, o in self._recent if u >= now] + [(now + self.config.persist_s, o) for o in fresh]
        return fresh + held

    def finish(self) -> list[Observation]:
        """End of stream: observations still pending."""
        return [to_observation(e) for e in self._analyzer.flush()]
