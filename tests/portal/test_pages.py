"""The portal pages as a logged-in person: every language, labelled controls, the hub's own assets only,
and content that follows the caller's ACL and roles."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest

from exchange.identity.models import Person
from exchange.stream import cursor
from exchange.timestamps import now_micros
from tests.conftest import RunningHub, stop_hub
from tests.portal.conftest import MAD, PN, SEV, alert, post, serve

PAGES = ("/portal/", "/portal/library", "/portal/dashboard")


@pytest.fixture(scope="module")
def running(site_db: tuple[str, dict[str, str]]) -> Iterator[RunningHub]:
    url, secrets = site_db
    hub = serve(url, secrets)
    yield hub
    stop_hub(hub)


def session_of(running: RunningHub, org_id: str, roles: list[str]) -> dict[str, str]:
    """A portal session cookie for a new person (the passkey ceremony itself is covered in tests/e2e)."""
    identity = running.hub.extras["identity"]
    with running.hub.db.write() as s:
        person = Person(id=str(uuid.uuid4()), org_id=org_id, username=f"{uuid.uuid4().hex[:8]}@example.org",
                        display_name="Test person", roles=roles, user_handle=uuid.uuid4().hex, active=True,
                        created_at=now_micros())
        s.add(person)
        s.flush()
        raw = identity.sessions.create(s, person, ip=None)
    return {"Cookie": f"{identity.sessions.cookie_name}={raw}"}


class Controls(HTMLParser):
    """Collects form controls, labels and external references of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str | None] = []
        self.labelled: set[str] = set()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "checkbox"):
            self.controls.append(a.get("id"))
        if tag == "label" and a.get("for"):
            self.labelled.add(str(a["for"]))
        for key in ("src", "href"):
            if a.get(key) and tag in ("script", "link", "img"):
                self.sources.append(str(a[key]))


@pytest.mark.parametrize("lang,word", [pytest.param("en", "Live alerts", id="en"),
                                       pytest.param("es", "Alertas en directo", id="es"),
                                       pytest.param("pt", "Alertas em direto", id="pt")])
def test_pages_in_every_language_are_labelled_and_self_contained(running: RunningHub, lang: str, word: str) -> None:
    headers = session_of(running, PN, ["coordinator", "compliance"])
    with httpx.Client(base_url=running.url, headers=headers) as c:
        for page in (*PAGES, "/portal/publish", "/portal/compliance"):
            r = c.get(page, params={"lang": lang})
            assert r.status_code == 200, (page, r.text[:300])
            assert f'<html lang="{lang}">' in r.text and word in r.text
            assert "default-src 'self'" in r.headers["content-security-policy"]
            parsed = Controls()
            parsed.feed(r.text)
            assert all(i and i in parsed.labelled for i in parsed.controls), (page, parsed.controls)
            assert all(s.startswith("/") and not s.startswith("//") for s in parsed.sources), parsed.sources
        assert c.get("/portal/", headers={"Accept-Language": "pt-PT,pt;q=0.9"}).text.count("Alertas em direto") >= 1


def test_the_board_shows_what_the_organisation_may_see_and_a_stream_cursor(running: RunningHub) -> None:
    mine = alert("board madrid amber", tlp="amber", zone="east-gate", criticality=90, categories=["crowd-density"])
    theirs = alert("board sevilla amber", tlp="amber", municipality="sevilla", zone="west-gate")
    post(running, "pn-coordinator", [mine, theirs])
    with httpx.Client(base_url=running.url, headers=session_of(running, MAD, ["field_officer"])) as c:
        board = c.get("/portal/").text
    assert mine["id"] in board and "board madrid amber" in board and "sev-high" in board
    assert theirs["id"] not in board and "west-gate" not in board
    found = re.search(r'data-cursor="([^"]+)"', board)
    assert found and cursor.decode(found.group(1))
    with httpx.Client(base_url=running.url, headers=session_of(running, SEV, ["field_officer"])) as c:
        assert mine["id"] not in c.get("/portal/").text
        assert c.get("/portal/dashboard").status_code == 200
        assert c.get("/portal/publish").status_code == 403  # not a coordinator
        assert c.get("/portal/compliance").status_code == 404  # not a compliance officer


def test_session_writes_need_the_csrf_token(running: RunningHub) -> None:
    a = alert("csrf check")
    post(running, "pn-coordinator", [a])
    headers = session_of(running, MAD, ["field_officer"])
    with httpx.Client(base_url=running.url, headers=headers) as c:
        r = c.post(f"/portal/alerts/{a['id']}/feedback", json={"status": "acknowledged"})
        assert r.status_code == 401
        page = c.get("/portal/").text
        token = re.search(r'data-csrf="([^"]+)"', page)
        assert token
        r = c.post(f"/portal/alerts/{a['id']}/feedback", json={"status": "acknowledged"},
                   headers={"X-CSRF-Token": token.group(1)})
        assert r.status_code == 201, r.text


def test_library_search_and_topics_and_the_dashboard_counts(running: RunningHub) -> None:
    from stix_profiles import build_best_practice

    note = build_best_practice(title="Stewarding crowd surges", content="Open relief gates early; train stewards.",
                               created_by_ref="identity--" + str(uuid.uuid4()), topics=["training", "crowd"],
                               tlp="clear")
    post(running, "pn-coordinator", note, collection="feedback")
    with httpx.Client(base_url=running.url, headers=session_of(running, SEV, ["field_officer"])) as c:
        assert "Stewarding crowd surges" in c.get("/portal/library", params={"q": "relief gates"}).text
        assert "Stewarding crowd surges" in c.get("/portal/library", params={"topic": "training"}).text
        assert "Stewarding crowd surges" not in c.get("/portal/library", params={"q": "fireworks"}).text
        assert "Stewarding crowd surges" not in c.get("/portal/library", params={"topic": "medical"}).text
    with httpx.Client(base_url=running.url, headers=session_of(running, PN, ["coordinator"])) as c:
        before = int(re.search(r'id="total">(\d+)<', c.get("/portal/dashboard").text).group(1))  # type: ignore[union-attr]
        post(running, "pn-coordinator", [alert("dashboard one", categories=["medical"], zone="fan-zone")])
        page = c.get("/portal/dashboard").text
        assert int(re.search(r'id="total">(\d+)<', page).group(1)) == before + 1  # type: ignore[union-attr]
        assert "fan-zone" in page and "medical" in page
