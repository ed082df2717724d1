"""Events stored together (`intake.store_many`) end exactly as the same events stored one at a time.

A run reads its contacts, conversations and messages once and makes its choices in memory, so a
later event in the run must see what an earlier one made or changed: the conversation a customer
opened, a reply to a message of the same run, a conversation reopened or taken out of pending.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from relaydesk.channels.base import InboundEvent
from relaydesk.db import transaction
from relaydesk.models import Contact, ContactIdentity, Conversation, Message, TimelineEvent, WorkItem
from relaydesk.pipeline import intake
from relaydesk.pipeline.intake import Arrival
from tests.api.test_webhook_and_inbox import account

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _event(n: int, author: str, **extra: Any) -> InboundEvent:
    return InboundEvent(
        network="generic",
        external_id=f"e-{n}",
        author_id=author,
        author_name=f"Customer {author}",
        text=f"message {n}",
        sent_at=NOW - timedelta(minutes=60 - n),
        **extra,
    )


def _mix(prefix: str) -> list[InboundEvent]:
    """Returning customers, a reply inside the run, two threads of one customer, followers."""
    a, b, c = f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"
    return [
        _event(1, a),
        _event(2, b, author_followers=120_000),
        _event(3, a, reply_to_id="e-1"),
        _event(4, c, thread_id="t-1"),
        _event(5, c, thread_id="t-2"),
        _event(6, c, thread_id="t-1"),
        _event(7, b, contact_attributes={"vip": True}),
        _event(8, a),
    ]


def _shape(container: Any, account_id: int) -> dict[str, Any]:
    """What the events made on an account, in terms that do not depend on ids."""
    with container.sessions() as session:
        messages = list(
            session.scalars(select(Message).where(Message.account_id == account_id).order_by(Message.id))
        )
        by_conversation: dict[int, list[str]] = {}
        for message in messages:
            by_conversation.setdefault(message.conversation_id, []).append(str(message.external_id))
        conversations = {
            c.id: c for c in session.scalars(select(Conversation).where(Conversation.id.in_(by_conversation)))
        }
        timeline = {
            cid: [
                (t.kind, t.reason.split(" account ")[0])
                for t in session.scalars(
                    select(TimelineEvent)
                    .where(TimelineEvent.conversation_id == cid)
                    .order_by(TimelineEvent.id)
                )
            ]
            for cid in by_conversation
        }
        items = list(
            session.scalars(
                select(WorkItem.message_id)
                .where(WorkItem.message_id.in_([m.id for m in messages]))
                .order_by(WorkItem.id)
            )
        )
        contacts = {
            m.external_id: session.get(Contact, m.contact_id) for m in messages if m.contact_id is not None
        }
        return {
            "threads": sorted(by_conversation.values()),
            "states": sorted(
                (
                    ids,
                    conversations[cid].status,
                    conversations[cid].thread_key,
                    conversations[cid].last_message_at,
                    conversations[cid].awaiting_since,
                )
                for cid, ids in by_conversation.items()
            ),
            "timeline": sorted((by_conversation[cid], kinds) for cid, kinds in timeline.items()),
            "work_order": [m.id for m in messages] == items,
            "attributes": {k: (c.attributes if c else None) for k, c in contacts.items()},
            "contacts": len({m.contact_id for m in messages}),
        }


def test_a_run_ends_as_the_same_events_one_at_a_time(container: Any) -> None:
    together, alone = account(container, "north-generic"), account(container, "south-generic")
    with transaction(container.sessions) as session:
        results = intake.store_many(session, [Arrival(together, e, NOW) for e in _mix("run")])
    assert not any(r.duplicate for r in results)
    for event in _mix("one"):
        with transaction(container.sessions) as session:
            intake.store(session, alone, event, NOW)
    shape = _shape(container, together)
    assert shape == _shape(container, alone)
    # What both must be: a's messages (with the reply inside the run) in one conversation, c's
    # two threads apart, work queued in arrival order, the contact's attributes kept.
    assert shape["threads"] == [["e-1", "e-3", "e-8"], ["e-2", "e-7"], ["e-4", "e-6"], ["e-5"]]
    assert shape["work_order"] is True
    assert shape["contacts"] == 3
    assert shape["attributes"]["e-7"] == {"followers": 120_000, "vip": True}


def test_a_run_finds_reopens_and_resumes_stored_conversations(container: Any) -> None:
    generic = account(container, "north-generic")
    with transaction(container.sessions) as session:
        first = intake.store_many(session, [Arrival(generic, _event(n, f"old-{n}"), NOW) for n in (1, 2, 3)])
    statuses = {
        first[0].conversation_id: "resolved",
        first[1].conversation_id: "pending",
        first[2].conversation_id: "snoozed",
    }
    with transaction(container.sessions) as session:
        for cid, status in statuses.items():
            conversation = session.get(Conversation, cid)
            assert conversation is not None
            conversation.status = status
            conversation.awaiting_since = None
    later = [_event(10 + n, f"old-{n}") for n in (1, 2, 3)] + [_event(1, "old-1")]  # and a redelivery
    with transaction(container.sessions) as session:
        results = intake.store_many(session, [Arrival(generic, e, NOW) for e in later])
    assert [r.conversation_id for r in results[:3]] == list(statuses)
    assert results[3] == intake.AcceptResult(first[0].message_id, first[0].conversation_id, duplicate=True)
    with container.sessions() as session:
        after = {cid: session.get(Conversation, cid) for cid in statuses}
        assert {cid: c.status for cid, c in after.items() if c} == dict(
            zip(statuses, ["reopened", "open", "open"], strict=True)
        )
        assert all(c is not None and c.awaiting_since is not None for c in after.values())
        resumed = session.scalars(
            select(TimelineEvent).where(
                TimelineEvent.conversation_id == first[1].conversation_id, TimelineEvent.kind == "status"
            )
        ).one()
        assert resumed.message_id == results[1].message_id  # the message that took it out of pending


def test_a_merged_contact_gets_the_message_of_its_old_identity(container: Any) -> None:
    generic = account(container, "north-generic")
    with transaction(container.sessions) as session:
        old, survivor = intake.store_many(
            session, [Arrival(generic, _event(1, "twin-1"), NOW), Arrival(generic, _event(2, "twin-2"), NOW)]
        )
        messages = {m.id: m for m in session.scalars(select(Message))}
        old_contact = messages[old.message_id].contact_id
        survivor_contact = messages[survivor.message_id].contact_id
        merged = session.get(Contact, old_contact)
        assert merged is not None
        merged.merged_into_id = survivor_contact
    with transaction(container.sessions) as session:
        (result,) = intake.store_many(session, [Arrival(generic, _event(3, "twin-1"), NOW)])
        stored = session.get(Message, result.message_id)
        assert stored is not None and stored.contact_id == survivor_contact
        # The identity still names the old contact; nothing new was made for it.
        assert (
            session.scalars(select(ContactIdentity).where(ContactIdentity.external_user_id == "twin-1"))
            .one()
            .contact_id
            == old_contact
        )


def test_a_concurrent_delivery_that_won_makes_the_run_raise(
    container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    generic = account(container, "north-generic")
    with transaction(container.sessions) as session:
        intake.store_many(session, [Arrival(generic, _event(1, "racer"), NOW)])
    # As if the row was not there when the run looked, and was when it inserted.
    monkeypatch.setattr(intake.intake_repository, "message_refs", lambda session, keys: {})
    with pytest.raises(intake.Duplicate), transaction(container.sessions) as session:
        intake.store_many(
            session, [Arrival(generic, _event(2, "racer"), NOW), Arrival(generic, _event(1, "racer"), NOW)]
        )
    with container.sessions() as session:
        assert [m.external_id for m in session.scalars(select(Message))] == ["e-1"]  # the run left nothing
