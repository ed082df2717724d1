"""`relaydesk simulate`: a day of arrivals through the real assignment code."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from relaydesk.analytics.simulation import SimulationConfig, simulate
from relaydesk.cli.common import console, fail


def simulate_cmd(
    agents: Annotated[int, typer.Option(help="agents on shift")] = 10,
    rate: Annotated[float, typer.Option(help="average arrivals per hour")] = 60.0,
    hours: Annotated[float, typer.Option(help="hours to simulate")] = 24.0,
    handle_minutes: Annotated[float, typer.Option(help="mean handling time per conversation")] = 12.0,
    max_concurrent: Annotated[int, typer.Option(help="conversations an agent works at once")] = 3,
    target_minutes: Annotated[float, typer.Option(help="first-response SLA target")] = 15.0,
    strategy: Annotated[str, typer.Option(help="least_loaded or round_robin")] = "least_loaded",
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Print SLA attainment, queue waits and per-agent load fairness (max/min ratio)."""
    if strategy not in ("least_loaded", "round_robin"):
        fail("--strategy: use least_loaded or round_robin")
    try:
        report = simulate(
            SimulationConfig(
                agents=agents,
                rate_per_hour=rate,
                hours=hours,
                handle_minutes=handle_minutes,
                max_concurrent=max_concurrent,
                first_response_minutes=target_minutes,
                strategy=strategy,
                seed=seed,
            )
        )
    except ValueError as exc:
        fail(str(exc))
    if json_out:
        console.print_json(json.dumps(report.as_dict(), default=str))
        return
    table = Table(title=f"Simulation: {agents} agents, {rate:g}/h for {hours:g} h ({strategy})")
    table.add_column("measure")
    table.add_column("value", justify="right")

    def minutes(seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds / 60:.1f} min"

    attainment = "-" if report.sla_attainment is None else f"{report.sla_attainment:.1%}"
    ratio = "-" if report.load_ratio_max_min is None else f"{report.load_ratio_max_min:.2f}"
    for name, value in [
        ("arrivals", str(report.arrivals)),
        ("assigned", str(report.assigned)),
        ("still waiting at the end", str(report.still_waiting)),
        (f"first response within {target_minutes:g} min", attainment),
        ("queue wait mean", minutes(report.queue_wait_mean_s)),
        ("queue wait p90", minutes(report.queue_wait_p90_s)),
        ("queue wait max", minutes(report.queue_wait_max_s)),
        ("load max/min per agent", ratio),
    ]:
        table.add_row(name, value)
    console.print(table)
