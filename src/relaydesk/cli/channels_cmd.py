"""`relaydesk channels check|send-pending`: account set-up, and the outbox by hand."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from relaydesk.channels.check import check_accounts
from relaydesk.channels.outbox import OutboxWorker
from relaydesk.channels.registry import default_senders
from relaydesk.cli.common import console, opened

app = typer.Typer(
    help="Channel accounts: check their set-up, poll the ones without webhooks, send queued replies.",
    no_args_is_help=True,
)


@app.command()
def check(
    base_url: Annotated[
        str, typer.Option(help="the public address the networks reach RelayDesk at")
    ] = "https://relaydesk.example.com",
) -> None:
    """For each account: can it reply, can it receive? (No calls to the networks.)"""
    with opened() as container, container.sessions() as session:
        results = check_accounts(session, container.box, base_url.rstrip("/"))
    table = Table(title="Channel accounts")
    # The id comes first: per-account webhook addresses end in it (/webhooks/generic/<id>).
    table.add_column("id", justify="right", no_wrap=True)
    for column in ("account", "network", "ready", "replies", "webhook"):
        table.add_column(column, overflow="fold")
    for r in results:
        kept = [f"{r.ignored_events} event(s) not acted on, kept raw"] if r.ignored_events else []
        webhook = "\n".join([r.webhook, *r.notes, *kept])
        table.add_row(
            str(r.account_id), r.key, r.network, "[green]yes[/]" if r.ok else "[red]no[/]", r.replies, webhook
        )
    console.print(table)
    ready = sum(r.ok for r in results)
    console.print(f"{ready} of {len(results)} account(s) ready")
    if any(r.ignored_events for r in results):
        console.print("events not acted on are listed at GET /api/v1/webhook-events (admins)")
    if ready < len(results):
        raise typer.Exit(1)


@app.command()
def poll(
    every: Annotated[float, typer.Option(min=0, help="poll again every this many seconds; 0 polls once")] = 0,
) -> None:
    """Poll the accounts without webhooks once (X / Telegram with `poll: true`, e-mail over IMAP),
    and search X for the listening queries that listen there.

    Each account's cursor is kept in its settings, and each query's X since-id in the query, so
    a restart continues where it stopped.
    """
    import time

    from relaydesk.channels.polling import Poller

    with opened() as container:
        poller = Poller(container)
        while True:
            for r in asyncio.run(poller.poll_all()):
                # escape: names and reasons are typed by people or quote the network's answer.
                if r.query is not None:
                    who = f"listening query {escape(r.query)!r} (x search)"
                    if r.error:
                        console.print(f"{who}: [red]{escape(r.error)}[/]")
                    else:
                        console.print(
                            f"{who}: {r.accepted} new, {r.duplicates} already had, "
                            f"{r.skipped} not matching the query"
                        )
                elif r.error:
                    console.print(f"account {r.account_id} ({r.network}): [red]{escape(r.error)}[/]")
                else:
                    console.print(
                        f"account {r.account_id} ({r.network}): {r.accepted} new, {r.duplicates} already had"
                    )
            if not every:
                break
            time.sleep(every)


@app.command("send-pending")
def send_pending(limit: Annotated[int, typer.Option(min=1, help="at most this many replies")] = 100) -> None:
    """Send the queued replies once (the server does this every second)."""
    with opened() as container:
        worker = OutboxWorker(container.sessions, container.box, default_senders())
        attempted = asyncio.run(worker.run_once(limit))
    console.print(f"attempted {attempted} queued repl{'y' if attempted == 1 else 'ies'}")
