"""The `relaydesk` command: one Typer app, a module per command group."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from relaydesk.auth.crypto import SecretKeyMissing, generate_secret_key
from relaydesk.cli import (
    bench_cmd,
    channels_cmd,
    config_cmd,
    data_cmd,
    demo,
    models_cmd,
    route_cmd,
    simulate_cmd,
    token_cmd,
    triage_cmd,
)
from relaydesk.cli.common import console, err_console, init_database, opened
from relaydesk.core.errors import UserError
from relaydesk.core.redact import mask_database_url, redact_url
from relaydesk.pipeline.bus.base import BusUnavailable
from relaydesk.settings import get_settings

app = typer.Typer(
    name="relaydesk",
    help="RelayDesk: a self-hosted social customer-care hub.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(bench_cmd.app, name="bench")
app.add_typer(channels_cmd.app, name="channels")
app.add_typer(token_cmd.app, name="token")
app.command("demo")(demo.demo)
app.command("import")(data_cmd.import_file)
app.command("report")(data_cmd.report)
app.command("triage")(triage_cmd.triage)
app.command("staffing")(data_cmd.staffing)
app.command("route")(route_cmd.route)
app.command("eval")(models_cmd.eval_cmd)
app.command("train")(models_cmd.train_cmd)
app.command("simulate")(simulate_cmd.simulate_cmd)


@app.command()
def init(
    demo_data: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="also load the demo organisation and messages into an empty database "
            "(never over an existing one: see `relaydesk demo --reset`)",
        ),
    ] = False,
) -> None:
    """Create or upgrade the database schema (embedded SQLite by default)."""
    settings = get_settings()
    init_database(settings)
    console.print(
        f"database ready: [bold]{escape(mask_database_url(settings.database_url))}[/]", highlight=False
    )
    if demo_data:
        with opened(settings, migrate=False) as container:
            demo.init_demo(container)


@app.command()
def keygen() -> None:
    """Print a new random secret key for RELAYDESK_SECRET_KEY (production mode needs one)."""
    # A Fernet key: 32 random bytes, url-safe base64; used as given to encrypt channel credentials.
    typer.echo(generate_secret_key())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to bind")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
) -> None:
    """Run the web server (API at /api/v1, OpenAPI docs at /docs, the inbox at /)."""
    import uvicorn

    from relaydesk.app import create_app

    settings = get_settings()
    init_database(settings)
    with opened(settings, migrate=False) as container:
        application = create_app(settings, container)
        console.print(
            f"RelayDesk on [bold]http://{host or settings.host}:{port or settings.port}[/] "
            f"(database {escape(mask_database_url(settings.database_url))}, "
            f"triage: {type(container.triage.triager).__name__})",
            highlight=False,
        )
        uvicorn.run(application, host=host or settings.host, port=port or settings.port, log_level="info")


@app.command()
def worker() -> None:
    """Scale-out worker: drain the durable work queue (triage, routing, SLA), woken through NATS."""
    import signal
    import threading

    settings = get_settings()
    if not settings.bus_url.startswith("nats://"):
        err_console.print("error: `relaydesk worker` needs RELAYDESK_BUS_URL=nats://... (scale-out mode)")
        raise typer.Exit(2)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with opened(settings, migrate=False, consume=True) as container:
        workers = container.workers
        if workers.threads == 0:
            workers.threads = 2
        workers.start()
        console.print(
            f"worker draining the work queue with {workers.threads} thread(s); woken through "
            f"{escape(redact_url(settings.bus_url))} (stream {settings.bus_stream})",
            highlight=False,
        )
        try:
            while not stop.wait(1.0):
                try:
                    container.conversations.tick()
                except Exception:
                    # The database is away for a moment: the timers catch up on a later tick.
                    logging.getLogger(__name__).warning("timers failed; retrying", exc_info=True)
        except KeyboardInterrupt:
            pass
        workers.stop()


def run() -> None:
    """Entry point: user errors exit with code 2 and a message, never a traceback."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except (UserError, SecretKeyMissing) as exc:
        # SecretKeyMissing: production mode without RELAYDESK_SECRET_KEY (or the wrong key) must
        # stop the start with the reason, not a traceback.
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except BusUnavailable as exc:
        # Scale-out: NATS unreachable at start (or longer than a publish may wait).
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    run()

__all__ = ["Path", "app", "run"]
