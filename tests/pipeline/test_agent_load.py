"""Agents' load kept for a chunk of processing (`routing/agent_load.py`) equals the database's count.

Processing reads each agent's presence and open-conversation count once per chunk and moves the
counts with its own assignments; a drift would fill an agent beyond capacity or starve another.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from relaydesk.channels.base import InboundEvent
from relaydesk.models import ChannelAccount, Conversation, User
from relaydesk.orgs.service import org_service
from relaydesk.pipeline import staging
from relaydesk.pipeline.staging import ToStage
from relaydesk.routing import agent_load
from relaydesk.routing.service import RoutingService

PERSIAN = "سلام، سفارشم هنوز نرسیده. کی می‌رسه؟"  # only the service team's Persian speakers take it


def _stage(container: Any, count: int) -> None:
    with container.sessions() as session:
        generic = session.scalars(select(ChannelAccount).where(ChannelAccount.key == "north-generic")).one()
        org_id, account_id = generic.org_id, generic.id
    staging.write(
        container.sessions,
        [
            [
                ToStage(
                    org_id,
                    account_id,
                    InboundEvent(
                        network="generic", external_id=f"load-{i}", author_id=f"load-{i}", text=PERSIAN
                    ),
                )
            ]
            for i in range(count)
        ],
    )


def test_kept_counts_match_the_database_after_every_message(
    container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[int] = []
    settle = RoutingService.settle_agent_load

    def settle_and_compare(self: RoutingService, session: Any, before: Any, conversation: Any) -> None:
        settle(self, session, before, conversation)
        kept = session.info[agent_load.LOAD_KEY].counts
        assert kept == {**dict.fromkeys(kept, 0), **org_service.open_counts(session, list(kept))}
        checked.append(len(kept))

    monkeypatch.setattr(RoutingService, "settle_agent_load", settle_and_compare)
    _stage(container, 10)
    container.pipeline.drain()
    assert len(checked) == 10 and max(checked) > 0
    with container.sessions() as session:
        limits = {u.id: u.max_concurrent for u in session.scalars(select(User))}
        loads = session.execute(
            select(Conversation.assignee_id, func.count())
            .where(Conversation.assignee_id.is_not(None))
            .group_by(Conversation.assignee_id)
        ).all()
    assert loads, "some were assigned"
    assert all(count <= limits[user_id] for user_id, count in loads)


def test_a_failed_message_makes_the_chunk_read_the_load_again(
    container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reread: list[int] = []
    original = RoutingService.reread_agent_load

    def counted(self: RoutingService, session: Any) -> None:
        reread.append(1)
        original(self, session)
        assert session.info[agent_load.LOAD_KEY].counts == {}

    monkeypatch.setattr(RoutingService, "reread_agent_load", counted)
    sla_inbound = container.pipeline.sla.on_inbound
    calls: list[int] = []

    def flaky(session: Any, conversation: Any, message: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("a bug in one message's processing")
        sla_inbound(session, conversation, message)

    monkeypatch.setattr(container.pipeline.sla, "on_inbound", flaky)
    _stage(container, 4)
    container.pipeline.drain()
    assert reread == [1]
