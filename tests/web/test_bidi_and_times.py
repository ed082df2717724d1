"""Pages and right-to-left text: overrides neutralised, ids and handles isolated, one time format.

HTML only (SQLite): the browser's side of isolation is the CSS rule `bdi, body [dir]` plus what
HTML already isolates; these tests check that every customer string sits in such an element.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from relaydesk.container import Container
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.models import Guideline, Organization, TimelineEvent, User
from tests.web.test_pages import browser_login, csrf_of, ingest

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

RLO, PDF = "\u202e", "\u202c"
SPOOFED = f"RTL {RLO}gnp.exe"  # shows as "RTL exe.png" when rendered raw


def _visible_text(html: str) -> str:
    """The page's text nodes (tags and attribute values removed)."""
    body = html.split("<body", 1)[1]
    return re.sub(r"<[^>]*>", " ", body)


def test_override_characters_never_reach_a_name_and_text_is_isolated(
    app_client: TestClient, container: Container
) -> None:
    text = f"my file {RLO}fdp.exe{PDF} is broken"
    conv = ingest(container, "bidi-1", text, SPOOFED)
    browser_login(app_client, "sam@test.example")
    inbox = app_client.get("/").text
    assert '<bdi dir="auto">RTL gnp.exe</bdi>' in inbox
    page = app_client.get(f"/conversations/{conv}").text
    assert f"{RLO}gnp" not in page  # not in the title, the heading, the author, the reply label
    assert f"<title>#{conv} \u2068RTL gnp.exe\u2069 · RelayDesk</title>" in page
    assert page.count('<bdi dir="auto">RTL gnp.exe</bdi>') >= 3  # heading, author, reply label
    # The message keeps every character, inside its own isolating paragraph.
    message = re.search(r'<p class="text" dir="auto"[^>]*>([^<]*)</p>', page)
    assert message is not None and message.group(1) == text
    # Every override left on the page is inside the message paragraph or the inbox subject.
    assert page.count(RLO) == 1
    assert inbox.count(RLO) == 1
    subject = re.search(
        rf'<a href="/conversations/{conv}" class="subject" dir="auto"[^>]*>([^<]*)</a>', inbox
    )
    assert subject is not None and RLO in subject.group(1)


def test_ids_and_handles_read_left_to_right(app_client: TestClient, container: Container) -> None:
    conv = ingest(container, "bidi-2", "أين طلبي؟", "سلمى العتيبي")
    browser_login(app_client, "admin@test.example")
    page = app_client.get(f"/conversations/{conv}")
    csrf = csrf_of(page.text)
    assert f'<span class="muted"><bdi dir="ltr">#{conv}</bdi></span>' in page.text
    assert '<bdi dir="auto">سلمى العتيبي</bdi>' in page.text
    assigned = app_client.post(f"/conversations/{conv}/assign", data={"assignee_id": "me", "csrf": csrf})
    assert '<dd><bdi dir="ltr">@ada</bdi></dd>' in assigned.text
    inbox = app_client.get("/").text
    assert '<div class="muted"><bdi dir="ltr">@ada</bdi></div>' in inbox
    # In <option> (text only) names and handles are wrapped in first-strong isolates instead.
    assert re.search(r"<option [^>]*>\u2068Sam Service\u2069 \(\u2068@sam\u2069\)", page.text)


def test_a_persian_note_starting_with_a_mention_is_right_to_left(
    app_client: TestClient, container: Container
) -> None:
    conv = ingest(container, "bidi-3", "سفارشم نرسیده", "مینا")
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get(f"/conversations/{conv}").text)
    note = "@sam لطفا موجودی را بررسی کن #12"
    page = app_client.post(f"/conversations/{conv}/note", data={"text": note, "csrf": csrf}).text
    # dir="auto" skips isolated children, so the Persian words decide the direction, and the
    # mention stays "@sam" (not "sam@") at the right-hand start.
    assert (
        '<p class="text" dir="auto"><bdi dir="ltr">@sam</bdi> لطفا موجودی را بررسی کن <bdi dir="ltr">#12</bdi></p>'
        in page
    )


def test_a_guideline_message_shows_a_zwnj_not_its_escape(
    app_client: TestClient, container: Container
) -> None:
    phrase = "ما تضمین می\u200cکنیم"
    with transaction(container.sessions) as session:
        org_id = session.scalars(select(Organization.id)).one()
        session.add(
            Guideline(
                org_id=org_id,
                name="no-guarantees-fa",
                kind="banned_phrase",
                params={"phrases": [phrase]},
                message="Never promise guarantees",
            )
        )
    conv = ingest(container, "bidi-4", "سفارشم کی می‌رسد؟", "مینا")
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get(f"/conversations/{conv}").text)
    refused = app_client.post(
        f"/conversations/{conv}/reply", data={"text": f"سلام، {phrase} که فردا برسد", "csrf": csrf}
    )
    assert refused.status_code >= 400
    flash = re.search(r'<p class="flash error"[^>]*>(.*?)</p>', refused.text, re.S)
    assert flash is not None and "no-guarantees-fa" in flash.group(1)
    assert phrase in flash.group(1) and "\\u200c" not in refused.text


TIME_TEXT = re.compile(r"^(\d\d:\d\d|\d{1,2} [A-Z][a-z]{2}( \d{4})? \d\d:\d\d)$")


def test_every_time_on_the_page_has_one_format_in_the_viewers_zone(
    app_client: TestClient, container: Container
) -> None:
    with transaction(container.sessions) as session:
        session.execute(update(User).where(User.email == "admin@test.example").values(timezone="Asia/Tehran"))
    conv = ingest(container, "times-1", "Where is my order?", "kim")
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get(f"/conversations/{conv}").text)
    app_client.post(f"/conversations/{conv}/status", data={"action": "snooze", "hours": "4", "csrf": csrf})
    with container.sessions() as session:
        reasons = list(
            session.scalars(select(TimelineEvent.reason).where(TimelineEvent.conversation_id == conv))
        )
    # The stored reason keeps its machine time (the API shows it); the page must not.
    assert any(re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", r or "") for r in reasons)
    page = app_client.get(f"/conversations/{conv}").text
    text = _visible_text(page)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), "a raw ISO time is shown"
    assert "UTC" not in text.replace("Asia/Tehran", "")
    assert "Asia/Tehran" in text  # the zone the times are in is named once, by the user's name
    shown = re.findall(r"<time datetime=\"([^\"]+)\"[^>]*>([^<]*)</time>", page)
    assert len(shown) >= 4
    for _stamp, label in shown:
        if label.startswith(("in ", "was ")) or label.endswith(" ago"):
            continue  # the SLA badge's relative time ("in 12 min")
        assert TIME_TEXT.match(label), label
    # The snooze time in the timeline is in Tehran time (UTC+03:30), like the others.
    snoozed = re.search(r"snoozed until <time datetime=\"([^\"]+)\">([^<]+)</time>", page)
    assert snoozed is not None
    until = datetime.fromisoformat(snoozed.group(1)).astimezone(ZoneInfo("Asia/Tehran"))
    assert abs(until - (utcnow() + timedelta(hours=4))) < timedelta(minutes=5)
    assert snoozed.group(2).endswith(f"{until:%H:%M}")
