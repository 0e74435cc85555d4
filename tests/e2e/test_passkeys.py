"""End to end in a real browser: Debian chromium driven by Playwright, with a virtual WebAuthn authenticator,
registers a passkey from an invitation, logs in, sees the portal as its organisation, and logs out."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from exchange.store import migrate
from exchange.store.db import Database
from tests.conftest import RunningHub, free_port
from tests.identity.conftest import events_of, identity_of, serve_hub, stop

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--no-default-browser-check", "--metrics-recording-only", "--mute-audio"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'hub.db'}"
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    running = serve_hub(url, host_name="localhost", port=free_port())
    yield running
    stop(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install_chromium.sh")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


def with_authenticator(page: Page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})


def test_invitation_register_login_whoami_logout(hub: RunningHub, browser: Browser, artifacts_dir: Path) -> None:
    _, token = identity_of(hub).passkeys.invite(organisation="City of Madrid", username="duty@madrid.example",
                                                display_name="Ana Duty", roles=["field_officer"], actor="e2e")
    context = browser.new_context()
    page = context.new_page()
    try:
        with_authenticator(page)
        page.goto(f"{hub.url}/portal/invitations/{token}")
        page.click("#register")
        page.wait_for_url("**/portal/me", timeout=20_000)
        assert page.text_content("#org") == "City of Madrid"
        assert "Ana Duty" in (page.text_content("#who") or "")
        cookie = next(c for c in context.cookies() if c["name"] == "__Host-popart_session")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"

        page.click("#logout")
        page.wait_for_url("**/portal/login", timeout=20_000)
        assert not [c for c in context.cookies() if c["name"] == "__Host-popart_session"]
        page.goto(f"{hub.url}/portal/me")
        page.wait_for_url("**/portal/login", timeout=20_000)

        page.click("#login")
        page.wait_for_url("**/portal/me", timeout=20_000)
        assert page.text_content("#org") == "City of Madrid"
        assert page.text_content("#roles") == "field_officer"
        assert page.locator("#passkey-list li").count() == 1

        page.click("#logout")
        page.wait_for_url("**/portal/login", timeout=20_000)
    except Exception:
        page.screenshot(path=str(artifacts_dir / "e2e-passkeys.png"))
        raise
    finally:
        context.close()
    assert [e.kind for e in events_of(hub, "passkey.registered")] == ["passkey.registered"]
    assert len(events_of(hub, "session.created")) == 2 and len(events_of(hub, "session.ended")) == 2
