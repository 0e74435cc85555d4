"""Builders of the hub's messages: every output passes stix2-validator strict with the profile's schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stix_profiles import (
    Recipient,
    Sharing,
    build_acknowledgement,
    build_alert,
    build_alert_report,
    build_best_practice,
    build_guidance,
    build_retraction,
    validate,
)
from stix_profiles.constants import (
    CONTEXT_EXT,
    INCIDENT_CORE_EXT,
    LABEL_ACK,
    LABEL_BEST_PRACTICE,
    LABEL_GUIDANCE,
    LABEL_RETRACTION,
    TLP_MARKINGS,
)
from stix_profiles.examples import CITY_ID, EXAMPLES, POLICE_ID, T0

DETECTIONS = [
    "observed-data--4c1f2b3e-f23c-48f8-ab5c-eddc1ca9ef0f",
    "observed-data--0d4b6a7e-1c2d-4e3f-8a9b-0c1d2e3f4a5b",
]


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_every_example_passes_strict_validator_and_profile(kind: str, strict_errors: Any) -> None:
    bundle = EXAMPLES[kind]()
    assert strict_errors(bundle) == []
    for obj in bundle["objects"]:
        assert strict_errors(obj) == [], obj["id"]
    assert validate(bundle) == []


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_every_object_is_tlp_marked(kind: str) -> None:
    for obj in EXAMPLES[kind]()["objects"]:
        if obj["type"] == "marking-definition":
            continue
        assert set(obj["object_marking_refs"]) & set(TLP_MARKINGS.values()), obj["id"]


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_examples_are_deterministic(kind: str) -> None:
    assert json.dumps(EXAMPLES[kind]()) == json.dumps(EXAMPLES[kind]())


def alert(**changes: Any) -> list[dict[str, Any]]:
    args: dict[str, Any] = {
        "name": "Fight at gate 7",
        "detection_refs": DETECTIONS,
        "categories": ["violence"],
        "created_by_ref": POLICE_ID,
        "created": T0,
        "venue": "Stade Municipal",
    }
    return build_alert(**(args | changes))


def test_alert_links_detections_with_incident_core_and_relationships(strict_errors: Any) -> None:
    incident, *relations = alert(determination="confirmed", criticality=90, tlp="red")
    core = incident["extensions"][INCIDENT_CORE_EXT]
    assert core["determination"] == "confirmed" and core["investigation_status"] == "new"
    assert core["criticality"] == 90 and core["other_object_refs"] == sorted(DETECTIONS)
    assert incident["extensions"][CONTEXT_EXT]["venue"] == "Stade Municipal"
    assert sorted(r["target_ref"] for r in relations) == sorted(DETECTIONS)
    assert {r["relationship_type"] for r in relations} == {"derived-from"}
    assert all(o["object_marking_refs"] == [TLP_MARKINGS["red"]] for o in [incident, *relations])
    for obj in [incident, *relations]:
        assert strict_errors(obj) == []
    assert validate([incident, *relations]) == []


def test_alert_id_depends_on_detections_not_on_order() -> None:
    assert alert()[0]["id"] == alert(detection_refs=list(reversed(DETECTIONS)))[0]["id"]
    assert alert()[0]["id"] != alert(detection_refs=DETECTIONS[:1])[0]["id"]
    assert alert(key="ops-42")[0]["id"] == alert(key="ops-42", detection_refs=[])[0]["id"]


def test_alert_update_keeps_id_and_created() -> None:
    first = alert()[0]
    update = alert(determination="confirmed", modified=T0 + timedelta(minutes=2))[0]
    assert (update["id"], update["created"]) == (first["id"], first["created"])
    assert update["modified"] > first["modified"]
    with pytest.raises(ValueError, match="modified must not be before created"):
        alert(modified=T0 - timedelta(minutes=2))


def test_sharing_instructions_on_alert_and_guidance() -> None:
    sharing = Sharing(recipients=[Recipient(org="ayto-madrid", role="analyst")], areas=["Sevilla"])
    incident = alert(sharing=sharing)[0]
    assert incident["extensions"][CONTEXT_EXT]["recipients"] == [{"org": "ayto-madrid", "role": "analyst"}]
    assert incident["extensions"][CONTEXT_EXT]["areas"] == ["Sevilla"]
    coa, _ = build_guidance(alert_ref=incident["id"], name="n", description="d", created=T0, sharing=sharing)
    assert coa["extensions"][CONTEXT_EXT]["areas"] == ["Sevilla"]
    assert validate([incident, coa]) == []


def test_alert_refuses_criticality_out_of_range() -> None:
    with pytest.raises(ValueError, match="criticality"):
        alert(criticality=101)


def test_guidance_is_a_course_of_action_linked_to_the_alert() -> None:
    incident = alert()[0]
    coa, relation = build_guidance(
        alert_ref=incident["id"], name="Hold exit", description="Keep the exit clear.", created=T0
    )
    assert coa["type"] == "course-of-action" and LABEL_GUIDANCE in coa["labels"]
    assert (relation["source_ref"], relation["target_ref"]) == (coa["id"], incident["id"])


def test_best_practice_defaults_to_tlp_clear_green_and_references_its_author() -> None:
    (note,) = build_best_practice(title="Stagger exits", content="...", created_by_ref=CITY_ID, created=T0)
    assert note["type"] == "note" and LABEL_BEST_PRACTICE in note["labels"]
    assert note["object_refs"] == [CITY_ID] and note["object_marking_refs"] == [TLP_MARKINGS["green"]]


@pytest.mark.parametrize("status", ["acknowledged", "on-scene", "resolved"])
def test_acknowledgement_statuses(status: str) -> None:
    incident = alert()[0]
    (note,) = build_acknowledgement(alert_ref=incident["id"], status=status, created_by_ref=POLICE_ID, created=T0)
    assert note["object_refs"] == [incident["id"]]
    assert LABEL_ACK in note["labels"] and f"popart-status:{status}" in note["labels"]
    assert validate(note) == []


def test_acknowledgement_must_reference_an_alert() -> None:
    with pytest.raises(ValueError, match="incident"):
        build_acknowledgement(alert_ref=DETECTIONS[0], status="resolved", created_by_ref=POLICE_ID)


def test_retraction_revokes_a_new_version_and_explains(strict_errors: Any) -> None:
    incident = alert()[0]
    revoked, note = build_retraction(incident, reason="false alarm", modified=T0 + timedelta(minutes=5))
    assert revoked["id"] == incident["id"] and revoked["revoked"] is True
    assert revoked["modified"] > incident["modified"] and revoked["created"] == incident["created"]
    assert "revoked" not in incident
    assert LABEL_RETRACTION in note["labels"] and note["object_refs"] == [incident["id"]]
    assert note["object_marking_refs"] == incident["object_marking_refs"]
    assert strict_errors(revoked) == [] and validate([revoked, note]) == []


@pytest.mark.parametrize(
    ("target", "modified", "message"),
    [
        pytest.param("alert", T0, "newer than", id="not-newer"),
        pytest.param("revoked", T0 + timedelta(hours=1), "already revoked", id="twice"),
        pytest.param("sco", T0 + timedelta(hours=1), "only SDOs and SROs", id="sco"),
    ],
)
def test_retraction_refuses(target: str, modified: datetime, message: str) -> None:
    incident = alert()[0]
    obj = {
        "alert": incident,
        "revoked": incident | {"revoked": True},
        "sco": {"type": "artifact", "id": "artifact--1", "url": "x"},
    }[target]
    with pytest.raises(ValueError, match=message):
        build_retraction(obj, reason="x", modified=modified)


def test_alert_report_packages_the_alert() -> None:
    incident = alert()[0]
    (report,) = build_alert_report(incident, [{"type": "observed-data", "id": DETECTIONS[0]}])
    assert report["object_refs"] == [incident["id"], DETECTIONS[0]]
    assert report["name"] == incident["name"] and "popart-category:violence" in report["labels"]
    assert report["object_marking_refs"] == incident["object_marking_refs"]


def test_builders_without_created_use_now() -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    (note,) = build_best_practice(title="t", content="c", created_by_ref=CITY_ID)
    assert datetime.fromisoformat(note["created"].replace("Z", "+00:00")) >= before
