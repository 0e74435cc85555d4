"""The `popart` command line."""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from exchange.config import Settings, load_settings
from exchange.errors import HubError

app = typer.Typer(help="POP-ART Exchange: crowd-safety alerts shared over TAXII 2.1.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
orgs_app = typer.Typer(help="Organisations.", no_args_is_help=True)
clients_app = typer.Typer(help="API clients of organisations (HTTP Basic credentials).", no_args_is_help=True)
collections_app = typer.Typer(help="API roots and collections.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(clients_app, name="clients")
app.add_typer(collections_app, name="collections")
audit_app = typer.Typer(help="The hash-chained audit log (compliance).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
policy_app = typer.Typer(help="The sharing policy: who can see what and why, revisions and roll-out.",
                         no_args_is_help=True)
app.add_typer(policy_app, name="policy")
console = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML settings file (POPART_CONFIG)",
                                                exists=True, dir_okay=False)]


def _settings(config: Path | None, **overrides: object) -> Settings:
    if config is not None:
        os.environ["POPART_CONFIG"] = str(config)
    try:
        return load_settings(**overrides)
    except ValueError as exc:
        err.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


def _db(config: Path | None):  # type: ignore[no-untyped-def]
    from exchange.store.db import Database

    return Database(_settings(config).database_url)


def _fail(exc: HubError) -> typer.Exit:
    err.print(f"[red]{exc.title}:[/red] {exc.description or ''}")
    return typer.Exit(1)


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    migrate: Annotated[bool, typer.Option(help="Upgrade the database schema before starting")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM) of the hub", exists=True)] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM)", exists=True)] = None,
    tls_client_ca: Annotated[Path | None, typer.Option(help="CA (PEM) that client certificates must chain to",
                                                       exists=True)] = None,
    client_cert: Annotated[str | None, typer.Option(help="Client certificates: none | optional | required")] = None,
) -> None:
    """Run the hub (TAXII 2.1 API, /metrics) with uvicorn."""
    import uvicorn

    from exchange.app import create_app
    from exchange.observability import configure_logging
    from exchange.store import migrate as migrations
    from exchange.store.db import Database

    settings = _settings(config)
    if tls_cert or tls_key or tls_client_ca or client_cert:
        tls = settings.tls.model_dump() | {k: str(v) if isinstance(v, Path) else v for k, v in {
            "certfile": tls_cert, "keyfile": tls_key, "client_ca": tls_client_ca, "client_cert": client_cert,
        }.items() if v is not None}
        settings = _settings(config, tls=tls)
    configure_logging(settings.log_level, settings.log_format)
    db = Database(settings.database_url)
    if migrate:
        migrations.upgrade(db)
    elif migrations.current(db) != _head():
        err.print("[red]The database schema is not current:[/red] run `popart db upgrade` (or serve --migrate)")
        raise typer.Exit(2)
    db.dispose()
    from exchange.identity.mtls import uvicorn_tls_options

    options = {"host": host or settings.host, "port": port or settings.port, "log_config": None,
               "access_log": False, "timeout_graceful_shutdown": 10,  # open SSE streams must not hold a stop
               **uvicorn_tls_options(settings.tls)}
    if workers > 1:  # each worker process builds its own app from the same settings (file + environment)
        uvicorn.run("exchange.app:app_from_environment", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)


def _head() -> str | None:
    from alembic.script import ScriptDirectory

    from exchange.store.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None, revision: str = "head") -> None:
    """Create or migrate the schema to the newest revision."""
    from exchange.store import migrate as migrations

    db = _db(config)
    migrations.upgrade(db, revision)
    console.print(f"database at revision [bold]{migrations.current(db)}[/bold]")


@orgs_app.command("create")
def orgs_create(
    name: str,
    type: Annotated[str, typer.Option("--type", help="national_police | associated_lea | local_authority | "
                                                      "hub_operator | other")],
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2")] = None,
    area: Annotated[str | None, typer.Option(help="Municipality or area the organisation covers")] = None,
    config: ConfigOpt = None,
) -> None:
    """Create (or update) an organisation."""
    from exchange.services import orgs

    try:
        org, changed = orgs.upsert_organisation(_db(config), name=name, type=type, country=country, area=area)
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"{'created/updated' if changed else 'unchanged'} organisation {org.name} ({org.id})")


@orgs_app.command("list")
def orgs_list(config: ConfigOpt = None) -> None:
    """List organisations."""
    from exchange.services import orgs

    table = Table("name", "type", "country", "area", "id")
    for o in orgs.get_all_organisations(_db(config)):
        table.add_row(o.name, o.type, o.country or "", o.area or "", o.id)
    console.print(table)


@clients_app.command("create")
def clients_create(
    client_id: str,
    organisation: Annotated[str, typer.Option("--org", help="Organisation name or id")],
    role: Annotated[list[str], typer.Option("--role", help="Role (repeatable)")],
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    config: ConfigOpt = None,
) -> None:
    """Register an API client and print its secret once (only a hash is stored)."""
    from exchange.services import orgs

    try:
        client, secret = orgs.create_client(_db(config), organisation=organisation, client_id=client_id,
                                            name=name, roles=role)
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"client [bold]{client.client_id}[/bold] created; its secret (shown once):")
    typer.echo(secret)


