"""The profile's own rules, in plain Python so the hub can run them on every posted object."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal

from stix_profiles.constants import (
    ACK_STATUSES,
    CATEGORY_LABEL_PREFIX,
    CATEGORY_PATTERN,
    CONTEXT_EXT,
    DETECTION_CATEGORIES,
    DETECTION_EXT,
    INCIDENT_CORE_EXT,
    INCIDENT_DETERMINATIONS,
    INVESTIGATION_STATUSES,
    KIND_LABELS,
    LABEL_ACK,
    LABEL_ALERT,
    LABEL_ALERT_REPORT,
    LABEL_BEST_PRACTICE,
    LABEL_DETECTION,
    LABEL_GUIDANCE,
    LABEL_RETRACTION,
    PERSONAL_DATA_EXT,
    PROFILE_EXTENSIONS,
    PROFILE_LABEL,
    SENSOR_KINDS,
    STATUS_LABEL_PREFIX,
    TLP_BY_MARKING,
)
from stix_profiles.extensions import load_schema

Severity = Literal["error", "warning"]
_CATEGORY = re.compile(CATEGORY_PATTERN)
_OUR_EXTENSIONS = frozenset(PROFILE_EXTENSIONS)
_KIND_LABELS = frozenset(KIND_LABELS)
_LABEL_PREFIXES = (CATEGORY_LABEL_PREFIX, STATUS_LABEL_PREFIX, "popart-audience:", "popart-topic:")
_KNOWN_LABELS = frozenset({PROFILE_LABEL, *KIND_LABELS})
_PERSONAL_MEDIA = ("image/", "video/", "audio/")
_FLAGGED_TYPES = frozenset({"observed-data", "incident", "artifact"})
_EXT = {DETECTION_EXT: "detection", CONTEXT_EXT: "sensor-context", PERSONAL_DATA_EXT: "personal-data"}


@dataclass(frozen=True, slots=True)
class ProfileIssue:
    """One reason an object breaks the STIX standard or the POP-ART profile."""

    object_id: str
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.object_id} {self.path}".strip() if self.path else self.object_id
        return f"[{self.severity}] {where}: {self.message}"


def claims_profile(obj: dict[str, Any]) -> bool:
    """Whether the object uses one of the profile's extensions or `popart-` labels (cheap)."""
    extensions = obj.get("extensions")
    if isinstance(extensions, dict) and not _OUR_EXTENSIONS.isdisjoint(extensions):
        return True
    labels = obj.get("labels")
    if not isinstance(labels, list):
        return False
    return any(isinstance(x, str) and x.startswith("popart-") for x in labels)


class _Checker:
    def __init__(self, obj: dict[str, Any]) -> None:
        self.obj = obj
        self.oid = str(obj.get("id", "<no id>"))
        self.issues: list[ProfileIssue] = []
        extensions, labels = obj.get("extensions", {}), obj.get("labels", [])
        self.exts: dict[str, Any] = extensions if isinstance(extensions, dict) else {}
        self.labels: list[Any] = labels if isinstance(labels, list) else []
        if extensions is not self.exts:
            self.error("extensions", "extensions must be an object keyed by extension id")
        if labels is not self.labels:
            self.error("labels", "labels must be a list of strings")

    def error(self, path: str, message: str) -> None:
        self.issues.append(ProfileIssue(self.oid, path, message, "error"))

    def warning(self, path: str, message: str) -> None:
        self.issues.append(ProfileIssue(self.oid, path, message, "warning"))

    def ext(self, ext_id: str, *, required_for: str | None = None) -> dict[str, Any] | None:
        payload = self.exts.get(ext_id)
        if payload is None:
            if required_for:
                self.error(
                    f"extensions.{ext_id}",
                    f"{required_for} requires the {_EXT.get(ext_id, ext_id)} extension",
                )
            return None
        if not isinstance(payload, dict):
            self.error(f"extensions.{ext_id}", "extension payload must be an object")
            return None
        return payload

    def text(self, payload: dict[str, Any], base: str, name: str, *, required: bool) -> None:
        value = payload.get(name)
        if value is None:
            if required:
                self.error(f"{base}.{name}", f"missing required extension property '{name}'")
        elif not isinstance(value, str) or not value.strip():
            self.error(f"{base}.{name}", f"'{name}' must be a non-empty string")


