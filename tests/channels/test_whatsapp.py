"""WhatsApp Cloud API: message types, statuses, the 24-hour window, text and template sends."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relaydesk.channels import graph, meta, whatsapp
from relaydesk.channels.base import OutboundRequest, ParsedEvent, ParseResult

from .fakes.graph import FakeGraph

FIXTURES = Path(__file__).parent / "fixtures" / "meta"
PH1, PH2 = "106540352242922", "115550000000001"
WA1, WA2, WA3 = "971501234567", "989121234567", "972541234567"
TOKEN = "EAAJsystemUserToken-whatsapp-0123"


def wamid(n: int) -> str:
    return f"wamid.HBgMOTcxNTAxMjM0NTY3FQIAEhgUM0E{n:04d}RkFCRDlBMEM4QTJBNjE5AA=="


def parse_fixture(name: str) -> ParseResult:
    payload = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    merged = ParseResult()
    for index, entry in enumerate(payload["entry"]):
        graph.merge(merged, whatsapp.parse_entry(entry, index))
    return merged


@pytest.fixture(scope="module")
def result() -> ParseResult:
    return parse_fixture("whatsapp.json")


def by_id(result: ParseResult, external_id: str) -> ParsedEvent:
    found = [e for e in result.events if e.event.external_id == external_id]
    assert len(found) == 1, external_id
    return found[0]


def test_text_message_with_contact_name(result: ParseResult) -> None:
    parsed = by_id(result, wamid(1))
    event = parsed.event
    assert parsed.account_ref == PH1 and parsed.action == "create"
    assert event.network == "whatsapp" and event.kind == "message"
    assert event.author_id == WA1 == event.thread_id
    assert event.author_name == "خالد المنصوري"
    assert event.text == "مرحبا، هل المنتج متوفر باللون الأزرق؟"
    assert event.sent_at == datetime(2024, 6, 10, 6, 13, 21, tzinfo=UTC)
    assert event.raw["id"] == wamid(1)


def test_media_messages(result: ParseResult) -> None:
    image = by_id(result, wamid(2)).event
    assert image.text == "سلام، سفارش من هنوز نرسیده. کی ارسال می‌شود؟"
    assert image.attachments[0].kind == "image" and image.attachments[0].mime_type == "image/jpeg"
    assert image.raw["image"]["id"] == "1003383421387256"  # media id kept for the download
    audio = by_id(result, wamid(3)).event
    assert audio.attachments[0].kind == "audio" and audio.text == ""
    document = by_id(result, wamid(4)).event
    assert document.attachments[0].kind == "file" and document.attachments[0].name == "invoice-4582.pdf"
    sticker = by_id(result, wamid(11)).event
    assert sticker.attachments[0].kind == "sticker"


def test_location(result: ParseResult) -> None:
    event = by_id(result, wamid(5)).event
    assert event.attachments[0].kind == "location"
    assert event.attachments[0].url == "geo:25.2048,55.2708"
    assert event.text == "متجر دبي مول, Financial Center Rd, Dubai"


def test_reaction_points_at_the_reacted_message(result: ParseResult) -> None:
    parsed = by_id(result, wamid(6))
    assert parsed.action == "reaction"
    assert parsed.event.reply_to_id == "wamid.OUTBOUND0000000001=="
    assert parsed.event.text == "\U0001f44d"


def test_interactive_and_button_replies(result: ParseResult) -> None:
    button_reply = by_id(result, wamid(7)).event
    assert button_reply.text == "پیگیری سفارش"
    assert button_reply.reply_to_id == "wamid.OUTBOUND0000000002=="
    assert by_id(result, wamid(8)).event.text == "درخواست بازپرداخت"
    button = by_id(result, wamid(9)).event
    assert button.text == "نعم، استلمت الطلب" and button.reply_to_id == "wamid.OUTBOUND0000000003=="


def test_quoted_reply_context(result: ParseResult) -> None:
    event = by_id(result, wamid(10)).event
    assert event.text == "שלום, ההזמנה שלי הגיעה פגומה"
    assert event.reply_to_id == "wamid.OUTBOUND0000000004=="
    assert event.author_name == "נועה לוי"


def test_second_phone_number_and_echo(result: ParseResult) -> None:
    thai = [e for e in result.events if e.account_ref == PH2 and e.action == "create"]
    assert len(thai) == 1 and thai[0].event.author_name == "สมศรี มีสุข"
    echo = by_id(result, "wamid.ECHO000000000001==")
    assert echo.action == "echo" and echo.account_ref == PH2 and echo.event.thread_id == "66891234567"


def test_statuses(result: ParseResult) -> None:
    assert [(s.status, s.external_id) for s in result.statuses] == [
        ("sent", "wamid.OUTBOUND0000000001=="),
        ("delivered", "wamid.OUTBOUND0000000001=="),
        ("read", "wamid.OUTBOUND0000000001=="),
        ("failed", "wamid.OUTBOUND0000000005=="),
    ]
    failed = result.statuses[-1]
    assert failed.account_ref == PH1 and failed.recipient_id == WA2
    assert failed.error is not None and failed.error.startswith("131047 Re-engagement message")
    assert failed.at == datetime(2024, 6, 10, 6, 13, 43, tzinfo=UTC)
    assert all(s.error is None for s in result.statuses[:-1])


def test_unknown_types_fields_and_reported_errors_are_ignored(result: ParseResult) -> None:
    assert result.errors == []
    assert result.ignored == [
        "entry[0].changes[0].value.messages[11]: whatsapp message type 'unsupported' not handled",
        "entry[1].changes[1].value.errors[0]: whatsapp reported error 130429 Rate limit hit",
        "entry[1].changes[2]: whatsapp field 'message_template_status_update' not handled",
    ]


def test_malformed_parts_are_reported_with_paths() -> None:
    broken = parse_fixture("whatsapp_malformed.json")
    assert [e.event.external_id for e in broken.events] == [wamid(52)]
    assert broken.errors == [
        "entry[0].changes[0]: missing value.metadata.phone_number_id",
        "entry[0].changes[1].value.messages[0]: missing id",
        "entry[0].changes[1].value.messages[2]: missing reaction.message_id",
        "entry[0].changes[1].value.statuses[0]: missing id",
        "entry[0].changes[2]: missing value",
    ]
    assert "entry[0].changes[1].value.statuses[1]: whatsapp status 'played' not handled" in broken.ignored


# -- 24-hour window -------------------------------------------------------------------------

NOW = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)


def test_window_open_within_24_hours() -> None:
    assert whatsapp.window_open(NOW - timedelta(hours=23, minutes=59), NOW)
    assert not whatsapp.window_open(NOW - timedelta(hours=24), NOW)
    assert not whatsapp.window_open(NOW - timedelta(days=3), NOW)
    assert not whatsapp.window_open(None, NOW)


def test_window_reads_naive_datetimes_as_utc() -> None:
    assert whatsapp.window_open(datetime(2024, 6, 10, 1, 0), NOW)
    assert not whatsapp.window_open(datetime(2024, 6, 9, 11, 0), NOW)


def test_window_closed_reason_mentions_templates() -> None:
    assert "24-hour" in whatsapp.WINDOW_CLOSED_REASON and "template" in whatsapp.WINDOW_CLOSED_REASON


# -- Sending --------------------------------------------------------------------------------


def request(**kw: Any) -> OutboundRequest:
    fields: dict[str, Any] = {
        "network": "whatsapp",
        "account_external_id": PH1,
        "recipient_id": WA1,
        "text": "مرحبا خالد، نعم متوفر.",
        "idempotency_key": "outbox-wa-9",
    }
    fields.update(kw)
    return OutboundRequest(**fields)


TEMPLATE = {
    "name": "order_update",
    "language": {"code": "ar"},
    "components": [{"type": "body", "parameters": [{"type": "text", "text": "4582"}]}],
}


def send(graph: FakeGraph, req: OutboundRequest) -> Any:
    return asyncio.run(meta.GraphSender(transport=graph.transport).send(req, {"access_token": TOKEN}))


def test_send_text() -> None:
    graph = FakeGraph()
    result = send(graph, request())
    assert result.ok and result.external_id == "wamid.FAKE00000001"
    call = graph.calls[0]
    assert call.endpoint == f"/{PH1}/messages"
    assert call.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA1,
        "biz_opaque_callback_data": "outbox-wa-9",
        "type": "text",
        "text": {"body": "مرحبا خالد، نعم متوفر.", "preview_url": False},
    }


def test_send_quoted_reply_only_when_asked() -> None:
    plain = whatsapp.build_request(request(reply_to_external_id=wamid(1)))
    assert "context" not in plain.body
    quoted = whatsapp.build_request(request(reply_to_external_id=wamid(1), extra={"quote": True}))
    assert quoted.body["context"] == {"message_id": wamid(1)}


def test_send_template() -> None:
    graph = FakeGraph()
    result = send(graph, request(mode="template", template=TEMPLATE, text=""))
    assert result.ok
    body = graph.calls[0].body
    assert body["type"] == "template" and body["template"] == TEMPLATE


@pytest.mark.parametrize("template", [None, {"language": {"code": "ar"}}, {"name": "order_update"}])
def test_template_needs_name_and_language(template: dict[str, Any] | None) -> None:
    graph = FakeGraph()
    result = send(graph, request(mode="template", template=template))
    assert result.code == "invalid_request" and graph.calls == []


def test_send_window_closed() -> None:
    graph = FakeGraph().queue_failures("window_closed")
    result = send(graph, request())
    assert result.code == "window_closed" and not result.retryable
    assert result.error is not None and "24 hours" in result.error


def test_send_undeliverable() -> None:
    graph = FakeGraph().queue_failures("undeliverable")
    result = send(graph, request())
    assert result.code == "undeliverable" and not result.retryable


def test_send_rate_limited_then_ok() -> None:
    graph = FakeGraph(retry_after=5).queue_failures("rate_limit", "server_error")
    first, second, third = (send(graph, request()) for _ in range(3))
    assert first.retryable and first.retry_after == 5.0
    assert second.retryable and not second.ok
    assert third.ok and len(graph.delivered) == 1 and len(graph.calls) == 3


def test_unsupported_mode() -> None:
    graph = FakeGraph()
    assert send(graph, request(mode="comment_reply")).code == "invalid_request"
    assert graph.calls == []
