"""Passkeys over HTTP with a software authenticator: invitation, registration, login, sessions, and attacks
(replay, wrong origin or RP id, sign-count regression, CSRF, session fixation, timeouts)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from exchange.identity.models import WebSession
from exchange.identity.sessions import hash_id
from exchange.services import orgs
from exchange.timestamps import now_micros
from tests.conftest import RunningHub, free_port
from tests.identity.conftest import events_of, get_token, identity_of, serve_hub, stop
from tests.identity.softkey import SoftKey

COOKIE = "__Host-popart_session"


@pytest.fixture(scope="module")
def hub(fresh_db_url: str) -> Iterator[RunningHub]:
    port = free_port()
    running = serve_hub(fresh_db_url, host_name="localhost", port=port)
    running.extra["origin"] = f"http://localhost:{port}"
    running.extra["base"] = f"http://127.0.0.1:{port}"
    yield running
    stop(running)


class Browser:
    """Just enough of a browser: one origin, one cookie, a passkey or several."""

    def __init__(self, hub: RunningHub) -> None:
        self.hub = hub
        self.origin = str(hub.extra["origin"])
        self.cookie: str | None = None
        self.csrf: str | None = None

    def post(self, path: str, body: dict[str, Any] | None = None, *, form: dict[str, str] | None = None,
             origin: str | None = None, csrf: bool = False) -> httpx.Response:
        headers = {"Origin": origin or self.origin}
        if self.cookie:
            headers["Cookie"] = f"{COOKIE}={self.cookie}"
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        url = f"{self.hub.extra['base']}{path}"
        if form is not None:
            return httpx.post(url, data=form, headers=headers, timeout=30)
        return httpx.post(url, json=body or {}, headers=headers, timeout=30)

    def get(self, path: str) -> httpx.Response:
        headers = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}
        return httpx.get(f"{self.hub.extra['base']}{path}", headers=headers, timeout=30)

    def take_cookie(self, response: httpx.Response) -> None:
        jar = SimpleCookie(response.headers["set-cookie"])
        self.cookie = jar[COOKIE].value
        self.csrf = identity_of(self.hub).sessions.csrf_token(self.cookie)

    def register(self, key: SoftKey, invitation: str | None = None, **create_kw: Any) -> httpx.Response:
        base = {"invitation": invitation} if invitation else {}
        options = self.post("/auth/passkeys/register/options", base, csrf=True)
        assert options.status_code == 200, options.text
        credential = key.create(options.json(), **create_kw)
        return self.post("/auth/passkeys/register", base | {"credential": credential, "name": "test key"}, csrf=True)

    def login(self, key: SoftKey, **get_kw: Any) -> httpx.Response:
        options = self.post("/auth/passkeys/login/options")
        assert options.status_code == 200, options.text
        return self.post("/auth/passkeys/login", {"credential": key.get(options.json(), **get_kw)})

    def whoami(self) -> httpx.Response:
        return self.get("/auth/whoami")


def invite(hub: RunningHub, roles: list[str] | None = None) -> tuple[str, str]:
    username = f"officer-{uuid.uuid4().hex[:8]}@madrid.example"
    _, token = identity_of(hub).passkeys.invite(organisation="City of Madrid", username=username,
                                                display_name="Duty Officer", roles=roles or ["field_officer"],
                                                actor="test")
    return username, token


def key_for(hub: RunningHub) -> SoftKey:
    return SoftKey(origin=str(hub.extra["origin"]), rp_id="localhost")


def enrolled(hub: RunningHub) -> tuple[Browser, SoftKey, str]:
    """A person registered from an invitation, logged in."""
    browser, key = Browser(hub), key_for(hub)
    username, token = invite(hub)
    r = browser.register(key, token)
    assert r.status_code == 200, r.text
    browser.take_cookie(r)
    return browser, key, username


def refusals(hub: RunningHub, kind: str) -> list[str]:
    return [e.details["reason"] for e in events_of(hub, kind, "refused")]


# --- the happy path ----------------------------------------------------------------------------------------


def test_register_from_an_invitation_then_log_in(hub: RunningHub) -> None:
    browser, key = Browser(hub), key_for(hub)
    username, token = invite(hub)
    page = httpx.get(f"{hub.extra['base']}/portal/invitations/{token}")
    assert page.status_code == 200 and "Duty Officer" in page.text and "City of Madrid" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    r = browser.register(key, token)
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "Secure" in cookie
    assert "SameSite=strict" in cookie and "Path=/" in cookie
    browser.take_cookie(r)
    who = browser.whoami().json()
    assert who["organisation"] == "City of Madrid" and who["subject"] == f"person:{username}"
    assert who["auth_method"] == "passkey" and who["roles"] == ["field_officer"]
    assert "Duty Officer" in browser.get("/portal/me").text
    first_session = browser.cookie
    logged = browser.login(key)
    assert logged.status_code == 200, logged.text
    browser.take_cookie(logged)
    assert browser.cookie != first_session
    assert browser.whoami().json()["subject"] == f"person:{username}"
    assert events_of(hub, "person.created")[-1].subject == f"person:{username}"
    # An invitation works once.
    again = Browser(hub).post("/auth/passkeys/register/options", {"invitation": token})
    assert again.status_code == 404


def test_several_passkeys_and_revoking_one(hub: RunningHub) -> None:
    browser, first, _ = enrolled(hub)
    second = key_for(hub)
    assert browser.register(second).status_code == 200
    logged = browser.login(second)
    assert logged.status_code == 200
    browser.take_cookie(logged)
    r = browser.post("/auth/passkeys/revoke", form={"csrf_token": str(browser.csrf),
                                                     "credential_id": _id(first)})
    assert r.status_code == 303
    refused = browser.login(first)
    assert refused.status_code == 401
    assert refusals(hub, "passkey.login_refused")[-1] == "revoked passkey or disabled person"
    assert browser.login(second).status_code == 200


def test_logout_and_logout_everywhere(hub: RunningHub) -> None:
    laptop, key, _ = enrolled(hub)
    phone = Browser(hub)
    phone.take_cookie(phone.login(key))
    r = phone.post("/auth/logout", form={"csrf_token": str(phone.csrf)})
    assert r.status_code == 303 and r.headers["location"] == "/portal/login"
    assert phone.whoami().status_code == 401 and laptop.whoami().status_code == 200
    phone.take_cookie(phone.login(key))
    r = laptop.post("/auth/logout-everywhere", form={"csrf_token": str(laptop.csrf)})
    assert r.status_code == 303
    assert laptop.whoami().status_code == 401 and phone.whoami().status_code == 401


def test_an_admin_invites_over_the_api(hub: RunningHub) -> None:
    admin = str(hub.extra["admin"])
    headers = {"Authorization": f"Bearer {get_token(hub, admin)['access_token']}"}
    body = {"username": f"analyst-{uuid.uuid4().hex[:6]}", "roles": ["analyst"]}
    r = httpx.post(f"{hub.extra['base']}/identity/invitations", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert httpx.get(r.json()["invitation_url"].replace("localhost", "127.0.0.1")).status_code == 200
    other_org = httpx.post(f"{hub.extra['base']}/identity/invitations", headers=headers,
                           json=body | {"username": "x", "organisation": "Foreign LEA"})
    assert other_org.status_code == 404
    not_admin = {"Authorization": f"Bearer {get_token(hub, 'police')['access_token']}"}
    assert httpx.post(f"{hub.extra['base']}/identity/invitations", json=body, headers=not_admin).status_code == 404


def test_an_admin_lists_people_changes_roles_and_disables_a_person(hub: RunningHub) -> None:
    browser, key, username = enrolled(hub)
    admin_id = f"madrid-admin-{uuid.uuid4().hex[:6]}"
    _, hub.secrets[admin_id] = orgs.create_client(hub.hub.db, organisation="City of Madrid", client_id=admin_id,
                                                  roles=["admin"])
    headers = {"Authorization": f"Bearer {get_token(hub, admin_id)['access_token']}"}
    base = f"{hub.extra['base']}/identity/people"
    listed = httpx.get(base, headers=headers).json()["people"]
    assert username in {p["username"] for p in listed}
    police_admin = {"Authorization": f"Bearer {get_token(hub, str(hub.extra['admin']))['access_token']}"}
    assert username not in {p["username"] for p in httpx.get(base, headers=police_admin).json()["people"]}
    assert httpx.patch(f"{base}/{username}", json={"active": False}, headers=police_admin).status_code == 404
    r = httpx.patch(f"{base}/{username}", json={"roles": ["coordinator"]}, headers=headers)
    assert r.status_code == 200 and r.json()["roles"] == ["coordinator"]
    assert browser.whoami().json()["roles"] == ["coordinator"]
    assert httpx.patch(f"{base}/{username}", json={"active": False}, headers=headers).json()["active"] is False
    assert browser.whoami().status_code == 401, "disabling ends the sessions"
    assert browser.login(key).status_code == 401
    assert [e.kind for e in events_of(hub, "person.disabled")][-1] == "person.disabled"


# --- attacks -----------------------------------------------------------------------------------------------


def test_a_replayed_assertion_is_refused(hub: RunningHub) -> None:
    browser, key, _ = enrolled(hub)
    options = browser.post("/auth/passkeys/login/options").json()
    assertion = key.get(options)
    assert browser.post("/auth/passkeys/login", {"credential": assertion}).status_code == 200
    replay = Browser(hub).post("/auth/passkeys/login", {"credential": assertion})
    assert replay.status_code == 401
    assert "already used challenge" in refusals(hub, "passkey.login_refused")[-1]


def test_wrong_origin_and_wrong_rp_id_are_refused(hub: RunningHub) -> None:
    browser, key, _ = enrolled(hub)
    assert browser.login(key, origin="https://evil.example").status_code == 401
    assert "origin" in refusals(hub, "passkey.login_refused")[-1].lower()
    assert browser.login(key, rp_id="evil.example").status_code == 401
    assert "rp id" in refusals(hub, "passkey.login_refused")[-1].lower()
    _, token = invite(hub)
    assert Browser(hub).register(key_for(hub), token, origin="https://evil.example").status_code == 401
    assert "origin" in refusals(hub, "passkey.registration_refused")[-1].lower()
    _, token = invite(hub)
    assert Browser(hub).register(key_for(hub), token, rp_id="evil.example").status_code == 401
    assert "rp id" in refusals(hub, "passkey.registration_refused")[-1].lower()
    # The page's Origin header is checked too.
    assert browser.post("/auth/passkeys/login/options", origin="https://evil.example").status_code == 403
    assert refusals(hub, "origin.refused")


def test_a_sign_count_regression_is_refused(hub: RunningHub) -> None:
    browser, key, _ = enrolled(hub)
    assert browser.login(key, sign_count=5).status_code == 200
    assert browser.login(key, sign_count=3).status_code == 401
    assert "sign count" in refusals(hub, "passkey.login_refused")[-1].lower()
    assert browser.login(key, sign_count=6).status_code == 200


def test_csrf_on_forms_and_on_session_api_calls(hub: RunningHub) -> None:
    browser, _, _ = enrolled(hub)
    before = len(refusals(hub, "csrf.refused"))
    assert browser.post("/auth/logout", form={}).status_code == 403
    assert browser.post("/auth/logout", form={"csrf_token": "forged"}).status_code == 403
    assert browser.post("/auth/logout", form={"csrf_token": str(browser.csrf)},
                        origin="https://evil.example").status_code == 403
    assert browser.whoami().status_code == 200, "the refused forms did not log out"
    # A session-authenticated API call without the CSRF header is refused too.
    r = browser.post("/identity/invitations", {"username": "x"})
    assert r.status_code == 401
    assert len(refusals(hub, "csrf.refused")) == before + 3
    assert browser.post("/auth/logout", form={"csrf_token": str(browser.csrf)}).status_code == 303


def test_session_fixation_is_impossible(hub: RunningHub) -> None:
    _, key, _ = enrolled(hub)
    victim = Browser(hub)
    victim.cookie = "attacker-chosen-session-id"
    r = victim.login(key)
    assert r.status_code == 200
    attacker = Browser(hub)
    attacker.cookie = "attacker-chosen-session-id"
    assert attacker.whoami().status_code == 401
    victim.take_cookie(r)
    assert victim.cookie != "attacker-chosen-session-id"
    # A valid session presented at login is ended and replaced.
    old = victim.cookie
    r = victim.login(key)
    victim.take_cookie(r)
    stale = Browser(hub)
    stale.cookie = old
    assert stale.whoami().status_code == 401 and victim.whoami().status_code == 200


def test_idle_and_absolute_timeouts(hub: RunningHub) -> None:
    identity = identity_of(hub)
    idle, _, _ = enrolled(hub)
    with hub.hub.db.write() as s:
        s.execute(update(WebSession).where(WebSession.id_hash == hash_id(str(idle.cookie))).values(
            last_seen_at=now_micros() - identity.sessions.idle_us - 1))
    assert idle.whoami().status_code == 401
    old, _, _ = enrolled(hub)
    with hub.hub.db.write() as s:
        s.execute(update(WebSession).where(WebSession.id_hash == hash_id(str(old.cookie))).values(
            expires_at=now_micros() - 1))
    assert old.whoami().status_code == 401
    assert refusals(hub, "session.refused")


def _id(key: SoftKey) -> str:
    from tests.identity.softkey import b64url

    return b64url(key.credential_id)
