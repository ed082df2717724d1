"""The periodic queue drain does no work for a department whose every agent is at capacity."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from relaydesk.channels.base import InboundEvent
from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, Conversation, User


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


def conversation_loads(statements: list[str]) -> list[str]:
    # Only whole conversation rows are read with their tags; counts and queue lists are not.
    return [s for s in statements if "conversations.tags" in s]


def waiting(container: Container) -> int:
    with container.sessions() as session:
        return int(
            session.scalar(select(func.count(Conversation.id)).where(Conversation.assignee_id.is_(None))) or 0
        )


def fill_the_service_department(container: Container) -> None:
    """North's service agents are sam (2), sia (2) and nora, here 1: seven customers leave two waiting."""
    with transaction(container.sessions) as session:
        session.scalars(select(User).where(User.handle == "nora")).one().max_concurrent = 1
        account = session.scalars(
            select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")
        ).one()
    for i in range(7):
        container.pipeline.accept(
            account,
            InboundEvent(
                network="generic", external_id=f"full-{i}", author_id=f"cust-{i}", text="Where is my order?"
            ),
        )
    assert waiting(container) == 2


def test_a_full_department_costs_no_conversation_load(container: Container, engine: Engine) -> None:
    fill_the_service_department(container)
    with transaction(container.sessions) as session, counting(engine) as statements:
        assert container.pipeline.routing.drain(session) == 0
    assert conversation_loads(statements) == []
    assert waiting(container) == 2

    # Room again: the same drain loads the queue and gives the longest waiting to sam.
    with transaction(container.sessions) as session:
        session.scalars(select(User).where(User.handle == "sam")).one().max_concurrent = 3
    with transaction(container.sessions) as session, counting(engine) as statements:
        assert container.pipeline.routing.drain(session) == 1
    assert conversation_loads(statements)
    assert waiting(container) == 1
