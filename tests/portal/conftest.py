"""Portal and stream fixtures: the demo organisations (ids the Rego data names) on a fresh database per module."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from exchange.services import bootstrap as boot
from exchange.store import migrate
from exchange.store.db import Database
from stix_profiles import build_alert
from tests.conftest import RunningHub, create_pg_database, drop_pg_database, start_hub, stop_hub

TAXII = "application/taxii+json;version=2.1"
PN, PSP, MAD, SEV = "policia-nacional-es", "psp-pt", "ayto-madrid", "ayto-sevilla"
SITE: dict[str, Any] = {
    "organisations": [
        {"id": PN, "name": "Policía Nacional", "type": "national_police", "country": "ES"},
        {"id": PSP, "name": "Polícia de Segurança Pública", "type": "associated_lea", "country": "PT"},
        {"id": MAD, "name": "Ayuntamiento de Madrid", "type": "local_authority", "country": "ES", "area": "madrid"},
        {"id": SEV, "name": "Ayuntamiento de Sevilla", "type": "local_authority", "country": "ES",
         "area": "sevilla"},
    ],
    "api_roots": [{"name": "popart", "title": "POP-ART", "default": True, "collections": [
        {"alias": "alerts", "title": "Alerts", "readers": ["*"], "writers": [PN, PSP]},
        {"alias": "feedback", "title": "Feedback", "readers": ["*"], "writers": ["*"]},
        {"alias": "detections", "title": "Detections", "readers": [PN], "writers": [PN]},
    ]}],
    "clients": [
        {"client_id": "pn-coordinator", "organisation": PN, "roles": ["coordinator", "analyst"], "secret_env": "S1"},
        {"client_id": "pn-compliance", "organisation": PN, "roles": ["compliance"], "secret_env": "S2"},
        {"client_id": "psp-analyst", "organisation": PSP, "roles": ["analyst"], "secret_env": "S3"},
        {"client_id": "mad-duty", "organisation": MAD, "roles": ["field_officer"], "secret_env": "S4"},
        {"client_id": "sev-duty", "organisation": SEV, "roles": ["field_officer"], "secret_env": "S5"},
    ],
}
SECRET_ENV = {c["client_id"]: c["secret_env"] for c in SITE["clients"]}


def prepare(url: str) -> dict[str, str]:
    """Migrate and bootstrap the site into `url`; returns the client secrets."""
    db = Database(url)
    migrate.upgrade(db)
    env = {v: uuid.uuid4().hex for v in SECRET_ENV.values()}
    boot.apply(db, boot.SiteSpec.model_validate(SITE), env=env)
    db.dispose()
    return {client: env[var] for client, var in SECRET_ENV.items()}


@pytest.fixture(scope="module", params=[pytest.param("sqlite", id="sqlite"),
                                        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)])
def site_db(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A migrated database with the demo organisations, on each backend: (url, client secrets)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('portal') / 'hub.db'}"
        yield url, prepare(url)
        return
    admin = request.getfixturevalue("pg_server")
    name, url = create_pg_database(admin)
    yield url, prepare(url)
    drop_pg_database(admin, name)


FAST = {"stream": {"poll_seconds": 0.2, "keepalive_seconds": 2.0, "webhook_poll_seconds": 0.1,
                   "webhook_backoff_seconds": 0.1, "webhook_backoff_max_seconds": 0.4,
                   "webhook_timeout_seconds": 2.0}}


def serve(url: str, secrets: dict[str, str], **overrides: Any) -> RunningHub:
    """A hub process on the site database."""
    settings = {**FAST, **overrides}
    return start_hub(url, settings_overrides=settings, secrets=secrets, bootstrap=False)


def kill(running: RunningHub) -> None:
    """Stop a hub as a crash would: open streams are dropped, not drained."""
    running.server.force_exit = True
    stop_hub(running)
    running.hub.stop()


def alert(name: str, *, tlp: str = "clear", municipality: str = "madrid", **kw: Any) -> dict[str, Any]:
    """One profile alert (the incident)."""
    objs = build_alert(name=name, detection_refs=[], venue="Estadio", municipality=municipality, tlp=tlp,  # type: ignore[arg-type]
                       key=f"{name}-{uuid.uuid4()}", **kw)
    return next(o for o in objs if o["type"] == "incident")


def post(running: RunningHub, client: str, objects: list[dict[str, Any]], collection: str = "alerts") -> None:
    """Add objects through TAXII; every one must be stored."""
    with httpx.Client(base_url=running.url, auth=running.auth(client), timeout=60,
                      headers={"Accept": TAXII, "Content-Type": TAXII}) as c:
        r = c.post(f"/popart/collections/{collection}/objects/", content=json.dumps({"objects": objects}))
        assert r.status_code == 202, r.text
        status = r.json()
        assert status["success_count"] == len(objects), status


def taxii_ids(running: RunningHub, client: str, collection: str = "alerts") -> set[str]:
    """The object ids a client is served over TAXII."""
    with httpx.Client(base_url=running.url, auth=running.auth(client), headers={"Accept": TAXII}) as c:
        body = c.get(f"/popart/collections/{collection}/objects/", params={"limit": 1000}).json()
    return {o["id"] for o in body.get("objects", [])}
