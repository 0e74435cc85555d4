"""The portal end to end in Debian chromium (Playwright, virtual passkeys): a Madrid duty officer's board
receives a live alert posted over TAXII by the national police, acknowledges it and the producer's board shows
the acknowledgement; a police coordinator previews and publishes an alert, and each organisation receives it
exactly as the preview said -- the local authority outside the area receives nothing."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from exchange.app import create_app
from exchange.config import Settings
from exchange.hub import Hub
from tests.conftest import TEST_SECRET, RunningHub, free_port
from tests.identity.conftest import RELAXED, identity_of, stop
from tests.portal.conftest import FAST, MAD, PN, PSP, SEV, alert, post, prepare, taxii_ids

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--no-default-browser-check", "--metrics-recording-only", "--mute-audio"]
CLIENT_OF = {PN: "pn-coordinator", PSP: "psp-analyst", MAD: "mad-duty", SEV: "sev-duty"}
ROLES_OF = {"pn-coordinator": {"coordinator", "analyst"}, "psp-analyst": {"analyst"}, "mad-duty": {"field_officer"},
            "sev-duty": {"field_officer"}}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-portal') / 'hub.db'}"
    secrets = prepare(url)
    port = free_port()
    settings = Settings(database_url=url, secret_key=TEST_SECRET, log_format="text", log_level="WARNING",
                        public_url=f"http://localhost:{port}", identity=RELAXED, validation_workers=0,
                        portal={"zones": ["north-gate", "east-gate", "pitch", "south-stand"]}, **FAST)
    the_hub = Hub.build(settings)
    config = uvicorn.Config(create_app(settings, hub=the_hub), host="127.0.0.1", port=port, log_config=None,
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the hub did not start"
        time.sleep(0.02)
    running = RunningHub(f"http://localhost:{port}", the_hub, secrets, server, thread)
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


def person(hub: RunningHub, browser: Browser, organisation: str, roles: list[str]) -> tuple[BrowserContext, Page]:
    """A person of `organisation` who registers a passkey from an invitation (and is then logged in)."""
    username = f"{uuid.uuid4().hex[:8]}@example.org"
    _, token = identity_of(hub).passkeys.invite(organisation=organisation, username=username,
                                                display_name=username, roles=roles, actor="e2e")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    page.goto(f"{hub.url}/portal/invitations/{token}")
    page.click("#register")
    page.wait_for_url("**/portal/me", timeout=20_000)
    return context, page


def open_board(hub: RunningHub, page: Page) -> None:
    page.goto(f"{hub.url}/portal/")
    page.wait_for_selector("#live.on", timeout=20_000)


def card(alert_id: str) -> str:
    return f'#alerts [data-alert-id="{alert_id}"]'


def test_live_board_feedback_and_publishing(hub: RunningHub, browser: Browser, artifacts_dir: Path) -> None:
    contexts = []
    pages: dict[str, Page] = {}
    try:
        for key, org, roles in (("madrid", "Ayuntamiento de Madrid", ["field_officer"]),
                                ("sevilla", "Ayuntamiento de Sevilla", ["field_officer"]),
                                ("police", "Policía Nacional", ["coordinator", "analyst", "compliance"])):
            ctx, page = person(hub, browser, org, roles)
            contexts.append(ctx)
            pages[key] = page
            open_board(hub, page)
        madrid, sevilla, police = pages["madrid"], pages["sevilla"], pages["police"]

        # A live alert posted through TAXII by another organisation appears on the board without a reload.
        live = alert("Crowd density above threshold", tlp="green", zone="east-gate", criticality=80,
                     categories=["crowd-density"])
        started = time.monotonic()
        post(hub, "pn-coordinator", [live])
        madrid.wait_for_selector(card(live["id"]), timeout=20_000)
        print(f"live alert on the board after {1000 * (time.monotonic() - started):.0f} ms")  # noqa: T201
        assert "fresh" in (madrid.locator(card(live["id"])).get_attribute("class") or "")
        madrid.wait_for_selector(f'.map circle[data-alert-id="{live["id"]}"]', state="attached", timeout=20_000)
        madrid.screenshot(path=str(artifacts_dir / "portal-board.png"), full_page=True)

        # Acknowledge it (on scene, with a note): the producer's board shows the feedback.
        police.wait_for_selector(card(live["id"]), timeout=20_000)
        madrid.fill(f'{card(live["id"])} input[name="note"]', "two units at the east gate")
        madrid.click(f'{card(live["id"])} button[value="on-scene"]')
        madrid.wait_for_selector(f'{card(live["id"])} .feedback li:has-text("two units at the east gate")',
                                 timeout=20_000)
        police.wait_for_selector(f'{card(live["id"])} .feedback li:has-text("two units at the east gate")',
                                 timeout=20_000)
        police.screenshot(path=str(artifacts_dir / "portal-board-producer.png"), full_page=True)

        # Publish with a preview; each organisation then receives exactly what the preview said.
        police.goto(f"{hub.url}/portal/publish")
        police.fill("#f-name", "Fight reported near the pitch")
        police.fill("#f-municipality", "madrid")
        police.fill("#f-zone", "pitch")
        police.select_option("#f-tlp", "amber")
        police.fill("#f-gtext", "Agents to pitch gate P2; direct the crowd to the north exits")
        police.click("#preview")
        police.wait_for_selector("#audience li[data-org]", timeout=20_000)
        previewed = set(police.eval_on_selector_all("#audience li[data-org]", "els => els.map(e => e.dataset.org)"))
        police.screenshot(path=str(artifacts_dir / "portal-publish-preview.png"), full_page=True)
        police.click("#send")
        police.wait_for_selector("#result[data-alert-id]", timeout=20_000)
        published = police.get_attribute("#result", "data-alert-id")
        assert published
        madrid.wait_for_selector(card(published), timeout=20_000)
        madrid.wait_for_selector(f'{card(published)} .guidance:has-text("Agents to pitch gate P2")', timeout=20_000)
        for org, client in CLIENT_OF.items():
            assert (published in taxii_ids(hub, client)) is (org in previewed), (org, previewed)
        assert SEV not in previewed and MAD in previewed
        sevilla.wait_for_timeout(1000)
        assert sevilla.locator(card(published)).count() == 0  # outside the area: nothing on its board

        for name, path in (("library", "/portal/library?q=gate"), ("dashboard", "/portal/dashboard"),
                           ("compliance", "/portal/compliance")):
            police.goto(f"{hub.url}{path}")
            police.screenshot(path=str(artifacts_dir / f"portal-{name}.png"), full_page=True)
            if name == "library":  # the published guidance mentions a gate
                assert police.locator("#library .item").count() >= 1
        madrid.set_viewport_size({"width": 390, "height": 844})
        madrid.screenshot(path=str(artifacts_dir / "portal-board-phone.png"), full_page=True)
    except Exception:
        for key, page in pages.items():
            page.screenshot(path=str(artifacts_dir / f"portal-failure-{key}.png"), full_page=True)
        raise
    finally:
        for ctx in contexts:
            ctx.close()
