"""The detector workers' contract: DetectionFacts and build_detection_bundle."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from stix_profiles import (
    AudioSegment,
    BoundingBox,
    DetectionFacts,
    Evidence,
    Recipient,
    Sharing,
    build_detection_bundle,
    detection_id,
    validate,
)
from stix_profiles.constants import CONTEXT_EXT, DETECTION_EXT, PERSONAL_DATA_EXT, TLP_MARKINGS
from stix_profiles.examples import audio_facts, camera_facts

T0 = datetime(2026, 7, 14, 21, 30, tzinfo=UTC)


def facts(**changes: Any) -> DetectionFacts:
    """The camera example with some fields changed (validated like worker input)."""
    return DetectionFacts.model_validate({**camera_facts().model_dump(), **changes})


def by_type(bundle: dict[str, Any], stix_type: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == stix_type]


@pytest.mark.parametrize("make", [camera_facts, audio_facts], ids=["camera", "microphone"])
def test_bundle_passes_strict_validator(make: Any, strict_errors: Any) -> None:
    bundle = build_detection_bundle(make())
    assert strict_errors(bundle) == []
    assert validate(bundle) == []
    json.dumps(bundle)


def test_bundle_carries_the_facts() -> None:
    bundle = build_detection_bundle(camera_facts())
    (observed,) = by_type(bundle, "observed-data")
    det = observed["extensions"][DETECTION_EXT]
    assert det["category"] == "violence" and det["detector_version"] == "1.4.0" and det["model"] == "x3d-s-violence"
    assert det["boxes"] == [{"x": 0.41, "y": 0.22, "w": 0.12, "h": 0.35, "label": "person", "score": 0.91}]
    assert observed["extensions"][CONTEXT_EXT]["zone"] == "north-stand"
    assert observed["confidence"] == 87
    assert observed["first_observed"] == "2026-07-14T21:30:00Z"
    assert observed["last_observed"] == "2026-07-14T21:30:06Z"
    assert observed["object_marking_refs"] == [TLP_MARKINGS["amber"]]
    (artifact,) = by_type(bundle, "artifact")
    assert artifact["hashes"] == {"SHA-256": "9f" * 32} and "payload_bin" not in artifact
    assert artifact["id"] in observed["object_refs"]
    (location,) = by_type(bundle, "location")
    assert (location["latitude"], location["longitude"], location["city"]) == (45.7238, 4.832, "Lyon")
    (relation,) = by_type(bundle, "relationship")
    assert (relation["source_ref"], relation["target_ref"]) == (observed["id"], location["id"])
    assert by_type(bundle, "marking-definition")[0]["id"] == TLP_MARKINGS["amber"]


def test_audio_segment_and_metrics() -> None:
    observed = by_type(build_detection_bundle(audio_facts()), "observed-data")[0]
    det = observed["extensions"][DETECTION_EXT]
    assert det["audio_segment"] == {"start_s": 0.1, "end_s": 0.45, "low_hz": 300.0, "high_hz": 6000.0}
    assert det["metrics"] == {"spl_db": 121.5}


def test_replay_gives_byte_identical_bundle() -> None:
    first = json.dumps(build_detection_bundle(camera_facts()), sort_keys=True)
    again = json.dumps(build_detection_bundle(DetectionFacts.model_validate_json(camera_facts().model_dump_json())))
    assert json.dumps(json.loads(again), sort_keys=True) == first


def test_same_instant_in_another_timezone_gives_same_ids() -> None:
    paris = timezone(timedelta(hours=2))
    shifted = facts(started=T0.astimezone(paris), ended=(T0 + timedelta(seconds=6)).astimezone(paris))
    shifted = DetectionFacts.model_validate(shifted.model_dump())
    assert [o["id"] for o in build_detection_bundle(shifted)["objects"]] == [
        o["id"] for o in build_detection_bundle(camera_facts())["objects"]
    ]


def test_update_of_ongoing_detection_is_a_new_version_of_the_same_object() -> None:
    first = by_type(build_detection_bundle(camera_facts()), "observed-data")[0]
    later = facts(ended=T0 + timedelta(seconds=30))
    updated = by_type(build_detection_bundle(later), "observed-data")[0]
    assert updated["id"] == first["id"]
    assert updated["created"] == first["created"] == "2026-07-14T21:30:00.000Z"
    assert updated["modified"] > first["modified"]
    location_ids = {
        o["id"]: o["created"] for b in (camera_facts(), later) for o in by_type(build_detection_bundle(b), "location")
    }
    assert len(location_ids) == 1


def test_frame_size_comes_from_the_evidence() -> None:
    det = by_type(build_detection_bundle(camera_facts()), "observed-data")[0]["extensions"][DETECTION_EXT]
    assert (det["frame_width"], det["frame_height"]) == (1280, 720)


def test_sharing_instructions_travel_in_the_context_extension() -> None:
    sharing = Sharing(
        recipients=[Recipient(org="psp-pt")],
        widened_areas=["*"],
        embargo_until=datetime(2026, 7, 15, 6, tzinfo=UTC),
    )
    bundle = build_detection_bundle(facts(sharing=sharing.model_dump()))
    context = by_type(bundle, "observed-data")[0]["extensions"][CONTEXT_EXT]
    assert context["recipients"] == [{"org": "psp-pt"}]
    assert context["widened_areas"] == ["*"] and context["embargo_until"] == "2026-07-15T06:00:00.000Z"
    assert validate(bundle) == []


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"sensor_id": "cam-south-01"}, id="sensor"),
        pytest.param({"category": "weapon"}, id="category"),
        pytest.param({"started": T0 + timedelta(seconds=1)}, id="window"),
        pytest.param({"track_id": "t-2"}, id="track"),
    ],
)
def test_identity_of_a_detection(change: dict[str, Any]) -> None:
    assert detection_id(facts(**change)) != detection_id(camera_facts())


def test_ids_are_uuid4_shaped_for_sdos_and_uuid5_for_scos() -> None:
    for obj in build_detection_bundle(camera_facts())["objects"]:
        version = uuid.UUID(obj["id"].split("--")[1]).version
        if obj["type"] in ("artifact", "software"):
            assert version == 5
        elif obj["type"] != "marking-definition":
            assert version == 4, obj["id"]


def test_unredacted_image_flags_personal_data() -> None:
    raw = Evidence(sha256="ab" * 32, mime_type="image/jpeg", redacted=False)
    bundle = build_detection_bundle(facts(evidence=[raw], personal_data=False))
    observed, artifact = by_type(bundle, "observed-data")[0], by_type(bundle, "artifact")[0]
    assert observed["extensions"][PERSONAL_DATA_EXT]["personal_data"] is True
    assert artifact["extensions"][PERSONAL_DATA_EXT] == {
        "extension_type": "property-extension",
        "personal_data": True,
        "redacted": False,
    }
    assert validate(bundle) == []


def test_unregistered_media_type_is_left_out_but_still_flags_personal_data() -> None:
    wav = Evidence(sha256="cd" * 32, mime_type="audio/wav", redacted=False)
    bundle = build_detection_bundle(facts(evidence=[wav]))
    artifact = by_type(bundle, "artifact")[0]
    assert "mime_type" not in artifact
    assert artifact["extensions"][PERSONAL_DATA_EXT]["personal_data"] is True
    assert by_type(bundle, "observed-data")[0]["extensions"][PERSONAL_DATA_EXT]["personal_data"] is True
    assert validate(bundle) == []


def test_evidence_without_url_gets_a_content_address() -> None:
    artifact = by_type(build_detection_bundle(camera_facts()), "artifact")[0]
    assert artifact["url"] == "urn:popart:evidence:sha256:" + "9f" * 32


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda: facts(started=datetime(2026, 7, 14, 21, 30)), "timezone-aware", id="naive-time"),
        pytest.param(lambda: facts(ended=T0 - timedelta(seconds=1)), "ended must not be before", id="window"),
        pytest.param(lambda: facts(modified=T0 - timedelta(seconds=1)), "modified must not be before", id="modified"),
        pytest.param(lambda: facts(confidence=101), "less than or equal to 100", id="confidence"),
        pytest.param(lambda: facts(category="Gun Shot"), "should match pattern", id="category"),
        pytest.param(lambda: facts(sensor_kind="drone"), "camera", id="sensor-kind"),
        pytest.param(lambda: facts(latitude=45.0, longitude=None), "go together", id="half-position"),
        pytest.param(lambda: facts(tlp="white"), r"amber\+strict", id="tlp"),
        pytest.param(lambda: facts(colour="red"), "Extra inputs are not permitted", id="typo"),
        pytest.param(
            lambda: BoundingBox(x=0.9, y=0.1, w=0.2, h=0.1, label="person", score=0.5), "outside the frame", id="box"
        ),
        pytest.param(lambda: AudioSegment(start_s=1, end_s=0.5, low_hz=1, high_hz=2), "end_s", id="audio-order"),
        pytest.param(lambda: Evidence(sha256="xyz", mime_type="image/png", redacted=True), "64 hex", id="hash"),
    ],
)
def test_bad_facts_are_refused_with_a_clear_error(build: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        build()


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)
unit = st.floats(0.0, 0.5)
boxes = st.builds(BoundingBox, x=unit, y=unit, w=unit, h=unit, label=text, score=st.floats(0.0, 1.0))
segments = st.builds(
    lambda a, b, lo, hi: AudioSegment(start_s=a, end_s=a + b, low_hz=lo, high_hz=lo + hi),
    st.floats(0, 60),
    st.floats(0, 60),
    st.floats(0, 8000),
    st.floats(1, 8000),
)
evidence = st.builds(
    Evidence,
    sha256=st.text("0123456789abcdef", min_size=64, max_size=64),
    mime_type=st.sampled_from(["image/jpeg", "video/mp4", "audio/wav", "application/json"]),
    redacted=st.booleans(),
    width=st.none() | st.integers(1, 8000),
    height=st.none() | st.integers(1, 8000),
)


@settings(max_examples=40, deadline=None)
@given(
    sensor_id=text,
    sensor_kind=st.sampled_from(["camera", "microphone", "partner"]),
    place=st.none() | text,
    category=st.from_regex(r"\A[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6}){0,2}\Z"),
    confidence=st.integers(0, 100),
    started=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    duration=st.none() | st.integers(0, 10**6),
    boxes=st.lists(boxes, max_size=3),
    segment=st.none() | segments,
    position=st.none() | st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
    evidence=st.lists(evidence, max_size=2),
    personal_data=st.booleans(),
    tlp=st.sampled_from(["clear", "green", "amber", "amber+strict", "red"]),
)
def test_any_valid_facts_give_a_valid_bundle(
    sensor_id: str,
    sensor_kind: Any,
    place: str | None,
    category: str,
    confidence: int,
    started: datetime,
    duration: int | None,
    boxes: list[BoundingBox],
    segment: AudioSegment | None,
    position: tuple[float, float] | None,
    evidence: list[Evidence],
    personal_data: bool,
    tlp: Any,
) -> None:
    detection = DetectionFacts(
        sensor_id=sensor_id,
        sensor_kind=sensor_kind,
        venue=place,
        zone=place,
        municipality=place,
        category=category,
        confidence=confidence,
        detector="d",
        detector_version="1",
        started=started,
        ended=None if duration is None else started + timedelta(milliseconds=duration),
        boxes=boxes,
        audio_segment=segment,
        latitude=position[0] if position else None,
        longitude=position[1] if position else None,
        evidence=evidence,
        personal_data=personal_data,
        tlp=tlp,
    )
    bundle = build_detection_bundle(detection)
    assert [str(i) for i in validate(bundle) if i.severity == "error"] == []
    assert build_detection_bundle(detection) == bundle
