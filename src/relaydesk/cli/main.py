"""The `relaydesk` command: one Typer app, a module per command group.

The command modules are imported only when their command runs: `relaydesk --help` and
`relaydesk token` stay free of FastAPI, SQLAlchemy and the triage models, which take a second
to import. The listing shows each lazy command's summary from `_LAZY_COMMANDS`/`_LAZY_GROUPS`
(tests/cli/test_lazy_cli.py checks they match the real help texts).
"""

from __future__ import annotations

import gc
import importlib
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from relaydesk.cli.common import console, err_console, fail, init_database, opened

if TYPE_CHECKING:
    from relaydesk.container import Container


@dataclass(frozen=True)
class _Lazy:
    """A command known by name and summary; `module:attribute` is imported when it runs."""

    target: str
    summary: str

    def stub(self, name: str) -> TyperCommand:
        return TyperCommand(name=name, help=self.summary)

    def load(self, name: str) -> Any:
        module_name, attribute = self.target.split(":")
        found = getattr(importlib.import_module(module_name), attribute)
        if isinstance(found, typer.Typer):
            group = typer.main.get_group(found)
            group.name = name
            return group
        # A one-command app builds the command exactly as `app.command(name)(function)` would.
        holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        holder.command(name)(found)
        return typer.main.get_command(holder)


# Typer lists plain commands before groups: the lazy ones keep their place around init..worker.
_LAZY_COMMANDS: dict[str, _Lazy] = {
    "demo": _Lazy(
        "relaydesk.cli.demo:demo",
        "Load the demo organisation (Saffron & Co.) if missing and replay a day of messages in\n"
        "fa/ar/he/th/en. Idempotent: the organisation's settings are never overwritten (see --reset).",
    ),
    "import": _Lazy(
        "relaydesk.cli.data_cmd:import_file",
        "Import messages through the real pipeline; bad rows are reported with line numbers and skipped.",
    ),
    "report": _Lazy(
        "relaydesk.cli.data_cmd:report",
        "KPIs: first response time, response rate, SLA attainment, sentiment, by department and channel.",
    ),
    "triage": _Lazy(
        "relaydesk.cli.triage_cmd:triage",
        "Triage messages: language, sentiment, intent, department, purchase stage, urgency, with reasons.",
    ),
    "staffing": _Lazy(
        "relaydesk.cli.data_cmd:staffing", "Agents needed each hour of the day (Erlang C) for recent traffic."
    ),
    "route": _Lazy("relaydesk.cli.route_cmd:route", "Dry-run routing: triage + rules, nothing stored."),
    "eval": _Lazy(
        "relaydesk.cli.models_cmd:eval_cmd",
        "Measure triage on the labelled development data, or with `faq` the FAQ suggestions across languages.",
    ),
    "train": _Lazy(
        "relaydesk.cli.models_cmd:train_cmd",
        "Train the sentiment head on licence-permitted rows, or refit it from agents' corrections.",
    ),
    "simulate": _Lazy(
        "relaydesk.cli.simulate_cmd:simulate_cmd",
        "Print SLA attainment, queue waits and per-agent load fairness (max/min ratio).",
    ),
}
_LAZY_GROUPS: dict[str, _Lazy] = {
    "config": _Lazy(
        "relaydesk.cli.config_cmd:app", "Validate, apply and export the organisation config (relaydesk.yaml)."
    ),
    "bench": _Lazy(
        "relaydesk.cli.bench_cmd:app", "Benchmarks: speed measured against a baseline in the same run."
    ),
    "channels": _Lazy(
        "relaydesk.cli.channels_cmd:app",
        "Channel accounts: check their set-up, poll the ones without webhooks, send queued replies.",
    ),
    "token": _Lazy(
        "relaydesk.cli.token_cmd:app",
        "API tokens: `token EMAIL` mints one; `token list [EMAIL]`, `token revoke ID`.",
    ),
    "queue": _Lazy(
        "relaydesk.cli.queue_cmd:app",
        "The work queue: `queue status`, `queue dead [--org KEY]`, `queue retry [--org KEY] [ID...]`.",
    ),
}
LAZY: dict[str, _Lazy] = {**_LAZY_COMMANDS, **_LAZY_GROUPS}


