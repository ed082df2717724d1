"""The crisis watch on a real database: it learns three days of a shop's negative messages, keeps
quiet at the evening peak it has learned, raises one alert for a surge (told to the owner, PR and
the region's manager, never to an agent), groups trigger matches into one alert per brand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import (
    ChannelAccount,
    Contact,
    Conversation,
    CrisisAlert,
    CrisisAlertEvent,
    Message,
    Notification,
    User,
)

START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # a Monday; north-shop is in Asia/Tehran


def per_hour(at: datetime) -> int:
    """A shop's negative messages an hour: a few by day, an evening peak, nothing at night."""
    hour = (at + timedelta(hours=3, minutes=30)).hour  # Tehran
    if hour < 9:
        return 0
    return 8 if 19 <= hour < 21 else 2


class Shop:
    def __init__(self, container: Container) -> None:
        self.container = container
        with container.sessions() as session:
            account = session.scalars(
                select(ChannelAccount).where(ChannelAccount.key == "north-generic")
            ).one()
            self.account_id, self.org_id, self.location_id = account.id, account.org_id, account.location_id
        self.n = 0

    def write(
        self,
        at: datetime,
        count: int,
        text: str = "very bad service",
        sentiment: str = "negative",
        spread: int = 3600,
    ) -> None:
        """`count` messages spread over the `spread` seconds from `at`."""
        with transaction(self.container.sessions) as session:
            for i in range(count):
                self.n += 1
                contact = Contact(org_id=self.org_id, display_name=f"c{self.n}", attributes={})
                session.add(contact)
                session.flush()
                created = at + timedelta(seconds=i * spread // max(count, 1))
                conversation = Conversation(
                    org_id=self.org_id,
                    account_id=self.account_id,
                    location_id=self.location_id,
                    contact_id=contact.id,
                    network="generic",
                    status="open",
                    last_message_at=created,
                    created_at=created,
                )
                session.add(conversation)
                session.flush()
                session.add(
                    Message(
                        org_id=self.org_id,
                        conversation_id=conversation.id,
                        account_id=self.account_id,
                        direction="inbound",
                        kind="message",
                        external_id=f"w{self.n}",
                        contact_id=contact.id,
                        text=text,
                        triage={"sentiment": sentiment},
                        processed_at=created,
                        sent_at=created,
                        created_at=created,
                    )
                )


def test_learns_keeps_quiet_at_the_peak_and_raises_one_alert_for_a_surge(container: Container) -> None:
    watch = container.crisis_watch
    shop = Shop(container)
    watch.run_once(START)  # the watch starts here: it does not replay what came before
    at = START
    for _ in range(4 * 24):
        shop.write(at, per_hour(at))
        at += timedelta(hours=1)
        watch.run_once(at)
    with container.sessions() as session:
        assert session.scalars(select(CrisisAlert)).all() == []  # four evening peaks, no alert
    # Friday 14:00 in Tehran: 30 negative messages in a quarter of an hour
    surge = at + timedelta(hours=1, minutes=30)
    shop.write(surge, 1)  # the hour before it goes by as usual
    watch.run_once(surge + timedelta(minutes=40))
    storm = surge + timedelta(minutes=45)
    for minute in range(15):
        shop.write(storm + timedelta(minutes=minute), 2, spread=50)
    raised = watch.run_once(storm + timedelta(minutes=15)).raised
    assert raised == 1
    watch.run_once(storm + timedelta(minutes=16))
    with container.sessions() as session:
        alerts = session.scalars(select(CrisisAlert)).all()
        assert len(alerts) == 1  # the shop, its region, the brand and the org: one storm
        alert = alerts[0]
        assert alert.kind == "surge" and alert.status == "open" and alert.severity == "high"
        assert alert.numbers["observed"] >= 20 and alert.numbers["expected"] < 10
        assert len(alert.message_ids) >= 20
        kinds = [
            e.kind
            for e in session.scalars(select(CrisisAlertEvent).where(CrisisAlertEvent.alert_id == alert.id))
        ]
        assert kinds[:2] == ["raised", "notified"]
        notices = session.scalars(select(Notification).where(Notification.alert_id == alert.id)).all()
        told = {session.get(User, n.user_id).handle for n in notices if not n.text.startswith("Hold")}  # type: ignore[union-attr]
        held = {session.get(User, n.user_id).handle for n in notices if n.text.startswith("Hold")}  # type: ignore[union-attr]
    assert {"ada", "petra", "nora"} <= told  # the admin, PR, the north region's manager
    assert "sam" not in told and "otto" not in told
    assert held == {"otto"}  # the agency is told to hold instead
    # PR resolves it while the storm still shows in the counts: it is not opened again for it
    with transaction(container.sessions) as session:
        session.get(CrisisAlert, alert.id).status = "resolved"  # type: ignore[union-attr]
    shop.write(storm + timedelta(minutes=16), 3, spread=30)
    assert watch.run_once(storm + timedelta(minutes=18)).raised == 0
    with container.sessions() as session:
        assert len(session.scalars(select(CrisisAlert)).all()) == 1


def test_the_newest_seconds_wait_for_transactions_still_committing(container: Container) -> None:
    watch = container.crisis_watch
    shop = Shop(container)
    now = START
    watch.run_once(now)
    shop.write(now + timedelta(seconds=50), 1, "I got food poisoning here")
    assert watch.run_once(now + timedelta(seconds=60)).raised == 0  # 10 s old: not read yet
    assert watch.run_once(now + timedelta(seconds=90)).raised == 1


def test_trigger_phrases_group_into_one_alert_per_category(container: Container) -> None:
    watch = container.crisis_watch
    shop = Shop(container)
    now = START
    watch.run_once(now)
    shop.write(now, 1, "I got food poisoning after your burger", "negative")
    shop.write(now, 1, "بعد از ساندویچ شما مسموم شدم", "negative")
    shop.write(now, 1, "a lovely evening, thank you", "positive")
    assert watch.run_once(now + timedelta(minutes=5)).raised == 1
    shop.write(now + timedelta(minutes=6), 1, "I will take you to court: my lawyer is ready")
    assert watch.run_once(now + timedelta(minutes=8)).raised == 1
    with container.sessions() as session:
        alerts = {a.series: a for a in session.scalars(select(CrisisAlert))}
    assert set(alerts) == {"food_poisoning", "lawsuit"}
    food = alerts["food_poisoning"]
    assert food.kind == "trigger" and food.messages == 2 and len(food.message_ids) == 2
    assert food.severity == "high" and "مسموم شدم" in food.numbers["phrases"]