@clients_app.command("disable")
def clients_disable(client_id: str, config: ConfigOpt = None) -> None:
    """Disable an API client (its credentials stop working within the verification cache time)."""
    from exchange.services import orgs

    try:
        orgs.set_client_active(_db(config), client_id, False)
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"client {client_id} disabled")


@collections_app.command("create")
def collections_create(
    alias: str,
    title: Annotated[str, typer.Option(help="Title shown to clients")],
    root: Annotated[str, typer.Option("--root", help="API root name (created if missing)")] = "popart",
    reader: Annotated[list[str] | None, typer.Option("--reader", help="Organisation that may read ('*': all)")] = None,
    writer: Annotated[list[str] | None, typer.Option("--writer", help="Organisation that may write")] = None,
    description: Annotated[str | None, typer.Option()] = None,
    config: ConfigOpt = None,
) -> None:
    """Create (or update) a collection, creating its API root if needed."""
    from sqlalchemy import select

    from exchange.services import collections
    from exchange.store.models import ApiRoot

    db = _db(config)
    settings = _settings(config)
    with db.read() as session:
        exists = session.execute(select(ApiRoot).where(ApiRoot.name == root)).scalar_one_or_none()
    try:
        if exists is None:
            collections.upsert_api_root(db, name=root, title=root, is_default=True,
                                        max_content_length=settings.default_max_content_length)
        col, changed = collections.upsert_collection(db, root_name=root, collection_id=None, alias=alias, title=title,
                                                     description=description, readers=reader or [],
                                                     writers=writer or [])
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"{'created/updated' if changed else 'unchanged'} collection {root}/{alias} ({col.id})")


@collections_app.command("list")
def collections_list(config: ConfigOpt = None) -> None:
    """List API roots and collections with their access lists."""
    from exchange.services import collections, orgs

    db = _db(config)
    names = {o.id: o.name for o in orgs.get_all_organisations(db)} | {"*": "everyone"}
    table = Table("api root", "alias", "title", "id", "read", "write")
    for root, col, access in collections.list_collections(db):
        table.add_row(root.name, col.alias or "", col.title, col.id,
                      ", ".join(names.get(a.org_id, a.org_id) for a in access if a.can_read),
                      ", ".join(names.get(a.org_id, a.org_id) for a in access if a.can_write))
    console.print(table)


@app.command()
def bootstrap(site: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Site YAML")],
              config: ConfigOpt = None) -> None:
    """Create or update organisations, API roots, collections and clients from a site file (idempotent)."""
    from pydantic import ValidationError

    from exchange.services import bootstrap as boot
    from exchange.store import migrate as migrations

    db = _db(config)
    try:
        spec = boot.load(site)
    except ValidationError as exc:
        err.print(f"[red]{site}:[/red] {exc}")
        raise typer.Exit(2) from None
    migrations.upgrade(db)
    try:
        changes = boot.apply(db, spec)
    except HubError as exc:
        raise _fail(exc) from None
    for line in changes:
        console.print(f"[green]✓[/green] {line}")
    console.print(f"{len(changes)} change(s)" if changes else "nothing to change")


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its SQLite database")] = Path("popart-demo"),
    host: str = "127.0.0.1",
    port: int = 6100,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Set up and print credentials, do not serve")] = False,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Do not start the detector worker")] = False,
) -> None:
    """Start the hub on SQLite with demo organisations, collections, credentials and a detector worker."""
    from exchange.demo import run_demo

    run_demo(data_dir=data_dir, host=host, port=port, serve=not no_serve, console=console, worker=not no_worker)


@audit_app.command("verify")
def audit_verify(config: ConfigOpt = None) -> None:
    """Check the audit log's hash chain: finds edited, deleted and reordered records."""
    from exchange.audit.log import verify

    with console.status("Verifying the audit log…"):
        report = verify(_db(config))
    if report.ok:
        console.print(f"[green]✓[/green] audit log intact: {report.records} records")
        return
    for problem in report.problems:
        err.print(f"[red]✗[/red] {problem}")
    err.print(f"[red]audit log NOT intact[/red]: {len(report.problems)} problem(s) in {report.records} records")
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    since: Annotated[str | None, typer.Option(help="From this time (RFC 3339, e.g. 2026-11-25T00:00:00Z)")] = None,
    until: Annotated[str | None, typer.Option(help="Up to (excluding) this time")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: standard output)")] = None,
    config: ConfigOpt = None,
) -> None:
    """Export the audit records of a period as JSON lines or CSV (hashes included)."""
    import sys

    from exchange.audit.log import export
    from exchange.timestamps import parse_timestamp

    if fmt not in ("jsonl", "csv"):
        err.print("[red]--format must be jsonl or csv[/red]")
        raise typer.Exit(2)
    try:
        start = parse_timestamp(since) if since else None
        end = parse_timestamp(until) if until else None
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        for chunk in export(_db(config), since=start, until=end, fmt=fmt):
            stream.write(chunk)
    finally:
        if output:
            stream.close()


