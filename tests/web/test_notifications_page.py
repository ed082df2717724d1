"""The notification centre in the browser: the bell's count, the list, opening and marking read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import Notification, User
from tests.web.test_pages import browser_login, csrf_of, ingest

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def _notify(container: Container, email: str, kind: str, text: str, conversation_id: int | None) -> int:
    with transaction(container.sessions) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        row = Notification(
            org_id=user.org_id, user_id=user.id, conversation_id=conversation_id, kind=kind, text=text
        )
        session.add(row)
        session.flush()
        return row.id


def test_the_bell_counts_only_my_unread_and_opening_one_reads_it(
    app_client: TestClient, container: Container
) -> None:
    conversation = ingest(container, "bell-1", "Where is my parcel?", "Pat")
    mine = _notify(
        container, "sam@test.example", "mention", "@ada asks: <b>check</b> the parcel", conversation
    )
    _notify(container, "sam@test.example", "sla_warning", "first response due soon", None)
    theirs = _notify(container, "sia@test.example", "mention", "for Sia only", conversation)
    assert browser_login(app_client, "sam@test.example").status_code == 303

    inbox = app_client.get("/").text
    assert "<title>(2) " in inbox and 'data-unread="2"' in inbox
    page = app_client.get("/notifications").text
    assert "for Sia only" not in page  # another person's notices never show
    assert "&lt;b&gt;check&lt;/b&gt;" in page and "<b>check</b>" not in page  # text is text
    assert page.count('class="notice notice-') == 2

    opened = app_client.post(
        f"/notifications/{mine}/read", data={"csrf": csrf_of(page)}, follow_redirects=False
    )
    assert opened.status_code == 303 and opened.headers["location"] == f"/conversations/{conversation}"
    assert 'data-unread="1"' in app_client.get("/").text
    unread_only = app_client.get("/notifications", params={"unread": "1"}).text
    assert unread_only.count('class="notice notice-') == 1

    # Someone else's notification is not found, and stays unread.
    refused = app_client.post(f"/notifications/{theirs}/read", data={"csrf": csrf_of(page)})
    assert refused.status_code == 404
    with container.sessions() as session:
        assert session.get(Notification, theirs).read_at is None  # type: ignore[union-attr]


def test_mark_all_read_empties_the_bell_and_a_stale_form_changes_nothing(
    app_client: TestClient, container: Container
) -> None:
    for n in range(3):
        _notify(container, "sam@test.example", "approval", f"reply {n} waits for you", None)
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get("/notifications").text
    stale = app_client.post("/notifications/read-all", data={"csrf": "0" * 64})
    assert "This form expired" in stale.text and 'data-unread="3"' in stale.text
    done = app_client.post("/notifications/read-all", data={"csrf": csrf_of(page)})
    assert "3 notifications marked read." in done.text
    assert (
        "data-unread" not in done.text
        and "Nothing unread." in app_client.get("/notifications", params={"unread": "1"}).text
    )


def test_the_centre_speaks_the_readers_language(app_client: TestClient, container: Container) -> None:
    _notify(container, "sam@test.example", "escalation", "SLA breached", None)
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get("/notifications", headers={"Accept-Language": "fa"}).text
    assert "اعلان‌ها" in page and "ارجاع به مدیر" in page and 'data-unread="1"' in page
    assert ">۱<" in page  # the bell's number in Persian digits


def test_a_person_chooses_which_notifications_reach_them(
    app_client: TestClient, container: Container
) -> None:
    from relaydesk.notifications.service import channels_for, notify_users

    assert browser_login(app_client, "sia@test.example").status_code == 303
    page = app_client.get("/settings/notifications").text
    assert page.count('type="checkbox" name="') == 12 and page.count("checked") == 12  # all on at first
    # Mentions only by e-mail, SLA warnings not at all; the rest as they were.
    form = {"csrf": csrf_of(page)}
    for kind in ("approval", "escalation", "rule"):
        form[f"{kind}.in_app"] = form[f"{kind}.email"] = "1"
    form["mention.email"] = "1"
    saved = app_client.post("/settings/notifications", data=form)
    assert "Your notification settings are saved." in saved.text
    with container.sessions() as session:
        sia = session.scalars(select(User).where(User.email == "sia@test.example")).one()
        sam = session.scalars(select(User).where(User.email == "sam@test.example")).one()
        prefs = sia.notification_prefs
    assert channels_for(prefs, "mention") == {"email"} and channels_for(prefs, "sla_warning") == set()
    assert channels_for(prefs, "approval") == {"in_app", "email"} and channels_for(None, "mention") == {
        "in_app",
        "email",
    }

    conversation_id = ingest(container, "prefs-1", "Hello?", "Pat")
    from relaydesk.models import Conversation

    with transaction(container.sessions) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        assert notify_users(session, conversation, [sia.id, sam.id], "mention", "@sia look") == 1  # Sam only
        assert notify_users(session, conversation, [sia.id], "approval", "waits") == 1
    with container.sessions() as session:
        kinds = sorted(session.scalars(select(Notification.kind).where(Notification.user_id == sia.id)).all())
    assert kinds == ["approval"]
    stale = app_client.post("/settings/notifications", data={"csrf": "0" * 64})
    assert "This form expired" in stale.text
