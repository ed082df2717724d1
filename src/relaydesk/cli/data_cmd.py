"""`relaydesk import`, `report` and `staffing`: bulk data in, KPIs and staffing out."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.progress import Progress
from rich.table import Table

from relaydesk.auth.service import active_user_or_owner, scope_for
from relaydesk.channels.base import InboundEvent
from relaydesk.cli.common import console, err_console, fail, opened
from relaydesk.orgs.service import org_service


class ImportRow(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    account: str = Field(min_length=1, description="account key from the org config")
    id: str = Field(min_length=1, description="the message's id on its network")
    author_id: str = Field(min_length=1)
    text: str
    author_name: str | None = None
    sent_at: datetime | None = None
    thread_id: str | None = None
    reply_to: str | None = None
    lang: str | None = None


def _rows(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    """(line number, row or an error text) for every data line of a JSONL or CSV file."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
    out: list[tuple[int, dict[str, Any] | str]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            out.append((reader.line_num, {k: v for k, v in row.items() if k is not None and v != ""}))
        return out
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            out.append((number, f"invalid JSON ({exc.msg} at column {exc.colno})"))
            continue
        out.append((number, value if isinstance(value, dict) else "a line must be a JSON object"))
    return out


def import_file(
    path: Annotated[
        Path, typer.Argument(help="JSONL or CSV with account, id, author_id, text[, sent_at, ...]")
    ],
) -> None:
    """Import messages through the real pipeline; bad rows are reported with line numbers and skipped."""
    if not path.is_file():
        fail(f"{path}: no such file")
    rows = _rows(path)
    problems: list[str] = []
    imported = duplicates = 0
    with opened() as container:
        with container.sessions() as session:
            accounts = org_service.account_ids_by_key(session, active_only=True)
        with Progress(console=err_console, transient=True) as progress:
            task = progress.add_task("importing", total=len(rows))
            for number, row in rows:
                progress.advance(task)
                if isinstance(row, str):
                    problems.append(f"{path}:{number}: {row}")
                    continue
                try:
                    item = ImportRow.model_validate(row)
                except ValidationError as exc:
                    detail = "; ".join(
                        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                    )
                    problems.append(f"{path}:{number}: {detail}")
                    continue
                account_id = accounts.get(item.account)
                if account_id is None:
                    problems.append(f"{path}:{number}: account: no active account '{item.account}'")
                    continue
                if item.sent_at is not None and item.sent_at.tzinfo is None:
                    problems.append(f"{path}:{number}: sent_at: needs a timezone (e.g. 2026-11-22T10:00:00Z)")
                    continue
                event = InboundEvent(
                    network="import",
                    external_id=item.id,
                    author_id=item.author_id,
                    author_name=item.author_name,
                    text=item.text,
                    sent_at=item.sent_at,
                    thread_id=item.thread_id,
                    reply_to_id=item.reply_to,
                    raw={"import": row, **({"lang": item.lang} if item.lang else {})},
                    lang_hint=item.lang,
                )
                result = container.pipeline.accept(account_id, event)
                if result.duplicate:
                    duplicates += 1
                else:
                    imported += 1
    for problem in problems:
        err_console.print(f"[yellow]skipped[/] {problem}", highlight=False, markup=True)
    console.print(f"imported {imported}, already present {duplicates}, skipped {len(problems)} bad row(s)")
    if problems:
        raise typer.Exit(2)


def _owner_scope(container: Any, email: str | None) -> Any:
    with container.sessions() as session:
        user = active_user_or_owner(session, email)
        if user is None:
            fail(
                f"no active user {email!r}"
                if email
                else "no owner yet: run `relaydesk config apply` or `demo`"
            )
        return scope_for(session, user)


def report(
    as_user: Annotated[
        str | None, typer.Option("--as", help="report as this user's email (their scope)")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    tz: Annotated[str, typer.Option(help="time zone for the by-hour breakdown")] = "UTC",
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="count every conversation into the reports page's rollups again")
    ] = False,
) -> None:
    """KPIs: first response time, response rate, SLA attainment, sentiment, by department and channel.

    Counted from every conversation (exact, slower on a large chain); the reports page reads the
    rollups the server keeps up to date, which `--rebuild` recounts from scratch (after a restore)."""
    if rebuild:
        with opened() as container:
            result = container.rollups.rebuild()
        console.print(f"report rollups rebuilt: {result.conversations} conversations, {result.rows} rows")
        return
    with opened() as container:
        summary = container.analytics.kpi_summary(_owner_scope(container, as_user), tz=tz)
    if json_out:
        console.print_json(json.dumps(summary.to_dict(), default=str))
        return
    table = Table(title=f"RelayDesk KPIs — {summary.conversations} conversations")
    for column in ("group", "conversations", "answered", "median first response", "SLA first response"):
        table.add_column(column)

    def add(name: str, group: Any) -> None:
        sla = group.sla.get("first_response")
        table.add_row(
            name,
            str(group.conversations),
            f"{group.answered.numerator}/{group.answered.denominator}",
            "-" if group.first_response.median is None else f"{group.first_response.median / 60:.1f} min",
            "-" if sla is None or not sla.denominator else f"{sla.numerator}/{sla.denominator}",
        )

    for name, group in sorted(summary.by_department.items()):
        add(f"dept {name}", group)
    for name, group in sorted(summary.by_channel.items()):
        add(f"channel {name}", group)
    # The agency and the organisation are each held to their own agreement: show them apart.
    for name, group in sorted(summary.by_team.items()):
        add(f"team {name}", group)
    console.print(table)
    approvals = summary.approvals
    if approvals is not None:
        median = approvals.review_time.median
        console.print(
            f"approvals: {approvals.requested} requested, {approvals.approved} approved, "
            f"{approvals.rejected} rejected, {approvals.waiting} waiting; median review time "
            + ("-" if median is None else f"{median / 60:.1f} min")
        )
    rate = summary.response.unanswered_after_72h
    console.print(
        "unanswered after 72h: "
        + ("-" if rate.share is None else f"{rate.numerator}/{rate.denominator} ({rate.share:.0%})")
        + "; sentiment: "
        + ", ".join(f"{k} {v}" for k, v in summary.sentiment.counts.items())
    )


