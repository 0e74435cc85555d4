"""Builders for the hub's own messages: alert, guidance, best practice, acknowledgement, retraction."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import stix2

from stix_profiles.common import StixDict, deterministic_id, format_timestamp, now, tlp_marking, to_dict, utc
from stix_profiles.constants import (
    CATEGORY_LABEL_PREFIX,
    CONTEXT_EXT,
    INCIDENT_CORE_EXT,
    LABEL_ACK,
    LABEL_ALERT,
    LABEL_ALERT_REPORT,
    LABEL_BEST_PRACTICE,
    LABEL_GUIDANCE,
    LABEL_RETRACTION,
    PERSONAL_DATA_EXT,
    PROFILE_LABEL,
    STATUS_LABEL_PREFIX,
    TLP_BY_MARKING,
    TlpLevel,
)
from stix_profiles.detection import context_extension, personal_data_extension
from stix_profiles.sharing import Sharing

Determination = Literal["suspected", "confirmed", "false-positive", "blocked", "low-value", "tbd"]
InvestigationStatus = Literal["new", "open", "closed"]
AckStatus = Literal["acknowledged", "on-scene", "resolved"]


def _stamp(created: datetime | None) -> str:
    return format_timestamp(utc(created) if created is not None else now())


def _common(created: str, tlp: str, created_by_ref: str | None) -> dict[str, Any]:
    common: dict[str, Any] = {"created": created, "modified": created}
    common["object_marking_refs"] = [tlp_marking(tlp)]
    if created_by_ref is not None:
        common["created_by_ref"] = created_by_ref
    return common


def build_alert(
    *,
    name: str,
    detection_refs: Sequence[str],
    description: str | None = None,
    categories: Sequence[str] = (),
    determination: Determination = "suspected",
    investigation_status: InvestigationStatus = "new",
    criticality: int | None = None,
    venue: str | None = None,
    zone: str | None = None,
    municipality: str | None = None,
    personal_data: bool = False,
    tlp: TlpLevel = "amber",
    created_by_ref: str | None = None,
    created: datetime | None = None,
    modified: datetime | None = None,
    key: str | None = None,
    sharing: Sharing | None = None,
) -> list[StixDict]:
    """Return an alert: an incident with Incident Core and context extensions, derived from detections.

    The id is derived from `key`, else from the sorted detection ids, so raising it again is idempotent;
    an update (say, determination confirmed) keeps `created` and passes a later `modified`.
    """
    if criticality is not None and not 0 <= criticality <= 100:
        raise ValueError("criticality must be within 0..100")
    stamp = _stamp(created)
    refs = sorted(set(detection_refs))
    incident_id = deterministic_id("incident", key or ("|".join(refs) if refs else f"{name}|{stamp}"))
    core: dict[str, Any] = {
        "extension_type": "property-extension",
        "determination": determination,
        "investigation_status": investigation_status,
    }
    if criticality is not None:
        core["criticality"] = criticality
    if categories:
        core["incident_types"] = sorted(set(categories))
    if refs:
        core["other_object_refs"] = refs
    extensions: dict[str, Any] = {
        INCIDENT_CORE_EXT: core,
        PERSONAL_DATA_EXT: personal_data_extension(personal_data),
    }
    context = context_extension(venue=venue, zone=zone, municipality=municipality, sharing=sharing)
    if len(context) > 1:
        extensions[CONTEXT_EXT] = context
    common = _common(stamp, tlp, created_by_ref)
    if modified is not None:
        common["modified"] = format_timestamp(utc(modified))
        if common["modified"] < stamp:
            raise ValueError("modified must not be before created")
    labels = [PROFILE_LABEL, LABEL_ALERT, *(CATEGORY_LABEL_PREFIX + c for c in sorted(set(categories)))]
    incident = stix2.v21.Incident(
        id=incident_id, name=name, description=description, labels=labels, extensions=extensions, **common
    )
    relationships = [
        stix2.v21.Relationship(
            id=deterministic_id("relationship", incident_id, "derived-from", ref),
            relationship_type="derived-from",
            source_ref=incident_id,
            target_ref=ref,
            **common,
        )
        for ref in refs
    ]
    return [to_dict(incident), *(to_dict(r) for r in relationships)]


def build_alert_report(
    alert: StixDict,
    related: Sequence[StixDict] = (),
    *,
    created_by_ref: str | None = None,
) -> list[StixDict]:
    """Return a report packaging an alert with its detections, evidence and guidance.

    MISP (misp-stix) has no incident converter: the report becomes the MISP event (name, description,
    labels as tags, TLP) and carries the related objects, so an alert survives STIX -> MISP -> STIX.
    """
    if alert.get("type") != "incident":
        raise ValueError("an alert report packages an alert (incident)")
    refs = [alert["id"], *sorted({o["id"] for o in related if o.get("type") != "marking-definition"})]
    categories = [x for x in alert.get("labels", []) if x.startswith(CATEGORY_LABEL_PREFIX)]
    report = stix2.v21.Report(
        id=deterministic_id("report", alert["id"], alert["modified"]),
        name=alert["name"],
        description=alert.get("description"),
        published=alert["modified"],
        report_types=["threat-report"],
        object_refs=refs,
        labels=[PROFILE_LABEL, LABEL_ALERT_REPORT, *categories],
        **_common(alert["modified"], _tlp_of(alert), created_by_ref or alert.get("created_by_ref")),
    )
    return [to_dict(report)]


def build_guidance(
    *,
    alert_ref: str,
    name: str,
    description: str,
    audience: Sequence[str] = (),
    tlp: TlpLevel = "amber",
    created_by_ref: str | None = None,
    created: datetime | None = None,
    sharing: Sharing | None = None,
) -> list[StixDict]:
    """Return guidance for agents on the ground: a course-of-action linked to the alert by a relationship."""
    stamp = _stamp(created)
    common = _common(stamp, tlp, created_by_ref)
    coa_id = deterministic_id("course-of-action", alert_ref, name, stamp)
    labels = [PROFILE_LABEL, LABEL_GUIDANCE, *(f"popart-audience:{a}" for a in sorted(set(audience)))]
    coa = stix2.v21.CourseOfAction(
        id=coa_id, name=name, description=description, labels=labels, **_with_sharing(common, sharing)
    )
    relation = stix2.v21.Relationship(
        id=deterministic_id("relationship", coa_id, "related-to", alert_ref),
        relationship_type="related-to",
        description="guidance-for",
        source_ref=coa_id,
        target_ref=alert_ref,
        **common,
    )
    return [to_dict(coa), to_dict(relation)]


def build_best_practice(
    *,
    title: str,
    content: str,
    created_by_ref: str,
    about_refs: Sequence[str] = (),
    topics: Sequence[str] = (),
    tlp: TlpLevel = "green",
    created: datetime | None = None,
    sharing: Sharing | None = None,
) -> list[StixDict]:
    """Return a best practice: a note labelled `popart-best-practice`, about objects or its author."""
    stamp = _stamp(created)
    common = _common(stamp, tlp, created_by_ref)
    refs = sorted(set(about_refs)) or [created_by_ref]
    labels = [PROFILE_LABEL, LABEL_BEST_PRACTICE, *(f"popart-topic:{t}" for t in sorted(set(topics)))]
    note = stix2.v21.Note(
        id=deterministic_id("note", LABEL_BEST_PRACTICE, created_by_ref, title, stamp),
        abstract=title,
        content=content,
        object_refs=refs,
        labels=labels,
        **_with_sharing(common, sharing),
    )
    return [to_dict(note)]


def build_acknowledgement(
    *,
    alert_ref: str,
    status: AckStatus,
    created_by_ref: str,
    comment: str | None = None,
    tlp: TlpLevel = "amber",
    created: datetime | None = None,
) -> list[StixDict]:
    """Return field feedback on an alert: a note with a status label (acknowledged, on-scene, resolved)."""
    if not alert_ref.startswith("incident--"):
        raise ValueError("an acknowledgement references an alert (incident--...)")
    stamp = _stamp(created)
    note = stix2.v21.Note(
        id=deterministic_id("note", LABEL_ACK, alert_ref, status, created_by_ref, stamp),
        abstract=status,
        content=comment or status,
        object_refs=[alert_ref],
        labels=[PROFILE_LABEL, LABEL_ACK, STATUS_LABEL_PREFIX + status],
        **_common(stamp, tlp, created_by_ref),
    )
    return [to_dict(note)]


def build_retraction(
    obj: StixDict,
    *,
    reason: str,
    created_by_ref: str | None = None,
    tlp: TlpLevel | None = None,
    modified: datetime | None = None,
) -> list[StixDict]:
    """Return the revoked new version of `obj` (STIX `revoked: true`) and a retraction note saying why.

    Only the creator may revoke in STIX, so the new version keeps `created_by_ref`; SCOs cannot be revoked.
    """
    if "created" not in obj or obj["type"] == "marking-definition":
        raise ValueError(f"{obj.get('id')}: only SDOs and SROs can be revoked")
    if obj.get("revoked"):
        raise ValueError(f"{obj['id']} is already revoked")
    stamp = _stamp(modified)
    if stamp <= obj["modified"]:
        raise ValueError(f"{obj['id']}: the revocation must be newer than modified {obj['modified']}")
    revoked = copy.deepcopy(obj)
    revoked["modified"] = stamp
    revoked["revoked"] = True
    level = tlp or _tlp_of(obj)
    author = created_by_ref or obj.get("created_by_ref")
    note = stix2.v21.Note(
        id=deterministic_id("note", LABEL_RETRACTION, obj["id"], stamp),
        abstract="retracted",
        content=reason,
        object_refs=[obj["id"]],
        labels=[PROFILE_LABEL, LABEL_RETRACTION],
        **_common(stamp, level, author),
    )
    return [revoked, to_dict(note)]


def _with_sharing(common: dict[str, Any], sharing: Sharing | None) -> dict[str, Any]:
    if sharing is None or not sharing.payload():
        return common
    return common | {"extensions": {CONTEXT_EXT: context_extension(sharing=sharing)}}


def _tlp_of(obj: StixDict) -> str:
    for ref in obj.get("object_marking_refs", []):
        if ref in TLP_BY_MARKING:
            return TLP_BY_MARKING[ref]
    return "amber"
