"""The web-chat widget end to end: sessions, visitor messages, replies fetched by the widget."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from relaydesk.app import create_app
from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import scope_for
from relaydesk.channels import webchat_limits, webchat_tokens
from relaydesk.channels.webchat_limits import TokenBucket, WebchatLimits
from relaydesk.channels.webchat_tokens import TokenError, read_visitor_token, sign_visitor_token
from relaydesk.container import Container
from relaydesk.models import ChannelAccount, Message, User

SHOP = "https://shop.example"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    app = create_app(container.settings, container)
    with TestClient(app, headers={"Origin": SHOP}) as test_client:
        yield test_client


@pytest.fixture
def chat(container: Container) -> int:
    with container.sessions() as session:
        return session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-webchat")).one()


def scope_of(container: Container, email: str) -> Scope:
    with container.sessions() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        return scope_for(session, user)


def new_visitor(client: TestClient, chat: int) -> str:
    response = client.post(f"/webchat/{chat}/session", json={})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def say(client: TestClient, chat: int, token: str, client_id: str, text: str) -> dict[str, object]:
    response = client.post(
        f"/webchat/{chat}/messages",
        json={"id": client_id, "text": text},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def fetch(client: TestClient, chat: int, token: str, after: int = 0) -> dict[str, object]:
    response = client.get(
        f"/webchat/{chat}/messages", params={"after": after}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- tokens and limits (pure) ---------------------------------------------------------------


def test_visitor_token_round_trip_and_every_kind_of_tampering_is_refused() -> None:
    now = time.time()
    token = sign_visitor_token("w-secret", 7, "visitor-key-123", int(now))
    assert read_visitor_token("w-secret", token, 7, now) == "visitor-key-123"
    version, payload, mac = token.split(".")
    forged_payload = sign_visitor_token("w-secret", 7, "someone-else-99", int(now)).split(".")[1]
    for bad in (
        f"{version}.{forged_payload}.{mac}",  # another visitor's key under this signature
        f"{version}.{payload}.{mac[:-2]}AA",  # a changed signature
        token + "x",
        "v1.garbage",
        "",
    ):
        with pytest.raises(TokenError):
            read_visitor_token("w-secret", bad, 7, now)
    with pytest.raises(TokenError):
        read_visitor_token("other-secret", token, 7, now)
    with pytest.raises(TokenError, match="another widget"):
        read_visitor_token("w-secret", token, 8, now)
    with pytest.raises(TokenError, match="expired"):
        read_visitor_token("w-secret", token, 7, now + webchat_tokens.TOKEN_MAX_AGE_SECONDS + 10)


def test_token_bucket_refuses_a_burst_and_refills_with_time() -> None:
    now = [100.0]
    bucket = TokenBucket(capacity=3, per_second=0.5, clock=lambda: now[0])
    assert [bucket.take("v") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("v") == pytest.approx(2.0)
    assert bucket.take("other") == 0.0  # buckets are per visitor
    now[0] += 2.0
    assert bucket.take("v") == 0.0
    assert bucket.take("v") > 0


# -- the widget script and sessions -----------------------------------------------------------


def test_widget_script_is_served_cacheable_as_javascript(client: TestClient) -> None:
    response = client.get("/webchat/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age" in response.headers["cache-control"]
    assert "textContent" in response.text and "innerHTML" not in response.text
    again = client.get("/webchat/widget.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_a_returning_browser_keeps_its_identity_and_conversation(client: TestClient, chat: int) -> None:
    first = client.post(f"/webchat/{chat}/session", json={})
    assert first.status_code == 200
    assert first.headers["access-control-allow-origin"] == SHOP
    body = first.json()
    assert body["returning"] is False
    say(client, chat, body["token"], "msg-00000001", "Hello, is my order shipped?")

    back = client.post(f"/webchat/{chat}/session", json={"token": body["token"]})
    assert back.status_code == 200
    assert back.json()["visitor"] == body["visitor"] and back.json()["returning"] is True
    history = fetch(client, chat, back.json()["token"])["messages"]
    assert [m["text"] for m in history] == ["Hello, is my order shipped?"]  # type: ignore[index]

    other = client.post(f"/webchat/{chat}/session", json={})
    assert other.json()["visitor"] != body["visitor"]


def test_a_tampered_or_foreign_token_is_refused(client: TestClient, chat: int) -> None:
    token = new_visitor(client, chat)
    version, payload, mac = token.split(".")
    tampered = f"{version}.{payload}.{'A' * len(mac)}"
    assert client.post(f"/webchat/{chat}/session", json={"token": tampered}).status_code == 403
    forged = sign_visitor_token("not-the-widget-secret", chat, "abcdefgh12345678", int(time.time()))
    assert client.post(f"/webchat/{chat}/session", json={"token": forged}).status_code == 403
    refused = client.post(
        f"/webchat/{chat}/messages",
        json={"id": "msg-00000001", "text": "hi"},
        headers={"Authorization": f"Bearer {tampered}"},
    )
    assert refused.status_code == 403
    missing = client.post(f"/webchat/{chat}/messages", json={"id": "msg-00000001", "text": "hi"})
    assert missing.status_code == 401


def test_unlisted_origin_is_refused_and_gets_no_cors(client: TestClient, chat: int) -> None:
    evil = {"Origin": "https://evil.example"}
    refused = client.post(f"/webchat/{chat}/session", json={}, headers=evil)
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    preflight_bad = client.options(f"/webchat/{chat}/messages", headers=evil)
    assert preflight_bad.status_code == 403
    preflight = client.options(f"/webchat/{chat}/messages")
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SHOP
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


def test_only_webchat_accounts_have_a_widget(client: TestClient, container: Container) -> None:
    with container.sessions() as session:
        generic = session.scalars(
            select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")
        ).one()
    assert client.post(f"/webchat/{generic}/session", json={}).status_code == 404
    assert client.post("/webchat/999999/session", json={}).status_code == 404


# -- messages ------------------------------------------------------------------------------------


def test_visitor_message_enters_the_pipeline_once_even_when_retried(
    client: TestClient,
    chat: int,
    container: Container,
) -> None:
    token = new_visitor(client, chat)
    first = say(client, chat, token, "retry-me-0001", "Do you deliver to Tabriz?")
    again = client.post(
        f"/webchat/{chat}/messages",
        json={"id": "retry-me-0001", "text": "Do you deliver to Tabriz?", "token": token},
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["id"] == first["id"] and first["duplicate"] is False
    with container.sessions() as session:
        rows = list(session.scalars(select(Message).where(Message.account_id == chat)))
    assert len(rows) == 1
    assert rows[0].text == "Do you deliver to Tabriz?" and rows[0].processed_at is not None
    assert rows[0].conversation_id is not None


def test_another_visitor_reusing_a_client_id_gets_a_message_of_its_own(client: TestClient, chat: int) -> None:
    alice, bob = new_visitor(client, chat), new_visitor(client, chat)
    from_alice = say(client, chat, alice, "same-id-0001", "Alice's private question")
    from_bob = say(client, chat, bob, "same-id-0001", "Bob here")
    assert from_bob["duplicate"] is False and from_bob["id"] != from_alice["id"]
    assert [m["text"] for m in fetch(client, chat, bob)["messages"]] == ["Bob here"]  # type: ignore[attr-defined]


def test_widget_fetch_shows_agent_replies_but_not_notes_drafts_or_other_visitors(
    client: TestClient,
    chat: int,
    container: Container,
) -> None:
    token, stranger = new_visitor(client, chat), new_visitor(client, chat)
    said = say(client, chat, token, "visitor-msg-01", "<b>Where</b> is my order?")
    say(client, chat, stranger, "stranger-msg-1", "I am another visitor")
    with container.sessions() as session:
        conversation_id = session.get(Message, said["id"]).conversation_id  # type: ignore[union-attr]
    admin = scope_of(container, "admin@test.example")
    container.conversations.note(admin, conversation_id, "internal: customer is a VIP, be nice")
    _, reply_id = container.conversations.reply(admin, conversation_id, "It ships tomorrow.", force=True)

    page = fetch(client, chat, token)
    messages = page["messages"]
    assert [(m["sender"], m["text"]) for m in messages] == [  # type: ignore[attr-defined]
        ("visitor", "<b>Where</b> is my order?"),
        ("agent", "It ships tomorrow."),
    ]
    assert messages[0]["client_id"] == "visitor-msg-01"  # type: ignore[index]
    assert messages[1]["author"] == "Ada"  # type: ignore[index]
    assert page["last_id"] == reply_id
    with container.sessions() as session:
        assert session.get(Message, reply_id).delivery_status == "delivered"  # type: ignore[union-attr]
    assert fetch(client, chat, token, after=int(page["last_id"]))["messages"] == []  # type: ignore[call-overload]
    stranger_view = fetch(client, chat, stranger)["messages"]
    assert [m["text"] for m in stranger_view] == ["I am another visitor"]  # type: ignore[attr-defined]


def test_a_reply_held_for_approval_reaches_the_widget_once_approved(
    client: TestClient,
    chat: int,
    container: Container,
) -> None:
    token = new_visitor(client, chat)
    said = say(client, chat, token, "visitor-msg-02", "Hello?")
    with container.sessions() as session:
        message = session.get(Message, said["id"])
        assert message is not None
        conversation_id = message.conversation_id
        conversation = message.conversation_id
    from relaydesk.db import transaction
    from relaydesk.models import Conversation

    with transaction(container.sessions) as session:
        row = session.get(Conversation, conversation)
        assert row is not None
        row.tags = ["needs-approval"]
    admin = scope_of(container, "admin@test.example")
    _, draft_id = container.conversations.reply(admin, conversation_id, "Held reply", force=True)
    page = fetch(client, chat, token)
    assert [m["text"] for m in page["messages"]] == ["Hello?"]  # type: ignore[attr-defined]
    assert int(page["last_id"]) < draft_id  # type: ignore[call-overload]
    nora = scope_of(container, "nora@test.example")  # a manager of the department; not the author
    container.conversations.review_draft(nora, conversation_id, draft_id, approve=True)
    later = fetch(client, chat, token, after=int(page["last_id"]))  # type: ignore[call-overload]
    assert [m["text"] for m in later["messages"]] == ["Held reply"]  # type: ignore[attr-defined]


def test_bad_visitor_input_gets_clear_4xx(client: TestClient, chat: int) -> None:
    token = new_visitor(client, chat)
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/webchat/{chat}/messages"
    assert client.post(url, json={"id": "short", "text": "hi"}, headers=auth).status_code == 422
    assert client.post(url, json={"id": "valid-id-01", "text": "   "}, headers=auth).status_code == 422
    too_long = client.post(url, json={"id": "valid-id-02", "text": "x" * 5000}, headers=auth)
    assert too_long.status_code == 422 and "text" in too_long.json()["detail"]
    huge = client.post(url, content=b'{"id": "valid-id-03", "text": "' + b"y" * 20_000 + b'"}', headers=auth)
    assert huge.status_code == 413
    assert huge.headers["access-control-allow-origin"] == SHOP  # the widget can read the refusal
    assert client.post(url, content=b"{not json", headers=auth).status_code == 422


def test_a_visitor_sending_too_fast_is_slowed_down(client: TestClient, chat: int) -> None:
    limits = webchat_limits.default_limits()
    app = client.app
    assert isinstance(app, FastAPI)
    app.state.webchat_limits = WebchatLimits(
        sessions=limits.sessions, messages=TokenBucket(capacity=2, per_second=0), polls=limits.polls
    )
    token = new_visitor(client, chat)
    say(client, chat, token, "burst-0000001", "one")
    say(client, chat, token, "burst-0000002", "two")
    third = client.post(
        f"/webchat/{chat}/messages",
        json={"id": "burst-0000003", "text": "three"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert third.status_code == 429 and "retry-after" in third.headers
    other = new_visitor(client, chat)
    say(client, chat, other, "burst-0000004", "a different visitor is not affected")


def test_long_poll_returns_at_once_when_replies_are_waiting(
    client: TestClient,
    chat: int,
    container: Container,
) -> None:
    token = new_visitor(client, chat)
    said = say(client, chat, token, "visitor-msg-03", "Anyone there?")
    with container.sessions() as session:
        conversation_id = session.get(Message, said["id"]).conversation_id  # type: ignore[union-attr]
    admin = scope_of(container, "admin@test.example")
    container.conversations.reply(admin, conversation_id, "Yes, how can I help?", force=True)
    response = client.get(
        f"/webchat/{chat}/messages",
        params={"after": said["id"], "seen": said["id"], "wait": 20},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert [m["text"] for m in response.json()["messages"]] == ["Yes, how can I help?"]
    with container.sessions() as session:
        count = session.scalar(select(func.count(Message.id)).where(Message.delivery_status == "delivered"))
    assert count == 1
