"""What every CLI command shares: the console, errors as exit code 2, an opened container."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from relaydesk.container import Container, build_container
from relaydesk.migrate import MigrationBlocked, upgrade
from relaydesk.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def init_database(settings: Settings) -> None:
    try:
        upgrade(settings.database_url)
    except MigrationBlocked as exc:
        # Account keys come from the database: not Rich markup.
        fail(f"the database was not upgraded: {escape(str(exc))}")


@contextmanager
def opened(
    settings: Settings | None = None,
    *,
    migrate: bool = True,
    triage_backend: str | None = None,
    consume: bool | None = None,
) -> Iterator[Container]:
    settings = settings or get_settings()
    if triage_backend:
        settings = settings.model_copy(update={"triage_backend": triage_backend})
    if migrate:
        init_database(settings)
    container = build_container(settings, consume=consume)
    try:
        yield container
    finally:
        container.close()
