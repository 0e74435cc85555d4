"""`popart keys|tokens|people|passkeys …`: signing keys, token revocation, invitations and passkeys."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from exchange.errors import HubError

keys_app = typer.Typer(help="Token signing keys.", no_args_is_help=True)
tokens_app = typer.Typer(help="Access tokens.", no_args_is_help=True)
people_app = typer.Typer(help="People who log into the portal with passkeys.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML settings file (POPART_CONFIG)",
                                                exists=True, dir_okay=False)]


def _identity(config: Path | None):  # type: ignore[no-untyped-def]
    from exchange.config import load_settings
    from exchange.identity.service import Identity
    from exchange.store.db import Database

    if config is not None:
        os.environ["POPART_CONFIG"] = str(config)
    try:
        settings = load_settings()
    except ValueError as exc:
        err.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from None
    return Identity(settings, Database(settings.database_url))


@keys_app.command("rotate")
def keys_rotate(config: ConfigOpt = None) -> None:
    """Start signing with a new key; the old one stays published until its last token has expired."""
    kid = _identity(config).keys.rotate(actor="cli")
    console.print(f"new signing key [bold]{kid}[/bold]")


@keys_app.command("list")
def keys_list(config: ConfigOpt = None) -> None:
    """List signing keys: active, retired (published until), expired."""
    from exchange.identity.models import SigningKey
    from exchange.timestamps import format_timestamp

    identity = _identity(config)
    table = Table("kid", "algorithm", "state", "published until")
    with identity.db.read() as session:
        for key in session.execute(select(SigningKey).order_by(SigningKey.created_at)).scalars():
            state = "active" if key.retired_at is None else "retired"
            until = format_timestamp(key.expires_at) if key.expires_at else ""
            table.add_row(key.kid, key.algorithm, state, until)
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(jti: str, reason: Annotated[str, typer.Option(help="Why (kept with the revocation)")] = "revoked",
                  config: ConfigOpt = None) -> None:
    """Revoke an access token by its jti (refused from now on, until it would have expired)."""
    from exchange.timestamps import now_micros

    identity = _identity(config)
    until = now_micros() + (identity.tokens.lifetime_s + 120) * 1_000_000
    if identity.revocations.revoke(jti, expires_at=until, reason=reason, actor="cli"):
        console.print(f"token {jti} revoked")
    else:
        console.print(f"token {jti} was already revoked")


@people_app.command("invite")
def people_invite(
    username: str,
    organisation: Annotated[str, typer.Option("--org", help="Organisation name or id")],
    role: Annotated[list[str], typer.Option("--role", help="Role (repeatable)")],
    display_name: Annotated[str, typer.Option(help="Name shown in the portal")] = "",
    config: ConfigOpt = None,
) -> None:
    """Invite a person: prints a one-time link to register their first passkey."""
    identity = _identity(config)
    try:
        inv, token = identity.passkeys.invite(organisation=organisation, username=username,
                                              display_name=display_name, roles=role, actor="cli")
    except HubError as exc:
        err.print(f"[red]{exc.title}:[/red] {exc.description or ''}")
        raise typer.Exit(1) from None
    console.print(f"invitation for [bold]{inv.username}[/bold] (valid {identity.conf.invitation_hours} h):")
    typer.echo(f"{identity.base_url}/portal/invitations/{token}")


@people_app.command("list")
def people_list(organisation: Annotated[str | None, typer.Option("--org", help="Organisation name or id")] = None,
                config: ConfigOpt = None) -> None:
    """List people with their roles and state."""
    from exchange.identity import people

    identity = _identity(config)
    org = identity.directory.org(organisation) if organisation else None
    if organisation and org is None:
        err.print(f"[red]No organisation {organisation!r}[/red]")
        raise typer.Exit(1)
    table = Table("username", "name", "organisation", "roles", "active")
    for person in people.get_all(identity.db, org_id=org.id if org else None):
        org_name = (identity.directory.org(person.org_id) or org)
        table.add_row(person.username, person.display_name, org_name.name if org_name else person.org_id,
                      ", ".join(person.roles), "yes" if person.active else "no")
    console.print(table)


@people_app.command("update")
def people_update(username: str,
                  role: Annotated[list[str] | None, typer.Option("--role", help="New roles (repeatable)")] = None,
                  disable: Annotated[bool, typer.Option("--disable", help="Disable (ends every session)")] = False,
                  enable: Annotated[bool, typer.Option("--enable", help="Enable again")] = False,
                  config: ConfigOpt = None) -> None:
    """Change a person's roles, or disable/enable them."""
    from exchange.identity import people

    if disable and enable:
        err.print("[red]--disable and --enable exclude each other[/red]")
        raise typer.Exit(2)
    try:
        person = people.update_person(_identity(config).db, username=username, actor="cli", roles=role,
                                      active=False if disable else True if enable else None)
    except HubError as exc:
        err.print(f"[red]{exc.title}:[/red] {exc.description or ''}")
        raise typer.Exit(1) from None
    console.print(f"{person.username}: roles {', '.join(person.roles)}; {'active' if person.active else 'disabled'}")


@people_app.command("logout")
def people_logout(username: str, config: ConfigOpt = None) -> None:
    """End every session of a person."""
    from exchange.identity.models import Person

    identity = _identity(config)
    with identity.db.read() as session:
        person = session.execute(select(Person).where(Person.username == username)).scalar_one_or_none()
    if person is None:
        err.print(f"[red]No person {username!r}[/red]")
        raise typer.Exit(1)
    count = identity.sessions.end_all(person.id, actor="cli", ip=None)
    console.print(f"{count} session(s) ended")


# Mounted at the top of `popart` (popart keys rotate, popart tokens revoke, popart people invite).
SUBCOMMANDS = {"keys": keys_app, "tokens": tokens_app, "people": people_app}
