"""`relaydesk demo`: a multilingual demo organisation, a day of messages through the real pipeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from relaydesk.analytics.service import kpi_summary
from relaydesk.auth.service import scope_for
from relaydesk.channels.base import InboundEvent
from relaydesk.cli.common import console, fail, opened
from relaydesk.cli.demo_stream import DEMO_MESSAGES
from relaydesk.config.loader import load_demo_config
from relaydesk.config.service import ConfigApplyError, apply_config
from relaydesk.container import Container
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, Conversation, Department, Message, TimelineEvent, User

DEMO_OWNER = "owner@saffron.example"


def load_demo(quiet: bool = True) -> None:
    with opened() as container:
        _load(container, quiet)


def _load(container: Container, quiet: bool) -> None:
    result = load_demo_config()
    if result.config is None:
        fail("the packaged demo config does not validate: " + "; ".join(map(str, result.problems[:5])))
    try:
        with transaction(container.sessions) as session:
            apply_config(session, result.config, container.box)
    except ConfigApplyError as exc:
        # E.g. another organisation of this installation holds one of the demo's page ids.
        fail(f"the demo organisation cannot be loaded: {escape(str(exc))}")
    with container.sessions() as session:
        accounts = {a.key: a.id for a in session.scalars(select(ChannelAccount))}
    now = utcnow()
    new = 0
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
        new += 0 if accepted.duplicate else 1
    _demo_replies(container)
    if not quiet:
        console.print(f"demo organisation ready; {new} new demo message(s) replayed through the pipeline")


def _demo_replies(container: Container) -> None:
    """Answer about half of the conversations, as their assigned agents would."""
    with container.sessions() as session:
        conversations = list(
            session.scalars(
                select(Conversation).where(Conversation.assignee_id.is_not(None)).order_by(Conversation.id)
            )
        )
        answered = set(
            session.scalars(select(Message.conversation_id).where(Message.direction == "outbound").distinct())
        )
        todo = [(c.id, c.assignee_id) for c in conversations[::2] if c.id not in answered]
        scopes = {}
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


def print_overview(container: Container) -> None:
    with container.sessions() as session:
        rows = session.execute(
            select(Conversation, Department.key, User.handle)
            .outerjoin(Department, Department.id == Conversation.department_id)
            .outerjoin(User, User.id == Conversation.assignee_id)
            .order_by(Conversation.id)
        ).all()
        table = Table(title="Demo conversations: routed and assigned by the pipeline")
        for column in ("#", "lang", "intent", "sentiment", "urgency", "department", "agent", "why"):
            table.add_column(column)
        for conversation, dept, handle in rows:
            why = session.scalars(
                select(TimelineEvent.reason)
                .where(TimelineEvent.conversation_id == conversation.id, TimelineEvent.kind == "route")
                .order_by(TimelineEvent.id)
                .limit(1)
            ).first()
            table.add_row(
                str(conversation.id),
                conversation.language or "",
                conversation.intent or "-",
                conversation.sentiment or "",
                conversation.urgency or "",
                dept or "-",
                f"@{handle}" if handle else "queue",
                (why or "")[:70],
            )
        console.print(table)
        owner = session.scalars(select(User).where(func.lower(User.email) == DEMO_OWNER)).first()
        if owner is None:
            return
        summary = kpi_summary(session, scope_for(session, owner))
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


def demo(
    quiet: Annotated[bool, typer.Option(help="don't print the overview")] = False,
) -> None:
    """Load the demo organisation (Saffron & Co.) and replay a day of messages in fa/ar/he/th/en."""
    with opened() as container:
        _load(container, quiet)
        if not quiet:
            print_overview(container)
            console.print(
                f"log in at http://127.0.0.1:8000 as {DEMO_OWNER} / relaydesk (after `relaydesk serve`)"
            )
