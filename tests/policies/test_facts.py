"""object_facts: the one mapping from POP-ART STIX objects to policy facts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from policies import DecisionContext, FactsError, PolicyEngine, object_facts
from policies.facts import marking_id
from stix_profiles import examples
from stix_profiles.constants import CONTEXT_EXT, PERSONAL_DATA_EXT, TLP_MARKINGS


def _by_type(bundle: dict[str, Any], stix_type: str) -> dict[str, Any]:
    return next(o for o in bundle["objects"] if o["type"] == stix_type)


def test_alert_facts_come_from_the_profile_extensions() -> None:
    incident = _by_type(examples.alert(), "incident")
    facts = object_facts(incident)
    assert facts.id == incident["id"] and facts.kind == "alert"
    assert facts.markings == (TLP_MARKINGS["amber"],)
    assert facts.producer_identity == incident["created_by_ref"] and facts.producer_org is None
    assert facts.areas == ("lyon", "villeurbanne")
    assert [(r.org, r.role) for r in facts.recipients] == [("policia-nacional-es", "coordinator")]
    assert facts.venues == ("Stade Municipal",)
    assert facts.created == datetime.fromisoformat(incident["created"])


def test_detection_and_evidence_facts() -> None:
    bundle = examples.detection()
    detection = object_facts(_by_type(bundle, "observed-data"), producer_org="ayto-madrid")
    assert detection.kind == "detection" and detection.producer_org == "ayto-madrid"
    artifact = _by_type(bundle, "artifact")
    received = datetime(2026, 11, 25, 12, tzinfo=UTC)
    evidence = object_facts(artifact, received=received)
    assert evidence.kind == "evidence" and evidence.created == received
    assert evidence.personal_data is artifact["extensions"][PERSONAL_DATA_EXT]["personal_data"]


def test_unflagged_media_counts_as_personal_data() -> None:
    artifact = {"type": "artifact", "id": "artifact--1", "mime_type": "video/mp4", "url": "urn:x"}
    assert object_facts(artifact, received=datetime(2026, 1, 1, tzinfo=UTC)).personal_data is True


def test_sharing_instructions_and_granular_markings() -> None:
    obj = {
        "type": "course-of-action",
        "id": "course-of-action--1",
        "created": "2026-11-25T10:00:00.000Z",
        "object_marking_refs": [TLP_MARKINGS["green"]],
        "granular_markings": [{"marking_ref": TLP_MARKINGS["red"], "selectors": ["description"]}],
        "extensions": {
            CONTEXT_EXT: {
                "extension_type": "property-extension",
                "municipality": "Sevilla",
                "widened_areas": ["Madrid", "*"],
                "embargo_until": "2026-11-26T08:00:00.000Z",
                "recipients": [{"org": "ayto-madrid", "individual": "user-9"}],
            }
        },
    }
    facts = object_facts(obj)
    assert facts.markings == tuple(sorted([marking_id("green"), marking_id("red")]))
    assert facts.areas == ("sevilla",) and facts.widened_areas == ("madrid", "*")
    assert facts.embargo_until == datetime(2026, 11, 26, 8, tzinfo=UTC)
    assert facts.recipients[0].individual == "user-9"


def test_marking_definitions_are_public() -> None:
    marking = _by_type(examples.alert(), "marking-definition")
    assert object_facts(marking).markings == (TLP_MARKINGS["clear"],)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        pytest.param({"type": "incident"}, "'id'", id="no-id"),
        pytest.param({"type": "artifact", "id": "artifact--1"}, "received=", id="no-created"),
        pytest.param({"type": "note", "id": "note--1", "created": "yesterday"}, "not an RFC 3339", id="bad-created"),
        pytest.param(
            {
                "type": "note",
                "id": "note--1",
                "created": "2026-11-25T10:00:00Z",
                "extensions": {CONTEXT_EXT: {"recipients": [{"role": "analyst"}]}},
            },
            "org",
            id="recipient-without-org",
        ),
        pytest.param(
            {"type": "note", "id": "note--1", "created": "2026-11-25T10:00:00"},
            "no time zone",
            id="naive",
        ),
    ],
)
def test_bad_objects_get_a_clear_error(obj: dict[str, Any], message: str) -> None:
    with pytest.raises(FactsError, match=message):
        object_facts(obj)


def test_profile_objects_decide_end_to_end(engine: PolicyEngine) -> None:
    """A profile AMBER alert by the national police reaches its communities within their jurisdiction."""
    incident = dict(_by_type(examples.alert(), "incident"))
    context = dict(incident["extensions"][CONTEXT_EXT], municipality="Madrid", areas=[])
    incident["extensions"] = {**incident["extensions"], CONTEXT_EXT: context}
    facts = object_facts(incident, producer_org="policia-nacional-es")
    decision = engine.decide(facts, DecisionContext(now=datetime(2026, 11, 25, 12, tzinfo=UTC)))
    assert {g.org_id for g in decision.grants} == {"policia-nacional-es", "psp-pt", "ayto-madrid"}
    assert decision.verdict_for("ayto-sevilla").deny == ("jurisdiction.outside_area",)  # type: ignore[union-attr]