@cache
def _allowed_keys(ext_id: str) -> frozenset[str]:
    schema = load_schema(ext_id)
    return frozenset(schema["properties"]["extensions"]["properties"][ext_id]["properties"])


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def check_object(obj: dict[str, Any]) -> list[ProfileIssue]:
    """Return the profile issues of one object; objects that do not claim the profile give none."""
    if not claims_profile(obj):
        return []
    c = _Checker(obj)
    try:
        _check_all(c)
    except (TypeError, AttributeError, ValueError) as exc:
        # A property of the wrong JSON type; stix2-validator names it, ingest must still answer.
        c.error("", f"malformed object: a property has the wrong type ({exc})")
    return c.issues


def _check_all(c: _Checker) -> None:
    obj = c.obj
    _check_markings(c)
    _check_labels(c)
    for ext_id in sorted(_OUR_EXTENSIONS.intersection(c.exts)):
        payload = c.ext(ext_id)
        if payload is None:
            continue
        if payload.get("extension_type") != "property-extension":
            c.error(f"extensions.{ext_id}.extension_type", "extension_type must be 'property-extension'")
        for key in sorted(set(payload) - _allowed_keys(ext_id)):
            c.error(f"extensions.{ext_id}", f"unknown property '{key}' in the {_EXT[ext_id]} extension")
    _check_context(c)
    _check_personal_data(c)
    labels = c.labels
    if DETECTION_EXT in c.exts or LABEL_DETECTION in labels:
        _check_detection(c)
    if obj.get("type") == "artifact":
        _check_evidence(c)
    if LABEL_ALERT in labels:
        _check_alert(c)
    if LABEL_ALERT_REPORT in labels and _expect_type(c, "report", LABEL_ALERT_REPORT):
        if not any(isinstance(r, str) and r.startswith("incident--") for r in obj.get("object_refs") or []):
            c.error("object_refs", "an alert report must contain the alert (incident--...)")
    if LABEL_GUIDANCE in labels:
        _expect_type(c, "course-of-action", LABEL_GUIDANCE)
        if not obj.get("description"):
            c.error("description", "guidance must say what to do (description)")
    if LABEL_BEST_PRACTICE in labels:
        _expect_type(c, "note", LABEL_BEST_PRACTICE)
        if not obj.get("created_by_ref"):
            c.error("created_by_ref", "a best practice must name its author (created_by_ref)")
    if LABEL_ACK in labels:
        _check_ack(c)
    if LABEL_RETRACTION in labels:
        _expect_type(c, "note", LABEL_RETRACTION)
        if not obj.get("content"):
            c.error("content", "a retraction must give its reason (content)")


def _expect_type(c: _Checker, stix_type: str, label: str) -> bool:
    if c.obj.get("type") != stix_type:
        c.error("type", f"objects labelled '{label}' must be {stix_type}, not {c.obj.get('type')}")
        return False
    return True


def _check_markings(c: _Checker) -> None:
    refs = c.obj.get("object_marking_refs") or []
    levels = [TLP_BY_MARKING[r] for r in refs if isinstance(r, str) and r in TLP_BY_MARKING]
    if not levels:
        c.error(
            "object_marking_refs",
            "missing TLP 2.0 marking: object_marking_refs must hold one TLP 2.0 "
            "marking-definition (clear, green, amber, amber+strict or red)",
        )
    elif len(levels) > 1:
        c.error("object_marking_refs", f"more than one TLP 2.0 marking ({', '.join(levels)})")


def _check_labels(c: _Checker) -> None:
    labels = c.labels
    kinds = [x for x in labels if x in _KIND_LABELS]
    if len(kinds) > 1:
        c.error("labels", f"an object is one profile kind, not {len(kinds)} ({', '.join(kinds)})")
    for i, label in enumerate(labels):
        if not isinstance(label, str) or not label.startswith("popart-") or label in _KNOWN_LABELS:
            continue
        if not label.startswith(_LABEL_PREFIXES):
            c.error(f"labels[{i}]", f"unknown profile label '{label}'")
        elif label.startswith(CATEGORY_LABEL_PREFIX):
            _check_category(c, label[len(CATEGORY_LABEL_PREFIX) :], f"labels[{i}]")


def _check_category(c: _Checker, category: Any, path: str) -> None:
    if not isinstance(category, str) or not _CATEGORY.match(category) or len(category) > 64:
        c.error(
            path,
            f"category {category!r} is not a lower-case kebab-case word of the detection vocabulary "
            "(e.g. gunshot, crowd-density)",
        )
    elif category not in DETECTION_CATEGORIES:
        c.warning(path, f"category '{category}' is outside popart-detection-category-ov (open vocabulary)")


