"""`relaydesk config validate|apply|export`: the organisation as code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaydesk.audit.service import Actor, acting
from relaydesk.cli.common import console, err_console, fail, opened
from relaydesk.config.loader import LoadResult, load_config
from relaydesk.config.service import ConfigApplyError, apply_config, export_config
from relaydesk.db import transaction

app = typer.Typer(
    help="Validate, apply and export the organisation config (relaydesk.yaml).", no_args_is_help=True
)

FileArg = Annotated[Path, typer.Argument(help="the organisation YAML file", show_default=False)]


def _checked(path: Path) -> LoadResult:
    if not path.is_file():
        fail(f"{path}: no such file")
    result = load_config(path)
    errors = [p for p in result.problems if p.severity == "error"]
    for problem in result.problems:
        colour = "red" if problem.severity == "error" else "yellow"
        err_console.print(f"[{colour}]{problem.severity}[/] {problem}", highlight=False)
    if errors or result.config is None:
        fail(f"{len(errors)} problem(s) in {path}; nothing was applied")
    return result


@app.command()
def validate(path: FileArg) -> None:
    """Report every problem with file:line and field; exit 2 if there is any error."""
    result = _checked(path)
    warnings = sum(1 for p in result.problems if p.severity == "warning")
    console.print(f"[green]{path} is valid[/]" + (f" ({warnings} warning(s))" if warnings else ""))


@app.command()
def apply(path: FileArg) -> None:
    """Make the database match the file (idempotent: a second apply changes nothing)."""
    result = _checked(path)
    assert result.config is not None
    with opened() as container:
        try:
            with transaction(container.sessions) as session:
                acting(session, Actor(None, f"relaydesk config apply {path.name}", "cli"))
                summary = apply_config(session, result.config, container.box)
        except ConfigApplyError as exc:
            fail(f"{path}: {exc}")
    changed = {
        kind: (summary.created.get(kind, 0), summary.updated.get(kind, 0), summary.deleted.get(kind, 0))
        for kind in sorted(set(summary.created) | set(summary.updated) | set(summary.deleted))
    }
    rows = [f"{k}: +{c} ~{u} -{d}" for k, (c, u, d) in changed.items() if c or u or d]
    console.print(f"applied {path}: " + (", ".join(rows) if rows else "no changes"))


@app.command("export")
def export(org: Annotated[str, typer.Option(help="organisation key")]) -> None:
    """Print the organisation as JSON in the shape of relaydesk.yaml (secrets redacted)."""
    with opened() as container, container.sessions() as session:
        try:
            data = export_config(session, org)
        except LookupError as exc:
            fail(str(exc))
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))
