"""`popart stix`: validate files against the POP-ART STIX profile and print example bundles."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from stix_profiles.examples import EXAMPLES, render_doc_examples
from stix_profiles.rules import ProfileIssue
from stix_profiles.validate import validate

app = typer.Typer(help="The POP-ART STIX 2.1 profile: validate files, print examples.", no_args_is_help=True)


class InputError(ValueError):
    """A file that is not a STIX bundle, TAXII envelope, object list or JSON lines."""


def read_documents(text: str, source: str = "<input>") -> list[dict[str, Any]]:
    """Return the STIX objects/bundles of a bundle, TAXII envelope, JSON array, object or JSON lines text."""
    stripped = text.strip()
    if not stripped:
        raise InputError(f"{source}: empty file")
    try:
        docs: list[Any] = [json.loads(stripped)]
    except json.JSONDecodeError as whole_error:
        docs = []
        for number, line in enumerate(stripped.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if number == 1:
                    raise InputError(f"{source}: not JSON ({whole_error})") from None
                raise InputError(f"{source}: line {number} is not JSON ({exc.msg})") from None
    found: list[dict[str, Any]] = []
    for doc in docs:
        if isinstance(doc, list):
            items = doc
        elif isinstance(doc, dict) and "type" not in doc and isinstance(doc.get("objects"), list):
            items = doc["objects"]  # TAXII 2.1 envelope
        else:
            items = [doc]
        for item in items:
            if not isinstance(item, dict):
                raise InputError(f"{source}: expected STIX objects, found {type(item).__name__}")
            found.append(item)
    return found


def _count(docs: list[dict[str, Any]]) -> int:
    return sum(len(d.get("objects") or []) if d.get("type") == "bundle" else 1 for d in docs)


@app.command("validate")
def validate_command(
    files: Annotated[list[Path], typer.Argument(help="bundles, TAXII envelopes or JSON lines files ('-': stdin)")],
    lenient: Annotated[bool, typer.Option(help="report stix2-validator SHOULD rules as warnings")] = False,
) -> None:
    """Validate STIX files against STIX 2.1 (strict) and the POP-ART profile; exit 1 on any error."""
    console = Console(stderr=False, soft_wrap=True)
    failed = False
    rows: list[tuple[str, ProfileIssue]] = []
    for path in files:
        try:
            text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
            docs = read_documents(text, str(path))
        except (OSError, UnicodeDecodeError, InputError) as exc:
            console.print(f"[red]✗ {path}[/red]: cannot read: {exc}")
            failed = True
            continue
        issues = validate(docs, strict=not lenient)
        errors = [i for i in issues if i.severity == "error"]
        failed = failed or bool(errors)
        mark = "[red]✗[/red]" if errors else "[green]✓[/green]"
        console.print(
            f"{mark} {path}: {_count(docs)} objects, {len(errors)} errors, {len(issues) - len(errors)} warnings"
        )
        rows += [(str(path), issue) for issue in issues]
    _report(console, rows)
    if failed:
        raise typer.Exit(code=1)


def _report(console: Console, rows: list[tuple[str, ProfileIssue]]) -> None:
    current: tuple[str, str] | None = None
    for source, issue in rows:
        if (source, issue.object_id) != current:
            current = (source, issue.object_id)
            console.print(f"\n[bold]{source}[/bold] {escape(issue.object_id)}")
        colour = "red" if issue.severity == "error" else "yellow"
        where = f"{escape(issue.path)}: " if issue.path else ""
        console.print(f"  [{colour}]{issue.severity}[/{colour}] {where}{escape(issue.message)}")


@app.command("example")
def example_command(
    kind: Annotated[str, typer.Argument(help=f"one of: {', '.join(EXAMPLES)}")],
) -> None:
    """Print a valid example bundle of one profile kind."""
    if kind not in EXAMPLES:
        Console(stderr=True).print(f"[red]unknown kind {kind!r}[/red]; choose one of: {', '.join(EXAMPLES)}")
        raise typer.Exit(code=2)
    typer.echo(json.dumps(EXAMPLES[kind](), indent=2))


@app.command("update-docs", hidden=True)
def update_docs_command(path: Annotated[Path, typer.Argument(help="docs/stix-profile.md")]) -> None:
    """Rewrite the example blocks of the profile documentation from the current examples."""
    path.write_text(render_doc_examples(path.read_text(encoding="utf-8")), encoding="utf-8")


@app.command("kinds")
def kinds_command() -> None:
    """List the example kinds."""
    for kind in EXAMPLES:
        typer.echo(kind)
