"""POP-ART STIX 2.1 profile: extension definitions, builders and the profile validator."""

from stix_profiles.builders import (
    build_acknowledgement,
    build_alert,
    build_alert_report,
    build_best_practice,
    build_guidance,
    build_retraction,
)
from stix_profiles.detection import (
    AudioSegment,
    BoundingBox,
    DetectionFacts,
    Evidence,
    build_detection_bundle,
    build_detection_objects,
    build_evidence,
    detection_id,
)
from stix_profiles.extensions import SCHEMA_DIR, extension_definitions
from stix_profiles.rules import ProfileIssue
from stix_profiles.sharing import Recipient, Sharing
from stix_profiles.validate import check_ingest, validate

__all__ = [
    "SCHEMA_DIR",
    "AudioSegment",
    "BoundingBox",
    "DetectionFacts",
    "Evidence",
    "ProfileIssue",
    "Recipient",
    "Sharing",
    "build_acknowledgement",
    "build_alert",
    "build_alert_report",
    "build_best_practice",
    "build_detection_bundle",
    "build_detection_objects",
    "build_evidence",
    "build_guidance",
    "build_retraction",
    "check_ingest",
    "detection_id",
    "extension_definitions",
    "validate",
]
