"""The whole path of the demo: the detector worker (its own process) watches the sample plaza video and
listens to the sample microphone, its TAXII sink posts detections, the hub's policy shares them, and an
analyst polls them with the OASIS client."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from taxii2client.v21 import Collection

from exchange.demo import DEMO_ROOT, demo_site
from exchange.services import bootstrap as boot
from exchange.store import migrate
from exchange.store.db import Database
from tests.conftest import start_hub, stop_hub


@pytest.mark.slow
def test_detections_flow_from_the_demo_worker_to_an_analyst(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    db = Database(url)
    migrate.upgrade(db)
    site = demo_site()
    secrets = {c.secret_env: uuid.uuid4().hex for c in site.clients}
    boot.apply(db, site, env=secrets)
    db.dispose()
    clients = {c.client_id: secrets[c.secret_env] for c in site.clients}
    hub = start_hub(url, secrets=clients, bootstrap=False)
    worker = subprocess.Popen(
        [sys.executable, "-m", "detectors.demo", "--hub-url", f"{hub.url}/{DEMO_ROOT}/", "--collection",
         "detections", "--username", "pn-analyst", "--data-dir", str(tmp_path / "worker")],
        env=dict(os.environ, POPART_DEMO_WORKER_SECRET=clients["pn-analyst"]),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        cid = str(uuid.uuid5(boot.COLLECTION_NAMESPACE, f"{DEMO_ROOT}/detections"))
        detections = Collection(f"{hub.url}/{DEMO_ROOT}/collections/{cid}/", user="pn-analyst",
                                password=clients["pn-analyst"])
        deadline = time.monotonic() + 120
        categories: set[str] = set()
        while time.monotonic() < deadline and not ({"intrusion", "gunshot"} <= categories):
            assert worker.poll() is None, worker.stdout.read().decode() if worker.stdout else ""
            objects = detections.get_objects().get("objects", [])
            for o in objects:
                for ext in (o.get("extensions") or {}).values():
                    if isinstance(ext, dict) and "category" in ext:
                        categories.add(ext["category"])
            time.sleep(1)
        assert "intrusion" in categories, categories  # people walking through the service area, on camera
        assert "gunshot" in categories, categories  # the shot in the microphone's sample scene
        # Raw detections are the national police's: for a local authority the collection does not exist.
        with pytest.raises(Exception, match="404"):
            Collection(f"{hub.url}/{DEMO_ROOT}/collections/{cid}/", user="sevilla-duty",
                       password=clients["sevilla-duty"]).get_objects()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        stop_hub(hub)
