"""Fusion rules: audio and video detections of the same place and minute become one linked alert.

A rule names audio categories and video categories; when an incident of each is open, co-located
(same `zone`, or a microphone linked to the camera covering it) and close in time (their
[started, last_seen] intervals within `window_s`), the fuser emits one `Detection` for the pair,
with the rule's category, the camera's boxes and zone, the microphone's audio segment, and a
confidence combining both as independent evidence (noisy-OR: 1 − (1 − a)(1 − v)), never lower
than either. Its incident id is derived from the pair, so replays give the same alert.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from detectors.events import Detection, Phase
from detectors.feeds.base import FeedHealth
from detectors.sinks.base import SINKS, Sink, SinkConfig, SinkSpec

FUSION_NAMESPACE = uuid.UUID("0b8e6c52-3f0a-5a3e-9d7e-5c1f2a4b6d80")
AUDIO_KINDS = frozenset({"microphone"})


class FusionRule(BaseModel):
    """Which audio and video categories confirm each other, and what the linked alert is called."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    audio: list[str] = Field(min_length=1)
    video: list[str] = Field(min_length=1)
    category: str | None = Field(default=None, description="category of the linked alert (default: the video's)")
    window_s: float = Field(default=30.0, gt=0, description="how far apart in time the two may be")


DEFAULT_RULES: tuple[FusionRule, ...] = (
    FusionRule(name="scream-violence", audio=["scream"], video=["violence"], category="violence"),
    FusionRule(name="scream-panic", audio=["scream", "crowd-noise"], video=["crowd-panic", "crowd-dispersal"],
               category="crowd-panic"),
    FusionRule(name="shot-panic", audio=["gunshot"], video=["crowd-panic", "crowd-dispersal", "weapon"],
               category="gunshot"),
    FusionRule(name="blast-panic", audio=["explosion"], video=["crowd-panic", "crowd-dispersal", "smoke", "fire"],
               category="explosion"),
    FusionRule(name="glass-intrusion", audio=["glass-break"], video=["intrusion", "violence"], category="intrusion"),
)