def staffing(
    days: Annotated[int, typer.Option(help="traffic of the last N days")] = 28,
    tz: Annotated[str, typer.Option(help="the team's time zone")] = "UTC",
    aht_minutes: Annotated[float, typer.Option(help="average handling time per conversation")] = 12.0,
    target_seconds: Annotated[float, typer.Option(help="answer within this many seconds...")] = 900.0,
    service_level: Annotated[float, typer.Option(help="...for this share of conversations")] = 0.8,
    concurrency: Annotated[float, typer.Option(help="conversations an agent handles at once")] = 3.0,
    shrinkage: Annotated[float, typer.Option(help="share of paid time not on the queue")] = 0.3,
    as_user: Annotated[str | None, typer.Option("--as", help="plan for this user's scope")] = None,
) -> None:
    """Agents needed each hour of the day (Erlang C) for recent traffic."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"--tz: unknown time zone {tz!r}")
    with opened() as container:
        scope = _owner_scope(container, as_user)
        try:
            plan = container.analytics.staffing_plan(
                scope,
                days=days,
                tz=tz,
                aht_minutes=aht_minutes,
                target_seconds=target_seconds,
                service_level=service_level,
                concurrency=concurrency,
                shrinkage=shrinkage,
            )
        except ValueError as exc:
            fail(str(exc))
    table = Table(
        title=f"Agents needed per hour ({tz}, last {days} days, {service_level:.0%} within {target_seconds:g}s)"
    )
    for column in ("hour", "arrivals/h", "on the floor", "scheduled", "service level", "occupancy"):
        table.add_column(column, justify="right")
    for h in plan:
        table.add_row(
            f"{h.hour:02d}:00",
            f"{h.arrivals_per_hour:.1f}",
            str(h.agents),
            str(h.scheduled_agents),
            f"{h.service_level:.0%}",
            f"{h.occupancy:.0%}",
        )
    console.print(table)
