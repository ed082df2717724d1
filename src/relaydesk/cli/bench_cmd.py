"""`relaydesk bench ...`: benchmarks (never timed assertions in tests) from the repo's bench/ folder."""

from __future__ import annotations

import importlib.util
import json
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
