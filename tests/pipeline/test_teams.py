"""Teams end to end (issue #5 gaps): days off, concurrent assignment, agency contract clocks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relaydesk.channels.base import InboundEvent
from relaydesk.container import Container
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.models import BusinessHours, ChannelAccount, Conversation, Location, TimelineEvent, User
from relaydesk.routing.service import RoutingService

PERSIAN = "سلام، سفارشم هنوز نرسیده. کی می‌رسه؟"  # service, and only sam speaks Persian there
EVERY_DAY = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "00:00"}]


def account_id(container: Container, key: str) -> int:
    with container.sessions() as session:
        return session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == key)).one()


def event(external_id: str, text: str, author: str = "cust-1") -> InboundEvent:
    return InboundEvent(network="generic", external_id=external_id, author_id=author, text=text)


def assign_reasons(container: Container, conversation_id: int) -> list[str]:
    with container.sessions() as session:
        return list(
            session.scalars(
                select(TimelineEvent.reason).where(
                    TimelineEvent.conversation_id == conversation_id, TimelineEvent.kind == "assign"
                )
            )
        )


def _personal_day_off(session: Session, sam: User, today: str) -> None:
    sam.shifts = [{"time_off": [today]}]


def _holiday_where_sam_works(session: Session, sam: User, today: str) -> None:
    north = session.scalars(select(Location).where(Location.key == "north")).one()
    hours = session.scalars(select(BusinessHours).where(BusinessHours.key == "always")).one()
    hours.holidays = [today]
    north.business_hours_id = hours.id
    sam.location_id = north.id
    sam.shifts = EVERY_DAY  # holidays cancel listed shifts


@pytest.mark.parametrize("day_off", [_personal_day_off, _holiday_where_sam_works])
def test_an_agent_on_a_day_off_is_not_given_work(
    container: Container, day_off: Callable[[Session, User, str], None]
) -> None:
    today = utcnow().date().isoformat()  # sam's zone is UTC
    with transaction(container.sessions) as session:
        sam = session.scalars(select(User).where(User.handle == "sam")).one()
        day_off(session, sam, today)
    result = container.pipeline.accept(account_id(container, "north-generic"), event("off-1", PERSIAN))
    with container.sessions() as session:
        conv = session.get(Conversation, result.conversation_id)
        assert conv is not None and conv.assignee_id is None
    assert any("sam: off shift" in r for r in assign_reasons(container, result.conversation_id))

    # Back at work (the day off removed): the queue drains to sam.
    with transaction(container.sessions) as session:
        sam = session.scalars(select(User).where(User.handle == "sam")).one()
        sam.shifts = []
        session.flush()
        assert RoutingService().drain(session) == 1
    with container.sessions() as session:
        conv = session.get(Conversation, result.conversation_id)
        assert conv is not None and conv.assignee_id == sam.id


def _load(container: Container) -> dict[str, int]:
    with container.sessions() as session:
        rows = session.execute(
            select(User.handle, func.count(Conversation.id))
            .join(Conversation, Conversation.assignee_id == User.id)
            .where(Conversation.status.in_(("new", "open", "reopened", "pending")))
            .group_by(User.handle)
        )
        return {handle: int(n) for handle, n in rows}


def _race(workers: list[Callable[[], object]]) -> None:
    """Run every worker at once in its own thread; re-raise the first error."""
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(work: Callable[[], object]) -> None:
        barrier.wait()
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_concurrent_arrivals_never_exceed_an_agents_capacity(container: Container) -> None:
    # South: only sam and sia (2 each) serve it (nora is limited to the north); 8 write at once.
    acc = account_id(container, "south-generic")
    _race(
        [
            lambda i=i: container.pipeline.accept(acc, event(f"race-{i}", "Where is my order?", f"racer-{i}"))
            for i in range(8)
        ]
    )
    assert _load(container) == {"sam": 2, "sia": 2}
    with container.sessions() as session:
        waiting = session.scalar(
            select(func.count(Conversation.id)).where(Conversation.assignee_id.is_(None))
        )
    assert waiting == 4


def test_concurrent_drains_give_each_conversation_to_one_agent_within_capacity(
    container: Container,
) -> None:
    acc = account_id(container, "south-generic")
    with transaction(container.sessions) as session:
        for user in session.scalars(select(User).where(User.handle.in_(("sam", "sia")))):
            user.online = False  # everything waits in the queue
    ids = [
        container.pipeline.accept(
            acc, event(f"queue-{i}", "Where is my order?", f"queued-{i}")
        ).conversation_id
        for i in range(6)
    ]
    with transaction(container.sessions) as session:
        for user in session.scalars(select(User).where(User.handle.in_(("sam", "sia")))):
            user.online = True

    def drain() -> None:
        with transaction(container.sessions) as session:
            RoutingService().drain(session)

    _race([drain for _ in range(4)])
    assert _load(container) == {"sam": 2, "sia": 2}
    with container.sessions() as session:
        assigned_events = session.scalars(
            select(TimelineEvent.conversation_id).where(
                TimelineEvent.kind == "assign",
                TimelineEvent.conversation_id.in_(ids),
                TimelineEvent.reason.like("assigned to%"),
            )
        ).all()
    # Each conversation was handed out at most once: no drain re-assigned another's pick.
    assert len(assigned_events) == len(set(assigned_events)) == 4


def test_a_hand_off_moves_the_clock_from_the_agency_contract_to_the_in_house_policy(
    container: Container,
) -> None:
    acc = account_id(container, "south-generic")
    first = container.pipeline.accept(acc, event("clock-1", "ร้านเปิดกี่โมงคะ", "thai-clock"))
    with container.sessions() as session:
        conv = session.get(Conversation, first.conversation_id)
        assert conv is not None
        start = conv.awaiting_since
        assert start is not None and conv.first_response_due is not None
        assert conv.first_response_due - start == timedelta(minutes=15)  # OutCo's contract
    container.pipeline.accept(acc, event("clock-2", "บริการแย่มาก ผิดหวังมาก", "thai-clock"))
    with container.sessions() as session:
        conv = session.get(Conversation, first.conversation_id)
        assert conv is not None and conv.awaiting_since == start
        assert conv.first_response_due is not None and conv.next_response_due == conv.first_response_due
        assert conv.first_response_due - start == timedelta(minutes=60)  # in-house default policy
        notes = session.scalars(
            select(TimelineEvent.reason)
            .where(TimelineEvent.conversation_id == conv.id, TimelineEvent.kind == "sla")
            .order_by(TimelineEvent.id)
        ).all()
    assert "'outco contract'" in notes[0] and "'default'" in notes[-1]
