"""Compliance: who can see an object and why, what a new revision would change, and rolling it out
without a restart (every stored version re-decided, audited)."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from exchange.audit.log import verify
from exchange.cli import app
from exchange.services import bootstrap as boot
from exchange.store import migrate
from exchange.store.db import Database
from policies.documents import DEFAULT_ROOT
from stix_profiles import build_alert
from tests.conftest import RunningHub, start_hub, stop_hub
from tests.exchange.test_authorisation_matrix import MAD, PN, SEV, SITE

TAXII = "application/taxii+json;version=2.1"


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged policy (rego/ and data/) a policy owner can edit."""
    root = tmp_path / "policy"
    shutil.copytree(DEFAULT_ROOT / "rego", root / "rego")
    shutil.copytree(DEFAULT_ROOT / "data", root / "data")
    return root


def drop_madrid_from_community(root: Path) -> None:
    path = root / "data" / "communities" / "data.yaml"
    text = path.read_text(encoding="utf-8")
    assert "members: [policia-nacional-es, ayto-madrid, ayto-sevilla]" in text
    path.write_text(text.replace("members: [policia-nacional-es, ayto-madrid, ayto-sevilla]",
                                 "members: [policia-nacional-es, ayto-sevilla]"), encoding="utf-8")


@pytest.fixture
def site_hub(tmp_path: Path, policy_copy: Path) -> Iterator[tuple[RunningHub, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    db = Database(url)
    migrate.upgrade(db)
    secrets = {f"S{i}": uuid.uuid4().hex for i in range(1, 7)}
    boot.apply(db, boot.SiteSpec.model_validate(SITE), env=secrets)
    db.dispose()
    clients = {c["client_id"]: secrets[c["secret_env"]] for c in SITE["clients"]}  # type: ignore[index]
    running = start_hub(url, secrets=clients, bootstrap=False,
                        settings_overrides={"policy_dir": policy_copy, "policy_reload_seconds": 0.3})
    objs = {}
    for name, tlp in (("amber-madrid", "amber"), ("green-madrid", "green"), ("clear", "clear")):
        alert = next(o for o in build_alert(name=name, detection_refs=[], municipality="madrid", tlp=tlp,
                                            key=str(uuid.uuid4())) if o["type"] == "incident")
        objs[name] = alert
    with httpx.Client(base_url=running.url, auth=running.auth("pn-coordinator"),
                      headers={"Accept": TAXII, "Content-Type": TAXII}) as c:
        r = c.post("/popart/collections/alerts/objects/", content=json.dumps({"objects": list(objs.values())}))
        assert r.json()["success_count"] == 3
    yield running, {k: v["id"] for k, v in objs.items()}
    stop_hub(running)


def get(hub: RunningHub, who: str, path: str, **params: str) -> httpx.Response:
    with httpx.Client(base_url=hub.url, auth=hub.auth(who)) as c:
        return c.get(path, params=params)


def visible(hub: RunningHub, who: str) -> set[str]:
    with httpx.Client(base_url=hub.url, auth=hub.auth(who), headers={"Accept": TAXII}) as c:
        return {o["id"] for o in c.get("/popart/collections/alerts/objects/").json().get("objects", [])}


def test_who_can_see_and_explain_for_compliance_officers_only(site_hub: tuple[RunningHub, dict[str, str]]) -> None:
    hub, ids = site_hub
    r = get(hub, "pn-compliance", f"/compliance/objects/{ids['amber-madrid']}/audience")
    assert r.status_code == 200
    access = {a["org_id"]: a for a in r.json()["versions"][0]["access"]}
    # AMBER in Madrid: the producer, Madrid through the shared community, PSP through the Iberian community
    # and a recorded release of alerts; Sevilla is in the community but outside the area.
    assert set(access) == {PN, MAD, "psp-pt"}
    why = get(hub, "pn-compliance", f"/compliance/objects/{ids['amber-madrid']}/explain", org=SEV).json()
    assert why["allowed"] is False and "jurisdiction.outside_area" in why["denied_by"]
    ok = get(hub, "pn-compliance", f"/compliance/objects/{ids['amber-madrid']}/explain", org=MAD).json()
    assert ok["allowed"] is True and ok["allowed_by"]
    for who in ("mad-duty", "pn-analyst"):  # not compliance: the endpoints do not exist for them
        assert get(hub, who, f"/compliance/objects/{ids['amber-madrid']}/audience").status_code == 404
        assert get(hub, who, "/compliance/audit").status_code == 404
    export = get(hub, "pn-compliance", "/compliance/audit")
    actions = {json.loads(line)["action"] for line in export.text.splitlines()}
    assert {"share.decide", "object.write", "compliance.who_can_see", "compliance.access"} <= actions
    assert get(hub, "pn-compliance", "/compliance/audit/verify").json()["ok"] is True


def test_simulate_then_roll_out_a_revision_without_restart(site_hub: tuple[RunningHub, dict[str, str]],
                                                          policy_copy: Path, tmp_path: Path) -> None:
    from exchange.hub import build_policy
    from exchange.services.compliance import simulate

    hub, ids = site_hub
    assert ids["amber-madrid"] in visible(hub, "mad-duty")
    candidate_dir = tmp_path / "candidate"
    shutil.copytree(policy_copy, candidate_dir)
    drop_madrid_from_community(candidate_dir)
    settings = hub.hub.settings.model_copy(update={"policy_dir": candidate_dir})
    report = simulate(hub.hub.db, build_policy(settings, hub.hub.db))  # type: ignore[arg-type]
    assert [(c["object_id"], c["lost"]) for c in report["changes"]] == [(ids["amber-madrid"],
                                                                        ["Ayuntamiento de Madrid"])]
    assert ids["amber-madrid"] in visible(hub, "mad-duty")  # simulating changes nothing
    old_revision = hub.hub.policy.revision
    drop_madrid_from_community(policy_copy)  # the policy owner rolls the revision out
    deadline = time.monotonic() + 30
    while ids["amber-madrid"] in visible(hub, "mad-duty"):
        assert time.monotonic() < deadline, "the new revision was not applied"
        time.sleep(0.2)
    assert hub.hub.policy.revision != old_revision
    assert {ids["green-madrid"], ids["clear"]} <= visible(hub, "mad-duty")
    hub.hub.audit.flush()
    lines = [json.loads(x) for x in get(hub, "pn-compliance", "/compliance/audit").text.splitlines()]
    assert any(x["action"] == "policy.revision" and x["outcome"] == "loaded" for x in lines)
    assert any(x["action"] == "policy.reevaluate" and x["details"]["changed"] == 1 for x in lines)
    assert verify(hub.hub.db).ok


def test_a_broken_revision_is_refused_and_the_old_one_keeps_deciding(
        site_hub: tuple[RunningHub, dict[str, str]], policy_copy: Path) -> None:
    hub, ids = site_hub
    revision = hub.hub.policy.revision
    (policy_copy / "rego" / "sharing.rego").write_text("package popart.sharing\n\nthis is not rego {", "utf-8")
    deadline = time.monotonic() + 10
    while True:
        hub.hub.audit.flush()
        lines = [json.loads(x) for x in get(hub, "pn-compliance", "/compliance/audit").text.splitlines()]
        if any(x["action"] == "policy.revision" and x["outcome"] == "refused" for x in lines):
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert hub.hub.policy.revision == revision
    assert ids["amber-madrid"] in visible(hub, "mad-duty")


def test_policy_cli(site_hub: tuple[RunningHub, dict[str, str]], policy_copy: Path, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    hub, ids = site_hub
    monkeypatch.setenv("POPART_DATABASE_URL", hub.hub.settings.database_url)
    monkeypatch.setenv("POPART_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("POPART_POLICY_DIR", str(policy_copy))
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()
    out = runner.invoke(app, ["policy", "who-can-see", ids["amber-madrid"]])
    assert out.exit_code == 0 and "Ayuntamiento de Madrid" in out.output and "Sevilla" not in out.output
    out = runner.invoke(app, ["policy", "explain", ids["amber-madrid"], "--org", SEV])
    assert out.exit_code == 0 and "DENIED" in out.output and "jurisdiction.outside_area" in out.output
    candidate = tmp_path / "cand"
    shutil.copytree(policy_copy, candidate)
    drop_madrid_from_community(candidate)
    out = runner.invoke(app, ["policy", "simulate", "--policy-dir", str(candidate), "-o", str(tmp_path / "d.json")])
    assert out.exit_code == 0 and "1 of 3" in out.output
    assert json.loads((tmp_path / "d.json").read_text())["changes"][0]["object_id"] == ids["amber-madrid"]
    out = runner.invoke(app, ["policy", "apply"])
    assert out.exit_code == 0 and "0 of 3" in out.output  # nothing changed: the revision is the stored one
