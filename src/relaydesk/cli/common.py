"""What every CLI command shares: the console, errors as exit code 2, an opened container."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from relaydesk.container import Container
    from relaydesk.settings import Settings

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def init_database(settings: Settings) -> None:
    # Imported on use, as in `opened`: `relaydesk --help` must not load SQLAlchemy and Alembic.
    from relaydesk.migrate import MigrationBlocked, upgrade

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
    serving: bool = False,
) -> Iterator[Container]:
    from relaydesk.container import build_container
    from relaydesk.settings import get_settings

    settings = settings or get_settings()
    if not serving and not consume:
        # A one-shot command has no worker threads: what it accepts (import, demo, poll) is
        # processed by the accepting thread right after its commit, before the command ends.
        settings = settings.model_copy(update={"background_tasks": False})
    if triage_backend:
        settings = settings.model_copy(update={"triage_backend": triage_backend})
    if migrate:
        init_database(settings)
    container = build_container(settings, consume=consume, worker_process=serving)
    try:
        yield container
    finally:
        container.close()
