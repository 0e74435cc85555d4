"""A corpus of broken objects: each is refused by validate() and by check_ingest() with the right reason."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stix_profiles import check_ingest, validate
from stix_profiles.constants import (
    CONTEXT_EXT,
    DETECTION_EXT,
    INCIDENT_CORE_EXT,
    PERSONAL_DATA_EXT,
    TLP_MARKINGS,
)
from stix_profiles.examples import EXAMPLES

Obj = dict[str, Any]


def first(kind: str, stix_type: str) -> Obj:
    return copy.deepcopy(next(o for o in EXAMPLES[kind]()["objects"] if o["type"] == stix_type))


def detection() -> Obj:
    return first("detection", "observed-data")


def det_ext(obj: Obj) -> Obj:
    ext: Obj = obj["extensions"][DETECTION_EXT]
    return ext


def mutate(make: Callable[[], Obj], change: Callable[[Obj], Any]) -> Callable[[], Obj]:
    def build() -> Obj:
        obj = make()
        change(obj)
        return obj

    return build


CORPUS = [
    pytest.param(
        mutate(detection, lambda o: o.pop("object_marking_refs")),
        "object_marking_refs",
        "missing TLP 2.0 marking",
        id="missing-marking",
    ),
    pytest.param(
        mutate(
            detection,
            lambda o: o.update(object_marking_refs=["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"]),
        ),
        "object_marking_refs",
        "missing TLP 2.0 marking",
        id="tlp1-marking-only",
    ),
    pytest.param(
        mutate(detection, lambda o: o.update(object_marking_refs=[TLP_MARKINGS["red"], TLP_MARKINGS["clear"]])),
        "object_marking_refs",
        "more than one TLP 2.0 marking",
        id="two-tlp-levels",
    ),
    pytest.param(
        mutate(detection, lambda o: o.update(confidence=150)),
        "confidence",
        "confidence must be an integer in 0..100",
        id="confidence-range",
    ),
    pytest.param(
        mutate(detection, lambda o: o.pop("confidence")),
        "confidence",
        "must carry its confidence",
        id="confidence-missing",
    ),
    pytest.param(
        mutate(detection, lambda o: det_ext(o).update(category="Gun Shot")),
        f"extensions.{DETECTION_EXT}.category",
        "is not a lower-case kebab-case word",
        id="category-vocabulary",
    ),
    pytest.param(
        mutate(detection, lambda o: det_ext(o).pop("detector_version")),
        f"extensions.{DETECTION_EXT}.detector_version",
        "missing required extension property 'detector_version'",
        id="missing-extension-property",
    ),
    pytest.param(
        mutate(detection, lambda o: o["extensions"].pop(DETECTION_EXT)),
        f"extensions.{DETECTION_EXT}",
        "requires the detection extension",
        id="labelled-detection-without-extension",
    ),
    pytest.param(
        mutate(detection, lambda o: o["extensions"][CONTEXT_EXT].update(sensor_kind="drone")),
        f"extensions.{CONTEXT_EXT}.sensor_kind",
        "sensor_kind 'drone' is not one of camera, microphone, partner",
        id="sensor-kind-vocabulary",
    ),
    pytest.param(
        mutate(detection, lambda o: o["extensions"][CONTEXT_EXT].pop("sensor_id")),
        f"extensions.{CONTEXT_EXT}.sensor_id",
        "missing required extension property 'sensor_id'",
        id="missing-sensor",
    ),
    pytest.param(
        mutate(
            lambda: first("alert", "incident"),
            lambda o: o["extensions"][CONTEXT_EXT].update(recipients=[{"role": "x"}]),
        ),
        f"extensions.{CONTEXT_EXT}.recipients[0]",
        "a recipient names its organisation",
        id="recipient-without-org",
    ),
    pytest.param(
        mutate(detection, lambda o: o["extensions"][CONTEXT_EXT].update(embargo_until="tomorrow")),
        f"extensions.{CONTEXT_EXT}.embargo_until",
        "embargo_until must be an RFC 3339 UTC timestamp",
        id="embargo-not-a-time",
    ),
    pytest.param(
        mutate(detection, lambda o: o["extensions"][CONTEXT_EXT].update(areas="lyon")),
        f"extensions.{CONTEXT_EXT}.areas",
        "areas must be a list of non-empty strings",
        id="areas-not-a-list",
    ),
    pytest.param(
        mutate(detection, lambda o: o["extensions"].pop(PERSONAL_DATA_EXT)),
        f"extensions.{PERSONAL_DATA_EXT}",
        "requires the personal-data extension",
        id="detection-without-personal-data-flag",
    ),
    pytest.param(
        mutate(detection, lambda o: det_ext(o)["boxes"][0].update(w=1.5)),
        f"extensions.{DETECTION_EXT}.boxes[0].w",
        "must be a number in 0..1",
        id="box-range",
    ),
    pytest.param(
        mutate(detection, lambda o: det_ext(o)["boxes"][0].update(x=0.95)),
        f"extensions.{DETECTION_EXT}.boxes[0]",
        "outside the frame",
        id="box-outside-frame",
    ),
    pytest.param(
        mutate(
            detection, lambda o: det_ext(o).update(audio_segment={"start_s": 2, "end_s": 1, "low_hz": 1, "high_hz": 9})
        ),
        f"extensions.{DETECTION_EXT}.audio_segment",
        "start_s <= end_s",
        id="audio-order",
    ),
    pytest.param(
        mutate(detection, lambda o: o.update(labels=[*o["labels"], "popart-urgent"])),
        "labels[3]",
        "unknown profile label 'popart-urgent'",
        id="unknown-label",
    ),
    pytest.param(
        mutate(detection, lambda o: o.update(labels=["popart-profile", "popart-detection", "popart-category:weapon"])),
        "labels",
        "contradicts category 'violence'",
        id="category-label-mismatch",
    ),
    pytest.param(
        mutate(
            lambda: first("detection", "artifact"), lambda o: o["extensions"][PERSONAL_DATA_EXT].update(redacted=False)
        ),
        f"extensions.{PERSONAL_DATA_EXT}.personal_data",
        "personal data without the flag",
        id="unredacted-evidence-unflagged",
    ),
    pytest.param(
        mutate(lambda: first("detection", "artifact"), lambda o: o.update(payload_bin="aGVsbG8=")),
        "payload_bin",
        "evidence must not be inline",
        id="inline-evidence",
    ),
    pytest.param(
        mutate(
            lambda: first("alert", "incident"),
            lambda o: o["extensions"][INCIDENT_CORE_EXT].update(determination="maybe"),
        ),
        f"extensions.{INCIDENT_CORE_EXT}.determination",
        "determination 'maybe' is not one of",
        id="determination-vocabulary",
    ),
    pytest.param(
        mutate(lambda: first("alert", "incident"), lambda o: o["extensions"].pop(INCIDENT_CORE_EXT)),
        f"extensions.{INCIDENT_CORE_EXT}",
        "an alert requires",
        id="alert-without-incident-core",
    ),
    pytest.param(
        mutate(lambda: first("alert", "incident"), lambda o: o["extensions"].pop(PERSONAL_DATA_EXT)),
        f"extensions.{PERSONAL_DATA_EXT}",
        "requires the personal-data extension",
        id="alert-without-personal-data-flag",
    ),
    pytest.param(
        mutate(
            lambda: first("acknowledgement", "note"),
            lambda o: o.update(labels=["popart-acknowledgement", "popart-status:en-route"]),
        ),
        "labels",
        "status 'en-route' is not one of acknowledged, on-scene, resolved",
        id="ack-status-vocabulary",
    ),
    pytest.param(
        mutate(
            lambda: first("acknowledgement", "note"),
            lambda o: o.update(object_refs=["identity--6b0a1c52-3f2e-4d8a-9c1b-2a7e5f4d3c21"]),
        ),
        "object_refs",
        "must reference the alert",
        id="ack-without-alert",
    ),
    pytest.param(
        mutate(lambda: first("guidance", "course-of-action"), lambda o: o.update(type="note")),
        "type",
        "must be course-of-action",
        id="guidance-wrong-type",
    ),
    pytest.param(
        mutate(lambda: first("best-practice", "note"), lambda o: o.pop("created_by_ref")),
        "created_by_ref",
        "must name its author",
        id="best-practice-anonymous",
    ),
]


@pytest.mark.parametrize(("build", "path", "message"), CORPUS)
def test_validate_rejects_with_the_right_message(build: Callable[[], Obj], path: str, message: str) -> None:
    issues = [i for i in validate(build()) if i.severity == "error"]
    assert any(i.path == path and message in i.message for i in issues), [str(i) for i in issues]


@pytest.mark.parametrize(("build", "path", "message"), CORPUS)
def test_check_ingest_rejects_with_the_right_reason(build: Callable[[], Obj], path: str, message: str) -> None:
    reasons = check_ingest(build())
    assert any(r.startswith(f"{path}: ") and message in r for r in reasons), reasons


def test_unknown_extension_property_is_named() -> None:
    obj = detection()
    det_ext(obj)["surprise"] = 1
    issues = validate(obj)
    assert any(i.path == f"extensions.{DETECTION_EXT}" and "unknown property 'surprise'" in i.message for i in issues)


def test_detection_referencing_unflagged_personal_evidence_in_a_bundle() -> None:
    bundle = EXAMPLES["detection"]()
    for obj in bundle["objects"]:
        if obj["type"] == "artifact":
            obj["extensions"][PERSONAL_DATA_EXT].update(redacted=False, personal_data=True)
    issues = validate(bundle)
    observed = next(o for o in bundle["objects"] if o["type"] == "observed-data")
    assert [(i.object_id, i.path) for i in issues] == [
        (observed["id"], f"extensions.{PERSONAL_DATA_EXT}.personal_data")
    ]
    assert "personal data without the flag" in issues[0].message


def test_unknown_category_is_a_warning_not_an_error() -> None:
    obj = detection()
    det_ext(obj)["category"] = "drone-overflight"
    obj["labels"] = ["popart-profile", "popart-detection", "popart-category:drone-overflight"]
    issues = validate(obj)
    assert issues and all(i.severity == "warning" for i in issues)
    assert check_ingest(obj) == []


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param({"type": "indicator", "id": "indicator--1", "labels": ["malicious-activity"]}, id="labelled"),
        pytest.param({"type": "identity", "id": "identity--1", "name": "x"}, id="plain"),
        pytest.param({"type": "x-custom", "extensions": {"extension-definition--other": {}}}, id="foreign-ext"),
    ],
)
def test_check_ingest_ignores_objects_outside_the_profile(obj: Obj) -> None:
    assert check_ingest(obj) == []


def test_check_ingest_accepts_every_example_object() -> None:
    for kind, make in EXAMPLES.items():
        for obj in make()["objects"]:
            assert check_ingest(obj) == [], (kind, obj["id"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(["labels", "extensions", "object_marking_refs", "confidence", "object_refs", "hashes"]),
    value=json_values,
)
def test_check_ingest_never_crashes_on_malformed_profile_objects(field: str, value: Any) -> None:
    obj = detection()
    obj[field] = value
    reasons = check_ingest(obj)
    assert isinstance(reasons, list) and all(isinstance(r, str) for r in reasons)


@settings(max_examples=100, deadline=None)
@given(ext=st.sampled_from([DETECTION_EXT, CONTEXT_EXT, PERSONAL_DATA_EXT]), value=json_values)
def test_check_ingest_never_crashes_on_malformed_extension_payloads(ext: str, value: Any) -> None:
    obj = detection()
    obj["extensions"][ext] = value
    assert isinstance(check_ingest(obj), list)
