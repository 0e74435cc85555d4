"""Identity fixtures: fresh databases on both backends, hubs served over HTTP or TLS with identity settings."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from exchange.app import create_app
from exchange.config import Settings
from exchange.hub import Hub
from exchange.identity.models import IdentityEvent
from exchange.identity.mtls import uvicorn_tls_options
from exchange.identity.service import Identity
from exchange.services import bootstrap as boot
from exchange.services import orgs
from tests.conftest import BACKENDS, TEST_SECRET, TEST_SITE, RunningHub, free_port, migrated_database
from tests.identity.certs import Pki

TAXII = "application/taxii+json;version=2.1"
# Attack tests fail many times from 127.0.0.1: keep the per-address limit out of their way (one test sets it low).
RELAXED = {"ip_failures_per_minute": 100_000, "lockout_failures": 1000}


@pytest.fixture(scope="module", params=BACKENDS)
def fresh_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database of its own for each test module and backend."""
    with migrated_database(request, tmp_path_factory.mktemp("identity")) as url:
        yield url


def serve_hub(url: str, *, identity: dict[str, Any] | None = None, tls: dict[str, Any] | None = None,
              host_name: str = "127.0.0.1", port: int | None = None) -> RunningHub:
    """Bootstrap the test site into `url` and serve a hub (TLS when `tls` is given) on a free port."""
    port = port or free_port()
    scheme = "https" if tls and tls.get("certfile") else "http"
    settings = Settings(database_url=url, secret_key=TEST_SECRET, log_format="text", log_level="WARNING",
                        public_url=f"{scheme}://{host_name}:{port}", identity={**RELAXED, **(identity or {})},
                        tls=tls or {})
    secrets = {name: f"{name}-{uuid.uuid4().hex}" for name in ("police", "foreign", "madrid")}
    hub = Hub.build(settings)
    boot.apply(hub.db, boot.SiteSpec.model_validate(TEST_SITE),
               env={"S_POLICE": secrets["police"], "S_FOREIGN": secrets["foreign"], "S_MADRID": secrets["madrid"]})
    admin_id = f"police-admin-{uuid.uuid4().hex[:6]}"
    _, secrets[admin_id] = orgs.create_client(hub.db, organisation="National Police", client_id=admin_id,
                                              roles=["admin", "analyst"])
    config = uvicorn.Config(create_app(settings, hub=hub), host="127.0.0.1", port=port, log_config=None,
                            access_log=False, lifespan="on", **uvicorn_tls_options(settings.tls))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hub did not start")
        time.sleep(0.02)
    running = RunningHub(f"{scheme}://{host_name}:{port}", hub, secrets, server, thread)
    running.extra["admin"] = admin_id
    return running


def stop(running: RunningHub) -> None:
    running.server.should_exit = True
    running.thread.join(timeout=20)


def identity_of(running: RunningHub) -> Identity:
    identity: Identity = running.hub.extras["identity"]
    return identity


def events_of(running: RunningHub, kind: str, outcome: str | None = None) -> list[IdentityEvent]:
    """Identity events of a kind, oldest first."""
    with running.hub.db.read() as s:
        query = select(IdentityEvent).where(IdentityEvent.kind == kind).order_by(IdentityEvent.id)
        if outcome:
            query = query.where(IdentityEvent.outcome == outcome)
        return list(s.execute(query).scalars())


def refusal_count(running: RunningHub, kind: str) -> Callable[[], int]:
    """A counter of refusals of a kind (call it before and after an attempt)."""
    return lambda: len(events_of(running, kind, "refused"))


def get_token(running: RunningHub, client_id: str, *, scope: str | None = None, **client_kw: Any) -> dict[str, Any]:
    """A token from the hub's token endpoint, authenticating with client_secret_basic."""
    data = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
    with httpx.Client(timeout=30, **client_kw) as c:
        r = c.post(f"{running.url}/oauth/token", data=data, auth=(client_id, running.secrets[client_id]))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA with a server certificate and two client certificates."""
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path
