"""The `popart` command line against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from exchange.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POPART_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("POPART_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("COLUMNS", "250")  # rich tables must not wrap the names asserted on
    return tmp_path


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_bootstrap_twice_changes_nothing_the_second_time(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POPART_SECRET_PN_PLATFORM", "s" * 40)
    site = Path(__file__).parents[2] / "deploy" / "site.example.yaml"
    first = run("bootstrap", str(site))
    assert "collection popart/alerts" in first and "client pn-platform" in first
    assert "nothing to change" in run("bootstrap", str(site))
    listing = run("collections", "list")
    assert "alerts" in listing and "everyone" in listing


def test_bootstrap_refuses_a_missing_secret_and_a_typo(env: Path, tmp_path: Path) -> None:
    site = Path(__file__).parents[2] / "deploy" / "site.example.yaml"
    result = runner.invoke(app, ["bootstrap", str(site)])
    assert result.exit_code == 1 and "POPART_SECRET_PN_PLATFORM" in result.output
    typo = tmp_path / "typo.yaml"
    typo.write_text("organisations:\n  - {name: X, type: national_police, contry: ES}\n")
    result = runner.invoke(app, ["bootstrap", str(typo)])
    assert result.exit_code == 2 and "contry" in result.output


def test_orgs_clients_and_collections_commands(env: Path) -> None:
    run("db", "upgrade")
    run("orgs", "create", "Ayuntamiento de Sevilla", "--type", "local_authority", "--country", "es",
        "--area", "sevilla")
    assert "Ayuntamiento de Sevilla" in run("orgs", "list")
    out = run("clients", "create", "sev-duty", "--org", "Ayuntamiento de Sevilla", "--role", "field_officer")
    secret = out.strip().splitlines()[-1]
    assert len(secret) >= 40
    run("collections", "create", "alerts", "--title", "Alerts", "--reader", "*",
        "--writer", "Ayuntamiento de Sevilla")
    assert "alerts" in run("collections", "list")
    bad = runner.invoke(app, ["clients", "create", "x", "--org", "Ayuntamiento de Sevilla", "--role", "king"])
    assert bad.exit_code == 1 and "unknown roles" in bad.output
    dup = runner.invoke(app, ["clients", "create", "sev-duty", "--org", "Ayuntamiento de Sevilla",
                              "--role", "analyst"])
    assert dup.exit_code == 1 and "already exists" in dup.output
    run("clients", "disable", "sev-duty")


def test_serve_refuses_default_secrets_outside_demo_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("POPART_SECRET_KEY", raising=False)
    monkeypatch.setenv("POPART_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2 and "secret_key" in result.output


def test_serve_refuses_an_unmigrated_database(env: Path) -> None:
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2 and "popart db upgrade" in result.output


def test_demo_sets_up_and_prints_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    out = run("demo", "--data-dir", str(tmp_path / "demo"), "--no-serve")
    assert "pn-analyst" in out and "/taxii2/" in out
    assert (tmp_path / "demo" / "popart.db").exists()
