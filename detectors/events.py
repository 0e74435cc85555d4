"""Per-item observations, incidents and the event rules that turn one into the other.

Analysers return `Observation`s for every analysed item (a frame, an audio block). `EventRules` keeps
one open incident per (category, key) and emits a `Detection` when it starts (after being seen for
`min_duration_s` in at least `min_presence` of the items), when it changes materially
(`update_interval_s`, a confidence rise of `confidence_step`), and when it ends (unseen for
`end_after_s`): one incident, not one per frame.
The incident id is deterministic (feed, category, key, start time), so a replay produces the same ids.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

DETECTION_NAMESPACE = uuid.UUID("6f1d3e5a-9a51-5c34-8e63-4f8c0b7d2a10")

Attribute = str | float | int | bool


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in normalised image coordinates (0..1), with optional label, score and track."""

    x: float
    y: float
    w: float
    h: float
    label: str = ""
    score: float = 1.0
    track_id: int | None = None

    def bottom_centre(self) -> tuple[float, float]:
        """Where the object touches the ground: used for zone membership."""
        return (self.x + self.w / 2, self.y + self.h)


@dataclass(frozen=True)
class Evidence:
    """A redacted evidence file (snapshot or clip), content-addressed by its SHA-256."""

    sha256: str
    mime_type: str
    path: str
    redacted: bool
    url: str | None = None
    size: int = 0


@dataclass(frozen=True)
class Observation:
    """What one analyser found in one item; `key` separates concurrent incidents of one category."""

    category: str
    confidence: float
    detector: str
    key: str = ""
    boxes: tuple[Box, ...] = ()
    zone: str | None = None
    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    #: audio detections: start_s, end_s (relative to `started`), low_hz, high_hz (as stix_profiles.AudioSegment)
    audio_segment: Mapping[str, float] | None = None
    model: str | None = None
    model_version: str | None = None


class Phase(enum.StrEnum):
    """Where an incident is in its life."""

    START = "start"
    UPDATE = "update"
    END = "end"


@dataclass(frozen=True)
class Detection:
    """One incident as the worker emits it, at one phase; the unit every sink receives."""

    incident_id: str
    phase: Phase
    revision: int
    sensor_id: str
    sensor_kind: str
    category: str
    confidence: int
    detector: str
    detector_version: str
    started: datetime
    last_seen: datetime
    ended: datetime | None
    stream_time: float
    key: str = ""
    zone: str | None = None
    boxes: tuple[Box, ...] = ()
    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    #: first and last observation on the stream's own clock (seconds)
    stream_started: float = 0.0
    stream_last_seen: float = 0.0
    #: audio detections: start_s, end_s (relative to `started`), low_hz, high_hz (as stix_profiles.AudioSegment)
    audio_segment: Mapping[str, float] | None = None
    model: str | None = None
    model_version: str | None = None
    evidence: tuple[Evidence, ...] = ()
    venue: str | None = None
    municipality: str | None = None

    def with_evidence(self, *evidence: Evidence) -> Detection:
        """A copy carrying `evidence`."""
        return replace(self, evidence=tuple(evidence))


def incident_id(sensor_id: str, category: str, key: str, started: datetime) -> str:
    """Deterministic incident id: the same incident replayed gets the same id."""
    name = f"{sensor_id}|{category}|{key}|{started.isoformat()}"
    return str(uuid.uuid5(DETECTION_NAMESPACE, name))