def _check_context(c: _Checker) -> None:
    ctx = c.ext(CONTEXT_EXT)
    if ctx is None:
        return
    base = f"extensions.{CONTEXT_EXT}"
    kind = ctx.get("sensor_kind")
    if kind is not None and kind not in SENSOR_KINDS:
        c.error(f"{base}.sensor_kind", f"sensor_kind {kind!r} is not one of {', '.join(SENSOR_KINDS)}")
    for name in ("sensor_id", "sensor_name", "venue", "zone", "municipality"):
        c.text(ctx, base, name, required=False)
    _check_sharing(c, ctx, base)


def _check_sharing(c: _Checker, ctx: dict[str, Any], base: str) -> None:
    for name in ("areas", "widened_areas"):
        value = ctx.get(name)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value)
        ):
            c.error(f"{base}.{name}", f"{name} must be a list of non-empty strings")
    recipients = ctx.get("recipients")
    if recipients is not None:
        if not isinstance(recipients, list):
            c.error(f"{base}.recipients", "recipients must be a list of {org, role?, individual?}")
        else:
            for i, r in enumerate(recipients):
                if not isinstance(r, dict) or not isinstance(r.get("org"), str) or not r["org"].strip():
                    c.error(f"{base}.recipients[{i}]", "a recipient names its organisation (org)")
    embargo = ctx.get("embargo_until")
    if embargo is not None:
        parsed = _timestamp(embargo) if isinstance(embargo, str) else None
        if parsed is None or parsed.tzinfo is None:
            c.error(f"{base}.embargo_until", f"embargo_until must be an RFC 3339 UTC timestamp, not {embargo!r}")


def _check_personal_data(c: _Checker) -> None:
    kind = c.obj.get("type")
    pd = c.ext(PERSONAL_DATA_EXT, required_for=f"a profile {kind}" if kind in _FLAGGED_TYPES else None)
    if pd is None:
        return
    base = f"extensions.{PERSONAL_DATA_EXT}"
    if not isinstance(pd.get("personal_data"), bool):
        c.error(f"{base}.personal_data", "missing required extension property 'personal_data' (true/false)")
    if "redacted" in pd and not isinstance(pd["redacted"], bool):
        c.error(f"{base}.redacted", "'redacted' must be true or false")


def _check_detection(c: _Checker) -> None:
    obj = c.obj
    _expect_type(c, "observed-data", LABEL_DETECTION)
    det = c.ext(DETECTION_EXT, required_for="a detection")
    if det is not None:
        base = f"extensions.{DETECTION_EXT}"
        if "category" not in det:
            c.error(f"{base}.category", "missing required extension property 'category'")
        else:
            _check_category(c, det["category"], f"{base}.category")
            for label in c.labels:
                if (
                    isinstance(label, str)
                    and label.startswith(CATEGORY_LABEL_PREFIX)
                    and label[len(CATEGORY_LABEL_PREFIX) :] != det["category"]
                ):
                    c.error("labels", f"label '{label}' contradicts category '{det['category']}'")
        for name in ("detector", "detector_version"):
            c.text(det, base, name, required=True)
        for name in ("model", "model_version", "track_id"):
            c.text(det, base, name, required=False)
        _check_boxes(c, det.get("boxes"), f"{base}.boxes")
        _check_audio(c, det.get("audio_segment"), f"{base}.audio_segment")
    confidence = obj.get("confidence")
    if confidence is None:
        c.error("confidence", "a detection must carry its confidence (0..100)")
    elif not isinstance(confidence, int) or isinstance(confidence, bool) or not 0 <= confidence <= 100:
        c.error("confidence", f"confidence must be an integer in 0..100, not {confidence!r}")
    ctx = c.ext(CONTEXT_EXT, required_for="a detection")
    if ctx is not None:
        for name in ("sensor_id", "sensor_kind"):
            if name not in ctx:
                c.error(f"extensions.{CONTEXT_EXT}.{name}", f"missing required extension property '{name}'")
    first, last = _timestamp(obj.get("first_observed")), _timestamp(obj.get("last_observed"))
    if first and last and last < first:
        c.error("last_observed", "the detection window ends before it starts")


