"""`relaydesk demo`: a multilingual demo organisation, a day of messages through the real pipeline.

The demo's settings are loaded once. After that the database is the truth: neither `init --demo`
(what `make run` calls at every start) nor `relaydesk demo` writes demo.yaml over the changes an
organisation made through the API, the web or `config apply`. Putting demo.yaml back is the
explicit `relaydesk demo --reset`, which first says what it would discard and asks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from relaydesk.audit.service import Actor, acting
from relaydesk.auth.service import any_user_by_email, scope_for
from relaydesk.channels.base import InboundEvent
from relaydesk.cli.common import console, fail, opened
from relaydesk.cli.demo_stream import DEMO_MESSAGES
from relaydesk.config.loader import load_demo_config
from relaydesk.config.schemas import OrgConfig
from relaydesk.config.service import ApplySummary, ConfigApplyError, apply_config
from relaydesk.container import Container
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.models import User
from relaydesk.orgs.service import org_service
from relaydesk.settings import Settings

DEMO_OWNER = "owner@saffron.example"
RESET_HINT = "`relaydesk demo --reset` discards your changes and puts demo.yaml back"
# ApplySummary buckets, worded as what a reset would do to the organisation's own changes.
DISCARD_WORDS = (
    ("updated", "put back as in demo.yaml"),
    ("created", "created again"),
    ("deleted", "deleted (not in demo.yaml)"),
    ("deactivated", "switched off (not in demo.yaml)"),
)


def _demo_config() -> OrgConfig:
    result = load_demo_config()
    if result.config is None:
        fail("the packaged demo config does not validate: " + "; ".join(map(str, result.problems[:5])))
    return result.config


def _apply(session: Session, config: OrgConfig, container: Container) -> ApplySummary:
    try:
        acting(session, Actor(None, "demo.yaml", "demo"))
        return apply_config(session, config, container.box)
    except ConfigApplyError as exc:
        # E.g. another organisation of this installation holds one of the demo's page ids.
        fail(f"the demo organisation cannot be loaded: {escape(str(exc))}")


def _organisation_keys(session: Session) -> list[str]:
    return org_service.org_keys(session)


def describe_discard(summary: ApplySummary) -> list[str]:
    """What applying demo.yaml over the organisation would undo, one line per kind of change."""
    lines = []
    for bucket, words in DISCARD_WORDS:
        counts = {kind: n for kind, n in getattr(summary, bucket).items() if n}
        if counts:
            lines.append(
                f"{words}: " + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
            )
    return lines


def init_demo(container: Container) -> None:
    """`relaydesk init --demo`: load the demo into an empty database, and never over one in use."""
    config = _demo_config()
    with transaction(container.sessions) as session:
        keys = _organisation_keys(session)
        if not keys:
            _apply(session, config, container)
    if config.organization.key in keys:
        console.print(
            f"demo organisation already present; not reloading it, so its changes are kept ({RESET_HINT})",
            highlight=False,
        )
        return
    if keys:
        console.print(
            f"the database already holds organisation(s) {', '.join(keys)}; not loading the demo "
            "(`relaydesk demo` adds it)",
            highlight=False,
        )
        return
    new = _replay(container)
    console.print(f"demo organisation loaded; {new} demo message(s) replayed through the pipeline")


def _ensure_demo_org(container: Container, config: OrgConfig) -> bool:
    """Create the demo organisation when it is missing; True if it was created."""
    with transaction(container.sessions) as session:
        if config.organization.key in _organisation_keys(session):
            return False
        _apply(session, config, container)
        return True


def _reset(container: Container, config: OrgConfig, yes: bool) -> None:
    """Put demo.yaml back over the demo organisation, after saying what that discards."""
    if _ensure_demo_org(container, config):
        console.print("demo organisation loaded from demo.yaml (there was none to reset)")
        return
    with container.sessions() as session:
        # A dry run: the same apply in a transaction that is rolled back, to count what it changes.
        summary = apply_config(session, config, container.box)
        session.rollback()
    lines = describe_discard(summary)
    if not lines:
        console.print("the demo organisation already matches demo.yaml: nothing to reset")
        return
    console.print(
        f"Resetting puts demo.yaml back over organisation '{config.organization.key}'. It discards:",
        highlight=False,
    )
    for line in lines:
        console.print(f"  - {line}", highlight=False)
    console.print("Conversations, messages, contacts and API tokens are kept.")
    if not yes:
        try:
            confirmed = typer.confirm("Discard these changes?", default=False)
        except typer.Abort:  # no answer (stdin closed): not a yes
            confirmed = False
        if not confirmed:
            console.print("nothing changed (pass --yes to reset without the question)")
            raise typer.Exit(1)
    with transaction(container.sessions) as session:
        _apply(session, config, container)
    console.print("demo organisation reset to demo.yaml")


def _replay(container: Container) -> int:
    """Replay the demo stream through the pipeline; messages already stored are not taken twice."""
    with container.sessions() as session:
        accounts = org_service.account_ids_by_key(session, active_only=False)
    now = utcnow()
    new = 0
    touched: set[int] = set()
    demo_conversations: set[int] = set()
    for index, (account_key, author, name, minutes_ago, text) in enumerate(DEMO_MESSAGES):
        account_id = accounts.get(account_key)
        if account_id is None:
            continue
        event = InboundEvent(
            network="demo",
            external_id=f"demo-{index}",
            author_id=author,
            author_name=name,
            text=text,
            sent_at=now - timedelta(minutes=minutes_ago),
            raw={"demo": True},
        )
        accepted = container.pipeline.accept(account_id, event)
        demo_conversations.add(accepted.conversation_id)
        if not accepted.duplicate:
            new += 1
            touched.add(accepted.conversation_id)
    _demo_replies(container, sorted(demo_conversations), touched)
    return new


def _demo_replies(container: Container, demo_conversations: list[int], touched: set[int]) -> None:
    """Answer about half of the demo's conversations, as their assigned agents would.

    Only conversations this replay added messages to: a replay that stores nothing new answers
    nothing, and conversations that did not come from the demo stream are never answered.
    """
    if not touched:
        return
    assigned = container.analytics.assigned_among(demo_conversations)
    answered = container.analytics.answered_conversation_ids()
    todo = [(c, u) for c, u in assigned[::2] if c in touched and c not in answered]
    scopes = {}
    with container.sessions() as session:
        for _, user_id in todo:
            user = session.get(User, user_id)
            if user is not None:
                scopes[user_id] = scope_for(session, user)
    for conversation_id, user_id in todo:
        scope = scopes.get(user_id)
        if scope is not None:
            container.conversations.reply(
                scope,
                conversation_id,
                "Thank you for writing to us, we're on it.",
                idempotency_key=f"demo-reply-{conversation_id}",
            )


def _routing_reason(reason: str | None, department: str | None) -> str:
    """The routing clause of a route event, without the "routed to X" the table already shows."""
    first = (reason or "").split(";", 1)[0].strip()
    lead = f"routed to {department} because "
    return first[len(lead) :] if department and first.startswith(lead) else first


def print_overview(container: Container) -> None:
    # Read at 80 columns: two-line cells (intent over sentiment, department over agent) and
    # the reason wrapping in the width that is left, instead of eight columns cut to "…".
    table = Table(
        title="Demo conversations: routed and assigned by the pipeline",
        box=box.SIMPLE_HEAD,
        show_lines=True,
        padding=(0, 1),
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("lang", no_wrap=True)
    table.add_column("read as", no_wrap=True)
    table.add_column("routed to", no_wrap=True)
    table.add_column("because", ratio=1, overflow="fold", min_width=20)
    for row in container.analytics.conversation_overview():
        table.add_row(
            str(row.conversation_id),
            row.language or "",
            f"{row.intent or '-'}\n[dim]{row.sentiment or '-'}, {row.urgency or '-'}[/]",
            f"{row.department or '-'}\n[dim]{'@' + row.assignee if row.assignee else 'queue'}[/]",
            _routing_reason(row.route_reason, row.department),
        )
    console.print(table)
    with container.sessions() as session:
        owner = any_user_by_email(session, DEMO_OWNER)
        if owner is None:
            return
        scope = scope_for(session, owner)
    summary = container.analytics.kpi_summary(scope)
    fr = summary.first_response
    console.print(
        f"[bold]KPIs[/]: {summary.conversations} conversations; answered "
        f"{summary.response.answered.numerator}/{summary.response.answered.denominator}; "
        f"median first response {_minutes(fr.median)}; p90 {_minutes(fr.p90)}; "
        + "; ".join(
            f"SLA {target} {rate.numerator}/{rate.denominator}"
            for target, rate in summary.sla.items()
            if rate.denominator
        )
        + "; sentiment "
        + ", ".join(f"{k} {v}" for k, v in summary.sentiment.counts.items())
    )


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def server_url(settings: Settings) -> str:
    """Where `relaydesk serve` listens with these settings, as a browser on this machine opens it."""
    # A wildcard bind is reached on the loopback address.
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    return f"http://{host}:{settings.port}"


def demo(
    quiet: Annotated[bool, typer.Option(help="don't print the overview")] = False,
    reset: Annotated[
        bool,
        typer.Option(
            help="put demo.yaml back over the demo organisation, discarding its changes (asks first)"
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="with --reset: don't ask")] = False,
) -> None:
    """Load the demo organisation (Saffron & Co.) if missing and replay a day of messages in
    fa/ar/he/th/en. Idempotent: the organisation's settings are never overwritten (see --reset)."""
    if yes and not reset:
        fail("--yes only goes with --reset")
    with opened() as container:
        run_demo(container, quiet=quiet, reset=reset, yes=yes)


def run_demo(container: Container, *, quiet: bool = False, reset: bool = False, yes: bool = False) -> None:
    """The demo organisation if missing (or put back with `reset`), the stream replayed, the overview."""
    config = _demo_config()
    if reset:
        _reset(container, config, yes)
    elif _ensure_demo_org(container, config):
        console.print("demo organisation loaded from demo.yaml")
    else:
        console.print(
            f"demo organisation already present; its settings are kept ({RESET_HINT})", highlight=False
        )
    new = _replay(container)
    if quiet:
        return
    console.print(f"{new} new demo message(s) replayed through the pipeline")
    print_overview(container)
    console.print(
        f"log in at {server_url(container.settings)} as {DEMO_OWNER} / relaydesk (after `relaydesk serve`)",
        highlight=False,
    )
