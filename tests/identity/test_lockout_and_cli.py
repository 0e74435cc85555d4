"""Rate limiting and lockout of authentication attempts; the `popart keys|tokens|people` commands."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from jose import jwt
from typer.testing import CliRunner

from exchange.cli import _mount_plugins, app
from exchange.identity.models import Invitation, Person
from exchange.store import migrate
from exchange.store.db import Database
from tests.conftest import TEST_SECRET, RunningHub
from tests.identity.conftest import TAXII, events_of, get_token, identity_of, serve_hub, stop


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('lockout') / 'hub.db'}"
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    return url


@pytest.fixture(scope="module")
def hub(db_url: str) -> Iterator[RunningHub]:
    running = serve_hub(db_url, identity={"lockout_failures": 3, "lockout_minutes": 10, "ip_failures_per_minute": 8})
    yield running
    stop(running)


def test_basic_lockout_after_repeated_failures(hub: RunningHub) -> None:
    url = f"{hub.url}/taxii2/"
    for _ in range(3):
        assert httpx.get(url, auth=("madrid", "wrong"), headers={"Accept": TAXII}).status_code == 401
    locked = httpx.get(url, auth=hub.auth("madrid"), headers={"Accept": TAXII})
    assert locked.status_code == 429, "even the right secret waits out the lockout"
    assert locked.headers["content-type"] == TAXII
    refused = [e for e in events_of(hub, "basic.refused", "refused") if e.subject == "client:madrid"]
    assert len(refused) == 3 and refused[-1].details["locked"] is True
    # Other accounts are not locked; an administrator can lift the lockout.
    assert httpx.get(url, auth=hub.auth("police"), headers={"Accept": TAXII}).status_code == 200
    identity_of(hub).limiter.unlock("madrid")
    assert httpx.get(url, auth=hub.auth("madrid"), headers={"Accept": TAXII}).status_code == 200


def test_token_endpoint_lockout(hub: RunningHub) -> None:
    token_url = f"{hub.url}/oauth/token"
    for _ in range(3):
        r = httpx.post(token_url, data={"grant_type": "client_credentials"}, auth=("foreign", "wrong"))
        assert r.status_code == 401
    r = httpx.post(token_url, data={"grant_type": "client_credentials"}, auth=hub.auth("foreign"))
    assert r.status_code == 429 and r.json()["error"] == "temporarily_unavailable" and int(r.headers["retry-after"]) > 0
    identity_of(hub).limiter.unlock("foreign")


def test_an_address_with_too_many_failures_is_throttled(hub: RunningHub) -> None:
    identity = identity_of(hub)
    url = f"{hub.url}/taxii2/"
    statuses = [httpx.get(url, headers={"Authorization": f"Bearer x{i}", "Accept": TAXII}).status_code
                for i in range(identity.conf.ip_failures_per_minute + 1)]
    assert 429 in statuses and statuses[0] == 401
    identity.limiter.reset()  # let the other tests of this module run from the same address


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    config = tmp_path / "hub.yaml"
    config.write_text(yaml.safe_dump({"database_url": db_url, "secret_key": TEST_SECRET,
                                      "public_url": "https://hub.example"}))
    _mount_plugins()
    old = os.environ.get("POPART_CONFIG")
    yield {"config": str(config)}
    if old is None:
        os.environ.pop("POPART_CONFIG", None)
    else:
        os.environ["POPART_CONFIG"] = old


def test_keys_rotate_and_list(hub: RunningHub, cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    before = identity_of(hub).keys.active().kid
    result = runner.invoke(app, ["keys", "rotate", "--config", cli_env["config"]])
    assert result.exit_code == 0, result.output
    identity_of(hub).keys.refresh()
    after = identity_of(hub).keys.active().kid
    assert after != before and after in result.output
    listing = runner.invoke(app, ["keys", "list", "--config", cli_env["config"]])
    assert listing.exit_code == 0 and "retired" in listing.output and "active" in listing.output
    kids = {k["kid"] for k in httpx.get(f"{hub.url}/.well-known/jwks.json").json()["keys"]}
    assert {before, after} <= kids


def test_tokens_revoke_from_the_cli(hub: RunningHub, cli_env: dict[str, str]) -> None:
    token = get_token(hub, "police")["access_token"]
    jti = jwt.get_unverified_claims(token)["jti"]
    result = CliRunner().invoke(app, ["tokens", "revoke", jti, "--reason", "laptop stolen",
                                      "--config", cli_env["config"]])
    assert result.exit_code == 0, result.output
    identity = identity_of(hub)
    identity.revocations.refresh()  # another process revoked it: pick it up now, not within 5 s
    r = httpx.get(f"{hub.url}/auth/whoami", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert events_of(hub, "bearer.refused", "refused")[-1].details["reason"] == "token revoked"


def test_people_invite_prints_a_link(hub: RunningHub, cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["people", "invite", "duty@city.example", "--org", "City of Madrid",
                                      "--role", "field_officer", "--config", cli_env["config"]])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("https://hub.example/portal/invitations/")
    token = link.rsplit("/", 1)[1]
    assert identity_of(hub).passkeys.invitation(token).username == "duty@city.example"
    bad = CliRunner().invoke(app, ["people", "invite", "x", "--org", "Nowhere", "--role", "analyst",
                                   "--config", cli_env["config"]])
    assert bad.exit_code == 1


def test_people_list_and_update_from_the_cli(hub: RunningHub, cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    _, token = identity_of(hub).passkeys.invite(organisation="Foreign LEA", username="liaison@psp.example",
                                                display_name="Liaison", roles=["analyst"], actor="test")
    assert token
    with hub.hub.db.write() as s:  # the person exists once registered; registration is covered elsewhere
        inv = s.query(Invitation).filter_by(username="liaison@psp.example").one()
        s.add(Person(id="p-liaison", org_id=inv.org_id, username=inv.username, display_name="Liaison",
                     roles=["analyst"], user_handle="h-liaison", active=True, created_at=0))
    listing = runner.invoke(app, ["people", "list", "--org", "Foreign LEA", "--config", cli_env["config"]])
    assert listing.exit_code == 0 and "liaison@psp.example" in listing.output
    result = runner.invoke(app, ["people", "update", "liaison@psp.example", "--role", "coordinator", "--disable",
                                 "--config", cli_env["config"]])
    assert result.exit_code == 0, result.output
    assert "coordinator" in result.output and "disabled" in result.output
    missing = runner.invoke(app, ["people", "update", "nobody", "--disable", "--config", cli_env["config"]])
    assert missing.exit_code == 1
