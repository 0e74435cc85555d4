"""`popart demo`: the whole hub on SQLite with demo organisations, collections and credentials."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from exchange.auth.secrets import new_secret
from exchange.config import DEMO_SECRET, Settings
from exchange.services import bootstrap as boot

DEMO_ROOT = "popart"
PN, PSP, MAD, SEV = ("Policía Nacional", "Polícia de Segurança Pública", "Ayuntamiento de Madrid",
                     "Ayuntamiento de Sevilla")
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def demo_site() -> boot.SiteSpec:
    """The demo hub: a national police, an associated foreign LEA, two local authorities."""
    return boot.SiteSpec.model_validate({
        "organisations": [
            # The ids are the ones the default policy's data documents name (policies/data/).
            {"id": "policia-nacional-es", "name": PN, "type": "national_police", "country": "ES"},
            {"id": "psp-pt", "name": PSP, "type": "associated_lea", "country": "PT"},
            {"id": "ayto-madrid", "name": MAD, "type": "local_authority", "country": "ES", "area": "madrid"},
            {"id": "ayto-sevilla", "name": SEV, "type": "local_authority", "country": "ES", "area": "sevilla"},
        ],
        "api_roots": [{
            "name": DEMO_ROOT, "title": "POP-ART Exchange (demo)", "default": True,
            "collections": [
                {"alias": "alerts", "title": "Alerts", "description": "Incidents and alerts at public events",
                 "readers": ["*"], "writers": [PN, PSP]},
                {"alias": "guidance", "title": "Guidance and best practices",
                 "description": "Courses of action, guidance for agents, best practices", "readers": ["*"],
                 "writers": [PN, MAD, SEV]},
                {"alias": "detections", "title": "Detections", "description": "Raw detections from sensors",
                 "readers": [PN], "writers": [PN]},
            ],
        }],
        "clients": [
            {"client_id": "pn-analyst", "organisation": PN, "roles": ["analyst", "coordinator", "producer"],
             "secret_env": "POPART_DEMO_PN"},
            {"client_id": "psp-analyst", "organisation": PSP, "roles": ["analyst"], "secret_env": "POPART_DEMO_PSP"},
            {"client_id": "madrid-duty", "organisation": MAD, "roles": ["field_officer"],
             "secret_env": "POPART_DEMO_MAD"},
            {"client_id": "sevilla-duty", "organisation": SEV, "roles": ["field_officer"],
             "secret_env": "POPART_DEMO_SEV"},
        ],
    })


def sample_objects(now: str) -> list[dict[str, Any]]:
    """A few objects so a newcomer's first poll shows something."""
    ident = f"identity--{uuid.uuid5(uuid.NAMESPACE_URL, 'popart-demo/policia-nacional')}"
    incident = f"incident--{uuid.uuid5(uuid.NAMESPACE_URL, 'popart-demo/incident-1')}"
    coa = f"course-of-action--{uuid.uuid5(uuid.NAMESPACE_URL, 'popart-demo/coa-1')}"
    common = {"spec_version": "2.1", "created": now, "modified": now}
    return [
        {"type": "identity", "id": ident, **common, "name": PN, "identity_class": "organization",
         "object_marking_refs": [TLP_CLEAR]},
        {"type": "incident", "id": incident, **common, "created_by_ref": ident,
         "name": "Crowd density above threshold at the east gate",
         "description": "Demo alert: density 4.2 people/m² for 90 s in zone east-gate.",
         "object_marking_refs": [TLP_GREEN]},
        {"type": "course-of-action", "id": coa, **common, "created_by_ref": ident,
         "name": "Open the auxiliary exit and redirect the flow north",
         "description": "Stewards open gate E2; agents direct the crowd towards the north avenue.",
         "object_marking_refs": [TLP_GREEN]},
        {"type": "relationship", "id": f"relationship--{uuid.uuid5(uuid.NAMESPACE_URL, 'popart-demo/rel-1')}",
         **common, "created_by_ref": ident, "relationship_type": "mitigates", "source_ref": coa,
         "target_ref": incident, "object_marking_refs": [TLP_GREEN]},
    ]


