"""The detector workers' input contract (`DetectionFacts`) and the STIX 2.1 bundle built from it."""

from __future__ import annotations

import math
import re
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal

import stix2
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from stix2validator.v21.enums import media_types

from stix_profiles.common import (
    StixDict,
    deterministic_id,
    format_timestamp,
    tlp_marking,
    tlp_marking_definition,
    to_dict,
    utc,
)
from stix_profiles.constants import (
    CATEGORY_LABEL_PREFIX,
    CATEGORY_PATTERN,
    CONTEXT_EXT,
    DETECTION_EXT,
    LABEL_DETECTION,
    PERSONAL_DATA_EXT,
    PROFILE_LABEL,
    TlpLevel,
)
from stix_profiles.sharing import Sharing

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Text = Annotated[str, Field(min_length=1, max_length=256)]
_METRIC = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PERSONAL_MEDIA = ("image/", "video/", "audio/")
_EPSILON = 1e-6


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class BoundingBox(_Model):
    """A box in normalised image coordinates (0..1, origin top-left)."""

    x: Unit
    y: Unit
    w: Unit
    h: Unit
    label: Text
    score: Unit

    @model_validator(mode="after")
    def _inside_frame(self) -> BoundingBox:
        if self.x + self.w > 1.0 + _EPSILON or self.y + self.h > 1.0 + _EPSILON:
            raise ValueError("bounding box extends outside the frame (x+w and y+h must be <= 1)")
        return self


class AudioSegment(_Model):
    """A time/frequency window of an audio detection, relative to `started`."""

    start_s: float = Field(ge=0.0)
    end_s: float = Field(ge=0.0)
    low_hz: float = Field(ge=0.0)
    high_hz: float = Field(gt=0.0)

    @model_validator(mode="after")
    def _ordered(self) -> AudioSegment:
        if self.end_s < self.start_s:
            raise ValueError("audio segment end_s must be >= start_s")
        if self.high_hz <= self.low_hz:
            raise ValueError("audio segment high_hz must be > low_hz")
        return self


class Evidence(_Model):
    """A piece of evidence kept outside the bundle (redacted upstream), referenced by hash."""

    sha256: str
    mime_type: str = Field(pattern=r"^[a-z0-9.+-]+/[a-z0-9.+-]+$")
    url: str | None = None
    redacted: bool
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    personal_data: bool | None = None
    """None: derived (unredacted image, video or audio counts as personal data)."""

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str) -> str:
        value = value.lower()
        if not _SHA256.match(value):
            raise ValueError("sha256 must be 64 hexadecimal characters")
        return value

    @property
    def holds_personal_data(self) -> bool:
        """Whether this evidence holds personal data (explicit flag, else unredacted media)."""
        if self.personal_data is not None:
            return self.personal_data
        return not self.redacted and self.mime_type.startswith(_PERSONAL_MEDIA)

    @property
    def locator(self) -> str:
        """The evidence URL, or a content address when the worker keeps the file."""
        return self.url or f"urn:popart:evidence:sha256:{self.sha256}"


