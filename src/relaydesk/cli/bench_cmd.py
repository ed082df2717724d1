"""`relaydesk bench ...`: benchmarks (never timed assertions in tests) from the repo's bench/ folder."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer
from rich.table import Table

from relaydesk.cli.common import console, fail

app = typer.Typer(help="Benchmarks: speed measured against a baseline in the same run.", no_args_is_help=True)


def _bench_module(name: str) -> ModuleType:
    # bench/ lives beside src/ in the repository (benchmarks are not shipped in the package).
    for root in (Path.cwd(), Path(__file__).resolve().parents[3]):
        path = root / "bench" / f"{name}.py"
        if path.is_file():
            spec = importlib.util.spec_from_file_location(f"relaydesk_bench_{name}", path)
            if spec and spec.loader:
                module = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = module  # dataclasses look their module up while it loads
                spec.loader.exec_module(module)
                return module
    fail(f"bench/{name}.py not found: run from a RelayDesk checkout")


def _show(result: dict[str, Any], json_out: bool) -> None:
    if json_out:
        console.print_json(json.dumps(result, default=str))
    else:
        for key, value in result.items():
            console.print(f"{key:>32}: {value}", highlight=False)


@app.command()
def pipeline(
    n: Annotated[int, typer.Option(min=1, max=1_000_000, help="messages to push through per backend")] = 600,
    backend: Annotated[str, typer.Option(help="triage backend: lexicon, model or both")] = "both",
    threads: Annotated[int, typer.Option(min=1, max=64, help="worker threads draining the queue")] = 2,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Accept -> processed messages/s through the work queue, vs raw triage and raw inserts."""
    if backend not in ("lexicon", "model", "both"):
        fail(f"--backend: expected 'lexicon', 'model' or 'both', got {backend!r}")
    result = _bench_module("bench_pipeline").run_bench(n=n, backend=backend, threads=threads)
    lines = result["ratio_lines"] if json_out else result.pop("ratio_lines")
    _show(result, json_out)
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)