def start_demo_worker(*, base: str, data_dir: Path, secret: str, console: Console) -> subprocess.Popen[bytes] | None:
    """The detector worker on the sample plaza video, in its own process, posting detections over TAXII.

    The hub never imports the detectors: the worker reaches it through its TAXII sink, as in production.
    """
    if importlib.util.find_spec("detectors.demo") is None:
        return None
    log_path = data_dir / "worker.log"
    env = dict(os.environ, POPART_DEMO_WORKER_SECRET=secret)
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "detectors.demo", "--hub-url", f"{base}/{DEMO_ROOT}/", "--collection",
             "detections", "--username", "pn-analyst", "--data-dir", str(data_dir)],
            env=env, stdout=log_file, stderr=subprocess.STDOUT)
    console.print(f"Detector worker (pid {proc.pid}) analyses the sample plaza video; detections arrive in the "
                  f"'Detections' collection (log: {log_path})")
    return proc


def run_demo(*, data_dir: Path, host: str, port: int, serve: bool, console: Console,
             worker: bool = True) -> None:
    """Set up the demo hub (fresh credentials each start), print how to use it, then serve."""
    from exchange.app import create_app
    from exchange.auth.caller import Caller
    from exchange.hub import Hub
    from exchange.identity.config import IdentitySettings
    from exchange.observability import configure_logging
    from exchange.store import migrate
    from exchange.timestamps import format_timestamp, now_micros

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(database_url=f"sqlite:///{(data_dir / 'popart.db').resolve()}",
                        secret_key=SecretStr(DEMO_SECRET), demo_mode=True, host=host, port=port, log_format="text",
                        log_level="WARNING",
                        identity=IdentitySettings(webauthn_origins=[f"http://localhost:{port}", f"http://127.0.0.1:{port}"]))
    site = demo_site()
    secrets = {c.secret_env: new_secret() for c in site.clients}
    hub = Hub.build(settings)
    with console.status("Setting up the demo hub…"):
        migrate.upgrade(hub.db)
        boot.apply(hub.db, site, env=secrets)
        from sqlalchemy import select

        from exchange.store.models import Organisation

        with hub.db.read() as session:
            pn = session.execute(select(Organisation).where(Organisation.name == PN)).scalar_one()
        caller = Caller(org_id=pn.id, org_name=pn.name, org_type=pn.type, subject="demo", auth_method="demo",
                        roles=frozenset({"coordinator"}))
        envelope = {"objects": sample_objects(format_timestamp(now_micros())[:-4] + "Z")}
        hub.ingest.add(caller, DEMO_ROOT, "alerts", envelope, b"")
    base = f"http://{host}:{port}"
    table = Table("client id", "organisation", title="Demo credentials (HTTP Basic; new at every start)")
    table.add_column("secret", no_wrap=True, overflow="fold")
    for c in site.clients:
        table.add_row(c.client_id, c.organisation, secrets[c.secret_env])
    console.print(table)
    pn_secret = secrets["POPART_DEMO_PN"]
    console.print(Panel.fit(
        f"Discovery: {base}/taxii2/\nAPI root:  {base}/{DEMO_ROOT}/\n\n"
        "Poll with the OASIS client:\n"
        "  from taxii2client.v21 import Server\n"
        f"  server = Server('{base}/taxii2/', user='pn-analyst', password='{pn_secret}')\n"
        "  alerts = server.api_roots[0].collections[0]\n  print(alerts.get_objects())\n\n"
        f"Or: curl -u pn-analyst:{pn_secret} -H 'Accept: application/taxii+json;version=2.1' "
        f"{base}/{DEMO_ROOT}/collections/\n\nMetrics: {base}/metrics",
        title="POP-ART Exchange demo"))
    from exchange.portal.demo import invitations, start_alert_trickle

    portal = f"http://localhost:{port}"
    console.print(f"[bold]Portal[/bold]: open an invitation link, create a passkey, then watch the board at "
                  f"{portal}/portal/ (demo alerts arrive every 20 s)")
    for org, name, url in invitations(hub, portal):
        console.print(f"  {org} — {name}: {url}", soft_wrap=True)
    if not serve:
        hub.stop()
        return
    import uvicorn

    start_alert_trickle(hub, caller)

    configure_logging(os.environ.get("POPART_LOG_LEVEL", "WARNING"), "text")
    console.print(f"Serving on {base} (Ctrl+C to stop)")
    proc = start_demo_worker(base=base, data_dir=data_dir, secret=pn_secret, console=console) if worker else None
    try:
        uvicorn.run(create_app(settings, hub=hub), host=host, port=port, log_config=None, access_log=False,
                    timeout_graceful_shutdown=3)  # open live boards must not hold Ctrl+C
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
