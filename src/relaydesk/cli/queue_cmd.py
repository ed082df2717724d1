"""`relaydesk queue`: watch the pipeline's work queue, list the messages set aside, retry them.

The operator's view: every organisation unless `--org` names one (the API gives each
organisation's admins their own part: /api/v1/work/...).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from relaydesk.cli.common import console, err_console, fail, opened
from relaydesk.core import metrics
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.orgs.service import org_service
from relaydesk.pipeline.queue_service import queue_service as queue
from relaydesk.pipeline.schemas import MAX_ID

app = typer.Typer(
    no_args_is_help=True,
    help="The work queue: `queue status`, `queue dead [--org KEY]`, `queue retry [--org KEY] [ID...]`.",
)

OrgOption = Annotated[
    str | None,
    typer.Option("--org", help="organisation key (default: every organisation)", show_default=False),
]


class _NotAllDead(Exception):
    def __init__(self, missing: list[int]) -> None:
        self.missing = missing


def _org_id(session: Session, key: str | None) -> int | None:
    if key is None:
        return None
    found = org_service.org_id_by_key(session, key)
    if found is None:
        fail(f"--org: no organisation with key {key!r}")
    return found


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


@app.command("status")
def status(
    org: OrgOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Messages waiting for processing, the oldest one's age, and those set aside (dead)."""
    with opened() as container, container.sessions() as session:
        stats = queue.stats(session, _org_id(session, org))
    age = metrics.age_seconds(stats.oldest_pending_at, utcnow())
    if json_out:
        data = {
            "pending": stats.pending,
            "oldest_pending_at": stats.oldest_pending_at.isoformat() if stats.oldest_pending_at else None,
            "oldest_pending_age_seconds": round(age, 3),
            "dead": stats.dead,
        }
        console.print_json(json.dumps(data))
        return
    waiting = f" (the oldest waiting {_age(age)})" if stats.pending else ""
    console.print(f"pending: {stats.pending}{waiting}", highlight=False)
    hint = " - see `relaydesk queue dead`, then `relaydesk queue retry`" if stats.dead else ""
    console.print(f"dead: {stats.dead}{hint}", highlight=False, markup=False)


@app.command("dead")
def dead(
    org: OrgOption = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="show at most this many")] = 100,
) -> None:
    """List messages set aside after failing 5 times: item id, message, conversation, last error."""
    with opened() as container, container.sessions() as session:
        org_id = _org_id(session, org)
        rows = queue.dead_items(session, org_id, limit)
        keys = org_service.org_keys_by_id(session)
        if not rows:
            console.print("no messages are set aside", highlight=False)
            return
        table = Table("id", title="set-aside work (times in UTC); retry with `relaydesk queue retry ID...`")
        for header in ("org", "message", "conversation", "attempts", "accepted", "last error"):
            table.add_column(header, overflow="fold")
        for row in rows:
            # Text, not markup: an error can quote customer text ("[bold]" stays as typed).
            table.add_row(
                str(row.id),
                Text(keys.get(row.org_id, str(row.org_id))),
                str(row.message_id),
                str(row.conversation_id),
                str(row.attempts),
                row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                Text(row.last_error or ""),
            )
    console.print(table)


@app.command("retry")
def retry(
    ids: Annotated[
        list[int] | None,
        typer.Argument(
            min=1,
            max=MAX_ID,
            help="work item ids (from `queue dead`); none: every set-aside item",
            show_default=False,
        ),
    ] = None,
    org: OrgOption = None,
) -> None:
    """Put set-aside messages back in the queue; the workers process them again from the start."""
    with opened() as container:
        try:
            with transaction(container.sessions) as session:
                org_id = _org_id(session, org)
                retried = queue.retry_dead(session, org_id, list(ids) if ids else None, utcnow())
                missing = sorted(set(ids or ()) - set(retried))
                if missing:
                    raise _NotAllDead(missing)  # rolls back: all named items or none
        except _NotAllDead as exc:
            where = f" of organisation {org!r}" if org else ""
            named = ", ".join(str(i) for i in exc.missing)
            fail(
                f"no set-aside work item{'s' if len(exc.missing) > 1 else ''} {named}{where}; nothing was retried"
            )
        if retried:
            container.pipeline.notify_work()
    if not retried:
        err_console.print("no messages are set aside; nothing to retry", highlight=False)
        return
    console.print(f"retried {len(retried)}: {', '.join(str(i) for i in retried)}", highlight=False)
