"""Round trips: stix2.parse without custom content, and STIX 2.1 -> MISP -> STIX 2.1 through misp-stix."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stix2
from misp_stix_converter import ExternalSTIX2toMISPParser, MISPtoSTIX21Parser
from pymisp import MISPEvent

from stix_profiles import validate
from stix_profiles.examples import EXAMPLES


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_stix2_parses_without_custom_content_and_serialises_back(kind: str) -> None:
    bundle = EXAMPLES[kind]()
    parsed = stix2.parse(json.dumps(bundle), allow_custom=False)
    assert json.loads(parsed.serialize()) == bundle


def misp_round_trip(bundle: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (the MISP event as JSON, the STIX 2.1 bundle misp-stix makes from it)."""
    to_misp = ExternalSTIX2toMISPParser()
    to_misp.load_stix_bundle(stix2.parse(json.dumps(bundle), allow_custom=True))
    to_misp.parse_stix_bundle()
    # Reload from JSON as a MISP instance would: misp-stix leaves uuid.UUID values in software objects
    # that its own STIX serialiser cannot encode.
    event = MISPEvent()
    event.load(to_misp.misp_event.to_json())
    to_stix = MISPtoSTIX21Parser()
    to_stix.parse_misp_event(event)
    return json.loads(event.to_json()), json.loads(to_stix.bundle.serialize())


def objects_of(bundle: dict[str, Any], stix_type: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == stix_type]


def test_detection_survives_misp() -> None:
    original = EXAMPLES["detection"]()
    event, back = misp_round_trip(original)
    artifact = objects_of(original, "artifact")[0]
    location = objects_of(original, "location")[0]
    observed = objects_of(original, "observed-data")[0]

    (artifact_back,) = objects_of(back, "artifact")
    assert artifact_back["id"] == artifact["id"]
    assert artifact_back["hashes"] == artifact["hashes"]
    assert (artifact_back["mime_type"], artifact_back["url"]) == (artifact["mime_type"], artifact["url"])
    (location_back,) = objects_of(back, "location")
    assert location_back["id"] == location["id"]
    assert {k: location_back[k] for k in ("latitude", "longitude", "city")} == {
        k: location[k] for k in ("latitude", "longitude", "city")
    }
    observed_back = next(o for o in objects_of(back, "observed-data") if artifact["id"] in o["object_refs"])
    assert (observed_back["first_observed"], observed_back["last_observed"]) == (
        observed["first_observed"],
        observed["last_observed"],
    )
    software = next(o for o in back["objects"] if o["type"] == "x-misp-object" and "software" in str(o["labels"]))
    values = {a["object_relation"]: a["value"] for a in software["x_misp_attributes"]}
    assert (values["name"], values["version"]) == ("violence-clip", "1.4.0")
    tags = {t["name"] for o in event["Object"] for a in o["Attribute"] for t in a.get("Tag", [])}
    assert "tlp:amber" in tags
    assert any(o.get("name") == "TLP:AMBER" for o in objects_of(back, "marking-definition"))


def test_alert_report_survives_misp() -> None:
    original = EXAMPLES["alert-report"]()
    event, back = misp_round_trip(original)
    report = objects_of(original, "report")[0]
    incident = objects_of(original, "incident")[0]
    coa = objects_of(original, "course-of-action")[0]

    assert event["info"] == incident["name"]
    assert {"tlp:amber", "popart-alert-report", "popart-category:violence", "popart-category:gunshot"} <= {
        t["name"] for t in event["Tag"]
    }
    (container,) = [o for o in back["objects"] if o["type"] in ("report", "grouping")]
    assert container["id"].split("--")[1] == report["id"].split("--")[1]
    assert container["name"] == incident["name"]
    assert {"popart-alert-report", "popart-category:violence", "popart-category:gunshot"} <= set(container["labels"])
    assert any(n["content"] == incident["description"] for n in objects_of(back, "note"))
    (coa_back,) = objects_of(back, "course-of-action")
    # MISP keeps a course-of-action as a galaxy cluster, which gets its own uuid.
    assert (coa_back["name"], coa_back["description"]) == (coa["name"], coa["description"])
    hashes = {a["hashes"]["SHA-256"] for a in objects_of(back, "artifact")}
    assert hashes == {a["hashes"]["SHA-256"] for a in objects_of(original, "artifact")}
    assert any(o.get("name") == "TLP:AMBER" for o in objects_of(back, "marking-definition"))


def test_validate_accepts_stix2_objects_and_json_text() -> None:
    bundle = EXAMPLES["acknowledgement"]()
    assert validate(stix2.parse(json.dumps(bundle))) == []
    assert validate(json.dumps(bundle)) == []
    with pytest.raises(TypeError, match="cannot validate a int"):
        validate(42)
