"""POP-ART STIX 2.1 profile: extension definitions, builders and the profile validator."""

from stix_profiles.detection import (
    AudioSegment,
    BoundingBox,
    DetectionFacts,
    Evidence,
    build_detection_bundle,
    build_detection_objects,
    detection_id,
)

__all__ = [
    "AudioSegment",
    "BoundingBox",
    "DetectionFacts",
    "Evidence",
    "build_detection_bundle",
    "build_detection_objects",
    "detection_id",
]
