"""Checks every posted object before it is stored: structure first (cheap), then stix2, then the profile."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stix2
import stix2.exceptions

from exchange.timestamps import parse_timestamp

_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SCO_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
    "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
    "user-account", "windows-registry-key", "x509-certificate",
})
MAX_ID_LENGTH = 300

ProfileCheck = Callable[[dict[str, Any]], list[str]]


@dataclass(frozen=True)
class ValidObject:
    """A posted object that passed every check, ready to store."""

    stix_id: str
    type: str
    spec_version: str
    version: int | None  # None: no created/modified, the hub's date_added becomes the version
    raw: str
    content_hash: str
    obj: dict[str, Any]


@dataclass(frozen=True)
class InvalidObject:
    """A posted object that failed; reported in the status `failures`."""

    stix_id: str
    version: str | None
    message: str


class ObjectValidator:
    """Validates posted objects; `deep` adds a stix2 parse, `profile_check` the POP-ART profile rules."""

    def __init__(self, *, deep: bool = True, profile_check: ProfileCheck | None = None) -> None:
        self.deep = deep
        self.profile_check = profile_check

    def check(self, obj: object) -> ValidObject | InvalidObject:
        """Validate one object."""
        if not isinstance(obj, dict):
            return InvalidObject("", None, "an object must be a JSON object")
        raw_id = obj.get("id")
        stix_id = raw_id if isinstance(raw_id, str) and len(raw_id) <= MAX_ID_LENGTH else ""
        version_text = _version_text(obj)
        try:
            valid = self._check(obj, stix_id)
        except _Invalid as exc:
            return InvalidObject(stix_id, version_text, str(exc))
        return valid

    def _check(self, obj: dict[str, Any], stix_id: str) -> ValidObject:
        otype = obj.get("type")
        if not isinstance(otype, str) or not _TYPE.match(otype):
            raise _Invalid("'type' must be 3-250 characters of a-z, 0-9 and '-'")
        if not stix_id:
            raise _Invalid("'id' is required (at most 300 characters)")
        prefix, sep, ident = stix_id.partition("--")
        if not sep or prefix != otype or not _UUID.match(ident):
            raise _Invalid(f"'id' must be '{otype}--<lowercase RFC 4122 UUID>'")
        spec = obj.get("spec_version")
        if spec is None:
            if otype not in SCO_TYPES:
                raise _Invalid("'spec_version' is required and must be '2.1'")
            spec = "2.1"
        if spec != "2.1":
            raise _Invalid(f"spec_version {spec!r} is not accepted: this hub stores STIX 2.1")
        version = None
        try:
            created = parse_timestamp(obj["created"]) if "created" in obj else None
            modified = parse_timestamp(obj["modified"]) if "modified" in obj else None
        except ValueError as exc:
            raise _Invalid(f"bad timestamp: {exc}") from None
        if created is not None and modified is not None and modified < created:
            raise _Invalid("'modified' is earlier than 'created'")
        version = modified if modified is not None else created
        if otype not in SCO_TYPES and version is None:
            raise _Invalid("'created' and 'modified' are required")
        if self.deep:
            _deep_check(obj)
        if self.profile_check is not None:
            problems = self.profile_check(obj)
            if problems:
                raise _Invalid("; ".join(problems))
        raw = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(raw.encode()).hexdigest()
        return ValidObject(stix_id, otype, spec, version, raw, digest, obj)


class _Invalid(Exception):
    pass


def _version_text(obj: dict[str, Any]) -> str | None:
    value = obj.get("modified", obj.get("created"))
    return value if isinstance(value, str) and len(value) <= 40 else None


def _deep_check(obj: dict[str, Any]) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stix2.parse(obj, allow_custom=True, version="2.1")
    except (stix2.exceptions.STIXError, ValueError, TypeError, KeyError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _Invalid(f"invalid STIX 2.1: {message[:500]}") from None
    except Exception as exc:  # stix2 raises assorted errors on hostile input; none may crash an ingest
        raise _Invalid(f"invalid STIX 2.1: {type(exc).__name__}") from None
