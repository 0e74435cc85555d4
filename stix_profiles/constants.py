"""Fixed identifiers and vocabularies of the POP-ART STIX 2.1 profile."""

from __future__ import annotations

import uuid
from typing import Final, Literal

PROFILE_VERSION: Final = "1.0.0"
PROFILE_LABEL: Final = "popart-profile"

# Every deterministic id of the profile is UUIDv5 in this namespace (uuid5(NAMESPACE_URL, "urn:popart:stix")).
NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "urn:popart:stix")

PROFILE_IDENTITY_ID: Final = "identity--" + str(
    uuid.UUID(bytes=uuid.uuid5(NAMESPACE, "identity|popart-exchange-profile").bytes, version=4)
)
PROFILE_CREATED: Final = "2026-11-01T00:00:00.000Z"

DETECTION_EXT: Final = "extension-definition--451fa5a3-da57-423c-9136-1fbe23c23396"
CONTEXT_EXT: Final = "extension-definition--29afaefa-f541-4520-8d91-0d6a4c648978"
PERSONAL_DATA_EXT: Final = "extension-definition--d03d5f2a-bfc3-4008-bab7-3c1449be06af"
PROFILE_EXTENSIONS: Final = (DETECTION_EXT, CONTEXT_EXT, PERSONAL_DATA_EXT)

INCIDENT_CORE_EXT: Final = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"
TLP2_EXT: Final = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

TlpLevel = Literal["clear", "green", "amber", "amber+strict", "red"]

TLP_MARKINGS: Final[dict[str, str]] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_BY_MARKING: Final[dict[str, str]] = {v: k for k, v in TLP_MARKINGS.items()}

# Open vocabulary: values outside it are accepted when they are lower-case kebab words (see validate).
DETECTION_CATEGORIES: Final = frozenset(
    {
        "violence",
        "weapon",
        "gunshot",
        "explosion",
        "scream",
        "glass-break",
        "crowd-density",
        "crowd-panic",
        "crowd-dispersal",
        "abandoned-object",
        "intrusion",
        "loitering",
        "camera-tamper",
        "vehicle-threat",
        "siren",
        "crowd-noise",
        "fire",
        "smoke",
        "fall",
        "other",
    }
)
CATEGORY_PATTERN: Final = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"

SENSOR_KINDS: Final = ("camera", "microphone", "partner")
ACK_STATUSES: Final = ("acknowledged", "on-scene", "resolved")
INCIDENT_DETERMINATIONS: Final = ("suspected", "confirmed", "false-positive", "blocked", "low-value", "tbd")
INVESTIGATION_STATUSES: Final = ("new", "open", "closed")
SEVERITIES: Final = ("low", "medium", "high", "critical")

# Labels that say which profile kind an object is; check_ingest keys on them.
LABEL_DETECTION: Final = "popart-detection"
LABEL_EVIDENCE: Final = "popart-evidence"
LABEL_ALERT: Final = "popart-alert"
LABEL_GUIDANCE: Final = "popart-guidance"
LABEL_BEST_PRACTICE: Final = "popart-best-practice"
LABEL_ACK: Final = "popart-acknowledgement"
LABEL_RETRACTION: Final = "popart-retraction"
LABEL_ALERT_REPORT: Final = "popart-alert-report"
KIND_LABELS: Final = (
    LABEL_DETECTION,
    LABEL_ALERT,
    LABEL_GUIDANCE,
    LABEL_BEST_PRACTICE,
    LABEL_ACK,
    LABEL_RETRACTION,
    LABEL_ALERT_REPORT,
)
CATEGORY_LABEL_PREFIX: Final = "popart-category:"
STATUS_LABEL_PREFIX: Final = "popart-status:"
