"""The inbox pages as a browser without JavaScript sees them: login, scoping, escaping, forms.

HTML pages are not where the SQL scoping is proven (the API tests do that on both databases), so
these run on SQLite only.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.channels.base import InboundEvent
from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, Contact, Conversation, Message, WebSession
from relaydesk.web import inbox

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def ingest(
    container: Container, external_id: str, text: str, name: str, account: str = "north-generic"
) -> int:
    with container.sessions() as session:
        account_id = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == account)).one()
    result = container.pipeline.accept(
        account_id,
        InboundEvent(network="generic", external_id=external_id, author_id=name, author_name=name, text=text),
    )
    return int(result.conversation_id)


def browser_login(client: TestClient, email: str, next_url: str = "/") -> Any:
    form = client.get("/login", params={"next": next_url}).text
    token = re.search(r'name="login_token" value="([^"]+)"', form)
    assert token is not None
    return client.post(
        "/login",
        data={"email": email, "password": "relaydesk", "login_token": token.group(1), "next": next_url},
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


def conversation_status(container: Container, conversation_id: int) -> str:
    with container.sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.status


def test_logged_out_users_are_sent_to_login_and_come_back(app_client: TestClient) -> None:
    assert app_client.get("/", follow_redirects=False).headers["location"] == "/login"
    for path in ("/reports", "/conversations/1"):
        response = app_client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=" + path.replace("/", "%2F")
    expired = app_client.post("/conversations/7/reply", data={"text": "hi"}, follow_redirects=False)
    assert expired.headers["location"] == "/login?next=%2Fconversations%2F7"
    done = browser_login(app_client, "sam@test.example", "/reports")
    assert done.status_code == 303 and done.headers["location"] == "/reports"
    assert done.cookies.get("relaydesk_session")
    assert "samesite=lax" in done.headers["set-cookie"].lower()


def test_login_errors_and_no_open_redirect(app_client: TestClient) -> None:
    form = app_client.get("/login").text
    token = re.search(r'name="login_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    wrong = app_client.post(
        "/login", data={"email": "sam@test.example", "password": "nope", "login_token": token}
    )
    assert wrong.status_code == 401 and "Wrong email or password." in wrong.text
    assert 'value="sam@test.example"' in wrong.text  # the email is kept, the password is not
    app_client.cookies.clear()
    forged = app_client.post(
        "/login", data={"email": "sam@test.example", "password": "relaydesk", "login_token": "guess"}
    )
    assert forged.status_code == 400 and "expired" in forged.text
    assert "relaydesk_session" not in app_client.cookies
    outside = browser_login(app_client, "sam@test.example", "//evil.example/x")
    assert outside.headers["location"] == "/"


def test_logout_needs_the_csrf_token(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "sam@test.example")
    confirm = app_client.get("/logout")
    assert confirm.status_code == 200 and "Log out?" in confirm.text
    forged = app_client.post("/logout", data={"csrf": "0" * 64}, follow_redirects=False)
    assert forged.headers["location"] == "/logout"
    with container.sessions() as session:
        assert len(list(session.scalars(select(WebSession)))) == 1
    done = app_client.post("/logout", data={"csrf": csrf_of(confirm.text)})
    assert "You are logged out." in done.text
    with container.sessions() as session:
        assert list(session.scalars(select(WebSession))) == []
    assert app_client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_inbox_escapes_customer_text_and_marks_its_direction(
    app_client: TestClient, container: Container
) -> None:
    conv = ingest(container, "w1", "سلام <script>alert(1)</script> سفارشم کجاست؟", "<b>mina</b>")
    browser_login(app_client, "sam@test.example")
    page = app_client.get("/")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text and "<b>mina</b>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert '<bdi dir="auto">&lt;b&gt;mina&lt;/b&gt;</bdi>' in page.text
    subject = re.search(rf'<a href="/conversations/{conv}" class="subject"([^>]*)>', page.text)
    assert subject is not None and 'dir="auto"' in subject.group(1) and 'lang="fa"' in subject.group(1)
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_inbox_row_shows_triage_team_and_sla(app_client: TestClient, container: Container) -> None:
    ingest(container, "w2", "My order never arrived and nobody answers, this is terrible", "pat")
    browser_login(app_client, "sam@test.example")
    page = app_client.get("/").text
    assert "north-reviews" in page and "generic" in page
    assert "Customer service" in page
    assert re.search(r'class="sla sla-(ok|warning)"', page)
    assert re.search(r'<time datetime="[^"]+"[^>]*>in \d+ min</time>', page)  # first response due
    assert 'class="pill mood-negative"' in page


def test_agent_sees_only_their_departments(app_client: TestClient, container: Container) -> None:
    service_conv = ingest(container, "w3", "My coffee was cold", "pat")
    sales_conv = ingest(container, "w4", "How much is the gift box? I want to buy two", "lee")
    with container.sessions() as session:
        departments = {c: session.get(Conversation, c) for c in (service_conv, sales_conv)}
        assert len({c.department_id for c in departments.values() if c is not None}) == 2
    browser_login(app_client, "sally@test.example")  # sales only
    inbox = app_client.get("/").text
    assert f"/conversations/{sales_conv}" in inbox
    assert f"/conversations/{service_conv}" not in inbox
    hidden = app_client.get(f"/conversations/{service_conv}")
    assert hidden.status_code == 404 and "not found" in hidden.text
    assert "How much is the gift box" in app_client.get(f"/conversations/{sales_conv}").text


def test_filters_search_and_pagination(
    app_client: TestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    thai = ingest(container, "w5", "สวัสดีครับ ร้านเปิดกี่โมง", "somchai")
    english = ingest(container, "w6", "Where is my parcel? It is late", "jo")
    hebrew = ingest(container, "w7", "שלום, ההזמנה שלי לא הגיעה", "dana")
    browser_login(app_client, "admin@test.example")
    only_thai = app_client.get("/", params={"language": "th"}).text
    assert f'/conversations/{thai}"' in only_thai and f'/conversations/{english}"' not in only_thai
    found = app_client.get("/", params={"q": "PARCEL"}).text
    assert f'/conversations/{english}"' in found and f'/conversations/{hebrew}"' not in found
    assert 'value="PARCEL"' in found
    bad = app_client.get("/", params={"sla": "soon"})
    assert (
        bad.status_code == 422 and "sla: &#39;soon&#39; is not one of ok, warning, breached, none" in bad.text
    )

    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)
    first = app_client.get("/", params={"status": "all"}).text
    older = re.search(r'href="(/\?status=all&amp;cursor=[^"]+)" rel="next"', first)
    assert older is not None
    second = app_client.get(older.group(1).replace("&amp;", "&")).text
    shown = [set(re.findall(r'href="/conversations/(\d+)" class="subject"', p)) for p in (first, second)]
    assert len(shown[0]) == 2 and len(shown[1]) == 1 and not shown[0] & shown[1]
    # The arrow is drawn by CSS, pointing the reading direction (see relaydesk.css .pager).
    assert 'class="button secondary newer"' in second and ">Newest</a>" in second


def test_conversation_page_shows_thread_evidence_and_timeline(
    app_client: TestClient, container: Container
) -> None:
    conv = ingest(container, "w8", "مرحبا، أريد استرداد أموالي", "salma")
    browser_login(app_client, "admin@test.example")
    page = app_client.get(f"/conversations/{conv}").text
    assert re.search(r'<p class="text" dir="auto" lang="ar">مرحبا، أريد استرداد أموالي</p>', page)
    assert '<details class="why"' in page and "<summary>Reads as " in page and "in Arabic" in page
    assert re.search(r'class="ev ev-route">.*?routed', page, re.S)
    assert f'action="/conversations/{conv}/transfer"' in page


def test_reply_note_transfer_and_resolve_through_forms(app_client: TestClient, container: Container) -> None:
    conv = ingest(container, "w9", "Do you have oat milk?", "kim")
    browser_login(app_client, "admin@test.example")
    base = f"/conversations/{conv}"
    csrf = csrf_of(app_client.get(base).text)

    forged = app_client.post(f"{base}/reply", data={"text": "Yes, we do!", "csrf": "x" * 64})
    assert forged.status_code == 403 and "This form expired" in forged.text
    assert ">Yes, we do!</textarea>" in forged.text  # what the agent wrote is not lost

    sent = app_client.post(f"{base}/reply", data={"text": "Yes, we do!", "csrf": csrf})
    assert sent.status_code == 200 and "Reply sent." in sent.text
    assert re.search(r'class="msg msg-outbound".*?Yes, we do!', sent.text, re.S)
    assert 'class="delivery delivery-queued"' in sent.text
    assert conversation_status(container, conv) == "open"

    waiting = app_client.post(f"{base}/reply", data={"text": "Tell us more?", "csrf": csrf, "wait": "1"})
    assert "waiting for the customer" in waiting.text
    assert conversation_status(container, conv) == "pending"

    noted = app_client.post(f"{base}/note", data={"text": "@sam can you check stock?", "csrf": csrf})
    assert "Note added." in noted.text and 'asked <bdi dir="ltr">@sam</bdi> for help' in noted.text

    empty = app_client.post(f"{base}/transfer", data={"department": "sales", "note": " ", "csrf": csrf})
    assert empty.status_code == 400 and "A hand-off needs a note" in empty.text
    moved = app_client.post(
        f"{base}/transfer", data={"department": "sales", "note": "Wants to order 20", "csrf": csrf}
    )
    assert "Transferred to Sales." in moved.text
    assert (
        'Handed off from <bdi dir="auto">Customer service</bdi> to <bdi dir="auto">Sales</bdi>' in moved.text
    )

    done = app_client.post(f"{base}/status", data={"action": "resolve", "csrf": csrf})
    assert "Resolved." in done.text and conversation_status(container, conv) == "resolved"
    again = app_client.post(f"{base}/status", data={"action": "resolve", "csrf": csrf})
    assert (
        again.status_code == 409
        and "This conversation is resolved now, so that change does not apply" in again.text
    )
    assert "Traceback" not in again.text
    reopened = app_client.post(f"{base}/status", data={"action": "reopen", "csrf": csrf})
    assert "Reopened." in reopened.text
    snoozed = app_client.post(f"{base}/status", data={"action": "snooze", "hours": "4", "csrf": csrf})
    assert "Snoozed until" in snoozed.text and conversation_status(container, conv) == "snoozed"

    with container.sessions() as session:
        kinds = [m.direction for m in session.scalars(select(Message).where(Message.conversation_id == conv))]
    assert kinds.count("outbound") == 2 and kinds.count("note") == 2  # the hand-off note is one


def test_transfer_loop_and_leaving_the_agents_inbox(app_client: TestClient, container: Container) -> None:
    conv = ingest(container, "w10", "Is the shop open on Friday?", "ali")
    browser_login(app_client, "nora@test.example")  # manager of service and sales
    base = f"/conversations/{conv}"
    csrf = csrf_of(app_client.get(base).text)
    for target in ("sales", "service", "sales", "service"):
        last = app_client.post(f"{base}/transfer", data={"department": target, "note": "yours", "csrf": csrf})
    assert last.status_code == 422 and "keeps bouncing between departments" in last.text
    app_client.cookies.clear()
    browser_login(app_client, "sally@test.example")  # the loop stopped with it in sales
    sally_csrf = csrf_of(app_client.get(base).text)
    gone = app_client.post(
        f"{base}/transfer", data={"department": "hr", "note": "a job question", "csrf": sally_csrf}
    )
    assert gone.url.path == "/" and "no longer in your inbox" in gone.text


def test_assign_lists_department_agents(app_client: TestClient, container: Container) -> None:
    conv = ingest(container, "w11", "My cup was broken", "max")
    browser_login(app_client, "sia@test.example")
    page = app_client.get(f"/conversations/{conv}").text
    options = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', page)
    assert any("@sam" in o for o in options) and any("@sia" in o for o in options)
    assert not any("@sally" in o or "@vic" in o for o in options)
    csrf = csrf_of(page)
    mine = app_client.post(f"/conversations/{conv}/assign", data={"assignee_id": "me", "csrf": csrf})
    assert "Assigned to @sia." in mine.text
    queue = app_client.post(f"/conversations/{conv}/assign", data={"assignee_id": "", "csrf": csrf})
    assert "Back in the department queue." in queue.text


def test_viewers_read_but_cannot_act(app_client: TestClient, container: Container) -> None:
    conv = ingest(container, "w12", "Thanks for the quick help", "joy")
    browser_login(app_client, "vic@test.example")
    page = app_client.get(f"/conversations/{conv}").text
    assert "read-only access" in page and f"/conversations/{conv}/reply" not in page
    refused = app_client.post(f"/conversations/{conv}/reply", data={"text": "hi", "csrf": csrf_of(page)})
    assert refused.status_code == 403 and "viewers can read conversations" in refused.text


def test_a_forged_flash_message_is_not_shown(app_client: TestClient) -> None:
    browser_login(app_client, "sam@test.example")
    app_client.cookies.set("relaydesk_flash", "eyJtIjogIkNhbGwgKzEgNTU1In0.deadbeef")
    assert "Call +1 555" not in app_client.get("/").text


def test_reports_page(app_client: TestClient, container: Container) -> None:
    conv = ingest(container, "w13", "Thanks, lovely!", "joy")
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get(f"/conversations/{conv}").text)
    app_client.post(f"/conversations/{conv}/reply", data={"text": "Thank you!", "csrf": csrf})
    container.rollups.run_once()
    page = app_client.get("/reports")
    assert page.status_code == 200
    for heading in (
        "First response",
        "Response rate",
        "Unanswered after 72 h",
        "SLA attainment",
        "Sentiment",
        "Day by day",
        "When customers write",
    ):
        assert heading in page.text
    department = page.text.split('id="by-department"', 1)[1].split("</section>", 1)[0]
    assert re.search(
        r'<th scope="row" dir="auto">Customer service</th>\s*<td><a href="[^"]+">1</a></td><td><span class="num">100%',
        department,
    )
    assert '<th scope="row" dir="auto">Generic webhook</th>' in page.text or "generic" in page.text
    assert page.text.count('<rect class="bar"') == 30  # one bar per day of the default 30 days
    staffing = page.text.split('id="staffing"', 1)[1]
    assert "Agents needed each hour" in staffing
    assert len(re.findall(r'<th scope="row">\d\d:00</th>', staffing)) == 24
    assert staffing.count("<meter ") == 24
    assert 'href="/reports?days=7" aria-current="true"' in app_client.get("/reports?days=7").text
    wrong = app_client.get("/reports?from=2026-13-01")
    assert wrong.status_code == 422 and "is not a date" in wrong.text


def test_a_mistyped_address_gets_a_page_and_api_clients_keep_json(app_client: TestClient) -> None:
    browser_login(app_client, "sam@test.example")
    html = {"Accept": "text/html,application/xhtml+xml"}
    for address in ("/conversations/abc", "/no-such-page"):
        page = app_client.get(address, headers=html)
        assert page.status_code == 404, address
        assert page.headers["content-type"].startswith("text/html")
        assert "There is no such page" in page.text and "Back to the inbox" in page.text
    api = app_client.get("/api/v1/conversations/abc", headers=html)
    assert api.status_code == 422 and "conversation_id" in api.json()["detail"]
    assert app_client.get("/no-such-page").json() == {"detail": "Not Found"}


def test_conversation_page_shows_the_customer_and_their_other_conversations(
    app_client: TestClient, container: Container
) -> None:
    first = ingest(container, "cu1", "Where is my order?", "<b>lina</b>")
    second = ingest(container, "cu2", "Hello, any news?", "<b>lina</b>", account="south-generic")
    with container.sessions() as session:
        conv = session.get(Conversation, first)
        assert conv is not None
        contact = session.get(Contact, conv.contact_id)
        assert contact is not None
        contact_id = contact.id
    with transaction(container.sessions) as session:
        row = session.get(Contact, contact_id)
        assert row is not None
        row.attributes = {"vip": True, "purchases": 7}
    browser_login(app_client, "admin@test.example")
    page = app_client.get(f"/conversations/{first}").text
    card = page.split('id="customer-title"', 1)[1].split("</section>", 1)[0]
    assert "&lt;b&gt;lina&lt;/b&gt;" in card and "<b>lina" not in card  # customer text is escaped
    assert (
        '<span class="tag">VIP</span>' in card and "<dt>purchases</dt>" in card and "<dt>vip</dt>" not in card
    )
    assert f'href="/conversations/{second}"' in card and f'href="/conversations/{first}"' not in card
    # Nora is limited to the north: the south conversation is not listed for her.
    app_client.cookies.clear()
    browser_login(app_client, "nora@test.example")
    card = app_client.get(f"/conversations/{first}").text.split('id="customer-title"', 1)[1]
    assert f'href="/conversations/{second}"' not in card.split("</section>", 1)[0]


def test_inbox_and_conversation_show_the_routed_and_the_latest_reading(
    app_client: TestClient, container: Container
) -> None:
    conv_id = ingest(container, "rl-1", "My parcel never arrived, it is two weeks late", "Rana")
    assert (
        ingest(container, "rl-2", "Thanks! How much is the large gift box? I want to buy two", "Rana")
        == conv_id
    )
    browser_login(app_client, "admin@test.example")
    inbox = app_client.get("/").text
    assert "order issue" in inbox and "latest message: purchase interest, positive" in inbox
    # the intent filter offers the org's vocabulary (and spam, the signal agents confirm)
    assert 'value="refund_request"' in inbox and 'value="spam"' in inbox
    assert 'value="press_inquiry"' not in inbox  # a built-in intent this org does not list
    page = app_client.get(f"/conversations/{conv_id}").text
    assert "<dt>Routed as</dt>" in page and "<dt>Latest message</dt>" in page
    latest = page.split("<dt>Latest message</dt>")[1].split("</dd>")[0]
    assert "purchase interest" in latest and "order issue" not in latest
