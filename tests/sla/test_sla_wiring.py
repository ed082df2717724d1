"""SLA clocks wired through the services with real business hours (issue 9 #7), on both databases.

The north shop keeps Tehran office hours, Monday to Friday 09:00-17:00 (UTC+03:30), so every
scenario crosses closed hours: an evening, a night, a weekend.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import scope_for
from relaydesk.channels.base import InboundEvent
from relaydesk.container import Container
from relaydesk.core.timeutil import as_utc
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, Conversation, Notification, SlaRecord, TimelineEvent, User
from tests.orgconfig import apply_variant, policy

TEHRAN = ZoneInfo("Asia/Tehran")
MODULES_WITH_A_CLOCK = (
    "relaydesk.pipeline.service",
    "relaydesk.conversations.views",
    "relaydesk.conversations.replying",
    "relaydesk.conversations.held_replies",
    "relaydesk.conversations.notes",
    "relaydesk.conversations.handoff",
    "relaydesk.conversations.status",
    "relaydesk.routing.service",
    "relaydesk.analytics.service",
)


def tehran(day: int, hour: int, minute: int = 0) -> datetime:
    """January 2026 in Tehran: the 5th is a Monday, the 9th a Friday."""
    return datetime(2026, 1, day, hour, minute, tzinfo=TEHRAN).astimezone(UTC)


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = tehran(5, 9)
        for module in MODULES_WITH_A_CLOCK:
            monkeypatch.setattr(f"{module}.utcnow", lambda: self.now)

    def set(self, when: datetime) -> None:
        self.now = when


def _find(nodes: list[dict[str, Any]], key: str) -> dict[str, Any]:
    for node in nodes:
        if node["key"] == key:
            return node
        try:
            return _find(node.get("children", []), key)
        except LookupError:
            continue
    raise LookupError(key)


def office_hours(warn_before_minutes: int | None = None) -> Any:
    def change(config: dict[str, Any]) -> None:
        weekdays = ("mon", "tue", "wed", "thu", "fri")
        config["business_hours"].append(
            {
                "key": "tehran-office",
                "name": "Tehran office",
                "weekly": {d: [["09:00", "17:00"]] for d in weekdays},
            }
        )
        _find(config["locations"], "north-shop")["business_hours"] = "tehran-office"
        default = policy(config, "default")
        default.update(
            around_the_clock=False,
            first_response_minutes=60,
            next_response_minutes=120,
            resolution_minutes=480,
        )
        if warn_before_minutes is not None:
            default["warn_before_minutes"] = warn_before_minutes

    return change


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def office(container: Container) -> Container:
    apply_variant(container, office_hours())
    return container


def write(container: Container, clock: Clock, external_id: str, text: str, at: datetime) -> int:
    clock.set(at)
    with container.sessions() as session:
        account = session.scalars(
            select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")
        ).one()
    event = InboundEvent(
        network="generic",
        external_id=external_id,
        author_id="cust",
        author_name="Cust",
        text=text,
        sent_at=at,
    )
    return int(container.pipeline.accept(account, event).conversation_id)


def admin(container: Container) -> Scope:
    with container.sessions() as session:
        return scope_for(session, session.scalars(select(User).where(User.handle == "ada")).one())


def row(container: Container, conversation_id: int) -> Conversation:
    with container.sessions() as session:
        found = session.get(Conversation, conversation_id)
        assert found is not None
        return found


def test_pending_pauses_the_first_response_clock_across_closed_hours(office: Container, clock: Clock) -> None:
    conv = write(office, clock, "p1", "Where is my order?", tehran(5, 16))
    assert as_utc(row(office, conv).first_response_due) == tehran(5, 17)

    clock.set(tehran(5, 16, 30))  # 30 minutes of the hour left
    office.conversations.change_status(admin(office), conv, "pending")
    paused = row(office, conv)
    assert paused.next_response_due is None and as_utc(paused.sla_paused_at) == tehran(5, 16, 30)

    # The customer answers the next morning: the 30 minutes go on from then, the night not counted.
    assert write(office, clock, "p2", "It is order 1234", tehran(6, 10)) == conv
    resumed = row(office, conv)
    assert as_utc(resumed.first_response_due) == tehran(6, 10, 30)
    assert as_utc(resumed.next_response_due) == tehran(6, 10, 30)
    # Resolution (480 business minutes from Monday 16:00) had 450 left: Tuesday 10:00-17:00, Wednesday 09:00-09:30.
    assert as_utc(resumed.resolution_due) == tehran(7, 9, 30)
    assert resumed.sla_paused_at is None
    with office.sessions() as session:
        notes = list(
            session.scalars(
                select(TimelineEvent.reason).where(
                    TimelineEvent.conversation_id == conv, TimelineEvent.reason.like("SLA clock resumed%")
                )
            )
        )
    assert notes and "the customer answered" in notes[0]


def test_reopening_by_hand_after_a_weekend_keeps_the_minutes_left(office: Container, clock: Clock) -> None:
    conv = write(office, clock, "w1", "Do you deliver to Karaj?", tehran(9, 16))  # Friday
    clock.set(tehran(9, 16, 50))
    office.conversations.change_status(admin(office), conv, "pending")
    clock.set(tehran(12, 8))  # Monday, before opening
    out = office.conversations.change_status(admin(office), conv, "open")
    assert out.sla.next_response_due == tehran(12, 9, 10)
    assert out.sla.paused_since is None


def test_resolving_while_pending_does_not_count_the_wait(office: Container, clock: Clock) -> None:
    conv = write(office, clock, "r1", "My card was charged twice", tehran(5, 16))
    scope = admin(office)
    clock.set(tehran(5, 16, 30))
    office.conversations.reply(scope, conv, "Could you send the receipt?", set_pending=True, force=True)
    clock.set(tehran(7, 12))  # Wednesday noon: past the original Tuesday 16:00 resolution target
    office.conversations.change_status(scope, conv, "resolve")
    with office.sessions() as session:
        record = session.scalars(
            select(SlaRecord).where(SlaRecord.conversation_id == conv, SlaRecord.target == "resolution")
        ).one()
    assert record.met, "the two days waiting on the customer were counted against the team"
    assert as_utc(record.due_at) == tehran(8, 11, 30)


def test_first_response_in_business_time_is_recorded_and_reported(office: Container, clock: Clock) -> None:
    conv = write(office, clock, "b1", "Is the shop open on Friday?", tehran(5, 16))
    clock.set(tehran(6, 10))  # 18 wall-clock hours later, 2 business hours
    office.conversations.reply(admin(office), conv, "Yes, from nine.", force=True)
    assert row(office, conv).first_response_business_seconds == 2 * 3600
    summary = office.analytics.kpi_summary(admin(office))
    assert summary.first_response_business.median == 2 * 3600
    assert summary.first_response.median == 18 * 3600


def _notified(container: Container, conversation_id: int, kind: str) -> list[str]:
    with container.sessions() as session:
        return list(
            session.scalars(
                select(User.handle)
                .join(Notification, Notification.user_id == User.id)
                .where(Notification.conversation_id == conversation_id, Notification.kind == kind)
                .order_by(User.handle)
            )
        )


def test_the_warning_comes_as_early_as_the_policy_says_and_reaches_the_assignee(
    container: Container, clock: Clock
) -> None:
    apply_variant(container, office_hours(warn_before_minutes=30))
    conv = write(container, clock, "n1", "Where is my order?", tehran(5, 16))  # due 17:00
    assignee = row(container, conv).assignee_id
    assert assignee is not None
    with transaction(container.sessions) as session:
        early = container.conversations.sla.tick(session, tehran(5, 16, 25))
        warned = container.conversations.sla.tick(session, tehran(5, 16, 35))
    assert early == []
    assert [a.kind for a in warned] == ["warning"]
    with container.sessions() as session:
        handle = session.get(User, assignee).handle  # type: ignore[union-attr]
    assert _notified(container, conv, "sla_warning") == [handle]


def test_an_unassigned_warning_goes_to_the_department_managers(container: Container, clock: Clock) -> None:
    apply_variant(container, office_hours(warn_before_minutes=30))
    conv = write(container, clock, "n2", "Where is my parcel?", tehran(5, 16))
    with transaction(container.sessions) as session:
        conversation = session.get(Conversation, conv)
        assert conversation is not None
        conversation.assignee_id = None  # waiting in the service queue
    with transaction(container.sessions) as session:
        actions = container.conversations.sla.tick(session, tehran(5, 16, 40))
    assert [a.kind for a in actions] == ["warning"]
    assert _notified(container, conv, "sla_warning") == ["nora"]  # service's manager


def test_a_policy_may_turn_the_warning_off(container: Container, clock: Clock) -> None:
    apply_variant(container, office_hours(warn_before_minutes=0))
    conv = write(container, clock, "n3", "Where is my order?", tehran(5, 16))
    with transaction(container.sessions) as session:
        quiet = container.conversations.sla.tick(session, tehran(5, 16, 59))
        breach = container.conversations.sla.tick(session, tehran(5, 17))
    assert quiet == [] and [a.kind for a in breach] == ["breach"]
    assert _notified(container, conv, "sla_warning") == []
