"""Large envelopes are processed in the background: a real `pending` status, and nothing lost across a restart."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from exchange.services.ingest import HOUR_US
from exchange.store.models import Status
from exchange.timestamps import now_micros
from tests.conftest import RunningHub, start_hub, stop_hub
from tests.exchange.stixgen import envelope, note

TAXII = "application/taxii+json;version=2.1"
HP = {"Accept": TAXII, "Content-Type": TAXII}


def wait_complete(c: httpx.Client, status_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = c.get(f"/api1/status/{status_id}/").json()
        assert body["success_count"] + body["failure_count"] + body["pending_count"] == body["total_count"]
        if body["status"] == "complete":
            return body
        time.sleep(0.05)
    raise AssertionError("the add never completed")


def test_large_envelope_is_pending_then_complete(hub: RunningHub) -> None:
    replica = start_hub(hub.hub.settings.database_url, secrets=hub.secrets,
                        settings_overrides={"ingest_sync_max_objects": 5})
    try:
        cid = hub.new_collection(["*"], ["National Police"])
        objs = [note() for _ in range(40)] + [{"type": "note", "id": "note--bad"}]
        with httpx.Client(base_url=replica.url, auth=hub.auth("police"), headers=HP, timeout=30) as c:
            r = c.post(f"/api1/collections/{cid}/objects/", content=json.dumps(envelope(*objs)))
            assert r.status_code == 202
            first = r.json()
            assert first["status"] == "pending"
            assert first["pending_count"] == 41 and first["total_count"] == 41
            assert len(first["pendings"]) == 41
            done = wait_complete(c, first["id"])
            assert (done["success_count"], done["failure_count"], done["pending_count"]) == (40, 1, 0)
            page = c.get(f"/api1/collections/{cid}/objects/", params={"limit": 100}).json()
            assert [o["id"] for o in page["objects"]] == [o["id"] for o in objs[:40]]
    finally:
        stop_hub(replica)


def test_a_pending_add_left_by_a_dead_process_is_resumed_at_start(hub: RunningHub) -> None:
    cid = hub.new_collection(["*"], ["National Police"])
    objs = [note() for _ in range(3)]
    body = json.dumps(envelope(*objs))
    status_id = str(uuid.uuid4())
    with hub.hub.db.read() as session:
        from sqlalchemy import select

        from exchange.store.models import ApiRoot, Organisation

        root = session.execute(select(ApiRoot).where(ApiRoot.name == "api1")).scalar_one()
        org = session.execute(select(Organisation).where(Organisation.name == "National Police")).scalar_one()
    now = now_micros()
    with hub.hub.db.write() as session:  # what a process that crashed after accepting the POST leaves behind
        session.add(Status(id=status_id, api_root_id=root.id, collection_id=cid, org_id=org.id, subject="client:police",
                           status="pending", request_timestamp=now, total_count=3, success_count=0, failure_count=0,
                           pending_count=3, expires_at=now + 24 * HOUR_US,
                           details=[["pending", o["id"], o["modified"], None] for o in objs], envelope=body))
    replica = start_hub(hub.hub.settings.database_url, secrets=hub.secrets)
    try:
        with httpx.Client(base_url=replica.url, auth=hub.auth("police"), headers=HP, timeout=30) as c:
            done = wait_complete(c, status_id)
            assert done["success_count"] == 3
            page = c.get(f"/api1/collections/{cid}/objects/").json()
            assert [o["id"] for o in page["objects"]] == [o["id"] for o in objs]
        with hub.hub.db.read() as session:
            assert session.get(Status, status_id).envelope is None  # type: ignore[union-attr]
    finally:
        stop_hub(replica)


def test_parallel_validation_gives_the_same_outcomes_in_order() -> None:
    """The process pool that checks large envelopes must report exactly what the inline path reports."""
    from exchange.services.validation import PARALLEL_MIN_OBJECTS, ObjectValidator

    objs: list[object] = []
    for i in range(PARALLEL_MIN_OBJECTS + 50):
        o = note(content=f"n{i}")
        if i % 7 == 0:
            o = {k: v for k, v in o.items() if k != "content"}  # a note needs content: only stix2 catches it
        if i % 11 == 0:
            o = dict(o, id="note--bad")
        objs.append(o)
    objs.append("not an object")
    inline = ObjectValidator(deep=True, workers=0).check_many(objs)
    pooled = ObjectValidator(deep=True, workers=2)
    try:
        parallel = pooled.check_many(objs)
    finally:
        pooled.close()
    assert parallel == inline
    assert sum(1 for r in inline if type(r).__name__ == "InvalidObject") == len(
        [i for i in range(PARALLEL_MIN_OBJECTS + 50) if i % 7 == 0 or i % 11 == 0]) + 1