class _LazyGroup(TyperGroup):
    """The top-level group: lazy commands are stubs until looked up for anything but the listing."""

    def __init__(self, *, commands: Any = None, **attrs: Any) -> None:
        defined = dict(commands or {})
        ordered: dict[str, Any] = {name: lazy.stub(name) for name, lazy in _LAZY_COMMANDS.items()}
        ordered.update(defined)
        ordered.update({name: lazy.stub(name) for name, lazy in _LAZY_GROUPS.items()})
        super().__init__(commands=ordered, **attrs)
        self._listing = False
        self._loaded: set[str] = set()

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in LAZY and cmd_name not in self._loaded and not self._listing:
            self.commands[cmd_name] = LAZY[cmd_name].load(cmd_name)
            self._loaded.add(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # The listing needs only names and summaries: importing every module would defeat the point.
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    cls=_LazyGroup,
    name="relaydesk",
    help="RelayDesk: a self-hosted social customer-care hub.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


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
    from relaydesk.cli import demo
    from relaydesk.core.redact import mask_database_url
    from relaydesk.settings import get_settings

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
    from relaydesk.auth.crypto import generate_secret_key

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
    from relaydesk.core.redact import mask_database_url
    from relaydesk.settings import get_settings

    settings = get_settings()
    init_database(settings)
    with opened(settings, migrate=False, serving=True) as container:
        application = create_app(settings, container)
        console.print(
            f"RelayDesk on [bold]http://{host or settings.host}:{port or settings.port}[/] "
            f"(database {escape(mask_database_url(settings.database_url))}, "
            f"triage: {_triage_name(container)})",
            highlight=False,
        )
        # Everything loaded so far (triage models, the app, configuration) lives as long as the
        # process: kept out of the collector's full passes, which otherwise stopped every thread
        # for 80-120 ms about once a second under a surge (`relaydesk bench ingest`).
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        uvicorn.run(
            application,
            host=host or settings.host,
            port=port or settings.port,
            log_level="info",
            # Open pages hold /live streams that never end by themselves: without a bound,
            # Ctrl-C would wait for every browser tab to close.
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        )


def _triage_name(container: Container) -> str:
    backend = getattr(container.triage.triager, "backend", None)  # loaded in the worker process
    return f"{backend}, in the worker process" if backend else type(container.triage.triager).__name__


SHUTDOWN_GRACE_S = 3
# Python's default (700, 10, 10) ran a full collection about once a second under a surge: a
# request allocates a few hundred objects, and the collector stops every thread while it runs.
GC_THRESHOLDS = (20_000, 20, 10)


@app.command()
def worker(
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="serve this worker's Prometheus metrics on RELAYDESK_HOST at this port (no login: "
            "keep it on a private network)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Scale-out worker: drain the durable work queue (triage, routing, SLA), woken through NATS."""
    import signal
    import threading
    import time

    from relaydesk.core.redact import redact_url
    from relaydesk.settings import get_settings

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
        if metrics_port is not None:
            from prometheus_client import start_http_server

            from relaydesk.core.metrics import REGISTRY

            try:
                start_http_server(metrics_port, addr=settings.host, registry=REGISTRY)
            except OSError as exc:
                fail(f"--metrics-port: cannot listen on {settings.host}:{metrics_port} ({exc.strerror})")
            console.print(f"metrics on http://{settings.host}:{metrics_port}/metrics", highlight=False)
        gauges_at = -math.inf
        try:
            while not stop.wait(1.0):
                try:
                    container.conversations.tick()
                except Exception:
                    # The database is away for a moment: the timers catch up on a later tick.
                    logging.getLogger(__name__).warning("timers failed; retrying", exc_info=True)
                if metrics_port is not None and time.monotonic() - gauges_at > QUEUE_GAUGES_EVERY_S:
                    gauges_at = time.monotonic()
                    _refresh_queue_gauges(container)
        except KeyboardInterrupt:
            pass
        workers.stop()


QUEUE_GAUGES_EVERY_S = 15.0  # a worker's queue gauges are read this often (one query), not per scrape


def _refresh_queue_gauges(container: Container) -> None:
    from relaydesk.core import metrics
    from relaydesk.core.timeutil import utcnow
    from relaydesk.pipeline.queue_service import queue_service as queue

    try:
        with container.sessions() as session:
            stats = queue.stats(session)
    except Exception:
        logging.getLogger(__name__).warning(
            "queue gauges not read; the database is unavailable", exc_info=True
        )
        return
    metrics.refresh_queue_gauges(
        stats.pending, stats.dead, stats.oldest_pending_at, utcnow(), container.workers.alive
    )


def run() -> None:
    """Entry point: user errors exit with code 2 and a message, never a traceback."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        code = _exit_code(exc)
        if code is None:
            raise
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(code)


def _exit_code(exc: Exception) -> int | None:
    """The exit code of an error the user can act on, or None for a bug (shown with its traceback)."""
    # Imported here, not at the top: these modules pull in settings and cryptography, and a
    # command that failed has imported them already.
    from relaydesk.auth.crypto import SecretKeyMissing
    from relaydesk.core.errors import UserError
    from relaydesk.pipeline.bus.base import BusUnavailable

    # SecretKeyMissing: production mode without RELAYDESK_SECRET_KEY (or the wrong key) must
    # stop the start with the reason, not a traceback.
    if isinstance(exc, UserError | SecretKeyMissing):
        return 2
    # Scale-out: NATS unreachable at start (or longer than a publish may wait).
    if isinstance(exc, BusUnavailable):
        return 1
    return None


if __name__ == "__main__":  # pragma: no cover
    run()

__all__ = ["Path", "app", "run"]
