"""The portal's actions over HTTP: feedback reaches the alert's producer through ingest and the policy, the
audience preview is exactly what each organisation then receives, and pages need a session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import RunningHub, stop_hub
from tests.portal.conftest import MAD, PN, PSP, SEV, TAXII, alert, post, serve, taxii_ids

CLIENT_OF = {PN: "pn-coordinator", PSP: "psp-analyst", MAD: "mad-duty", SEV: "sev-duty"}
ROLES_OF = {"pn-coordinator": {"coordinator", "analyst"}, "psp-analyst": {"analyst"}, "mad-duty": {"field_officer"},
            "sev-duty": {"field_officer"}}


@pytest.fixture(scope="module")
def running(site_db: tuple[str, dict[str, str]]) -> Iterator[RunningHub]:
    url, secrets = site_db
    hub = serve(url, secrets)
    yield hub
    stop_hub(hub)


def objects_of(hub: RunningHub, client: str, collection: str, type_: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=hub.url, auth=hub.auth(client), headers={"Accept": TAXII}) as c:
        body = c.get(f"/popart/collections/{collection}/objects/", params={"match[type]": type_}).json()
    return list(body.get("objects", []))


def test_feedback_is_an_acknowledgement_the_producer_receives(running: RunningHub) -> None:
    a = alert("portal feedback", tlp="green")
    post(running, "pn-coordinator", [a])
    with httpx.Client(base_url=running.url, auth=running.auth("mad-duty")) as c:
        r = c.post(f"/portal/alerts/{a['id']}/feedback", json={"status": "on-scene", "note": "two units at gate 3"})
        assert r.status_code == 201, r.text
        note_id = r.json()["id"]
        assert c.post(f"/portal/alerts/{a['id']}/feedback", json={"status": "lost"}).status_code == 400
    notes = {n["id"]: n for n in objects_of(running, "pn-coordinator", "feedback", "note")}
    assert note_id in notes
    note = notes[note_id]
    assert note["object_refs"] == [a["id"]] and "popart-status:on-scene" in note["labels"]
    assert note["content"] == "two units at gate 3"
    with httpx.Client(base_url=running.url, auth=running.auth("sev-duty")) as c:  # Sevilla cannot see the alert
        assert c.post(f"/portal/alerts/{a['id']}/feedback", json={"status": "resolved"}).status_code == 404


@pytest.mark.parametrize("form", [
    pytest.param({"name": "preview amber madrid", "tlp": "amber", "municipality": "madrid"}, id="amber-madrid"),
    pytest.param({"name": "preview green sevilla", "tlp": "green", "municipality": "sevilla"}, id="green-sevilla"),
    pytest.param({"name": "preview to psp", "tlp": "amber", "municipality": "madrid", "recipients": [PSP]},
                 id="amber-to-psp"),
    pytest.param({"name": "preview clear", "tlp": "clear", "municipality": "madrid",
                  "guidance_text": "Open gate E2 and direct the crowd north"}, id="clear-with-guidance"),
])
def test_the_preview_is_exactly_what_each_organisation_receives(running: RunningHub, form: dict[str, Any]) -> None:
    with httpx.Client(base_url=running.url, auth=running.auth("pn-coordinator")) as c:
        preview = c.post("/portal/publish/preview", json=form)
        assert preview.status_code == 200, preview.text
        audience = {e["org_id"]: set(e["roles"]) for e in preview.json()["audience"]}
        sent = c.post("/portal/publish", json=form)
        assert sent.status_code == 201, sent.text
        alert_id = sent.json()["id"]
    for org, client in CLIENT_OF.items():
        roles = audience.get(org, set())
        expected = bool(roles & (ROLES_OF[client] | {"*"}))
        assert (alert_id in taxii_ids(running, client)) is expected, (org, audience)
    if form.get("municipality") == "madrid" and form["tlp"] != "clear":
        assert SEV not in audience  # a local authority outside the area receives nothing


def test_publishing_needs_the_coordinator_role_and_a_valid_form(running: RunningHub) -> None:
    with httpx.Client(base_url=running.url, auth=running.auth("mad-duty")) as c:
        assert c.post("/portal/publish/preview", json={"name": "x"}).status_code == 403
    with httpx.Client(base_url=running.url, auth=running.auth("pn-coordinator")) as c:
        for bad in ({"name": ""}, {"name": "x", "tlp": "purple"}, {"name": "x", "criticality": "200"}):
            r = c.post("/portal/publish/preview", json=bad)
            assert r.status_code == 400 and r.json()["description"], bad


def test_pages_send_strangers_to_the_login_and_fragments_need_credentials(running: RunningHub) -> None:
    with httpx.Client(base_url=running.url, follow_redirects=False) as c:
        for page in ("/portal/", "/portal/publish", "/portal/library", "/portal/dashboard", "/portal/compliance"):
            r = c.get(page)
            assert r.status_code == 303 and r.headers["location"] == "/portal/login", page
        assert c.get("/portal/fragments/map").status_code == 401
        css = c.get("/portal/assets/portal.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert c.get("/portal/assets/../views.py").status_code == 404


def test_fragments_follow_the_acl(running: RunningHub) -> None:
    a = alert("fragment amber madrid", tlp="amber")
    post(running, "pn-coordinator", [a])
    with httpx.Client(base_url=running.url, auth=running.auth("mad-duty")) as c:
        r = c.get(f"/portal/fragments/alert/{a['id']}")
        assert r.status_code == 200 and 'data-alert-id="' + a["id"] in r.text
        assert "default-src 'self'" in r.headers["content-security-policy"]
    with httpx.Client(base_url=running.url, auth=running.auth("sev-duty")) as c:
        assert c.get(f"/portal/fragments/alert/{a['id']}").status_code == 404
        assert a["name"] not in c.get("/portal/fragments/map").text
    json.dumps(a)


def test_a_detection_promoted_to_an_alert_brings_its_evidence_to_those_who_may_see_it(running: RunningHub) -> None:
    from stix_profiles.detection import build_detection_objects
    from stix_profiles.examples import camera_facts

    facts = camera_facts().model_copy(update={"municipality": "madrid", "venue": "Estadio", "sensor_id": "cam-e2"})
    detection = build_detection_objects(facts)
    post(running, "pn-coordinator", detection, collection="detections")
    det_id = detection[0]["id"]
    form = {"name": "promoted fight", "tlp": "green", "municipality": "madrid", "zone": "north-stand",
            "detections": [det_id]}
    with httpx.Client(base_url=running.url, auth=running.auth("pn-coordinator")) as c:
        sent = c.post("/portal/publish", json=form)
        assert sent.status_code == 201, sent.text
        alert_id = sent.json()["id"]
        card = c.get(f"/portal/fragments/alert/{alert_id}").text
        assert "sha256 9f9f9f9f" in card  # the evidence the police may see (kept by the sensor operator)
        bad = c.post("/portal/publish/preview", json={**form, "detections": ["observed-data--" + "0" * 36]})
        assert bad.status_code == 404
    with httpx.Client(base_url=running.url, auth=running.auth("mad-duty")) as c:
        card = c.get(f"/portal/fragments/alert/{alert_id}").text
        assert "promoted fight" in card and "sha256" not in card  # Madrid gets the alert, not the detection
        assert c.post("/portal/publish/preview", json=form).status_code == 403