class DetectionFacts(_Model):
    """What a detector worker knows about one detection: the input of `build_detection_bundle`."""

    sensor_id: Text
    sensor_kind: Literal["camera", "microphone", "partner"]
    sensor_name: Text | None = None
    venue: Text | None = None
    zone: Text | None = None
    municipality: Text | None = None
    category: str = Field(pattern=CATEGORY_PATTERN, max_length=64)
    confidence: int = Field(ge=0, le=100)
    detector: Text
    detector_version: Text
    model: Text | None = None
    model_version: Text | None = None
    started: datetime
    ended: datetime | None = None
    track_id: Text | None = None
    """Distinguishes simultaneous detections of one category on one sensor (e.g. two tracked people)."""
    boxes: list[BoundingBox] = Field(default_factory=list)
    audio_segment: AudioSegment | None = None
    latitude: float | None = Field(default=None, ge=-90.0, le=90.0)
    longitude: float | None = Field(default=None, ge=-180.0, le=180.0)
    metrics: dict[str, float] = Field(default_factory=dict)
    """Measured values, e.g. {"people_per_m2": 4.2, "spl_db": 118}."""
    description: str | None = Field(default=None, max_length=2000)
    evidence: list[Evidence] = Field(default_factory=list)
    personal_data: bool = False
    tlp: TlpLevel = "amber"
    producer_identity_id: str | None = Field(default=None, pattern=r"^identity--[0-9a-f-]{36}$")
    sharing: Sharing | None = None
    """Recipients, areas and embargo for the sharing policy (carried in the sensor/venue context)."""
    modified: datetime | None = None
    """When the worker produced this version; defaults to `ended or started` so replays are identical."""

    @field_validator("started", "ended", "modified")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)

    @field_validator("metrics")
    @classmethod
    def _metric_names(cls, value: dict[str, float]) -> dict[str, float]:
        for name, number in value.items():
            if not _METRIC.match(name):
                raise ValueError(f"metric name {name!r} must be snake_case (a-z, 0-9, _), at most 64 characters")
            if not math.isfinite(number):
                raise ValueError(f"metric {name!r} must be a finite number")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DetectionFacts:
        if self.ended is not None and self.ended < self.started:
            raise ValueError("ended must not be before started")
        if self.modified is not None and self.modified < self.started:
            raise ValueError("modified must not be before started")
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together")
        return self

    @property
    def holds_personal_data(self) -> bool:
        """The effective flag: set by the worker or implied by any unredacted evidence."""
        return self.personal_data or any(e.holds_personal_data for e in self.evidence)


def detection_id(facts: DetectionFacts) -> str:
    """Return the deterministic observed-data id of a detection (sensor, category, track, window start)."""
    return deterministic_id("observed-data", facts.sensor_id, facts.category, facts.track_id, facts.started)


def location_id(observed_id: str) -> str:
    """Return the deterministic id of a detection's location (one per detection, versioned with it)."""
    return deterministic_id("location", observed_id)


def context_extension(
    *,
    sensor_id: str | None = None,
    sensor_kind: str | None = None,
    sensor_name: str | None = None,
    venue: str | None = None,
    zone: str | None = None,
    municipality: str | None = None,
    sharing: Sharing | None = None,
) -> StixDict:
    """Return the payload of the sensor/venue context extension."""
    payload: StixDict = {"extension_type": "property-extension"}
    optional = {
        "sensor_id": sensor_id,
        "sensor_kind": sensor_kind,
        "sensor_name": sensor_name,
        "venue": venue,
        "zone": zone,
        "municipality": municipality,
    }
    payload.update({k: v for k, v in optional.items() if v is not None})
    if sharing is not None:
        payload.update(sharing.payload())
    return payload


def personal_data_extension(personal_data: bool, *, redacted: bool | None = None) -> StixDict:
    """Return the payload of the personal-data flag extension."""
    payload: StixDict = {"extension_type": "property-extension", "personal_data": personal_data}
    if redacted is not None:
        payload["redacted"] = redacted
    return payload


@cache
def iana_media_types() -> frozenset[str]:
    """Return the IANA media types stix2-validator accepts for `artifact.mime_type` (its bundled list)."""
    return frozenset(media_types())


def build_evidence(evidence: Evidence, *, tlp: str = "amber") -> stix2.v21.Artifact:
    """Return the artifact of one piece of evidence: hashes and a locator, never the payload inline.

    `mime_type` is left out when IANA does not register the type (say audio/wav): strict STIX validation
    refuses it. The personal-data flag is still decided from the declared type.
    """
    extensions: dict[str, Any] = {
        PERSONAL_DATA_EXT: personal_data_extension(evidence.holds_personal_data, redacted=evidence.redacted)
    }
    return stix2.v21.Artifact(
        mime_type=evidence.mime_type if evidence.mime_type in iana_media_types() else None,
        url=evidence.locator,
        hashes={"SHA-256": evidence.sha256},
        object_marking_refs=[tlp_marking(tlp)],
        extensions=extensions,
    )


