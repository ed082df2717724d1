"""Who wrote raises an alert too: a negative post by an author with many followers, a journalist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.core.timeutil import utcnow
from relaydesk.crisis.audience import audience
from relaydesk.models import Contact, CrisisAlert
from tests.api.test_webhook_and_inbox import account, ingest, post_signed


def test_many_followers_count_when_negative_and_the_press_always() -> None:
    assert audience({"followers": 250_000}, "negative") == {"influencer": ["250,000 followers"]}
    assert audience({"followers": 250_000}, "positive") == {}
    assert audience({"followers": 9_999}, "negative") == {}
    assert audience({"followers": "lots"}, "negative") == {}
    assert audience({"journalist": True}, "neutral") == {"press": ["a journalist"]}
    assert audience({"role": " Reporter "}, None) == {"press": ["a journalist"]}
    assert audience(None, "negative") == {}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_negative_post_by_a_big_account_and_a_journalists_question_raise_alerts(
    app_client: TestClient, container: Container
) -> None:
    container.crisis_watch.run_once(utcnow())
    payload = {
        "id": "inf1",
        "author": {"id": "big1", "name": "Big Voice", "followers": 480_000},
        "text": "Terrible service, the worst experience ever, very disappointed and angry",
    }
    assert (
        post_signed(app_client, account(container, "north-generic"), payload, "north-secret").status_code
        == 202
    )  # type: ignore[attr-defined]
    quiet = ingest(
        app_client,
        container,
        "north-generic",
        "j1",
        "Could you comment on the new opening hours?",
        "reporter1",
    )
    with container.sessions() as session:
        conversation_contact = session.scalars(
            select(Contact).where(Contact.display_name == "Customer")
        ).all()
        for contact in conversation_contact:
            contact.attributes = {**(contact.attributes or {}), "journalist": True}
        session.commit()
    assert quiet
    ingest(
        app_client, container, "north-generic", "j2", "And one more question for our article?", "reporter1"
    )
    container.crisis_watch.run_once(utcnow() + timedelta(minutes=1))
    with container.sessions() as session:
        series = {a.series for a in session.scalars(select(CrisisAlert))}
    assert "influencer" in series and "press" in series