class FusionConfig(BaseModel):
    """Fusion rules and which cameras cover which microphones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[FusionRule] = Field(default_factory=lambda: list(DEFAULT_RULES))
    links: dict[str, list[str]] = Field(
        default_factory=dict, description="microphone sensor id -> camera sensor ids covering the same place")


@dataclass
class _Pair:
    alert: Detection
    audio_id: str
    video_id: str
    ended: set[str] = field(default_factory=set)


def _combine(audio: int, video: int) -> int:
    return min(100, round(100 * (1 - (1 - audio / 100) * (1 - video / 100))))


class Fuser:
    """Keeps the open incidents of every sensor and links audio with video ones per the rules."""

    def __init__(self, config: FusionConfig | None = None) -> None:
        self.config = config or FusionConfig()
        self._incidents: dict[str, Detection] = {}  # incident id -> latest detection
        self._pairs: dict[tuple[str, str, str], _Pair] = {}

    def co_located(self, audio: Detection, video: Detection) -> bool:
        """Same zone, or the camera is linked to the microphone."""
        if audio.zone is not None and audio.zone == video.zone:
            return True
        return video.sensor_id in self.config.links.get(audio.sensor_id, ())

    @staticmethod
    def close_in_time(a: Detection, b: Detection, window_s: float) -> bool:
        """Whether the incidents' [started, last_seen] intervals are within `window_s`."""
        slack = timedelta(seconds=window_s)
        return a.started - slack <= b.last_seen and b.started - slack <= a.last_seen

    def add(self, detection: Detection) -> list[Detection]:
        """Take one detection of any sensor; return the linked alerts it starts, raises or ends."""
        self._incidents[detection.incident_id] = detection
        self._prune(detection)
        is_audio = detection.sensor_kind in AUDIO_KINDS
        out: list[Detection] = []
        for key, pair in list(self._pairs.items()):
            if detection.incident_id in (pair.audio_id, pair.video_id):
                out.extend(self._refresh(key, pair, detection))
        if detection.phase is Phase.END:
            return out
        # ended incidents stay pairable for the rule window: recorded feeds are analysed at different
        # speeds, so the scream may be over (in arrival order) before the camera reports the fight
        for other in list(self._incidents.values()):
            if (other.sensor_kind in AUDIO_KINDS) == is_audio:
                continue
            audio, video = (detection, other) if is_audio else (other, detection)
            for rule in self.config.rules:
                key = (rule.name, audio.incident_id, video.incident_id)
                if (key not in self._pairs and audio.category in rule.audio and video.category in rule.video
                        and self.co_located(audio, video) and self.close_in_time(audio, video, rule.window_s)):
                    pair = _Pair(self._link(rule, audio, video), audio.incident_id, video.incident_id)
                    if other.phase is Phase.END:
                        pair.ended.add(other.incident_id)
                    self._pairs[key] = pair
                    out.append(pair.alert)
        return out

    def _prune(self, newest: Detection) -> None:
        horizon = newest.last_seen - timedelta(seconds=max((r.window_s for r in self.config.rules), default=0.0))
        paired = {i for p in self._pairs.values() for i in (p.audio_id, p.video_id)}
        for ident, seen in list(self._incidents.items()):
            if seen.phase is Phase.END and seen.last_seen < horizon and ident not in paired:
                del self._incidents[ident]

    def add_all(self, detections: Iterable[Detection]) -> list[Detection]:
        """Feed detections in arrival order; return every linked alert."""
        return [alert for d in detections for alert in self.add(d)]

    def _refresh(self, key: tuple[str, str, str], pair: _Pair, detection: Detection) -> list[Detection]:
        rule = next(r for r in self.config.rules if r.name == key[0])
        audio = self._incidents.get(pair.audio_id)
        video = self._incidents.get(pair.video_id)
        if detection.phase is Phase.END:
            pair.ended.add(detection.incident_id)
            if len(pair.ended) < 2:
                return []
            del self._pairs[key]
            for ident in (pair.audio_id, pair.video_id):
                if not any(ident in (p.audio_id, p.video_id) for p in self._pairs.values()):
                    self._incidents.pop(ident, None)
            end = max(d.last_seen for d in (audio, video) if d is not None)
            return [replace(pair.alert, phase=Phase.END, revision=pair.alert.revision + 1, ended=end,
                            last_seen=end)]
        if audio is None or video is None:
            return []
        fresh = self._link(rule, audio, video)
        if fresh.confidence <= pair.alert.confidence:
            return []
        pair.alert = replace(fresh, phase=Phase.UPDATE, revision=pair.alert.revision + 1)
        return [pair.alert]

    def _link(self, rule: FusionRule, audio: Detection, video: Detection) -> Detection:
        ident = str(uuid.uuid5(FUSION_NAMESPACE, f"{rule.name}|{audio.incident_id}|{video.incident_id}"))
        attributes: Mapping[str, str | float | int | bool] = {
            **video.attributes, "fusion_rule": rule.name, "audio_incident": audio.incident_id,
            "audio_sensor": audio.sensor_id, "audio_category": audio.category,
            "audio_confidence": audio.confidence, "video_incident": video.incident_id,
            "video_category": video.category, "video_confidence": video.confidence,
        }
        return Detection(
            incident_id=ident, phase=Phase.START, revision=0, sensor_id=video.sensor_id,
            sensor_kind=video.sensor_kind, category=rule.category or video.category,
            confidence=_combine(audio.confidence, video.confidence), detector=f"fusion/{rule.name}",
            detector_version="1", started=min(audio.started, video.started),
            last_seen=max(audio.last_seen, video.last_seen), ended=None, stream_time=video.stream_time,
            key=video.key, zone=video.zone or audio.zone, boxes=video.boxes, attributes=attributes,
            audio_segment=audio.audio_segment, model=video.model, model_version=video.model_version,
            evidence=video.evidence + audio.evidence,
        )


def fuse(detections: Iterable[Detection], config: FusionConfig | None = None) -> list[Detection]:
    """Linked alerts of a detection sequence (time-ordered), e.g. for replaying a recorded run."""
    return Fuser(config).add_all(detections)


class FusionSinkConfig(SinkConfig):
    """A sink in front of other sinks: forwards every detection and adds the linked alerts.

    `sinks: [{type: fusion, links: {mic-1: [cam-1]}, sinks: [{type: taxii, ...}]}]` in a site config
    fuses the worker's audio and video incidents without any change to the worker.
    """

    type: Literal["fusion"] = "fusion"
    rules: list[FusionRule] = Field(default_factory=lambda: list(DEFAULT_RULES))
    links: dict[str, list[str]] = Field(default_factory=dict)
    sinks: list[SinkSpec] = Field(min_length=1, description="where detections and linked alerts go")


class FusionSink(Sink):
    """Forwards detections to its inner sinks, followed by the linked alerts they complete."""

    def __init__(self, config: FusionSinkConfig, inner: Sequence[Sink] | None = None) -> None:
        self.fuser = Fuser(FusionConfig(rules=config.rules, links=config.links))
        self.inner = list(inner) if inner is not None else [SINKS.create(c) for c in config.sinks]

    def emit(self, detection: Detection) -> None:
        """Forward the detection, then any linked alert it starts, raises or ends."""
        for item in (detection, *self.fuser.add(detection)):
            for sink in self.inner:
                sink.emit(item)

    def health(self, health: FeedHealth) -> None:
        """Forward feed health."""
        for sink in self.inner:
            sink.health(health)

    def close(self) -> None:
        """Close the inner sinks."""
        for sink in self.inner:
            sink.close()


SINKS.add(FusionSinkConfig, FusionSink)


__all__ = ["DEFAULT_RULES", "FusionConfig", "FusionRule", "FusionSink", "FusionSinkConfig", "Fuser", "fuse"]
