"""Helpers shared by the builders: deterministic ids, timestamps, markings, serialisation."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from stix_profiles.constants import NAMESPACE, TLP2_EXT, TLP_MARKINGS

StixDict = dict[str, Any]


def deterministic_id(stix_type: str, *parts: object) -> str:
    """Return `<type>--<uuid>` derived from the type and parts, so the same input gives the same id.

    The UUID is the UUIDv5 (SHA-1, profile namespace) of the name with its version nibble set to 4: STIX 2.1
    says SDO/SRO ids SHOULD be UUIDv4 (stix2-validator strict refuses others), and the bits stay name-based.
    """
    name = "|".join([stix_type, *(_part(p) for p in parts)])
    return f"{stix_type}--{uuid.UUID(bytes=uuid.uuid5(NAMESPACE, name).bytes, version=4)}"


def _part(value: object) -> str:
    if isinstance(value, datetime):
        return format_timestamp(value)
    return "" if value is None else str(value)


def utc(value: datetime) -> datetime:
    """Return `value` in UTC truncated to milliseconds (STIX precision); naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def format_timestamp(value: datetime) -> str:
    """Format a timestamp the way STIX 2.1 does, with millisecond precision and a trailing Z."""
    value = utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def now() -> datetime:
    """Return the current UTC time at STIX precision."""
    return utc(datetime.now(UTC))


def tlp_marking(level: str) -> str:
    """Return the TLP 2.0 marking-definition id for a level name ("clear", "green", "amber", ...)."""
    try:
        return TLP_MARKINGS[level]
    except KeyError:
        raise ValueError(f"unknown TLP level {level!r}; expected one of {sorted(TLP_MARKINGS)}") from None


def tlp_marking_definition(level: str) -> StixDict:
    """Return the official TLP 2.0 marking-definition object for a level."""
    name = "TLP:" + level.upper()
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp_marking(level),
        "created": "2022-10-01T00:00:00.000Z",
        "name": name,
        "extensions": {TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def to_dict(obj: Any) -> StixDict:
    """Serialise a stix2 object to a plain JSON-compatible dict."""
    result: StixDict = json.loads(obj.serialize())
    return result
