from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relaydesk.channels import line
from relaydesk.channels.base import OutboundRequest, SendResult, SignatureError

from .fakes.line_api import FakeLineApi

FIXTURES = Path(__file__).parent / "fixtures" / "line"
CHANNEL_SECRET = "line-channel-secret"
USER = "U4af4980629aaaaaaaaaaaaaaaaaaaaaa"


def _load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# -- signature -------------------------------------------------------------------------------


def test_signature_is_base64_hmac_of_the_raw_body() -> None:
    body = _load("messages.json")
    expected = base64.b64encode(hmac.new(CHANNEL_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    line.verify(body, {"X-Line-Signature": expected}, CHANNEL_SECRET)
    line.verify(body, {"x-line-signature": expected}, CHANNEL_SECRET)


def test_bad_and_missing_signature() -> None:
    body = _load("messages.json")
    with pytest.raises(SignatureError) as missing:
        line.verify(body, {}, CHANNEL_SECRET)
    assert missing.value.status_code == 401
    with pytest.raises(SignatureError) as wrong:
        line.verify(
            body.replace(b"active", b"standby"),
            {"X-Line-Signature": line.signature(body, CHANNEL_SECRET)},
            CHANNEL_SECRET,
        )
    assert wrong.value.status_code == 403


# -- parsing ---------------------------------------------------------------------------------


def test_message_events_of_every_documented_type() -> None:
    result = line.parse(_load("messages.json"))
    assert result.errors == [] and result.ignored == []
    text, image, sticker, location = result.events
    assert {p.account_ref for p in result.events} == {"Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}

    assert text.event.external_id == "468789577898262530"
    assert text.event.author_id == USER and text.event.thread_id == USER
    assert text.event.kind == "dm"
    assert text.event.text == "ขอสอบถามเรื่องการคืนสินค้าค่ะ"
    assert text.event.sent_at == datetime.fromtimestamp(1692251666.727, UTC)
    assert line.reply_token(text.event) == "38ef843bde154d9b91c21320ffd17a0f"

    assert image.event.thread_id == "Ca56f94637caaaaaaaaaaaaaaaaaaaaaa"
    assert image.event.author_id == USER and image.event.kind == "message"
    assert [a.kind for a in image.event.attachments] == ["image"]

    assert sticker.event.attachments[0].kind == "sticker"
    assert "happy" in sticker.event.text

    assert location.event.attachments[0].kind == "location"
    assert "Tokyo" in location.event.text


def test_redelivery_keeps_the_message_id_so_it_dedupes() -> None:
    result = line.parse(_load("messages.json"))
    redelivered = result.events[3]
    assert redelivered.event.raw["deliveryContext"]["isRedelivery"] is True
    assert redelivered.event.external_id == "325708"


def test_follow_unfollow_unknown_unsend_and_broken_events() -> None:
    result = line.parse(_load("follow_unsend_unknown.json"))
    assert result.ignored == ["events[0]: follow", "events[1]: unfollow", "events[3]: unknown 'somethingNew'"]
    assert len(result.events) == 1
    unsend = result.events[0]
    assert unsend.action == "delete" and unsend.event.external_id == "468789577898262530"
    assert len(result.errors) == 1 and result.errors[0].startswith("events[4]: missing or malformed field")


def test_body_without_events_and_invalid_json() -> None:
    assert line.parse({"destination": "U1"}).errors == ["events: field required (a list)"]
    with pytest.raises(ValueError, match="not valid JSON"):
        line.parse(b"{")


# -- sender ----------------------------------------------------------------------------------


def _req(**kw: object) -> OutboundRequest:
    base: dict[str, object] = {
        "network": "line",
        "account_external_id": "Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "recipient_id": USER,
        "text": "ได้เลยค่ะ",
        "idempotency_key": "reply-7",
    }
    base.update(kw)
    return OutboundRequest(**base)  # type: ignore[arg-type]


def _send(api: FakeLineApi, req: OutboundRequest) -> SendResult:
    sender = line.LineSender(transport=api.transport, base_url=api.base_url)
    return asyncio.run(sender.send(req, {"channel_access_token": api.access_token}))


def test_valid_reply_token_is_used_first() -> None:
    api = FakeLineApi()
    token = api.issue_reply_token()
    result = _send(api, _req(extra={"reply_token": token}))
    assert result.ok and result.external_id
    assert [c.path for c in api.calls] == ["/v2/bot/message/reply"]
    assert api.calls[0].json["replyToken"] == token
    assert "x-line-retry-key" not in api.calls[0].headers
    assert len(api.delivered) == 1


def test_expired_reply_token_falls_back_to_push_with_retry_key() -> None:
    api = FakeLineApi()
    token = api.issue_reply_token()
    api.expire(token)
    result = _send(api, _req(reply_to_external_id=token, thread_id="Cgroup123"))
    assert result.ok
    assert [c.path for c in api.calls] == ["/v2/bot/message/reply", "/v2/bot/message/push"]
    push = api.calls[1]
    assert push.json["to"] == "Cgroup123"
    assert push.headers["x-line-retry-key"] == line.retry_key("reply-7")
    uuid.UUID(push.headers["x-line-retry-key"])
    assert api.delivered == [{"to": "Cgroup123", "type": "text", "text": "ได้เลยค่ะ"}]


def test_push_retried_after_a_lost_response_is_not_delivered_twice() -> None:
    api = FakeLineApi()
    api.fail_next("timeout_after_accept")
    first = _send(api, _req())
    assert not first.ok and first.retryable
    second = _send(api, _req())
    assert second.ok and second.external_id
    assert len(api.delivered) == 1


def test_numeric_reply_to_is_a_message_id_not_a_reply_token() -> None:
    api = FakeLineApi()
    assert _send(api, _req(reply_to_external_id="468789577898262530")).ok
    assert [c.path for c in api.calls] == ["/v2/bot/message/push"]


def test_long_text_is_split_into_line_sized_messages() -> None:
    api = FakeLineApi()
    assert _send(api, _req(text="a" * 5001)).ok
    assert [len(m["text"]) for m in api.calls[0].json["messages"]] == [5000, 1]


@pytest.mark.parametrize(
    ("kind", "retryable", "code", "retry_after"),
    [
        ("rate_limit", True, None, 3.0),
        ("monthly_limit", False, "quota_exhausted", None),
        ("expired_token", False, "token_expired", None),
        ("server_error", True, None, None),
        ("timeout", True, None, None),
    ],
)
def test_failure_modes(kind: str, retryable: bool, code: str | None, retry_after: float | None) -> None:
    api = FakeLineApi()
    api.fail_next(kind)
    result = _send(api, _req())
    assert not result.ok
    assert result.retryable is retryable and result.code == code and result.retry_after == retry_after
    assert api.access_token not in (result.error or "")
    assert api.delivered == []


def test_wrong_access_token_is_token_expired() -> None:
    api = FakeLineApi()
    sender = line.LineSender(transport=api.transport, base_url=api.base_url)
    result = asyncio.run(sender.send(_req(), {"channel_access_token": "stale"}))
    assert result.code == "token_expired" and "stale" not in (result.error or "")
