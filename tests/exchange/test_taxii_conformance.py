"""TAXII 2.1 conformance over HTTP, with the OASIS client and raw httpx, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from tests.conftest import RunningHub
from tests.exchange.stixgen import envelope, incident, location, note, ts

TAXII = "application/taxii+json;version=2.1"
H = {"Accept": TAXII}
HP = {"Accept": TAXII, "Content-Type": TAXII}


def client(hub: RunningHub, who: str = "police") -> httpx.Client:
    return httpx.Client(base_url=hub.url, auth=hub.auth(who), headers=H, timeout=30)


def coll_url(hub: RunningHub, cid: str, root: str = "api1") -> str:
    return f"{hub.url}/{root}/collections/{cid}/"


def post(hub: RunningHub, cid: str, *objects: dict, who: str = "police") -> dict:
    with client(hub, who) as c:
        r = c.post(f"/api1/collections/{cid}/objects/", content=json.dumps(envelope(*objects)), headers=HP)
    assert r.status_code == 202, r.text
    assert r.headers["content-type"] == TAXII
    return r.json()


def assert_taxii_error(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == TAXII
    body = r.json()
    assert body["title"]
    assert body["http_status"] == str(status)
    return body


# --- discovery, API root, collections ---------------------------------------------------------------------


def test_discovery_and_api_roots_with_the_oasis_client(hub: RunningHub) -> None:
    server = Server(f"{hub.url}/taxii2/", user="police", password=hub.secrets["police"])
    assert server.title == "POP-ART Exchange"
    assert server.default.url == hub.root_url("api1")
    assert {r.url for r in server.api_roots} == {hub.root_url("api1"), hub.root_url("small")}
    root = server.default
    assert root.versions == [TAXII]
    assert root.max_content_length == 10 * 1024 * 1024


def test_each_organisation_lists_only_the_collections_it_may_use(hub: RunningHub) -> None:
    def aliases(who: str) -> dict[str, tuple[bool, bool]]:
        root = ApiRoot(hub.root_url(), user=who, password=hub.secrets[who])
        return {c._raw["alias"]: (c.can_read, c.can_write) for c in root.collections}

    police = aliases("police")
    assert police["shared"] == (True, True) and police["police-only"] == (True, True)
    assert "drop-box" not in police
    foreign = aliases("foreign")
    assert foreign["shared"] == (True, True) and "police-only" not in foreign
    madrid = aliases("madrid")
    assert madrid["shared"] == (True, False) and madrid["drop-box"] == (False, True)


def test_collection_by_id_and_alias_and_hidden_collections_are_404(hub: RunningHub) -> None:
    cid = hub.collection_id("police-only")
    with client(hub) as c:
        body = c.get(f"/api1/collections/{cid}/").json()
        assert body["id"] == cid and body["media_types"] == ["application/stix+json;version=2.1"]
        assert c.get("/api1/collections/police-only/").json()["id"] == cid
    with client(hub, "foreign") as c:
        hidden = assert_taxii_error(c.get(f"/api1/collections/{cid}/"), 404)
        missing = assert_taxii_error(c.get(f"/api1/collections/{uuid.uuid4()}/"), 404)
        assert hidden["title"] == missing["title"]  # existence does not leak
        assert_taxii_error(c.get(f"/api1/collections/{cid}/objects/"), 404)
        assert_taxii_error(c.get("/nope/collections/"), 404)


# --- add objects and status ----------------------------------------------------------------------------------


def test_add_objects_and_follow_the_status_with_the_oasis_client(hub: RunningHub) -> None:
    col = Collection(coll_url(hub, hub.collection_id("shared")), user="police", password=hub.secrets["police"])
    objs = [note(), incident(), location()]
    status = col.add_objects(envelope(*objs), wait_for_completion=True, poll_interval=0.2, timeout=30)
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count, status.pending_count) == (3, 3, 0, 0)
    assert {s["id"] for s in status.successes} == {o["id"] for o in objs}
    status.refresh()  # GET {root}/status/{id}/ through the client's own URL arithmetic
    assert status.success_count == 3
    fetched = col.get_object(objs[1]["id"])
    assert fetched["objects"] == [objs[1]]


def test_invalid_objects_fail_with_reasons_and_valid_ones_in_the_same_envelope_are_stored(hub: RunningHub) -> None:
    cid = hub.new_collection(["*"], ["National Police"])
    good = note()
    bad_id = dict(note(), id="note--not-a-uuid")
    bad_ts = dict(note(), modified="yesterday")
    wrong_type = dict(note(), id=f"incident--{uuid.uuid4()}")
    no_spec = {k: v for k, v in note().items() if k != "spec_version"}
    old_modified = dict(note(created=ts(30)), modified=ts(10))
    missing_required = {k: v for k, v in incident().items() if k != "name"}
    status = post(hub, cid, good, bad_id, bad_ts, wrong_type, no_spec, old_modified, missing_required, "not an object")
    assert status["status"] == "complete"
    assert status["total_count"] == 8 and status["success_count"] == 1 and status["failure_count"] == 7
    assert status["success_count"] + status["failure_count"] + status["pending_count"] == status["total_count"]
    reasons = {f["id"]: f["message"] for f in status["failures"]}
    assert "UUID" in reasons["note--not-a-uuid"]
    assert "timestamp" in reasons[bad_ts["id"]]
    assert "must be 'note--" in reasons[wrong_type["id"]]
    assert "spec_version" in reasons[no_spec["id"]]
    assert "earlier than 'created'" in reasons[old_modified["id"]]
    assert "name" in reasons[missing_required["id"]]
    with client(hub) as c:
        objs = c.get(f"/api1/collections/{cid}/objects/").json()["objects"]
    assert [o["id"] for o in objs] == [good["id"]]


def test_reposting_is_idempotent_and_a_conflicting_version_changes_nothing(hub: RunningHub) -> None:
    cid = hub.new_collection(["*"], ["National Police"])
    original = note(content="original")
    assert post(hub, cid, original)["success_count"] == 1
    again = post(hub, cid, original)
    assert again["success_count"] == 1 and again["successes"][0]["message"] == "already stored"
    forged = dict(original, content="tampered")
    conflict = post(hub, cid, forged)
    assert conflict["failure_count"] == 1 and "already stored" in conflict["failures"][0]["message"]
    with client(hub) as c:
        page = c.get(f"/api1/collections/{cid}/objects/", params={"match[version]": "all"}).json()
    assert page["objects"] == [original]


def test_status_is_private_to_the_posting_organisation(hub: RunningHub) -> None:
    status = post(hub, hub.collection_id("shared"), note())
    with client(hub, "police") as c:
        assert c.get(f"/api1/status/{status['id']}/").json()["id"] == status["id"]
    with client(hub, "foreign") as c:
        assert_taxii_error(c.get(f"/api1/status/{status['id']}/"), 404)
        assert_taxii_error(c.get(f"/api1/status/{uuid.uuid4()}/"), 404)


def test_write_only_and_read_only_collections(hub: RunningHub) -> None:
    drop = hub.collection_id("drop-box")
    status = post(hub, drop, note(), who="madrid")
    assert status["success_count"] == 1
    with client(hub, "madrid") as c:
        assert_taxii_error(c.get(f"/api1/collections/{drop}/objects/"), 403)
        r = c.post(f"/api1/collections/{hub.collection_id('shared')}/objects/",
                   content=json.dumps(envelope(note())), headers=HP)
        assert_taxii_error(r, 403)


# --- reading: paging, filters, headers ----------------------------------------------------------------------


def test_one_post_pages_exactly_with_the_oasis_client(hub: RunningHub) -> None:
    """250 objects share one date_added; the keyset cursor still pages them without loss or repeat."""
    cid = hub.new_collection(["*"], ["National Police"])
    objs = [note(content=f"n{i}") for i in range(250)]
    assert post(hub, cid, *objs)["success_count"] == 250
    col = Collection(coll_url(hub, cid), user="foreign", password=hub.secrets["foreign"])
    seen: list[str] = []
    pages = 0
    for page in as_pages(col.get_objects, per_request=100):
        pages += 1
        seen.extend(o["id"] for o in page.get("objects", []))
    assert pages == 3
    assert seen == [o["id"] for o in objs]


def test_next_is_served_by_any_replica_and_rejects_forgery(hub: RunningHub) -> None:
    from tests.conftest import start_hub, stop_hub

    cid = hub.new_collection(["*"], ["National Police"])
    objs = [note() for _ in range(5)]
    post(hub, cid, *objs)
    with client(hub) as c:
        first = c.get(f"/api1/collections/{cid}/objects/", params={"limit": 2}).json()
    assert first["more"] is True
    replica = start_hub(hub.hub.settings.database_url, secrets=hub.secrets)
    try:
        with httpx.Client(base_url=replica.url, auth=hub.auth("police"), headers=H) as c:
            rest = c.get(f"/api1/collections/{cid}/objects/", params={"limit": 10, "next": first["next"]}).json()
            assert [o["id"] for o in first["objects"] + rest["objects"]] == [o["id"] for o in objs]
            assert rest["more"] is False and "next" not in rest
            forged = first["next"][:-2] + ("AA" if not first["next"].endswith("AA") else "BB")
            assert_taxii_error(c.get(f"/api1/collections/{cid}/objects/", params={"next": forged}), 400)
            other = hub.new_collection(["*"], ["National Police"])
            assert_taxii_error(c.get(f"/api1/collections/{other}/objects/", params={"next": first["next"]}), 400)
    finally:
        stop_hub(replica)


def test_added_after_and_date_added_headers(hub: RunningHub) -> None:
    cid = hub.new_collection(["*"], ["National Police"])
    a, b = note(), note()
    post(hub, cid, a)
    post(hub, cid, b)
    with client(hub) as c:
        r = c.get(f"/api1/collections/{cid}/objects/")
        first, last = r.headers["X-TAXII-Date-Added-First"], r.headers["X-TAXII-Date-Added-Last"]
        assert first < last
        manifest = c.get(f"/api1/collections/{cid}/manifest/").json()["objects"]
        assert [m["date_added"] for m in manifest] == [first, last]
        after = c.get(f"/api1/collections/{cid}/objects/", params={"added_after": first})
        assert [o["id"] for o in after.json()["objects"]] == [b["id"]]
        assert after.headers["X-TAXII-Date-Added-First"] == last
        empty = c.get(f"/api1/collections/{cid}/objects/", params={"added_after": last})
        assert empty.json() == {"more": False}
        assert "X-TAXII-Date-Added-First" not in empty.headers


def test_match_id_type_version_and_spec_version(hub: RunningHub) -> None:
    cid = hub.new_collection(["*"], ["National Police"])
    sid = f"incident--{uuid.uuid4()}"
    v1, v2, v3 = (incident(stix_id=sid, created=ts(0), modified=ts(s)) for s in (0, 10, 20))
    n = note()
    post(hub, cid, v2, n)
    post(hub, cid, v3, v1)  # versions arrive out of order
    url = f"/api1/collections/{cid}/objects/"
    with client(hub) as c:
        def ids_versions(**params: str) -> list[tuple[str, str]]:
            body = c.get(url, params=params).json()
            return [(o["id"], o["modified"]) for o in body.get("objects", [])]

        assert ids_versions() == [(n["id"], n["modified"]), (sid, ts(20))]  # default: last, in date_added order
        assert ids_versions(**{"match[id]": sid}) == [(sid, ts(20))]
        assert ids_versions(**{"match[type]": "note"}) == [(n["id"], n["modified"])]
        assert ids_versions(**{"match[type]": "incident,note"}) == ids_versions()
        assert ids_versions(**{"match[id]": sid, "match[version]": "first"}) == [(sid, ts(0))]
        assert ids_versions(**{"match[id]": sid, "match[version]": "all"}) == [(sid, ts(10)), (sid, ts(20)),
                                                                               (sid, ts(0))]
        assert ids_versions(**{"match[id]": sid, "match[version]": "first,last"}) == [(sid, ts(20)), (sid, ts(0))]
        assert ids_versions(**{"match[id]": sid, "match[version]": ts(10)}) == [(sid, ts(10))]
        assert ids_versions(**{"match[spec_version]": "2.1", "match[id]": sid}) == [(sid, ts(20))]
        assert ids_versions(**{"match[spec_version]": "2.0"}) == []
        # single object, versions and manifest
        obj = c.get(f"{url}{sid}/").json()["objects"]
        assert [o["modified"] for o in obj] == [ts(20)]
        obj_all = c.get(f"{url}{sid}/", params={"match[version]": "all", "limit": 2}).json()
        assert obj_all["more"] is True and len(obj_all["objects"]) == 2
        versions = c.get(f"{url}{sid}/versions/")
        assert versions.json() == {"more": False, "versions": [
            "2026-06-01T10:00:10.000000Z", "2026-06-01T10:00:20.000000Z", "2026-06-01T10:00:00.000000Z"]}
        assert "X-TAXII-Date-Added-First" in versions.headers
        manifest = c.get(f"/api1/collections/{cid}/manifest/", params={"match[id]": sid}).json()["objects"]
        assert manifest == [{"id": sid, "date_added": manifest[0]["date_added"],
                             "version": "2026-06-01T10:00:20.000000Z",
                             "media_type": "application/stix+json;version=2.1"}]
        assert_taxii_error(c.get(f"{url}incident--{uuid.uuid4()}/"), 404)
        assert_taxii_error(c.get(f"{url}incident--{uuid.uuid4()}/versions/"), 404)


def test_limit_above_the_maximum_is_capped(hub: RunningHub) -> None:
    cid = hub.new_collection(["*"], ["National Police"])
    post(hub, cid, *[note() for _ in range(3)])
    with client(hub) as c:
        body = c.get(f"/api1/collections/{cid}/objects/", params={"limit": 10**9}).json()
    assert len(body["objects"]) == 3 and body["more"] is False


def test_delete_an_object_and_its_versions(hub: RunningHub) -> None:
    cid = hub.new_collection(["*"], ["National Police"])
    sid = f"incident--{uuid.uuid4()}"
    post(hub, cid, incident(stix_id=sid, modified=ts(1)), incident(stix_id=sid, modified=ts(2)),
         incident(stix_id=sid, modified=ts(3)))
    url = f"/api1/collections/{cid}/objects/{sid}/"
    with client(hub) as c:
        r = c.delete(url, params={"match[version]": ts(3)})
        assert r.status_code == 200
        # the newest remaining version becomes "last"
        assert [o["modified"] for o in c.get(url).json()["objects"]] == [ts(2)]
        assert c.delete(url).status_code == 200
        assert_taxii_error(c.get(url), 404)
        assert_taxii_error(c.delete(url), 404)
    with client(hub, "madrid") as c:  # may read, may not write
        other = post(hub, cid, note())["successes"][0]["id"]
        assert_taxii_error(c.delete(f"/api1/collections/{cid}/objects/{other}/"), 403)


# --- bad input -------------------------------------------------------------------------------------------------


def test_unauthenticated_and_wrong_credentials_get_a_taxii_401(hub: RunningHub) -> None:
    for auth in (None, ("police", "wrong"), ("nobody", "x"), ("police", "")):
        with httpx.Client(base_url=hub.url, headers=H, auth=auth) as c:
            r = c.get("/taxii2/")
            assert_taxii_error(r, 401)
            assert r.headers["www-authenticate"].startswith("Basic")
    with httpx.Client(base_url=hub.url, headers={**H, "Authorization": "Basic !!notbase64"}) as c:
        assert_taxii_error(c.get("/api1/collections/"), 401)
    with httpx.Client(base_url=hub.url, headers={**H, "Authorization": "Bearer abc.def.ghi"}) as c:
        assert_taxii_error(c.get("/api1/collections/"), 401)


@pytest.mark.parametrize("accept", ["application/json", "text/html", "application/taxii+json;version=2.0",
                                    "application/stix+json;version=2.1"])
def test_wrong_accept_is_406(hub: RunningHub, accept: str) -> None:
    with httpx.Client(base_url=hub.url, auth=hub.auth("police"), headers={"Accept": accept}) as c:
        assert_taxii_error(c.get("/api1/collections/"), 406)


@pytest.mark.parametrize("accept", ["application/taxii+json;version=2.1", "application/taxii+json",
                                    "application/taxii+json; version=2.1", "*/*",
                                    "text/html;q=0.9, application/taxii+json;version=2.1"])
def test_acceptable_accept_headers(hub: RunningHub, accept: str) -> None:
    with httpx.Client(base_url=hub.url, auth=hub.auth("police"), headers={"Accept": accept}) as c:
        r = c.get("/api1/collections/")
    assert r.status_code == 200 and r.headers["content-type"] == TAXII


@pytest.mark.parametrize("ctype", ["application/json", "application/stix+json;version=2.1",
                                   "application/taxii+json;version=2.0", ""])
def test_wrong_content_type_is_415_and_stores_nothing(hub: RunningHub, ctype: str) -> None:
    cid = hub.new_collection(["*"], ["National Police"])
    with client(hub) as c:
        headers = {"Accept": TAXII, "Content-Type": ctype} if ctype else {"Accept": TAXII}
        r = c.post(f"/api1/collections/{cid}/objects/", content=json.dumps(envelope(note())), headers=headers)
        assert_taxii_error(r, 415)
        assert c.get(f"/api1/collections/{cid}/objects/").json() == {"more": False}


def test_oversized_bodies_are_413_declared_or_streamed(hub: RunningHub) -> None:
    cid = hub.collection_id("tiny", root="small")
    big = json.dumps(envelope(*[note(content="x" * 500) for _ in range(10)])).encode()
    assert len(big) > 4096
    with client(hub) as c:
        assert_taxii_error(c.post(f"/small/collections/{cid}/objects/", content=big, headers=HP), 413)

        def chunks():  # no Content-Length: the limit is enforced while reading
            for i in range(0, len(big), 1000):
                yield big[i:i + 1000]

        r = c.post(f"/small/collections/{cid}/objects/", content=chunks(), headers=HP)
        assert_taxii_error(r, 413)
        assert c.get(f"/small/collections/{cid}/objects/").json() == {"more": False}


@pytest.mark.parametrize("body,fragment", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "envelope"),
    (b'{"objects": {"a": 1}}', "envelope"),
    (b"\xff\xfe", "not valid JSON"),
])
def test_malformed_bodies_are_400(hub: RunningHub, body: bytes, fragment: str) -> None:
    with client(hub) as c:
        r = c.post(f"/api1/collections/{hub.collection_id('shared')}/objects/", content=body, headers=HP)
    assert fragment in assert_taxii_error(r, 400)["description"]


@pytest.mark.parametrize("params", [
    {"added_after": "yesterday"}, {"limit": "0"}, {"limit": "ten"}, {"match[version]": "newest"},
    {"match[id]": "../../etc/passwd"}, {"match[type]": "Bad_Type"}, {"match[spec_version]": "3.0"},
    {"next": "garbage"}, {"match[unknown]": "x"},
])
def test_bad_filters_are_400(hub: RunningHub, params: dict[str, str]) -> None:
    with client(hub) as c:
        r = c.get(f"/api1/collections/{hub.collection_id('shared')}/objects/", params=params)
    assert_taxii_error(r, 400)


@pytest.mark.parametrize("path", [
    "/api1/collections/{cid}/objects/..%2F..%2Fetc%2Fpasswd/",
    "/api1/collections/{cid}/objects/note--..%2F..%2Fx/",
    "/api1/collections/{cid}/objects/note--1234/versions/",
    "/api1/collections/..%2F{cid}/objects/",
    "/api1/collections/{cid}/objects/%00/",
])
def test_path_tricks_are_refused_cleanly(hub: RunningHub, path: str) -> None:
    with client(hub) as c:
        r = c.get(path.format(cid=hub.collection_id("shared")))
    assert r.status_code in (400, 404)
    assert_taxii_error(r, r.status_code)


def test_unknown_routes_and_methods_answer_with_taxii_errors(hub: RunningHub) -> None:
    with client(hub) as c:
        assert_taxii_error(c.get("/api1/collections/x/objects/y/z/w/"), 404)
        assert_taxii_error(c.put(f"/api1/collections/{hub.collection_id('shared')}/objects/"), 405)


def test_metrics_and_health(hub: RunningHub) -> None:
    with httpx.Client(base_url=hub.url) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        text = c.get("/metrics").text
    assert "popart_http_requests_total" in text and "popart_ingest_objects_total" in text
