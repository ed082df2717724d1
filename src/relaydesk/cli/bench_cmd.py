"""`relaydesk bench ...`: benchmarks (never timed assertions in tests) from the repo's bench/ folder."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer

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
    n: Annotated[int, typer.Option(help="messages to push through")] = 600,
    backend: Annotated[str, typer.Option(help="triage backend: lexicon, model or auto")] = "lexicon",
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Messages/s through accept -> triage -> route -> assign -> SLA on SQLite, vs plain inserts."""
    _show(_bench_module("bench_pipeline").run_bench(n=n, backend=backend), json_out)


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
