"""The flow of one message end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from relaydesk.auth.service import scope_for
from relaydesk.channels.base import InboundEvent
from relaydesk.container import Container
from relaydesk.core.errors import Refused
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.models import ChannelAccount, Conversation, Message, TimelineEvent, User


def account_id(container: Container, key: str) -> int:
    with container.sessions() as session:
        return session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == key)).one()


def event(external_id: str, text: str, author: str = "cust-1", **extra: object) -> InboundEvent:
    return InboundEvent(network="generic", external_id=external_id, author_id=author, text=text, **extra)  # type: ignore[arg-type]


def opened_by_new_customers(container: Container, prefix: str, text: str, n: int) -> list[int]:
    """The conversations of `n` new customers writing `text` to the north shop, in order."""
    acc = account_id(container, "north-generic")
    return [
        container.pipeline.accept(acc, event(f"{prefix}{i}", text, f"{prefix}-author-{i}")).conversation_id
        for i in range(n)
    ]


def conversation(container: Container, conversation_id: int) -> Conversation:
    with container.sessions() as session:
        row = session.get(Conversation, conversation_id)
        assert row is not None
        return row


def handle_of(container: Container, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    with container.sessions() as session:
        user = session.get(User, user_id)
        return user.handle if user else None


def reasons(container: Container, conversation_id: int, kind: str) -> list[str]:
    with container.sessions() as session:
        return list(
            session.scalars(
                select(TimelineEvent.reason).where(
                    TimelineEvent.conversation_id == conversation_id, TimelineEvent.kind == kind
                )
            )
        )


def test_persian_message_is_triaged_routed_assigned_and_clocked(container: Container) -> None:
    acc = account_id(container, "north-generic")
    before = utcnow()
    result = container.pipeline.accept(acc, event("m1", "سلام، سفارشم هنوز نرسیده. کی می‌رسه؟"))
    assert not result.duplicate
    conv = conversation(container, result.conversation_id)
    assert conv.language == "fa"
    assert handle_of(container, conv.assignee_id) == "sam"  # the only service agent speaking Persian
    assert conv.status == "open"
    due = as_utc(conv.first_response_due)
    assert due is not None
    assert timedelta(minutes=59) <= due - before <= timedelta(minutes=61)
    assert conv.next_response_due == conv.first_response_due
    route = reasons(container, conv.id, "route")
    assert route and "service" in route[0]
    assert any("assigned to @sam" in r for r in reasons(container, conv.id, "assign"))


def test_purchase_interest_goes_to_sales_with_the_rule_named(container: Container) -> None:
    acc = account_id(container, "south-generic")
    result = container.pipeline.accept(
        acc, event("m2", "How much does the large gift box cost? I want to buy two")
    )
    conv = conversation(container, result.conversation_id)
    assert conv.intent == "purchase_interest"
    assert handle_of(container, conv.assignee_id) == "sally"
    route = reasons(container, conv.id, "route")[0]
    assert "sales" in route and "leads" in route
    due = as_utc(conv.first_response_due)
    created = as_utc(conv.created_at)
    assert due is not None and created is not None
    assert due - created <= timedelta(minutes=16)  # the sales policy is more specific than the default


def test_redelivery_returns_the_existing_message(container: Container) -> None:
    acc = account_id(container, "north-generic")
    first = container.pipeline.accept(acc, event("dup-1", "Where is my order?"))
    again = container.pipeline.accept(acc, event("dup-1", "Where is my order?"))
    assert again.duplicate
    assert (again.message_id, again.conversation_id) == (first.message_id, first.conversation_id)
    with container.sessions() as session:
        assert session.scalar(select(func.count(Message.id)).where(Message.external_id == "dup-1")) == 1


def test_concurrent_duplicate_deliveries_store_one_row(container: Container) -> None:
    acc = account_id(container, "north-generic")
    results: list[object] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def deliver() -> None:
        try:
            barrier.wait()
            results.append(
                container.pipeline.accept(acc, event("race-1", "My card was charged twice", "racer"))
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len({r.message_id for r in results}) == 1  # type: ignore[attr-defined]
    assert sum(not r.duplicate for r in results) == 1  # type: ignore[attr-defined]
    with container.sessions() as session:
        assert session.scalar(select(func.count(Message.id)).where(Message.external_id == "race-1")) == 1
        assert session.scalar(select(func.count(Conversation.id))) == 1


def test_same_contact_threads_into_one_conversation_and_reopens(container: Container) -> None:
    acc = account_id(container, "north-generic")
    first = container.pipeline.accept(acc, event("t1", "Hello, is the shop open today?", "same"))
    with container.sessions() as session:
        conv = session.get(Conversation, first.conversation_id)
        assert conv is not None
        conv.status = "resolved"
        session.commit()
    second = container.pipeline.accept(acc, event("t2", "Also, do you deliver?", "same"))
    assert second.conversation_id == first.conversation_id
    assert conversation(container, first.conversation_id).status == "reopened"
    assert any("reopened" in r for r in reasons(container, first.conversation_id, "status"))


def test_reply_to_threads_into_the_replied_conversation(container: Container) -> None:
    acc = account_id(container, "north-generic")
    first = container.pipeline.accept(acc, event("r1", "My coffee was cold", "threader", thread_id="post-9"))
    follow = container.pipeline.accept(acc, event("r2", "and nobody answered", "threader", reply_to_id="r1"))
    assert follow.conversation_id == first.conversation_id


def test_a_conversation_waits_in_the_queue_when_nobody_can_take_it(container: Container) -> None:
    ids = opened_by_new_customers(container, "q", "سفارشم کجاست؟ خیلی دیر شده", 3)
    assignees = [handle_of(container, conversation(container, i).assignee_id) for i in ids]
    assert assignees[:2] == ["sam", "sam"]  # Sam is the only Persian speaker; capacity 2
    assert assignees[2] is None
    assert any("waiting in the service queue" in r for r in reasons(container, ids[2], "assign"))


def test_critical_message_goes_to_pr_with_urgent_priority(container: Container) -> None:
    acc = account_id(container, "north-generic")
    result = container.pipeline.accept(
        acc, event("c1", "Your sandwich gave my son food poisoning, my lawyer will sue you", "crisis")
    )
    conv = conversation(container, result.conversation_id)
    assert conv.urgency == "critical"
    assert conv.priority == "urgent"
    assert "needs-approval" in conv.tags
    assert conv.assignee_id is None  # PR pulls its work by hand


def test_process_is_idempotent(container: Container) -> None:
    acc = account_id(container, "north-generic")
    result = container.pipeline.accept(acc, event("p1", "Thanks, lovely service!"))
    again = container.pipeline.process(result.message_id)
    assert again.skipped
    with container.sessions() as session:
        count = session.scalar(
            select(func.count(TimelineEvent.id)).where(
                TimelineEvent.conversation_id == result.conversation_id, TimelineEvent.kind == "triage"
            )
        )
    assert count == 1


def test_organisation_intent_routes_with_its_department(container: Container) -> None:
    acc = account_id(container, "south-generic")
    result = container.pipeline.accept(
        acc, event("i1", "please refund my order, I want my money back", "refunder")
    )
    conv = conversation(container, result.conversation_id)
    assert conv.intent == "refund_request"
    assert "service" in reasons(container, conv.id, "route")[0]


def test_sla_warns_then_escalates_once(container: Container) -> None:
    acc = account_id(container, "north-generic")
    result = container.pipeline.accept(acc, event("sla1", "Is the shop open on Friday?", "clock"))
    conv = conversation(container, result.conversation_id)
    due = as_utc(conv.next_response_due)
    assert due is not None
    assert container.conversations.tick(due - timedelta(minutes=30)) == {
        "woken": 0,
        "warnings": 0,
        "breaches": 0,
        "assigned_from_queue": 0,
    }
    assert container.conversations.tick(due - timedelta(minutes=10))["warnings"] == 1
    assert container.conversations.tick(due - timedelta(minutes=5))["warnings"] == 0
    assert container.conversations.tick(due + timedelta(minutes=1))["breaches"] == 1
    assert container.conversations.tick(due + timedelta(minutes=2))["breaches"] == 0
    after = conversation(container, result.conversation_id)
    assert after.priority == "high"  # one step up from normal
    assert any("SLA breached" in r for r in reasons(container, conv.id, "sla_breach"))


def test_the_queue_drains_fairly_when_an_agent_frees_up(container: Container) -> None:
    acc = account_id(container, "north-generic")
    ids = [
        container.pipeline.accept(
            acc, event(f"dq{i}", "سفارشم کجاست؟ خیلی دیر شده", f"drain-{i}")
        ).conversation_id
        for i in range(4)
    ]
    assert [handle_of(container, conversation(container, i).assignee_id) for i in ids] == [
        "sam",
        "sam",
        None,
        None,
    ]
    with container.sessions() as session:
        sam = session.scalars(select(User).where(User.handle == "sam")).one()
        scope = scope_for(session, sam)
    container.conversations.change_status(scope, ids[0], "resolve")
    # The longest-waiting conversation gets the freed place, the other keeps waiting.
    assert handle_of(container, conversation(container, ids[2]).assignee_id) == "sam"
    assert conversation(container, ids[3]).assignee_id is None
    assert container.conversations.tick()["assigned_from_queue"] == 0


def test_agency_hands_off_what_is_outside_its_remit(container: Container) -> None:
    acc = account_id(container, "south-generic")
    first = container.pipeline.accept(acc, event("ag1", "ร้านเปิดกี่โมงคะ", "thai-customer"))
    conv = conversation(container, first.conversation_id)
    assert handle_of(container, conv.assignee_id) == "otto"  # the agency answers basic questions
    later = container.pipeline.accept(acc, event("ag2", "บริการแย่มาก ผิดหวังมาก", "thai-customer"))
    assert later.conversation_id == first.conversation_id
    after = conversation(container, first.conversation_id)
    assert handle_of(container, after.assignee_id) == "sia"  # in-house service, speaks Thai
    handoff = reasons(container, after.id, "transfer")
    assert handoff and "outside the agency's remit" in handoff[0]
    with container.sessions() as session:
        notes = session.scalars(
            select(Message.text).where(Message.conversation_id == after.id, Message.direction == "note")
        ).all()
    assert any("Handed from OutCo Social" in n for n in notes)


def test_a_viewer_in_the_department_is_never_given_work(container: Container) -> None:
    acc = account_id(container, "north-generic")
    ids = [
        container.pipeline.accept(
            acc, event(f"vq{i}", "Where is my order? It is two weeks late.", f"viewer-{i}")
        ).conversation_id
        for i in range(6)
    ]
    assignees = [handle_of(container, conversation(container, i).assignee_id) for i in ids]
    # The least-loaded agent is picked each time, so an idle Vic would be picked early; a viewer
    # in the same department must never be.
    assert "vic" not in assignees
    assert {"sam", "sia"} <= set(assignees)
    with container.sessions() as session:
        ada = session.scalars(select(User).where(User.handle == "ada")).one()
        vic_id = session.scalars(select(User.id).where(User.handle == "vic")).one()
        scope = scope_for(session, ada)
    with pytest.raises(Refused, match="viewer"):
        container.conversations.assign(scope, ids[0], vic_id)


def test_likely_spam_waits_unassigned_without_a_clock_until_a_person_says_otherwise(
    container: Container,
) -> None:
    acc = account_id(container, "north-generic")
    result = container.pipeline.accept(
        acc, event("sp1", "FREE followers!!! click here http://spam.example/win")
    )
    conv = conversation(container, result.conversation_id)
    # the org teaches its own intents (spam is not one of them): spam is the triage signal
    assert conv.intent is None and "spam" in conv.tags and conv.priority == "low"
    with container.sessions() as session:
        first = session.get(Message, result.message_id)
        assert first is not None and first.triage is not None and first.triage["spam"] is True
    container.pipeline.accept(acc, event("sp0", "Where is my order? It is late.", "real-customer"))
    with container.sessions() as session:
        admin = session.scalars(select(User).where(User.handle == "ada")).one()
        scope = scope_for(session, admin)
    assert container.analytics.kpi_summary(scope).conversations == 1  # spam left out
    assert conv.assignee_id is None and conv.first_response_due is None
    assert container.conversations.tick()["assigned_from_queue"] == 0
    with container.sessions() as session:
        sam = session.scalars(select(User).where(User.handle == "sam")).one()
        scope = scope_for(session, sam)
    container.conversations.correct(scope, conv.id, result.message_id, "intent", "question")
    back = conversation(container, conv.id)
    assert "spam" not in back.tags and back.priority == "normal"
    assert back.assignee_id is not None and back.first_response_due is not None
    container.conversations.correct(scope, conv.id, result.message_id, "intent", "spam")
    again = conversation(container, conv.id)
    assert "spam" in again.tags and again.assignee_id is None and again.first_response_due is None
    assert reasons(container, conv.id, "triage")[-2:] == [
        "not spam after all: back into assignment and the SLA clocks",
        "marked as spam: unassigned, SLA clocks stopped",
    ]


def test_the_routed_reading_stays_and_the_latest_is_shown_beside_it(container: Container) -> None:
    acc = account_id(container, "north-generic")
    first = container.pipeline.accept(
        acc, event("rt1", "My parcel never arrived, it is two weeks late", "rt")
    )
    routed = conversation(container, first.conversation_id)
    assert (routed.intent, routed.latest_intent) == ("order_issue", "order_issue")
    department = routed.department_id
    second = container.pipeline.accept(
        acc, event("rt2", "Thanks! How much is the large gift box? I want to buy two", "rt")
    )
    assert second.conversation_id == first.conversation_id
    after = conversation(container, first.conversation_id)
    # the decision the conversation was routed on is kept ...
    assert (after.intent, after.sentiment, after.department_id) == (
        "order_issue",
        routed.sentiment,
        department,
    )
    # ... and the newest message's reading is beside it, as the latest one
    assert after.latest_intent == "purchase_interest" and after.latest_sentiment == "positive"
    with container.sessions() as session:
        one = session.get(Message, first.message_id)
        two = session.get(Message, second.message_id)
        assert one is not None and two is not None and one.triage and two.triage
        assert (one.triage["intent"], two.triage["intent"]) == ("order_issue", "purchase_interest")
    assert len(reasons(container, after.id, "route")) == 1  # routed once, on the first message


def test_an_agency_hands_off_a_complaint_signal_its_org_has_no_intent_for(container: Container) -> None:
    from relaydesk.models import Intent

    with container.sessions() as session, session.begin():
        for name in ("complaint", "order_issue"):
            row = session.scalars(select(Intent).where(Intent.name == name)).one()
            session.delete(row)
    acc = account_id(container, "south-generic")
    first = container.pipeline.accept(acc, event("hs1", "ร้านเปิดกี่โมงคะ", "thai-signal"))
    assert handle_of(container, conversation(container, first.conversation_id).assignee_id) == "otto"
    container.pipeline.accept(acc, event("hs2", "บริการแย่มาก ผิดหวังมาก", "thai-signal"))
    after = conversation(container, first.conversation_id)
    assert after.latest_intent is None  # complaints are not one of this org's intents now ...
    handoff = reasons(container, after.id, "transfer")
    assert handoff and "complaint (signal)" in handoff[0]  # ... but the signal still hands it over
    assert handle_of(container, after.assignee_id) == "sia"


def test_the_timers_work_in_short_transactions_and_warn_each_clock_once(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One round of SLA warnings held SQLite's only writer for a second on a busy day (webhooks
    waited behind it, `relaydesk bench e2e`): now each transaction gives it back after its budget."""
    from relaydesk import db
    from relaydesk.conversations import status
    from relaydesk.sla import repository as sla_repository

    ids = opened_by_new_customers(container, "many", "Is the shop open on Friday?", 6)
    due = min(as_utc(conversation(container, i).next_response_due) for i in ids)  # type: ignore[type-var]
    assert due is not None
    transactions = 0
    real = status.transaction

    def counted(*args: object, **kwargs: object) -> object:
        nonlocal transactions
        transactions += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(status, "transaction", counted)
    monkeypatch.setattr(db, "WRITE_BUDGET_SECONDS", 0.0)  # every change ends its transaction
    assert container.conversations.tick(due - timedelta(minutes=10))["warnings"] == 6
    assert transactions >= 6
    for conversation_id in ids:
        assert len(reasons(container, conversation_id, "sla_warning")) == 1
    # Warned clocks are not read again until they are overdue; then they breach.
    with container.sessions() as session:
        assert (
            sla_repository.clocks_due_by(session, due + timedelta(hours=1), due - timedelta(minutes=9)) == []
        )
    assert container.conversations.tick(due + timedelta(minutes=1))["breaches"] == 6


def test_processing_tells_open_pages_even_when_nobody_is_assigned(container: Container) -> None:
    """A person who sees only the department a conversation was routed to heard nothing of it
    while nobody was assigned: its only signal came at intake, before it had a department."""
    from relaydesk.core.events import ConversationUpdated, DomainEvent, hub

    heard: list[DomainEvent] = []
    hub.subscribe(ConversationUpdated, heard.append)
    try:
        acc = account_id(container, "north-generic")
        result = container.pipeline.accept(acc, event("told1", "Is the shop open on Friday?", "told"))
    finally:
        hub.unsubscribe(ConversationUpdated, heard.append)
    assert any(
        isinstance(e, ConversationUpdated)
        and e.conversation_id == result.conversation_id
        and "department" in e.fields
        for e in heard
    )
