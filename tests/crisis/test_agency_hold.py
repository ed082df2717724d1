"""The playbook's automatic step for agencies: when an alert opens, the agency's people at the
place are told to hold, its open conversations there go in-house, a new message in one of its
conversations is handed over while the alert is open, and an agency reply there waits for approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.conversations.held_replies import needs_approval
from relaydesk.core.timeutil import utcnow
from relaydesk.models import Conversation, CrisisAlertEvent, Department, Notification, TimelineEvent, User
from tests.api.test_webhook_and_inbox import ingest

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def _to_agency(container: Container, conversation_id: int) -> None:
    with container.sessions() as session:
        first_line = session.scalars(select(Department).where(Department.key == "first-line")).one()
        otto = session.scalars(select(User).where(User.handle == "otto")).one()
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        conversation.department_id, conversation.assignee_id = first_line.id, otto.id
        session.commit()


def test_an_alert_tells_the_agency_to_hold_and_moves_its_conversations_in_house(
    app_client: TestClient, container: Container
) -> None:
    waiting = ingest(app_client, container, "north-generic", "q1", "Do you have vegan options?", "p-q")
    other_shop = ingest(app_client, container, "south-generic", "q2", "Do you have vegan options?", "p-s")
    _to_agency(container, waiting)
    _to_agency(container, other_shop)
    with container.sessions() as session:
        otto = session.scalars(select(User).where(User.handle == "otto")).one()
        before = session.get(Conversation, waiting)
        assert before is not None and needs_approval(session, before, otto) is None  # no alert: no hold
    container.crisis_watch.run_once(utcnow())
    ingest(app_client, container, "north-generic", "cr1", "I got food poisoning from your salad", "p-cr")
    assert container.crisis_watch.run_once(utcnow() + timedelta(minutes=1)).raised == 1
    with container.sessions() as session:
        first_line = session.scalars(select(Department).where(Department.key == "first-line")).one()
        moved = session.get(Conversation, waiting)
        assert moved is not None and moved.department_id != first_line.id and moved.assignee_id is None
        # a trigger's alert is the brand's: the brand's other shop is under it too
        also = session.get(Conversation, other_shop)
        assert also is not None and also.department_id != first_line.id
        reasons = session.scalars(
            select(TimelineEvent.reason).where(
                TimelineEvent.conversation_id == waiting, TimelineEvent.kind == "transfer"
            )
        ).all()
        assert any("crisis alert is open" in r for r in reasons)
        otto = session.scalars(select(User).where(User.handle == "otto")).one()
        told = session.scalars(select(Notification).where(Notification.user_id == otto.id)).all()
        assert any(n.alert_id is not None and "Hold" in n.text for n in told)
        events = session.scalars(select(CrisisAlertEvent.kind)).all()
        assert "agency_hold" in events
        # an agency reply at the place now waits for in-house approval, even without a holding playbook
        hold = needs_approval(session, moved, otto)
        assert (
            hold is not None
            and "the agency holds" in hold.reason
            and hold.excluded_agency_id == otto.agency_id
        )


def test_a_new_message_in_an_agency_conversation_goes_in_house_while_the_alert_is_open(
    app_client: TestClient, container: Container
) -> None:
    container.crisis_watch.run_once(utcnow())
    ingest(app_client, container, "north-generic", "cr2", "I got food poisoning from your salad", "p-cr2")
    assert container.crisis_watch.run_once(utcnow() + timedelta(minutes=1)).raised == 1
    later = ingest(app_client, container, "north-generic", "q3", "Hello, is the shop open today?", "p-later")
    _to_agency(container, later)
    ingest(app_client, container, "north-generic", "q4", "And tomorrow?", "p-later")
    with container.sessions() as session:
        first_line = session.scalars(select(Department).where(Department.key == "first-line")).one()
        conversation = session.get(Conversation, later)
        assert conversation is not None and conversation.department_id != first_line.id
