"""Full validation (stix2-validator strict + profile rules) and the cheap check for the hub's ingest path."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stix2validator import ValidationOptions


from stix_profiles.constants import DETECTION_EXT, PERSONAL_DATA_EXT
from stix_profiles.extensions import SCHEMA_DIR
from stix_profiles.rules import ProfileIssue, check_object, claims_profile

_SCHEMA_PATH = re.compile(r"^([A-Za-z_][\w\-.\[\]']*): (.+)$", re.DOTALL)
_CODE = re.compile(r"^\{(\d+)\} ")
_PERSONAL_MEDIA = ("image/", "video/", "audio/")


@cache
def _options(strict: bool) -> ValidationOptions:
    # Imported here: stix2validator pulls jsonschema's format grammars (seconds of start-up), which the
    # hub's ingest path (check_ingest) and every `popart` command would otherwise pay for.
    from stix2validator import ValidationOptions

    return ValidationOptions(version="2.1", strict=strict, schema_dir=str(SCHEMA_DIR))


def _as_dicts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str | bytes):
        value = json.loads(value)
    if hasattr(value, "serialize"):
        value = json.loads(value.serialize())
    if isinstance(value, Mapping):
        if "type" not in value and isinstance(value.get("objects"), list):
            return [dict(o) if isinstance(o, Mapping) else o for o in value["objects"]]  # TAXII envelope
        return [dict(value)]
    if isinstance(value, Iterable):
        return [d for item in value for d in _as_dicts(item)]
    raise TypeError(f"cannot validate a {type(value).__name__}: give a STIX object, a bundle or a list of them")


def validate(obj_or_bundle: Any, *, strict: bool = True) -> list[ProfileIssue]:
    """Return every issue of STIX objects or bundles: stix2-validator (strict, our schemas), profile rules."""
    issues: list[ProfileIssue] = []
    for doc in _as_dicts(obj_or_bundle):
        if doc.get("type") == "bundle":
            issues += _bundle_shape(doc)
            objects = [o for o in doc.get("objects") or [] if isinstance(o, dict)]
        else:
            objects = [doc]
        for obj in objects:
            issues += stix_issues(obj, strict=strict)
            issues += check_object(obj)
        issues += _cross_checks(objects)
    return issues


def stix_issues(obj: dict[str, Any], *, strict: bool = True) -> list[ProfileIssue]:
    """Return what stix2-validator (with the profile's extension schemas) says about one object."""
    oid = str(obj.get("id", "<no id>"))
    if not isinstance(obj.get("type"), str) or "id" not in obj:
        return [ProfileIssue(oid, "", "not a STIX object: 'type' and 'id' are required")]
    from stix2validator import validate_instance

    result = validate_instance(obj, _options(strict))
    found = [_issue(oid, str(e), "error") for e in result.errors]
    found += [_issue(oid, str(w), "warning") for w in result.warnings]
    return found


def _issue(oid: str, text: str, severity: str) -> ProfileIssue:
    prefix = f"{oid}: "
    if text.startswith(prefix):
        text = text[len(prefix) :]
    path = ""
    code = _CODE.match(text)
    if code:
        text = f"{text[code.end() :]} (stix2-validator check {code.group(1)})"
    else:
        match = _SCHEMA_PATH.match(text)
        if match:
            path, text = match.group(1), match.group(2)
    return ProfileIssue(oid, path, text, "error" if severity == "error" else "warning")


def _bundle_shape(bundle: dict[str, Any]) -> list[ProfileIssue]:
    bid = str(bundle.get("id", "<no id>"))
    if not re.match(r"^bundle--[0-9a-f-]{36}$", bid):
        return [ProfileIssue(bid, "id", "a bundle needs an id 'bundle--<uuid>'")]
    objects = bundle.get("objects")
    if not isinstance(objects, list) or not objects:
        return [ProfileIssue(bid, "objects", "a bundle holds a non-empty list of objects")]
    return [
        ProfileIssue(bid, f"objects[{i}]", "bundle entries must be STIX objects")
        for i, o in enumerate(objects)
        if not isinstance(o, dict)
    ]


def _holds_personal_data(artifact: dict[str, Any]) -> bool:
    pd = (artifact.get("extensions") or {}).get(PERSONAL_DATA_EXT) or {}
    if pd.get("personal_data") is True:
        return True
    media = str(artifact.get("mime_type", "")).startswith(_PERSONAL_MEDIA)
    return media and pd.get("redacted") is not True


def _cross_checks(objects: list[dict[str, Any]]) -> list[ProfileIssue]:
    personal = {o.get("id") for o in objects if o.get("type") == "artifact" and _holds_personal_data(o)}
    issues = []
    for obj in objects:
        extensions = obj.get("extensions") or {}
        if DETECTION_EXT not in extensions or (extensions.get(PERSONAL_DATA_EXT) or {}).get("personal_data"):
            continue
        for ref in obj.get("object_refs") or []:
            if ref in personal:
                issues.append(
                    ProfileIssue(
                        str(obj.get("id")),
                        f"extensions.{PERSONAL_DATA_EXT}.personal_data",
                        f"personal data without the flag: the detection references {ref}, which holds personal data",
                    )
                )
    return issues


def check_ingest(obj: dict[str, Any]) -> list[str]:
    """Return why the hub must refuse a posted object under the profile's rules (empty: accept); cheap."""
    if not claims_profile(obj):
        return []
    return [f"{i.path}: {i.message}" if i.path else i.message for i in check_object(obj) if i.severity == "error"]


def errors(issues: Iterable[ProfileIssue]) -> list[ProfileIssue]:
    """Return only the issues that make an object invalid."""
    return [i for i in issues if i.severity == "error"]
