from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relaydesk.channels import telegram
from relaydesk.channels.base import OutboundRequest, SignatureError

from .fakes.telegram_api import FakeTelegramApi

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"


def _load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_secret_token_header() -> None:
    telegram.verify({"X-Telegram-Bot-Api-Secret-Token": "s3cret"}, "s3cret")
    telegram.verify({"x-telegram-bot-api-secret-token": "s3cret"}, "s3cret")
    with pytest.raises(SignatureError) as missing:
        telegram.verify({}, "s3cret")
    assert missing.value.status_code == 401
    with pytest.raises(SignatureError) as wrong:
        telegram.verify({"X-Telegram-Bot-Api-Secret-Token": "guess"}, "s3cret")
    assert wrong.value.status_code == 403


def test_private_text_message() -> None:
    result = telegram.parse(_load("private_message.json"), bot_id="123456")
    assert result.errors == [] and result.ignored == []
    parsed = result.events[0]
    event = parsed.event
    assert parsed.account_ref == "123456" and parsed.action == "create"
    assert event.external_id == "1111111:1365"
    assert event.author_id == "1111111"
    assert event.author_name == "Somchai P." and event.author_handle == "somchai"
    assert event.thread_id == "1111111"
    assert event.kind == "dm"
    assert event.text == "สวัสดีครับ สินค้ายังไม่ได้รับเลย"
    assert event.sent_at == datetime.fromtimestamp(1441645532, UTC)
    assert event.lang_hint == "th"


def test_group_photo_with_caption_replying_to_the_bot() -> None:
    event = telegram.parse(_load("group_reply_photo.json"), bot_id="123456").events[0].event
    assert event.text == "המוצר הגיע שבור"
    assert event.kind == "message"
    assert event.thread_id == "-1001234567890"
    assert event.reply_to_id == "-1001234567890:80"
    assert [a.kind for a in event.attachments] == ["image"]


def test_edit_keeps_the_external_id_and_uses_the_edit_time() -> None:
    created = telegram.parse(_load("private_message.json")).events[0]
    edited = telegram.parse(_load("edited_message.json")).events[0]
    assert edited.action == "edit"
    assert edited.event.external_id == created.event.external_id
    assert edited.event.sent_at == datetime.fromtimestamp(1441645700, UTC)


def test_channel_post_with_document() -> None:
    event = telegram.parse(_load("channel_post_document.json")).events[0].event
    assert event.kind == "post"
    assert event.author_id == "-1009999999999" and event.author_name == "Brand News"
    assert event.text == "Invoice attached"
    assert event.attachments[0].kind == "file"
    assert event.attachments[0].name == "invoice.pdf"
    assert event.attachments[0].mime_type == "application/pdf"


def test_unknown_update_type_is_ignored() -> None:
    result = telegram.parse(_load("callback_query.json"))
    assert result.events == [] and result.errors == []
    assert result.ignored == ["update: callback_query"]


def test_messages_from_the_bot_itself_are_echoes() -> None:
    update = json.loads(_load("private_message.json"))
    update["message"]["from"]["id"] = 123456
    assert telegram.parse(update, bot_id="123456").events[0].action == "echo"


def test_get_updates_batch_keeps_good_updates_and_reports_bad_ones() -> None:
    body = {
        "ok": True,
        "result": [
            json.loads(_load("private_message.json")),
            {"update_id": 5, "message": {"message_id": 1, "text": "no chat"}},
            json.loads(_load("callback_query.json")),
            "junk",
        ],
    }
    result = telegram.parse(body)
    assert len(result.events) == 1
    assert result.errors[0].startswith("result[1].message: missing or malformed field")
    assert result.errors[1] == "result[3]: must be an object"
    assert result.ignored == ["result[2]: callback_query"]


def test_not_an_update_and_invalid_json() -> None:
    assert telegram.parse({"hello": 1}).errors == ["update_id: field required (not a Telegram Update)"]
    with pytest.raises(ValueError, match="not valid JSON"):
        telegram.parse(b"<html>")


# -- sender ----------------------------------------------------------------------------------


def _req(**kw: object) -> OutboundRequest:
    base: dict[str, object] = {
        "network": "telegram",
        "account_external_id": "123456",
        "recipient_id": "42",
        "text": "We are on it!",
        "idempotency_key": "k-1",
        "reply_to_external_id": "42:7",
    }
    base.update(kw)
    return OutboundRequest(**base)  # type: ignore[arg-type]


def _send(api: FakeTelegramApi, req: OutboundRequest, token: str | None = None):  # type: ignore[no-untyped-def]
    sender = telegram.TelegramSender(transport=api.transport, base_url=api.base_url)
    return asyncio.run(sender.send(req, {"bot_token": token or api.token}))


def test_send_message_replies_with_reply_parameters() -> None:
    api = FakeTelegramApi()
    result = _send(api, _req())
    assert result.ok and result.external_id == "42:1"
    call = api.calls[0]
    assert call.path.endswith("/sendMessage")
    assert call.json["chat_id"] == "42"
    assert call.json["reply_parameters"] == {"message_id": 7, "allow_sending_without_reply": True}


def test_send_goes_to_the_group_when_thread_id_is_set() -> None:
    api = FakeTelegramApi()
    result = _send(api, _req(thread_id="-100777", reply_to_external_id=None))
    assert result.ok and result.external_id == "-100777:1"
    assert "reply_parameters" not in api.calls[0].json


def test_rate_limit_uses_retry_after_from_parameters() -> None:
    api = FakeTelegramApi()
    api.fail_next("rate_limit", retry_after=17)
    result = _send(api, _req())
    assert not result.ok and result.retryable and result.retry_after == 17.0


@pytest.mark.parametrize(
    ("kind", "retryable", "code"),
    [("expired_token", False, "token_expired"), ("blocked", False, "blocked"), ("server_error", True, None)],
)
def test_failure_modes(kind: str, retryable: bool, code: str | None) -> None:
    api = FakeTelegramApi()
    api.fail_next(kind)
    result = _send(api, _req())
    assert not result.ok and result.retryable is retryable and result.code == code
    assert api.token not in (result.error or "")


def test_wrong_token_is_token_expired_and_never_leaks_the_token() -> None:
    api = FakeTelegramApi()
    result = _send(api, _req(), token="999:revoked-token")
    assert result.code == "token_expired"
    assert "revoked-token" not in (result.error or "")


def test_timeout_is_retryable_and_does_not_leak_the_token() -> None:
    api = FakeTelegramApi()
    api.fail_next("timeout")
    result = _send(api, _req())
    assert not result.ok and result.retryable
    assert api.token not in (result.error or "")


def test_missing_token_is_reported() -> None:
    result = asyncio.run(telegram.TelegramSender().send(_req(), {}))
    assert not result.ok and result.code == "token_expired"
