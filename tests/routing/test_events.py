"""What routing tells the rest of the system, as typed events published once its work commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.core.events import (
    ConversationAssigned,
    ConversationTransferred,
    DomainEvent,
    RoutingNotifyRequested,
    hub,
)
from relaydesk.models import Conversation, Department, Notification, User
from tests.orgconfig import apply_variant
from tests.routing.test_wiring import contract, write


@contextmanager
def published(*types: type[DomainEvent]) -> Iterator[list[DomainEvent]]:
    seen: list[DomainEvent] = []

    def listener(event: DomainEvent) -> None:
        seen.append(event)

    for event_type in types:
        hub.subscribe(event_type, listener)
    try:
        yield seen
    finally:
        for event_type in types:
            hub.unsubscribe(event_type, listener)


def test_an_automatic_assignment_is_published(container: Container) -> None:
    with published(ConversationAssigned) as seen:
        conv = write(container, "ev-1", "Where is my order?")
    with container.sessions() as session:
        conversation = session.get(Conversation, conv)
        assert conversation is not None and conversation.assignee_id is not None
        org_id = conversation.org_id
    assert seen == [
        ConversationAssigned(org_id=org_id, conversation_id=conv, user_id=conversation.assignee_id)
    ]


def test_an_agency_hand_off_is_published_as_a_transfer(container: Container) -> None:
    def change(config: dict[str, Any]) -> None:
        contract(config)["languages"] = ["th"]
        rule = next(r for r in config["routing_rules"] if r["name"] == "thai-questions-to-agency")
        rule["when"]["language"] = ["th", "en"]

    apply_variant(container, change)
    with published(ConversationTransferred) as seen:
        conv = write(container, "ev-2", "What time do you open?")
    with container.sessions() as session:
        departments = {d.key: d.id for d in session.scalars(select(Department))}
        conversation = session.get(Conversation, conv)
        assert conversation is not None
    assert seen == [
        ConversationTransferred(
            org_id=conversation.org_id,
            conversation_id=conv,
            from_department_id=departments["first-line"],
            to_department_id=departments["service"],
        )
    ]


def test_a_rules_notify_action_reaches_people_without_customer_text_in_the_event(
    container: Container,
) -> None:
    def change(config: dict[str, Any]) -> None:
        rule = {"name": "press", "when": {"keywords": ["journalist"]}, "then": {"notify": ["@nora", "hank"]}}
        config["routing_rules"].insert(0, rule)

    apply_variant(container, change)
    text = "I am a journalist asking about your delivery times"
    with published(RoutingNotifyRequested) as seen:
        conv = write(container, "ev-3", text)
    assert len(seen) == 1
    event = seen[0]
    assert isinstance(event, RoutingNotifyRequested)
    assert (event.conversation_id, event.targets, event.matched_rules) == (conv, ["nora", "hank"], ["press"])
    assert "journalist" not in event.model_dump_json()
    with container.sessions() as session:
        notified = session.execute(
            select(User.handle, Notification.text)
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.conversation_id == conv, Notification.kind == "rule")
            .order_by(User.handle)
        ).all()
    expected = f"conversation #{conv} matched rule(s) press: {text}"
    assert [tuple(row) for row in notified] == [("hank", expected), ("nora", expected)]
