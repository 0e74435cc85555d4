"""The profile's extension-definition objects and where their JSON schemas live."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from stix_profiles.common import StixDict
from stix_profiles.constants import (
    CONTEXT_EXT,
    DETECTION_EXT,
    PERSONAL_DATA_EXT,
    PROFILE_CREATED,
    PROFILE_IDENTITY_ID,
    PROFILE_VERSION,
    TLP_MARKINGS,
)

SCHEMA_DIR = Path(__file__).parent / "schemas"
"""Holds only `extension-definition--<uuid>.json` files: pass it as stix2-validator's schema_dir."""

_DEFINITIONS = {
    DETECTION_EXT: (
        "popart-detection",
        "A physical-security detection by a sensor: category (popart-detection-category-ov), detector and "
        "model versions, bounding boxes or audio segment, metrics. Carried by observed-data.",
    ),
    CONTEXT_EXT: (
        "popart-sensor-context",
        "The sensor (id, kind camera/microphone/partner, name) and the venue, zone and municipality an "
        "object concerns. Carried by observed-data and incident.",
    ),
    PERSONAL_DATA_EXT: (
        "popart-personal-data",
        "Whether the object or what it points to holds personal data (faces, voices, plates); the sharing "
        "policy keeps such objects from audiences that may not hold them.",
    ),
}


def profile_identity() -> StixDict:
    """Return the identity that authors the profile's extension definitions."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": PROFILE_IDENTITY_ID,
        "created": PROFILE_CREATED,
        "modified": PROFILE_CREATED,
        "name": "POP-ART Exchange STIX profile",
        "identity_class": "organization",
        "object_marking_refs": [TLP_MARKINGS["clear"]],
    }


def schema_path(extension_id: str) -> Path:
    """Return the JSON schema file of one of the profile's extensions."""
    return SCHEMA_DIR / f"{extension_id}.json"


@cache
def load_schema(extension_id: str) -> StixDict:
    """Return the JSON schema of an extension as a dict."""
    result: StixDict = json.loads(schema_path(extension_id).read_text(encoding="utf-8"))
    return result


def extension_definitions() -> list[StixDict]:
    """Return the extension-definition objects of the profile (TLP:CLEAR, by the profile identity)."""
    return [
        {
            "type": "extension-definition",
            "spec_version": "2.1",
            "id": ext_id,
            "created_by_ref": PROFILE_IDENTITY_ID,
            "created": PROFILE_CREATED,
            "modified": PROFILE_CREATED,
            "name": name,
            "description": description,
            "schema": f"JSON schema stix_profiles/schemas/{ext_id}.json of the popart-exchange distribution",
            "version": PROFILE_VERSION,
            "extension_types": ["property-extension"],
            "object_marking_refs": [TLP_MARKINGS["clear"]],
        }
        for ext_id, (name, description) in _DEFINITIONS.items()
    ]
