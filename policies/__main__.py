"""`python -m policies`: check a policy revision, print its hash, write it as an OPA bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from policies.bundle import write_bundle_dir, write_bundle_tarball
from policies.documents import load_source
from policies.embedded import EmbeddedEngine, EmbeddedEngineConfig
from policies.errors import PolicyLoadError

app = typer.Typer(help="POP-ART sharing policy tools.", no_args_is_help=True)
PolicyDir = Annotated[Path | None, typer.Option(help="Folder with rego/ and data/ (default: packaged).")]


@app.command()
def revision(policy_dir: PolicyDir = None) -> None:
    """Print the revision hash of the policy files and data documents."""
    typer.echo(load_source(policy_dir).revision)


@app.command()
def check(policy_dir: PolicyDir = None) -> None:
    """Validate the data documents and compile the Rego; exit 1 with the reason if it fails."""
    try:
        engine = EmbeddedEngine(EmbeddedEngineConfig(policy_dir=policy_dir))
    except PolicyLoadError as exc:
        typer.echo(f"policy invalid: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"ok {engine.revision}")


@app.command()
def bundle(out: Path, policy_dir: PolicyDir = None) -> None:
    """Write an OPA bundle: a directory, or a .tar.gz when OUT ends with .tar.gz."""
    source = load_source(policy_dir)
    if out.name.endswith(".tar.gz"):
        write_bundle_tarball(source, out)
    else:
        write_bundle_dir(source, out)
    typer.echo(f"{out} {source.revision}")


if __name__ == "__main__":
    app()