@app.command()
def triage(
    n: Annotated[int, typer.Option(help="messages to triage")] = 400,
    mode: Annotated[
        str | None, typer.Option(help="full (e5 for every message) or cascade; default: the configured mode")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Triage messages/s vs raw embedding throughput of the same backend, and the warm-cache path."""
    if mode is not None and mode not in ("full", "cascade"):
        fail(f"--mode: expected 'full' or 'cascade', got {mode!r}")
    _show(_bench_module("bench_triage").run_bench(n=n, mode=mode), json_out)


@app.command()
def scope(
    locations: Annotated[int, typer.Option(min=1, max=20_000, help="locations in the chain")] = 1000,
    conversations: Annotated[int, typer.Option(min=1, max=2_000_000, help="conversations to fill")] = 50_000,
    repeats: Annotated[int, typer.Option(min=1, max=1000, help="timed reads per case")] = 30,
    database_url: Annotated[
        str | None, typer.Option(help="an empty database to use instead of a temporary SQLite file")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A franchise chain: config apply of 1,000+ locations and scoped inbox reads vs the owner's."""
    result = _bench_module("bench_scope").run_bench(
        locations=locations, conversations=conversations, repeats=repeats, database_url=database_url
    )
    if json_out:
        console.print_json(json.dumps(result, default=str))
        return
    reads = result.pop("reads")
    _show(result, False)
    table = Table("who: read", "p50 ms", "p95 ms", "rows", "× owner")
    for name, row in reads.items():
        table.add_row(
            name, str(row["p50_ms"]), str(row["p95_ms"]), str(row["rows"]), str(row["ratio_to_owner"])
        )
    console.print(table)


# -- the queue's benchmarks (real processes; bench/bench_queue.py) ---------------------------------

JsonFile = Annotated[Path | None, typer.Option("--json", help="also write the full result to this file")]


def _check_target(json_file: Path | None) -> None:
    """Refuse an unwritable --json FILE before minutes of measuring, not after."""
    if json_file is None:
        return
    parent = json_file.parent
    if not parent.is_dir():
        fail(f"--json: the folder {parent} does not exist")
    if json_file.is_dir() or not os.access(parent, os.W_OK):
        fail(f"--json: cannot write {json_file}")


def _finish(result: dict[str, Any], json_file: Path | None) -> None:
    line = result.pop("line")
    _show(result, False)
    if json_file is not None:
        try:
            json_file.write_text(json.dumps({**result, "line": line}, indent=2, default=str) + "\n")
        except OSError as exc:
            fail(f"--json: cannot write {json_file}: {exc.strerror}")
    # The last line, for scripts and CI: SCENARIO ratio=R value=V unit=U
    typer.echo(line)


@app.command()
def ingest(
    seconds: Annotated[float, typer.Option(min=1, max=600, help="time per load run")] = 10.0,
    n: Annotated[int, typer.Option(min=100, max=1_000_000, help="most requests per load run")] = 30_000,
    backend: Annotated[
        str, typer.Option(help="triage backend of the server: lexicon, model or auto")
    ] = "lexicon",
    json_file: JsonFile = None,
) -> None:
    """Accepted webhooks/s of `relaydesk serve` at 16 and 64 connections vs plain FastAPI + uvicorn."""
    _check_target(json_file)
    _finish(_bench_module("bench_queue").run_ingest(seconds=seconds, n=n, backend=backend), json_file)


@app.command()
def burst(
    seconds: Annotated[float, typer.Option(min=1, max=600, help="length of the burst")] = 10.0,
    factor: Annotated[
        float, typer.Option(min=1, max=1000, help="offered load in processing capacities")
    ] = 20.0,
    backend: Annotated[str, typer.Option(help="triage backend: lexicon, model or auto")] = "lexicon",
    json_file: JsonFile = None,
) -> None:
    """A burst at 20x the processing capacity, then quiet: timeouts, loss and time to drain."""
    _check_target(json_file)
    _finish(
        _bench_module("bench_queue").run_burst(seconds=seconds, factor=factor, backend=backend), json_file
    )


@app.command()
def e2e(
    seconds: Annotated[float, typer.Option(min=1, max=3600, help="length of the run")] = 60.0,
    backend: Annotated[str, typer.Option(help="triage backend: lexicon, model or auto")] = "lexicon",
    json_file: JsonFile = None,
) -> None:
    """Webhook sent -> conversation assigned -> signal on an open page, p50/p99, at half capacity."""
    _check_target(json_file)
    _finish(_bench_module("bench_queue").run_e2e(seconds=seconds, backend=backend), json_file)


@app.command()
def push(
    n: Annotated[int, typer.Option(min=10, max=10_000, help="webhooks, sent one at a time")] = 100,
    backend: Annotated[
        str, typer.Option(help="triage backend of the server: lexicon, model or auto")
    ] = "lexicon",
    json_file: JsonFile = None,
) -> None:
    """Webhook accepted -> the row on an agent's open inbox (live push), p50/p99, vs the accept alone."""
    _check_target(json_file)
    _finish(_bench_module("bench_push").run_push(n=n, backend=backend), json_file)


@app.command()
def memory(
    backend: Annotated[str, typer.Option(help="triage backend: model (default), auto or lexicon")] = "model",
    database_url: Annotated[
        str | None, typer.Option(help="PostgreSQL for the worker's run (a private schema is used)")
    ] = None,
    json_file: JsonFile = None,
) -> None:
    """Peak RSS of `serve` with the triage model loaded and of one `worker`, vs a bare FastAPI import."""
    _check_target(json_file)
    module = _bench_module("bench_queue")
    _finish(module.run_memory(backend=backend, database_url=database_url or module.PG_URL), json_file)


@app.command()
def scale(
    n: Annotated[int, typer.Option(min=100, max=200_000, help="messages per run")] = 2000,
    threads: Annotated[int, typer.Option(min=1, max=64, help="threads per worker process")] = 2,
    database_url: Annotated[
        str | None, typer.Option(help="PostgreSQL to use (a private schema per run)")
    ] = None,
    json_file: JsonFile = None,
) -> None:
    """Processing msg/s with 1, 2 and 4 `relaydesk worker` processes on PostgreSQL + NATS (lexicon)."""
    _check_target(json_file)
    module = _bench_module("bench_queue")
    _finish(module.run_scale(n=n, threads=threads, database_url=database_url or module.PG_URL), json_file)


@app.command()
def queries(
    conversations: Annotated[
        int, typer.Option(min=100, max=20_000_000, help="conversations to fill")
    ] = 300_000,
    days: Annotated[int, typer.Option(min=31, max=400, help="days the conversations spread over")] = 60,
    locations: Annotated[int, typer.Option(min=2, max=20_000, help="locations in the chain")] = 1000,
    repeats: Annotated[int, typer.Option(min=3, max=1000, help="timed reads per case")] = 20,
    messages_per_conversation: Annotated[
        int, typer.Option(min=1, max=50, help="messages in each conversation (2,000,000 x 5 = 10 million)")
    ] = 1,
    database_url: Annotated[
        str | None, typer.Option(help="an empty database to use instead of a temporary SQLite file")
    ] = None,
    reuse: Annotated[
        bool, typer.Option(help="measure again a --database-url this bench filled before (no fill, no fold)")
    ] = False,
    json_file: JsonFile = None,
) -> None:
    """The 30-day reports dashboard of a 1,000-location chain from the rollups vs a plain indexed count."""
    _check_target(json_file)
    result = _bench_module("bench_queries").run_bench(
        locations=locations,
        conversations=conversations,
        days=days,
        repeats=repeats,
        database_url=database_url,
        messages_per_conversation=messages_per_conversation,
        reuse=reuse,
    )
    _finish(result, json_file)


@app.command()
def guidelines(
    repeats: Annotated[int, typer.Option(min=10, max=10_000, help="replies per language")] = 200,
    json_file: JsonFile = None,
) -> None:
    """Checking a 1,000-character reply against every kind of guideline, vs a plain substring test."""
    _check_target(json_file)
    _finish(_bench_module("bench_guidelines").run_bench(repeats=repeats), json_file)


@app.command()
def crisis(
    weeks: Annotated[int, typer.Option(min=2, max=52, help="weeks of messages replayed")] = 8,
    warmup_weeks: Annotated[int, typer.Option(min=1, max=26, help="weeks that only teach the baselines")] = 2,
    locations: Annotated[int, typer.Option(min=1, max=500, help="locations of the brand")] = 24,
    seed: Annotated[int, typer.Option(help="the random stream's seed")] = 5,
    surge_model: Annotated[
        str, typer.Option(help="excess: k times the normal rate; multiply: k times that hour's noisy rate")
    ] = "excess",
    json_file: JsonFile = None,
) -> None:
    """Crisis detection on a synthetic multi-week stream with known surges, against a fixed threshold."""
    _check_target(json_file)
    if weeks <= warmup_weeks:
        raise typer.BadParameter("must be more than --warmup-weeks", param_hint="--weeks")
    if surge_model not in ("excess", "multiply"):
        raise typer.BadParameter("excess or multiply", param_hint="--surge-model")
    result = _bench_module("bench_crisis").run_bench(
        weeks=weeks, warmup_weeks=warmup_weeks, locations=locations, seed=seed, surge_model=surge_model
    )
    _finish(result, json_file)
