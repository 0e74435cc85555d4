"""Valid STIX 2.1 objects with fresh ids, for tests and benchmarks."""

from __future__ import annotations

import uuid
from typing import Any

# TLP:CLEAR: the conformance suite checks TAXII mechanics, which every organisation on the hub may see
# under the default policy; what the policy withholds is tested by the authorisation matrix.
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def ts(second: int = 0, *, ms: int = 0, day: int = 1) -> str:
    return f"2026-06-{day:02d}T10:00:{second:02d}.{ms:03d}Z"


def note(*, created: str | None = None, modified: str | None = None, content: str = "steward report",
         stix_id: str | None = None) -> dict[str, Any]:
    created = created or ts()
    return {
        "type": "note", "spec_version": "2.1", "id": stix_id or f"note--{uuid.uuid4()}",
        "created": created, "modified": modified or created, "content": content,
        "object_refs": [f"incident--{uuid.uuid4()}"], "object_marking_refs": [TLP_CLEAR],
    }


def incident(*, name: str = "Crowd surge at gate 3", created: str | None = None,
             modified: str | None = None, stix_id: str | None = None) -> dict[str, Any]:
    created = created or ts()
    return {
        "type": "incident", "spec_version": "2.1", "id": stix_id or f"incident--{uuid.uuid4()}",
        "created": created, "modified": modified or created, "name": name, "object_marking_refs": [TLP_CLEAR],
    }


def location(*, lat: float = 40.4168, lon: float = -3.7038) -> dict[str, Any]:
    return {
        "type": "location", "spec_version": "2.1", "id": f"location--{uuid.uuid4()}",
        "created": ts(), "modified": ts(), "latitude": lat, "longitude": lon, "object_marking_refs": [TLP_CLEAR],
    }


def envelope(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"objects": list(objects)}
