"""The live stream: resumable across reconnects and hub restarts, across hub processes, and filtered by
exactly the ACL TAXII applies."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import stop_hub
from tests.portal.conftest import alert, kill, post, serve, taxii_ids
from tests.portal.sse import SseClient


def stream(running, client: str, **kw: str | None) -> SseClient:  # type: ignore[no-untyped-def]
    last = kw.pop("last_event_id", None)
    return SseClient(f"{running.url}/stream/events", running.auth(client), last_event_id=last,
                     params={k: v for k, v in kw.items() if v is not None}).start()


def test_every_alert_exactly_once_in_order_across_a_hub_restart(site_db: tuple[str, dict[str, str]]) -> None:
    url, secrets = site_db
    first = serve(url, secrets)
    posted: list[str] = []
    client = stream(first, "mad-duty", types="incident")
    try:
        for i in range(3):
            a = alert(f"restart before {i}")
            post(first, "pn-coordinator", [a])
            posted.append(a["id"])
        got = [e.json()["id"] for e in client.take(3)]
        assert got == posted
    finally:
        kill(first)  # the hub dies with the stream open
        client.close()
    resume_from = client.last_event_id
    second = serve(url, secrets)
    try:
        while_down = [alert(f"restart gap {i}") for i in range(4)]
        post(second, "pn-coordinator", while_down)  # one envelope: one date_added, consecutive seqs
        posted += [a["id"] for a in while_down]
        resumed = stream(second, "mad-duty", types="incident", last_event_id=resume_from)
        try:
            after = alert("restart after")
            post(second, "pn-coordinator", [after])
            posted.append(after["id"])
            got += [e.json()["id"] for e in resumed.take(5)]
            assert got == posted
            assert resumed.events.empty()
        finally:
            resumed.close()
    finally:
        stop_hub(second)


def test_a_stream_sees_what_another_hub_process_stores(site_db: tuple[str, dict[str, str]]) -> None:
    url, secrets = site_db
    reader, writer = serve(url, secrets), serve(url, secrets)
    client = stream(reader, "pn-coordinator", types="incident")
    try:
        objs = [alert(f"replica {i}", tlp="green") for i in range(3)]
        for a in objs:
            post(writer, "pn-coordinator", [a])
        assert [e.json()["id"] for e in client.take(3)] == [a["id"] for a in objs]
    finally:
        client.close()
        stop_hub(writer)
        stop_hub(reader)


def test_the_stream_applies_the_taxii_acl(site_db: tuple[str, dict[str, str]]) -> None:
    url, secrets = site_db
    running = serve(url, secrets)
    clients = ("pn-coordinator", "psp-analyst", "mad-duty", "sev-duty")
    streams = {c: stream(running, c, types="incident") for c in clients}
    try:
        objs = [alert("acl clear madrid"), alert("acl amber madrid", tlp="amber"),
                alert("acl green sevilla", tlp="green", municipality="sevilla"),
                alert("acl red", tlp="red"), alert("acl personal", personal_data=True, tlp="green")]
        post(running, "pn-coordinator", objs)
        posted = {a["id"] for a in objs}
        marker = alert("acl marker")  # clear: everyone gets it, so each stream has caught up when it arrives
        post(running, "pn-coordinator", [marker])
        for client, s in streams.items():
            seen: set[str] = set()
            while True:
                ev = s.events.get(timeout=20)
                if ev.json()["id"] == marker["id"]:
                    break
                seen.add(ev.json()["id"])
            assert seen == taxii_ids(running, client) & posted, client
        assert not (taxii_ids(running, "sev-duty") & {objs[1]["id"], objs[3]["id"], objs[4]["id"]})
    finally:
        for s in streams.values():
            s.close()
        stop_hub(running)


def test_a_bad_cursor_is_a_clear_400_and_credentials_are_required(site_db: tuple[str, dict[str, str]]) -> None:
    url, secrets = site_db
    running = serve(url, secrets)
    try:
        with httpx.Client(base_url=running.url) as c:
            assert c.get("/stream/events").status_code == 401
            r = c.get("/stream/events", auth=running.auth("mad-duty"), headers={"Last-Event-ID": "garbage"})
            assert r.status_code == 400 and "cursor" in r.json()["description"]
    finally:
        stop_hub(running)


@pytest.mark.parametrize("start", [pytest.param("start", id="from-start")])
def test_from_start_replays_the_visible_history(site_db: tuple[str, dict[str, str]], start: str) -> None:
    url, secrets = site_db
    running = serve(url, secrets)
    try:
        a = alert("history")
        post(running, "pn-coordinator", [a])
        s = stream(running, "sev-duty", types="incident", **{"from": start})
        try:
            ids = []
            while a["id"] not in ids:
                ids.append(s.events.get(timeout=20).json()["id"])
            assert set(ids) <= taxii_ids(running, "sev-duty")
        finally:
            s.close()
    finally:
        stop_hub(running)


def test_an_alert_whose_embargo_lifts_arrives_then_and_only_then(site_db: tuple[str, dict[str, str]]) -> None:
    from datetime import UTC, datetime, timedelta

    from stix_profiles import Sharing

    url, secrets = site_db
    running = serve(url, secrets, stream={"poll_seconds": 0.2, "late_check_seconds": 0.3})
    madrid = stream(running, "mad-duty", types="incident")
    try:
        lifts = datetime.now(UTC) + timedelta(seconds=3)
        held = alert("embargoed until the gates open", sharing=Sharing(embargo_until=lifts))
        post(running, "pn-coordinator", [held])
        assert held["id"] not in taxii_ids(running, "mad-duty")
        first = madrid.events.get(timeout=20)  # nothing else is posted: the next event is the lifted one
        assert first.json()["id"] == held["id"]
        assert datetime.now(UTC) >= lifts and held["id"] in taxii_ids(running, "mad-duty")
        resumed_from = first.id
    finally:
        madrid.close()
    again = stream(running, "mad-duty", types="incident", last_event_id=resumed_from)
    try:
        later = alert("after the embargo")
        post(running, "pn-coordinator", [later])
        assert again.events.get(timeout=20).json()["id"] == later["id"]  # the lifted one is not sent twice
    finally:
        again.close()
        stop_hub(running)