def _detection_extension(facts: DetectionFacts) -> StixDict:
    payload: StixDict = {
        "extension_type": "property-extension",
        "category": facts.category,
        "detector": facts.detector,
        "detector_version": facts.detector_version,
        "summary": facts.description or _describe(facts),
    }
    if facts.model is not None:
        payload["model"] = facts.model
    if facts.model_version is not None:
        payload["model_version"] = facts.model_version
    if facts.track_id is not None:
        payload["track_id"] = facts.track_id
    if facts.boxes:
        payload["boxes"] = [box.model_dump() for box in facts.boxes]
    if facts.audio_segment is not None:
        payload["audio_segment"] = facts.audio_segment.model_dump()
    if facts.metrics:
        payload["metrics"] = dict(sorted(facts.metrics.items()))
    sized = [e for e in facts.evidence if e.width and e.height]
    if sized:
        payload["frame_width"], payload["frame_height"] = sized[0].width, sized[0].height
    return payload


def build_detection_objects(facts: DetectionFacts) -> list[StixDict]:
    """Return the STIX objects of one detection (observed-data, its SCOs, location, relationship)."""
    marking = [tlp_marking(facts.tlp)]
    # created is the window start (fixed for the id); modified moves as an ongoing detection is updated.
    created = format_timestamp(facts.started)
    modified = format_timestamp(facts.modified or facts.ended or facts.started)
    common: dict[str, Any] = {"created": created, "modified": modified, "object_marking_refs": marking}
    if facts.producer_identity_id:
        common["created_by_ref"] = facts.producer_identity_id

    software = stix2.v21.Software(
        name=facts.detector, version=facts.detector_version, vendor="POP-ART", object_marking_refs=marking
    )
    artifacts = [build_evidence(e, tlp=facts.tlp) for e in facts.evidence]
    observed_id = detection_id(facts)
    observed = stix2.v21.ObservedData(
        id=observed_id,
        first_observed=format_timestamp(facts.started),
        last_observed=format_timestamp(facts.ended or facts.started),
        number_observed=1,
        object_refs=[software.id, *(a.id for a in artifacts)],
        confidence=facts.confidence,
        labels=[PROFILE_LABEL, LABEL_DETECTION, CATEGORY_LABEL_PREFIX + facts.category],
        extensions={
            DETECTION_EXT: _detection_extension(facts),
            CONTEXT_EXT: context_extension(
                sensor_id=facts.sensor_id,
                sensor_kind=facts.sensor_kind,
                sensor_name=facts.sensor_name,
                venue=facts.venue,
                zone=facts.zone,
                municipality=facts.municipality,
                sharing=facts.sharing,
            ),
            PERSONAL_DATA_EXT: personal_data_extension(facts.holds_personal_data),
        },
        **common,
    )
    objects = [to_dict(observed), to_dict(software), *(to_dict(a) for a in artifacts)]
    if facts.latitude is not None and facts.longitude is not None:
        location = stix2.v21.Location(
            id=location_id(observed_id),
            latitude=facts.latitude,
            longitude=facts.longitude,
            name=facts.venue,
            city=facts.municipality,
            **common,
        )
        relation = stix2.v21.Relationship(
            id=deterministic_id("relationship", observed_id, "related-to", location.id),
            relationship_type="related-to",
            description="located-at",
            source_ref=observed_id,
            target_ref=location.id,
            **common,
        )
        objects += [to_dict(location), to_dict(relation)]
    return objects


def _describe(facts: DetectionFacts) -> str:
    where = ", ".join(p for p in (facts.venue, facts.zone, facts.municipality) if p)
    text = f"{facts.category} detected by {facts.sensor_kind} {facts.sensor_id} ({facts.confidence}%)"
    return f"{text} at {where}" if where else text


def build_detection_bundle(facts: DetectionFacts, *, include_markings: bool = True) -> StixDict:
    """Return a JSON-serialisable STIX 2.1 bundle for one detection, with deterministic ids."""
    objects = build_detection_objects(facts)
    if include_markings:
        objects.append(tlp_marking_definition(facts.tlp))
    observed = objects[0]
    return {
        "type": "bundle",
        "id": deterministic_id("bundle", observed["id"], observed["modified"]),
        "objects": objects,
    }
