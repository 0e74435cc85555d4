"""Audio detector plugins: the event they emit, their config base and their registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, PlainSerializer, PlainValidator

from detectors.registry import PluginConfig, PluginRegistry, dump_config

if TYPE_CHECKING:
    from detectors.audio.analyzer import AnalysisContext

Attribute = str | float | int | bool

#: categories of the STIX profile's detection vocabulary that audio detectors emit
AUDIO_CATEGORIES = ("gunshot", "explosion", "scream", "glass-break", "siren", "crowd-noise")


@dataclass(frozen=True)
class AudioEvent:
    """One audio finding: a category over [start, end] stream seconds, within a frequency band."""

    category: str
    start: float
    end: float
    confidence: float
    detector: str
    low_hz: float = 0.0
    high_hz: float = 8000.0
    key: str = ""
    attributes: Mapping[str, Attribute] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (times rounded to the millisecond)."""
        return {
            "category": self.category,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "confidence": round(self.confidence, 3),
            "detector": self.detector,
            "low_hz": self.low_hz,
            "high_hz": self.high_hz,
            "key": self.key,
            "attributes": dict(self.attributes),
        }


class AudioDetectorConfig(PluginConfig):
    """Fields every audio detector has; concrete detectors add theirs and a `type: Literal[...]`."""

    enabled: bool = True
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0, description="weaker events are dropped")


class AudioDetector(ABC):
    """A stateful detector fed with the frames of one stream, block by block."""

    def __init__(self, config: AudioDetectorConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        """The plugin name (its config's `type`)."""
        return self.config.type

    @abstractmethod
    def update(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """Look at the frames added since the last call; return the events decided now."""

    def flush(self, ctx: AnalysisContext) -> list[AudioEvent]:
        """End of stream: decide what is still pending (default: nothing pending)."""
        return []


AUDIO_DETECTORS: PluginRegistry[AudioDetector] = PluginRegistry("audio detector")
#: a config field accepting any registered audio detector config (dispatch on `type`).
AudioDetectorSpec = Annotated[
    AudioDetectorConfig, PlainValidator(AUDIO_DETECTORS.validate_config), PlainSerializer(dump_config)
]


def clip01(value: float) -> float:
    """Clamp a confidence into [0, 1]."""
    return float(min(1.0, max(0.0, value)))
