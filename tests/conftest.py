"""Shared fixtures: real databases (SQLite file, PostgreSQL server) and a real hub served over HTTP."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# OpenCV must be loaded before regopy in any process that uses both: importing cv2 after regopy aborts the
# interpreter (glibc "free(): invalid size", measured with opencv-python-headless 4.14 and regopy 1.5.2).
import cv2  # noqa: F401, I001
import psycopg
import pytest
import uvicorn

from exchange.app import create_app
from exchange.config import Settings
from exchange.hub import Hub
from exchange.services import bootstrap as boot
from exchange.store import migrate
from exchange.store.db import Database

PG_ADMIN_DSN = os.environ.get("POPART_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_SECRET = "test-secret-" + "x" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin DSN of the PostgreSQL server CI starts (fails loudly when it is not running)."""
    with psycopg.connect(PG_ADMIN_DSN, connect_timeout=5) as conn:
        conn.execute("SELECT 1")
    return PG_ADMIN_DSN


def create_pg_database(admin_dsn: str) -> tuple[str, str]:
    """A fresh, empty PostgreSQL database; returns (name, SQLAlchemy URL)."""
    name = f"popart_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return name, f"{base}/{name}"


def drop_pg_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


@contextmanager
def migrated_database(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    """A fresh database on the backend `request.param` names (a SQLite file in `folder`, or a new PostgreSQL
    database dropped afterwards), migrated to the newest schema; yields its URL."""
    if request.param == "sqlite":
        url, dropped = f"sqlite:///{folder / 'hub.db'}", None
    else:
        admin = request.getfixturevalue("pg_server")
        name, url = create_pg_database(admin)
        dropped = (admin, name)
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    try:
        yield url
    finally:
        if dropped:
            drop_pg_database(*dropped)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    with migrated_database(request, tmp_path_factory.mktemp("sqlite")) as url:
        yield url


TEST_SITE = {
    "organisations": [
        {"name": "National Police", "type": "national_police", "country": "ES"},
        {"name": "Foreign LEA", "type": "associated_lea", "country": "PT"},
        {"name": "City of Madrid", "type": "local_authority", "country": "ES", "area": "madrid"},
    ],
    "api_roots": [
        {"name": "api1", "title": "Test root", "default": True, "collections": [
            {"alias": "shared", "title": "Shared", "readers": ["*"], "writers": ["National Police", "Foreign LEA"]},
            {"alias": "police-only", "title": "Police only", "readers": ["National Police"],
             "writers": ["National Police"]},
            {"alias": "drop-box", "title": "Drop box", "writers": ["City of Madrid"]},
        ]},
        {"name": "small", "title": "Small bodies", "max_content_length": 4096, "collections": [
            {"alias": "tiny", "title": "Tiny", "readers": ["*"], "writers": ["*"]},
        ]},
    ],
    "clients": [
        {"client_id": "police", "organisation": "National Police", "roles": ["analyst", "producer"],
         "secret_env": "S_POLICE"},
        {"client_id": "foreign", "organisation": "Foreign LEA", "roles": ["analyst"], "secret_env": "S_FOREIGN"},
        {"client_id": "madrid", "organisation": "City of Madrid", "roles": ["field_officer"],
         "secret_env": "S_MADRID"},
    ],
}


@dataclass
class RunningHub:
    """A hub served by uvicorn in a thread, with its credentials."""

    url: str
    hub: Hub
    secrets: dict[str, str]
    server: uvicorn.Server
    thread: threading.Thread
    extra: dict[str, object] = field(default_factory=dict)

    def auth(self, client_id: str) -> tuple[str, str]:
        return client_id, self.secrets[client_id]

    def root_url(self, root: str = "api1") -> str:
        return f"{self.url}/{root}/"

    def collection_id(self, alias: str, root: str = "api1") -> str:
        return str(uuid.uuid5(boot.COLLECTION_NAMESPACE, f"{root}/{alias}"))

    def new_collection(self, readers: list[str], writers: list[str], root: str = "api1") -> str:
        """A fresh collection only this test uses."""
        from exchange.services.collections import upsert_collection

        alias = f"c-{uuid.uuid4().hex[:10]}"
        col, _ = upsert_collection(self.hub.db, root_name=root, collection_id=None, alias=alias, title=alias,
                                   readers=readers, writers=writers)
        return col.id


def start_hub(url: str, *, settings_overrides: dict[str, object] | None = None,
              secrets: dict[str, str] | None = None, bootstrap: bool = True) -> RunningHub:
    """Bootstrap the test site into `url` and serve a hub on a free port (another replica when `secrets` given)."""
    overrides: dict[str, object] = {"validation_workers": 0, **(settings_overrides or {})}
    settings = Settings(database_url=url, secret_key=TEST_SECRET, log_format="text", log_level="WARNING",
                        **overrides)
    secrets = secrets or {"police": f"police-{uuid.uuid4().hex}", "foreign": f"foreign-{uuid.uuid4().hex}",
                          "madrid": f"madrid-{uuid.uuid4().hex}"}
    hub = Hub.build(settings)
    if bootstrap:
        boot.apply(hub.db, boot.SiteSpec.model_validate(TEST_SITE),
                   env={"S_POLICE": secrets["police"], "S_FOREIGN": secrets["foreign"],
                        "S_MADRID": secrets["madrid"]})
    port = free_port()
    config = uvicorn.Config(create_app(settings, hub=hub), host="127.0.0.1", port=port, log_config=None,
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hub did not start")
        time.sleep(0.02)
    return RunningHub(f"http://127.0.0.1:{port}", hub, secrets, server, thread)


def stop_hub(running: RunningHub) -> None:
    running.server.should_exit = True
    running.thread.join(timeout=20)


@pytest.fixture(scope="session")
def opa_data_api() -> Iterator[str]:
    """A local server speaking OPA's REST Data API (evaluating with rego-cpp): OPA's binary is not installable."""
    from tests.policies.opa_data_api import OpaDataApiServer

    with OpaDataApiServer() as server:
        yield server.url


@pytest.fixture(scope="session", params=[pytest.param("embedded", id="embedded"), pytest.param("opa", id="opa")])
def policy_settings(request: pytest.FixtureRequest) -> dict[str, object]:
    """Each policy engine in turn: embedded regopy, and the OPA REST engine against a Data API server."""
    if request.param == "embedded":
        return {"policy_engine": "embedded"}
    return {"policy_engine": "opa", "opa_url": request.getfixturevalue("opa_data_api"), "opa_timeout_s": 10.0}


@pytest.fixture(scope="session")
def hub(database_url: str, policy_settings: dict[str, object]) -> Iterator[RunningHub]:
    """A running hub on each backend and each policy engine, shared by the conformance tests
    (each test uses its own objects)."""
    running = start_hub(database_url, settings_overrides=policy_settings)
    yield running
    stop_hub(running)


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(os.environ.get("POPART_TEST_ARTIFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