def _check_boxes(c: _Checker, boxes: Any, path: str) -> None:
    if boxes is None:
        return
    if not isinstance(boxes, list):
        c.error(path, "boxes must be a list")
        return
    for i, box in enumerate(boxes):
        where = f"{path}[{i}]"
        if not isinstance(box, dict):
            c.error(where, "a box is an object {x, y, w, h, label, score}")
            continue
        for key in ("x", "y", "w", "h", "score"):
            value: Any = box.get(key)
            if not _number(value) or not 0.0 <= float(value) <= 1.0:
                c.error(f"{where}.{key}", f"{key} must be a number in 0..1 (normalised), not {value!r}")
        if not isinstance(box.get("label"), str) or not box.get("label"):
            c.error(f"{where}.label", "a box needs a label")
        coords: list[Any] = [box.get(k) for k in ("x", "y", "w", "h")]
        if all(_number(v) for v in coords) and (
            float(coords[0]) + float(coords[2]) > 1.000001 or float(coords[1]) + float(coords[3]) > 1.000001
        ):
            c.error(where, "box extends outside the frame (x+w and y+h must be <= 1)")


def _check_audio(c: _Checker, seg: Any, path: str) -> None:
    if seg is None:
        return
    if not isinstance(seg, dict) or not all(_number(seg.get(k)) for k in ("start_s", "end_s", "low_hz", "high_hz")):
        c.error(path, "audio_segment needs numeric start_s, end_s, low_hz and high_hz")
        return
    if seg["start_s"] < 0 or seg["end_s"] < seg["start_s"]:
        c.error(path, "audio_segment must have 0 <= start_s <= end_s")
    if seg["low_hz"] < 0 or seg["high_hz"] <= seg["low_hz"]:
        c.error(path, "audio_segment must have 0 <= low_hz < high_hz")


def _check_evidence(c: _Checker) -> None:
    obj = c.obj
    if "payload_bin" in obj:
        c.error("payload_bin", "evidence must not be inline: give url and hashes, never the raw payload")
    if "SHA-256" not in (obj.get("hashes") or {}):
        c.error("hashes", "evidence must carry its SHA-256 hash")
    pd = c.ext(PERSONAL_DATA_EXT)
    media = str(obj.get("mime_type", "")).startswith(_PERSONAL_MEDIA)
    if pd is not None and media and pd.get("redacted") is not True and pd.get("personal_data") is False:
        c.error(
            f"extensions.{PERSONAL_DATA_EXT}.personal_data",
            "personal data without the flag: unredacted media evidence must have personal_data true",
        )


def _check_alert(c: _Checker) -> None:
    _expect_type(c, "incident", LABEL_ALERT)
    core = c.ext(INCIDENT_CORE_EXT, required_for="an alert")
    if core is None:
        return
    base = f"extensions.{INCIDENT_CORE_EXT}"
    determination = core.get("determination")
    if determination not in INCIDENT_DETERMINATIONS:
        c.error(
            f"{base}.determination",
            f"determination {determination!r} is not one of {', '.join(INCIDENT_DETERMINATIONS)}",
        )
    status = core.get("investigation_status")
    if status not in INVESTIGATION_STATUSES:
        c.error(
            f"{base}.investigation_status",
            f"investigation_status {status!r} is not one of {', '.join(INVESTIGATION_STATUSES)}",
        )
    criticality = core.get("criticality")
    if criticality is not None and (
        not isinstance(criticality, int) or isinstance(criticality, bool) or not 0 <= criticality <= 100
    ):
        c.error(f"{base}.criticality", f"criticality must be an integer in 0..100, not {criticality!r}")


def _check_ack(c: _Checker) -> None:
    obj = c.obj
    _expect_type(c, "note", LABEL_ACK)
    statuses = [
        x[len(STATUS_LABEL_PREFIX) :] for x in c.labels if isinstance(x, str) and x.startswith(STATUS_LABEL_PREFIX)
    ]
    if len(statuses) != 1:
        c.error("labels", f"an acknowledgement carries exactly one '{STATUS_LABEL_PREFIX}<status>' label")
    elif statuses[0] not in ACK_STATUSES:
        c.error("labels", f"status {statuses[0]!r} is not one of {', '.join(ACK_STATUSES)}")
    if not any(isinstance(r, str) and r.startswith("incident--") for r in obj.get("object_refs") or []):
        c.error("object_refs", "an acknowledgement must reference the alert (incident--...)")
    if not obj.get("created_by_ref"):
        c.error("created_by_ref", "an acknowledgement must name who acknowledges (created_by_ref)")
