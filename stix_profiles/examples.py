"""Valid example bundles of each profile kind (CLI `example KIND`, docs and tests)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from stix_profiles.builders import (
    build_acknowledgement,
    build_alert,
    build_alert_report,
    build_best_practice,
    build_guidance,
    build_retraction,
)
from stix_profiles.common import StixDict, deterministic_id, tlp_marking_definition
from stix_profiles.constants import TLP_BY_MARKING
from stix_profiles.detection import (
    AudioSegment,
    BoundingBox,
    DetectionFacts,
    Evidence,
    build_detection_objects,
    detection_id,
)
from stix_profiles.extensions import extension_definitions, profile_identity
from stix_profiles.sharing import Recipient, Sharing

T0 = datetime(2026, 7, 14, 21, 30, 0, tzinfo=UTC)
POLICE_ID = "identity--6b0a1c52-3f2e-4d8a-9c1b-2a7e5f4d3c21"
CITY_ID = "identity--0f4c8e2a-9b1d-4e7f-8a3c-5d6b7e8f9a10"
WORKER_ID = "identity--3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98"


def camera_facts() -> DetectionFacts:
    """A fight detected by a camera, with a redacted still as evidence."""
    return DetectionFacts(
        sensor_id="cam-north-07",
        sensor_kind="camera",
        sensor_name="North stand, gate 7",
        venue="Stade Municipal",
        zone="north-stand",
        municipality="Lyon",
        category="violence",
        confidence=87,
        detector="violence-clip",
        detector_version="1.4.0",
        model="x3d-s-violence",
        model_version="2026.06",
        started=T0,
        ended=T0 + timedelta(seconds=6),
        boxes=[BoundingBox(x=0.41, y=0.22, w=0.12, h=0.35, label="person", score=0.91)],
        latitude=45.7238,
        longitude=4.8320,
        evidence=[Evidence(sha256="9f" * 32, mime_type="image/jpeg", redacted=True, width=1280, height=720)],
        producer_identity_id=WORKER_ID,
    )


def audio_facts() -> DetectionFacts:
    """A gunshot heard by a microphone (no evidence kept)."""
    return DetectionFacts(
        sensor_id="mic-east-02",
        sensor_kind="microphone",
        venue="Stade Municipal",
        zone="east-concourse",
        municipality="Lyon",
        category="gunshot",
        confidence=72,
        detector="impulse-audio",
        detector_version="0.9.2",
        started=T0 + timedelta(seconds=3),
        audio_segment=AudioSegment(start_s=0.10, end_s=0.45, low_hz=300.0, high_hz=6000.0),
        metrics={"spl_db": 121.5},
        producer_identity_id=WORKER_ID,
    )


def _bundle(objects: list[StixDict], *name: str) -> StixDict:
    levels = sorted({r for o in objects for r in o.get("object_marking_refs", [])})
    markings = [tlp_marking_definition(TLP_BY_MARKING[r]) for r in levels if r in TLP_BY_MARKING]
    return {
        "type": "bundle",
        "id": deterministic_id("bundle", "example", *name),
        "objects": objects + markings,
    }


def detection() -> StixDict:
    """Example: a camera detection with evidence and location."""
    return _bundle(build_detection_objects(camera_facts()), "detection")


def audio_detection() -> StixDict:
    """Example: a microphone detection with an audio segment."""
    return _bundle(build_detection_objects(audio_facts()), "audio-detection")


def _alert_objects() -> list[StixDict]:
    return build_alert(
        name="Fight and gunshot near the north stand",
        description="A fight was seen at gate 7 and a gunshot heard on the east concourse.",
        detection_refs=[detection_id(camera_facts()), detection_id(audio_facts())],
        categories=["violence", "gunshot"],
        determination="suspected",
        investigation_status="open",
        criticality=80,
        venue="Stade Municipal",
        municipality="Lyon",
        tlp="amber",
        created_by_ref=POLICE_ID,
        created=T0 + timedelta(seconds=20),
        sharing=Sharing(
            recipients=[Recipient(org="policia-nacional-es", role="coordinator")],
            areas=["villeurbanne"],
        ),
    )


def alert() -> StixDict:
    """Example: an alert (incident + Incident Core) derived from two detections."""
    return _bundle(_alert_objects(), "alert")


def alert_report() -> StixDict:
    """Example: an alert packaged with its detections and guidance (the unit MISP sees as an event)."""
    related = [*build_detection_objects(camera_facts()), *build_detection_objects(audio_facts())]
    related += _guidance_objects()
    alert_objects = _alert_objects()
    return _bundle([*build_alert_report(alert_objects[0], related), *alert_objects, *related], "alert-report")


def _guidance_objects() -> list[StixDict]:
    return build_guidance(
        alert_ref=_alert_objects()[0]["id"],
        name="Secure gate 7 and hold the north stand exit",
        description="Two units to gate 7; stewards keep the north stand exit clear; medical team on standby.",
        audience=["police", "stewards"],
        created_by_ref=POLICE_ID,
        created=T0 + timedelta(seconds=45),
    )


def guidance() -> StixDict:
    """Example: guidance for agents, linked to the alert."""
    return _bundle(_guidance_objects(), "guidance")


def best_practice() -> StixDict:
    """Example: a best practice published by a local authority."""
    objects = build_best_practice(
        title="Stagger stand exits after evening matches",
        content="Open the north and east exits five minutes apart; announce the order on the screens.",
        created_by_ref=CITY_ID,
        topics=["crowd-management"],
        tlp="clear",
        created=T0 + timedelta(days=2),
    )
    return _bundle(objects, "best-practice")


def acknowledgement() -> StixDict:
    """Example: a field unit reports it is on scene."""
    objects = build_acknowledgement(
        alert_ref=_alert_objects()[0]["id"],
        status="on-scene",
        created_by_ref=POLICE_ID,
        comment="Unit 12 at gate 7.",
        created=T0 + timedelta(minutes=3),
    )
    return _bundle(objects, "acknowledgement")


def retraction() -> StixDict:
    """Example: the alert is retracted (revoked new version + retraction note)."""
    objects = build_retraction(
        _alert_objects()[0],
        reason="False alarm: fireworks, not a gunshot; the fight was a staged performance.",
        modified=T0 + timedelta(minutes=10),
    )
    return _bundle(objects, "retraction")


def extensions() -> StixDict:
    """Example: the profile's extension definitions and their author."""
    return _bundle([profile_identity(), *extension_definitions()], "extensions")


EXAMPLES: dict[str, Callable[[], StixDict]] = {
    "detection": detection,
    "audio-detection": audio_detection,
    "alert": alert,
    "alert-report": alert_report,
    "guidance": guidance,
    "best-practice": best_practice,
    "acknowledgement": acknowledgement,
    "retraction": retraction,
    "extensions": extensions,
}


_BLOCK = re.compile(r"(<!-- example: (?P<kind>[a-z-]+) -->\n```json\n)(?P<body>(?:(?!```).)*?)(\n?```)", re.DOTALL)


def doc_examples(markdown: str) -> dict[str, str]:
    """Return the example blocks of the profile documentation, by kind."""
    return {m.group("kind"): m.group("body") for m in _BLOCK.finditer(markdown)}


def render_doc_examples(markdown: str) -> str:
    """Return the documentation with every example block replaced by the current example."""

    def replace(match: re.Match[str]) -> str:
        body = json.dumps(EXAMPLES[match.group("kind")](), indent=2)
        return match.group(1) + body + "\n```"

    return _BLOCK.sub(replace, markdown)
