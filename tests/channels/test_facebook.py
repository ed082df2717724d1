"""Facebook Pages: Messenger events, feed comments and posts, and the three reply modes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from relaydesk.channels import facebook, graph, meta
from relaydesk.channels.base import OutboundRequest, ParsedEvent, ParseResult

from .fakes.graph import FakeGraph

FIXTURES = Path(__file__).parent / "fixtures" / "meta"
PAGE1, PAGE2 = "104523781234567", "219876543210987"
PSID1 = "6843219870123456"
POST1 = f"{PAGE1}_873215498765432"
COMMENT1 = "873215498765432_1200934567812345"
COMMENT2 = "873215498765432_1200934567899999"
TOKEN = "EAAGm0PX4ZCpsBAKZC-page-token"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def parse_all(name: str) -> ParseResult:
    payload = load(name)
    result = ParseResult()
    for index, entry in enumerate(payload["entry"]):
        graph.merge(result, facebook.parse_entry(entry, index))
    return result


def mid(n: int) -> str:
    return f"m_AbCdEf{n:04d}GhIjKlMnOpQrStUvWxYz0123456789abcdefGHIJKL"


@pytest.fixture(scope="module")
def messaging() -> ParseResult:
    return parse_all("page_messaging.json")


@pytest.fixture(scope="module")
def feed() -> ParseResult:
    return parse_all("page_feed.json")


def by_id(result: ParseResult, external_id: str, action: str = "create") -> ParsedEvent:
    found = [e for e in result.events if e.event.external_id == external_id and e.action == action]
    assert len(found) == 1, (external_id, action, [(e.event.external_id, e.action) for e in result.events])
    return found[0]


# -- Messenger ------------------------------------------------------------------------------


def test_messenger_text_message(messaging: ParseResult) -> None:
    parsed = by_id(messaging, mid(1))
    event = parsed.event
    assert parsed.account_ref == PAGE1
    assert event.network == "facebook" and event.kind == "dm"
    assert event.author_id == PSID1 and event.thread_id == PSID1
    assert event.text == "سلام، سفارش من هنوز نرسیده. کی ارسال می‌شود؟"
    assert event.sent_at == datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC)
    assert event.raw["message"]["mid"] == mid(1)


def test_messenger_attachments_and_sticker(messaging: ParseResult) -> None:
    event = by_id(messaging, mid(2)).event
    assert [a.kind for a in event.attachments] == ["image", "sticker"]
    assert event.attachments[0].url == "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo_1.jpg"
    assert event.text == ""


def test_messenger_echo_is_our_own_send(messaging: ParseResult) -> None:
    parsed = by_id(messaging, mid(3), "echo")
    assert parsed.event.author_id == PAGE1
    assert parsed.event.thread_id == PSID1  # the customer's thread, not the Page's
    assert parsed.event.raw["message"]["metadata"] == "outbox-7f3a9c"


def test_messenger_edit_keeps_the_message_id(messaging: ParseResult) -> None:
    parsed = by_id(messaging, mid(1), "edit")
    assert parsed.event.text == "سلام، سفارش شماره ۴۵۸۲ من هنوز نرسیده."
    assert parsed.event.thread_id == PSID1


def test_messenger_reaction_and_unreact(messaging: ParseResult) -> None:
    reactions = [e for e in messaging.events if e.action == "reaction"]
    assert len(reactions) == 2
    react, unreact = reactions
    assert react.event.reply_to_id == mid(3) and react.event.text == "\u2764\ufe0f"
    assert unreact.event.reply_to_id == mid(3) and unreact.event.text == ""
    # Stable ids: a redelivered reaction maps onto the row we already have.
    assert react.event.external_id != unreact.event.external_id
    assert parse_all("page_messaging.json").events[4].event.external_id == react.event.external_id


def test_messenger_unsend_is_a_delete(messaging: ParseResult) -> None:
    parsed = by_id(messaging, mid(2), "delete")
    assert parsed.event.text == "" and parsed.event.attachments == []


def test_messenger_postback_uses_its_title(messaging: ParseResult) -> None:
    event = by_id(messaging, mid(6)).event
    assert event.text == "پیگیری سفارش"


def test_messenger_delivery_becomes_status_and_read_watermark_is_ignored(messaging: ParseResult) -> None:
    assert len(messaging.statuses) == 1
    status = messaging.statuses[0]
    assert (status.external_id, status.status, status.account_ref) == (mid(3), "delivered", PAGE1)
    assert any("read receipt with a watermark only" in line for line in messaging.ignored)
    assert any("optin event not handled" in line for line in messaging.ignored)
    assert messaging.errors == []


def test_messenger_second_page_reply_location_file_and_standby(messaging: ParseResult) -> None:
    reply = by_id(messaging, mid(10))
    assert reply.account_ref == PAGE2 and reply.event.reply_to_id == mid(9)
    assert reply.event.text == "مرحبا، هل المنتج متوفر باللون الأزرق؟"
    location = by_id(messaging, mid(11)).event.attachments[0]
    assert location.kind == "location" and location.url == "geo:35.6892,51.389"
    assert [a.kind for a in by_id(messaging, mid(12)).event.attachments] == ["file", "other"]
    standby = by_id(messaging, mid(13))
    assert standby.account_ref == PAGE2 and standby.event.text == "שלום, ההזמנה שלי הגיעה פגומה"


# -- Feed -----------------------------------------------------------------------------------


def test_feed_comment_threads_on_the_post(feed: ParseResult) -> None:
    parsed = by_id(feed, COMMENT1)
    event = parsed.event
    assert parsed.account_ref == PAGE1
    assert event.kind == "comment" and event.thread_id == POST1 and event.reply_to_id is None
    assert event.author_id == "7283645019283746" and event.author_name == "سارا احمدی"
    assert event.sent_at == datetime(2024, 6, 10, 6, 14, 10, tzinfo=UTC)


def test_feed_reply_points_at_parent_comment(feed: ParseResult) -> None:
    event = by_id(feed, COMMENT2).event
    assert event.reply_to_id == COMMENT1 and event.thread_id == POST1
    assert event.text == "שלום, ההזמנה שלי הגיעה פגומה"


def test_feed_edit_and_remove(feed: ParseResult) -> None:
    assert by_id(feed, COMMENT1, "edit").event.text.endswith("(XL)")
    removed = by_id(feed, COMMENT2, "delete")
    assert removed.event.text == ""


def test_feed_visitor_posts(feed: ParseResult) -> None:
    status = by_id(feed, f"{PAGE1}_873215400000001").event
    assert status.kind == "post" and status.thread_id == status.external_id
    assert status.text == "สวัสดีครับ สินค้ายังไม่ถึงเลย ช่วยตรวจสอบให้หน่อย"
    photo = by_id(feed, f"{PAGE1}_873215400000002").event
    assert [a.kind for a in photo.attachments] == ["image"]


def test_feed_reaction_and_page_own_comment(feed: ParseResult) -> None:
    reaction = next(e for e in feed.events if e.action == "reaction")
    assert reaction.event.reply_to_id == POST1 and reaction.event.text == "like"
    own = by_id(feed, "873215498765432_1200934567800001", "echo")
    assert own.event.author_id == PAGE1 and own.event.reply_to_id == COMMENT1


def test_feed_unknown_verbs_items_and_fields_are_ignored(feed: ParseResult) -> None:
    assert feed.errors == []
    assert any("verb 'hide'" in line for line in feed.ignored)
    assert any("feed item 'event'" in line for line in feed.ignored)
    assert any("page field 'ratings'" in line for line in feed.ignored)


def test_feed_comment_with_photo_on_second_page(feed: ParseResult) -> None:
    parsed = by_id(feed, "990011223344556_4455667788990011")
    assert parsed.account_ref == PAGE2
    assert parsed.event.attachments[0].url == "https://scontent.xx.fbcdn.net/v/t39.1997-6/comment_photo.jpg"


def test_entry_without_events_is_ignored() -> None:
    result = facebook.parse_entry({"id": PAGE1, "time": 1}, 3)
    assert result.ignored == ["entry[3]: no messaging, standby or changes"]


# -- Sending --------------------------------------------------------------------------------


def request(**kw: Any) -> OutboundRequest:
    fields: dict[str, Any] = {
        "network": "facebook",
        "account_external_id": PAGE1,
        "recipient_id": PSID1,
        "text": "سلام سارا، بله موجود است.",
        "idempotency_key": "outbox-42",
    }
    fields.update(kw)
    return OutboundRequest(**fields)


def send(graph: FakeGraph, req: OutboundRequest) -> Any:
    return asyncio.run(meta.GraphSender(transport=graph.transport).send(req, {"access_token": TOKEN}))


def test_send_messenger_reply() -> None:
    graph = FakeGraph()
    result = send(graph, request())
    assert result.ok and result.external_id == "m_FAKE00000001"
    call = graph.calls[0]
    assert call.endpoint == f"/{PAGE1}/messages"
    assert call.body == {
        "recipient": {"id": PSID1},
        "messaging_type": "RESPONSE",
        "message": {"text": "سلام سارا، بله موجود است.", "metadata": "outbox-42"},
    }


def test_send_with_human_agent_tag() -> None:
    call = facebook.build_request(request(extra={"tag": "HUMAN_AGENT"}))
    assert call.body["messaging_type"] == "MESSAGE_TAG" and call.body["tag"] == "HUMAN_AGENT"


def test_send_public_comment_reply() -> None:
    graph = FakeGraph()
    result = send(graph, request(mode="comment_reply", reply_to_external_id=COMMENT1))
    assert result.ok and result.external_id == f"{COMMENT1}_00000001"
    assert graph.calls[0].endpoint == f"/{COMMENT1}/comments"
    assert graph.calls[0].body == {"message": "سلام سارا، بله موجود است."}


def test_send_private_reply_to_comment() -> None:
    graph = FakeGraph()
    result = send(graph, request(mode="private_reply", reply_to_external_id=COMMENT1))
    assert result.ok
    call = graph.calls[0]
    assert call.endpoint == f"/{PAGE1}/messages"
    assert call.body["recipient"] == {"comment_id": COMMENT1}


def test_private_reply_already_sent() -> None:
    graph = FakeGraph().queue_failures("already_replied")
    result = send(graph, request(mode="private_reply", reply_to_external_id=COMMENT1))
    assert result.code == "already_replied" and not result.retryable


def test_messenger_window_closed() -> None:
    graph = FakeGraph().queue_failures("messenger_window_closed")
    result = send(graph, request())
    assert result.code == "window_closed" and not result.retryable


def test_comment_reply_without_comment_id_is_refused_before_calling() -> None:
    graph = FakeGraph()
    result = send(graph, request(mode="comment_reply"))
    assert result.code == "invalid_request" and graph.calls == []
    assert send(graph, request(mode="template")).code == "invalid_request"