class EventRuleConfig(BaseModel):
    """Hysteresis and pacing of incidents; per feed, overridable per category."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_duration_s: float = Field(default=1.0, ge=0, description="seen this long before an incident starts")
    end_after_s: float = Field(default=3.0, gt=0, description="unseen this long and the incident ends")
    update_interval_s: float = Field(default=10.0, gt=0, description="at most one update this often")
    confidence_step: int = Field(
        default=10, ge=1, le=100, description="a confidence rise that forces an update"
    )
    min_confidence: float = Field(default=0.5, ge=0, le=1, description="weaker observations are ignored")
    min_presence: float = Field(
        default=0.8, gt=0, le=1, description="share of items it must be seen in to start"
    )


@dataclass
class _Incident:
    category: str
    key: str
    first_seen: float
    first_wall: datetime
    last_seen: float
    last_wall: datetime
    best: Observation
    confidence: int
    started: bool = False
    revision: int = 0
    last_emit: float = 0.0
    emitted_confidence: int = 0
    hits: int = 0
    total: int = 0


@dataclass
class EventRules:
    """Turns per-item observations of one feed into start/update/end detections."""

    sensor_id: str
    sensor_kind: str
    detector_version: str
    config: EventRuleConfig = field(default_factory=EventRuleConfig)
    per_category: Mapping[str, EventRuleConfig] = field(default_factory=dict)
    _open: dict[tuple[str, str], _Incident] = field(default_factory=dict)

    def rule(self, category: str) -> EventRuleConfig:
        """The rule applying to `category`."""
        return self.per_category.get(category, self.config)

    def step(
        self, stream_time: float, wall_time: datetime, observations: Sequence[Observation]
    ) -> list[Detection]:
        """Feed one item's observations; returns the detections due now."""
        out: list[Detection] = []
        seen: set[tuple[str, str]] = set()
        for obs in observations:
            if obs.confidence < self.rule(obs.category).min_confidence:
                continue
            ident = (obs.category, obs.key)
            confidence = round(100 * min(1.0, obs.confidence))
            incident = self._open.get(ident)
            if incident is None:
                incident = _Incident(obs.category, obs.key, stream_time, wall_time, stream_time, wall_time,
                                     obs, confidence)
                self._open[ident] = incident
            elif ident in seen:
                if confidence > incident.confidence:
                    incident.best, incident.confidence = obs, confidence
                continue
            seen.add(ident)
            incident.last_seen, incident.last_wall = stream_time, wall_time
            incident.best = obs  # the latest boxes describe the incident best
            incident.confidence = max(incident.confidence, confidence)
            rule = self.rule(obs.category)
            incident.hits += 1
            incident.total += 1
            if not incident.started:
                if (stream_time - incident.first_seen >= rule.min_duration_s
                        and incident.hits >= rule.min_presence * incident.total):
                    incident.started = True
                    out.append(self._emit(incident, Phase.START, stream_time))
            elif (stream_time - incident.last_emit >= rule.update_interval_s
                  or incident.confidence - incident.emitted_confidence >= rule.confidence_step):
                out.append(self._emit(incident, Phase.UPDATE, stream_time))
        for ident, incident in list(self._open.items()):
            if ident in seen:
                continue
            rule = self.rule(incident.category)
            incident.total += 1
            flickering = (not incident.started and stream_time - incident.first_seen >= rule.min_duration_s
                          and incident.hits < rule.min_presence * incident.total)
            if flickering or stream_time - incident.last_seen >= rule.end_after_s:
                del self._open[ident]
                if incident.started:
                    out.append(self._emit(incident, Phase.END, stream_time))
        return out

    def flush(self, stream_time: float) -> list[Detection]:
        """End every open incident (end of stream, worker stopping)."""
        out = [self._emit(i, Phase.END, stream_time) for i in self._open.values() if i.started]
        self._open.clear()
        return out

    def open_incidents(self) -> int:
        """How many incidents are started and not yet ended."""
        return sum(1 for i in self._open.values() if i.started)

    def _emit(self, incident: _Incident, phase: Phase, stream_time: float) -> Detection:
        if phase is not Phase.START:
            incident.revision += 1
        incident.last_emit = stream_time
        incident.emitted_confidence = incident.confidence
        obs = incident.best
        return Detection(
            incident_id=incident_id(self.sensor_id, incident.category, incident.key, incident.first_wall),
            phase=phase,
            revision=incident.revision,
            sensor_id=self.sensor_id,
            sensor_kind=self.sensor_kind,
            category=incident.category,
            confidence=incident.confidence,
            detector=obs.detector,
            detector_version=self.detector_version,
            started=incident.first_wall,
            last_seen=incident.last_wall,
            ended=incident.last_wall if phase is Phase.END else None,
            stream_time=stream_time,
            key=incident.key,
            zone=obs.zone,
            boxes=obs.boxes,
            attributes=dict(obs.attributes),
            audio_segment=obs.audio_segment,
            model=obs.model,
            model_version=obs.model_version,
            stream_started=incident.first_seen,
            stream_last_seen=incident.last_seen,
        )