def _rego(config: Path | None, policy_dir: Path | None = None):  # type: ignore[no-untyped-def]
    from exchange.hub import build_policy
    from exchange.services.compliance import require_rego

    settings = _settings(config)
    if policy_dir is not None:
        settings = settings.model_copy(update={"policy_dir": policy_dir, "policy_engine": "embedded"})
    db = _db(config)
    try:
        return db, require_rego(build_policy(settings, db))
    except HubError as exc:
        raise _fail(exc) from None


@policy_app.command("revision")
def policy_revision(config: ConfigOpt = None) -> None:
    """Print the revision (hash of the Rego files and data documents) the hub would decide with."""
    _, policy = _rego(config)
    typer.echo(policy.revision)


@policy_app.command("who-can-see")
def policy_who_can_see(object_id: str, config: ConfigOpt = None) -> None:
    """Organisations and roles that can see each stored version of an object, and when."""
    from exchange.services import compliance

    try:
        versions = compliance.who_can_see(_db(config), object_id)
    except HubError as exc:
        raise _fail(exc) from None
    for v in versions:
        table = Table("organisation", "roles", "from", "until",
                      title=f"{object_id} @ {v['version']}{' (latest)' if v['latest'] else ''}")
        for a in v["access"]:
            table.add_row(a["org_name"], ", ".join(a["roles"]), a["not_before"] or "", a["not_after"] or "")
        console.print(table)


@policy_app.command("explain")
def policy_explain(object_id: str, org: Annotated[str, typer.Option("--org", help="Organisation id")],
                   config: ConfigOpt = None) -> None:
    """Why an organisation is allowed or denied an object: the rules on each side."""
    import json

    from exchange.services import compliance

    db, policy = _rego(config)
    try:
        result = compliance.explain(db, policy, object_id, org)
    except HubError as exc:
        raise _fail(exc) from None
    verdict = "[green]ALLOWED[/green]" if result["allowed"] else "[red]DENIED[/red]"
    console.print(f"{org} → {object_id}: {verdict} under {result['revision']}")
    for rule in result.get("allowed_by", []):
        console.print(f"  [green]+[/green] {rule}")
    for rule in result.get("denied_by", []):
        console.print(f"  [red]-[/red] {rule}")
    console.print_json(json.dumps({k: result[k] for k in ("roles", "not_before", "not_after", "stored_grant")
                                   if k in result}))


def _progress_bar(label: str):  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=False)


@policy_app.command("simulate")
def policy_simulate(
    policy_dir: Annotated[Path, typer.Option("--policy-dir", help="Candidate revision (rego/ and data/)",
                                             exists=True, file_okay=False)],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the full diff as JSON")] = None,
    config: ConfigOpt = None,
) -> None:
    """What would change if the candidate revision replaced the current one: a diff of audiences."""
    import json

    from exchange.services import compliance

    db, candidate = _rego(config, policy_dir)
    with _progress_bar("simulate") as progress:
        task = progress.add_task(f"deciding under {candidate.revision[:19]}…", total=None)
        report = compliance.simulate(db, candidate, progress=lambda d, t: progress.update(task, completed=d, total=t))
    table = Table("object", "version", "gains", "loses", title=f"{report['changed']} of {report['versions_checked']} "
                  "stored versions would change audience")
    for c in report["changes"][:50]:
        table.add_row(c["object_id"], c["version"], ", ".join(c["gained"]), ", ".join(c["lost"]))
    console.print(table)
    if len(report["changes"]) > 50:
        console.print(f"… and {len(report['changes']) - 50} more (use --output for all)")
    if output:
        output.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


@policy_app.command("apply")
def policy_apply(config: ConfigOpt = None) -> None:
    """Re-decide every stored version under the current revision now (running hubs also do it on reload)."""
    from exchange.services import compliance

    db, policy = _rego(config)
    with _progress_bar("apply") as progress:
        task = progress.add_task(f"re-deciding under {policy.revision[:19]}…", total=None)
        result = compliance.reevaluate(db, policy,
                                       progress=lambda d, t: progress.update(task, completed=d, total=t))
    console.print(f"{result['changed']} of {result['versions']} stored versions changed audience")


def _mount_plugins() -> None:
    # Sub-commands of the other packages; a package that is present but fails to import stops the CLI loudly.
    # The detector commands (worker, detect, eval) sit at the top level: `popart detect VIDEO`.
    for module_name, name in (("stix_profiles.cli", "stix"), ("detectors.cli", None)):
        if importlib.util.find_spec(module_name.split(".")[0]) and importlib.util.find_spec(module_name):
            module = importlib.import_module(module_name)
            app.add_typer(module.app, name=name)
    from exchange.identity.cli import SUBCOMMANDS as identity_commands

    for name, sub_app in identity_commands.items():  # popart keys|tokens|people
        app.add_typer(sub_app, name=name)


def main() -> None:
    """Entry point of the `popart` console script."""
    _mount_plugins()
    app()


if __name__ == "__main__":
    main()
