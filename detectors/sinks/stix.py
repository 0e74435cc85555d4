"""Detection → STIX 2.1 bundle through the `stix_profiles` builders (deterministic ids)."""

from __future__ import annotations

from typing import Any, Literal

from detectors.events import Detection, Phase
from stix_profiles import AudioSegment, BoundingBox, DetectionFacts, build_detection_bundle
from stix_profiles import Evidence as StixEvidence

Tlp = Literal["clear", "green", "amber", "amber+strict", "red"]


def _box(box: Any, category: str) -> BoundingBox:
    x, y = min(max(box.x, 0.0), 1.0), min(max(box.y, 0.0), 1.0)
    return BoundingBox(x=x, y=y, w=min(max(box.w, 0.0), 1.0 - x), h=min(max(box.h, 0.0), 1.0 - y),
                       label=box.label or category, score=min(max(box.score, 0.0), 1.0))


def detection_facts(detection: Detection, *, tlp: Tlp = "amber", producer_identity_id: str | None = None,
                    sensor_name: str | None = None) -> DetectionFacts:
    """The profile's input model for one detection phase."""
    metrics = {k: float(v) for k, v in detection.attributes.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    # each phase is a new version of the same observed-data: `modified` moves with the phase
    modified = detection.ended if detection.phase is Phase.END else detection.last_seen
    return DetectionFacts(
        sensor_id=detection.sensor_id,
        sensor_kind="microphone" if detection.sensor_kind == "microphone" else "camera",
        sensor_name=sensor_name,
        venue=detection.venue,
        zone=detection.zone,
        municipality=detection.municipality,
        category=detection.category,
        confidence=detection.confidence,
        detector=detection.detector,
        detector_version=detection.detector_version,
        model=detection.model,
        model_version=detection.model_version,
        started=detection.started,
        ended=detection.ended,
        track_id=detection.key or None,
        boxes=[_box(b, detection.category) for b in detection.boxes],
        audio_segment=AudioSegment(**detection.audio_segment) if detection.audio_segment else None,
        metrics=metrics,
        description=_describe(detection),
        evidence=[StixEvidence(sha256=e.sha256, mime_type=e.mime_type, url=e.url, redacted=e.redacted)
                  for e in detection.evidence],
        tlp=tlp,
        producer_identity_id=producer_identity_id,
        modified=modified,
    )


def _describe(detection: Detection) -> str:
    kind = detection.attributes.get("kind")
    what = f"{detection.category} ({kind})" if kind else detection.category
    where = ", ".join(p for p in (detection.venue, detection.zone, detection.municipality) if p)
    state = {"start": "started", "update": "ongoing", "end": "ended"}[detection.phase.value]
    text = f"{what} {state} on {detection.sensor_kind} {detection.sensor_id} ({detection.confidence}%)"
    return f"{text} at {where}" if where else text


def detection_bundle(detection: Detection, **options: Any) -> dict[str, Any]:
    """The STIX 2.1 bundle of one detection phase (same incident → same observed-data id)."""
    return build_detection_bundle(detection_facts(detection, **options))
