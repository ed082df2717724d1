from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relaydesk.channels import x
from relaydesk.channels.base import OutboundRequest, SendResult, SignatureError

from .fakes.x_api import FakeXApi

FIXTURES = Path(__file__).parent / "fixtures" / "x"
CONSUMER_SECRET = "consumer-secret"
BRAND = "2244994945"


def _load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# -- CRC and signature -----------------------------------------------------------------------


def test_crc_response_matches_the_documented_recipe() -> None:
    digest = hmac.new(CONSUMER_SECRET.encode(), b"challenge-123", hashlib.sha256).digest()
    assert x.crc_response("challenge-123", CONSUMER_SECRET) == {
        "response_token": "sha256=" + base64.b64encode(digest).decode()
    }


def test_signature_good_bad_missing() -> None:
    body = _load("tweet_create.json")
    x.verify(body, {"X-Twitter-Webhooks-Signature": x.signature(body, CONSUMER_SECRET)}, CONSUMER_SECRET)
    with pytest.raises(SignatureError) as missing:
        x.verify(body, {}, CONSUMER_SECRET)
    assert missing.value.status_code == 401
    with pytest.raises(SignatureError) as wrong:
        x.verify(body, {"x-twitter-webhooks-signature": x.signature(body, "nope")}, CONSUMER_SECRET)
    assert wrong.value.status_code == 403


# -- Account Activity parsing ----------------------------------------------------------------


def test_tweet_create_events() -> None:
    result = x.parse(_load("tweet_create.json"))
    assert result.errors == []
    assert result.ignored == ["tweet_create_events[1]: retweet"]
    reply, own, edited = result.events

    assert reply.account_ref == BRAND and reply.action == "create"
    event = reply.event
    assert event.external_id == "1050118621198921728"
    assert (
        event.author_id == "6253282"
        and event.author_handle == "sara_a"
        and event.author_name == "Sara Ahmadi"
    )
    assert event.author_followers == 1520
    assert event.text == "my order #1234 never arrived, can you help?"  # leading @brand trimmed
    assert event.reply_to_id == "1050118000000000000"
    assert event.kind == "comment"
    assert event.sent_at == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
    assert event.attachments[0].kind == "image" and event.attachments[0].url.endswith("abc.jpg")  # type: ignore[union-attr]
    assert event.lang_hint == "en"

    assert own.action == "echo" and own.event.author_id == BRAND

    assert edited.action == "edit"
    assert edited.event.external_id == "1050118621198921728"
    assert "#1235" in edited.event.text


def test_direct_messages_with_users_map_and_echo() -> None:
    result = x.parse(_load("direct_message.json"))
    incoming, ours = result.events
    assert incoming.action == "create" and incoming.event.kind == "dm"
    assert incoming.event.external_id == "954491830116155396"
    assert incoming.event.author_id == "3001969357"
    assert incoming.event.author_handle == "reza_k" and incoming.event.author_name == "Reza"
    assert incoming.event.text == "سلام، سفارش من کجاست؟"
    assert incoming.event.thread_id == "2244994945-3001969357"
    assert incoming.event.sent_at == datetime.fromtimestamp(1516403560.557, UTC)
    assert ours.action == "echo"
    assert ours.event.thread_id == incoming.event.thread_id
    assert len(result.errors) == 1
    assert result.errors[0].startswith("direct_message_events[2]: missing or malformed field")


def test_other_event_types_are_ignored_and_deletes_reported() -> None:
    result = x.parse(_load("other_events.json"))
    assert sorted(result.ignored) == [
        "direct_message_indicate_typing_events",
        "favorite_events",
        "follow_events",
    ]
    (deleted,) = result.events
    assert deleted.action == "delete" and deleted.event.external_id == "1045405559317569537"


def test_malformed_bodies() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        x.parse(b"nope")
    result = x.parse({"for_user_id": BRAND, "tweet_create_events": {"not": "a list"}})
    assert result.errors == ["tweet_create_events: must be a list"]


def test_v2_posts_response() -> None:
    result = x.parse_v2_posts(json.loads(_load("mentions_v2.json")), BRAND)
    (mention,) = result.events
    assert mention.event.kind == "mention"
    assert mention.event.author_handle == "dev" and mention.event.author_followers == 42
    assert mention.event.thread_id == "1301573587187331074"
    assert mention.event.sent_at == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)


def test_dm_thread_id_orders_ids_numerically() -> None:
    assert x.dm_thread_id("99", "100") == "99-100"
    assert x.dm_thread_id("100", "99") == "99-100"


# -- sender ----------------------------------------------------------------------------------


def _req(**kw: object) -> OutboundRequest:
    base: dict[str, object] = {
        "network": "x",
        "account_external_id": "1000",
        "recipient_id": "6253282",
        "text": "Sorry! Please DM us your order number.",
        "idempotency_key": "k-1",
        "reply_to_external_id": "1050118621198921728",
    }
    base.update(kw)
    return OutboundRequest(**base)  # type: ignore[arg-type]


def _send(api: FakeXApi, req: OutboundRequest) -> SendResult:
    sender = x.XSender(transport=api.transport, base_url=api.base_url, clock=lambda: api.now)
    return asyncio.run(sender.send(req, {"access_token": "user-token"}))


def test_reply_post() -> None:
    api = FakeXApi()
    result = _send(api, _req())
    assert result.ok and result.external_id == api.posts[-1]["id"]
    call = api.calls[0]
    assert call.path == "/2/tweets"
    assert call.json == {"text": _req().text, "reply": {"in_reply_to_tweet_id": "1050118621198921728"}}
    assert call.headers["authorization"] == "Bearer user-token"


def test_direct_message() -> None:
    api = FakeXApi()
    result = _send(api, _req(mode="dm", reply_to_external_id=None))
    assert result.ok and result.external_id == api.dms[0]["id"]
    assert api.calls[0].path == "/2/dm_conversations/with/6253282/messages"
    assert api.calls[0].json == {"text": _req().text}


def test_rate_limit_waits_until_x_rate_limit_reset() -> None:
    api = FakeXApi()
    api.fail_next("rate_limit", retry_after=240)
    result = _send(api, _req())
    assert not result.ok and result.retryable and result.retry_after == 240.0


@pytest.mark.parametrize(
    ("kind", "retryable", "code"),
    [("expired_token", False, "token_expired"), ("server_error", True, None), ("timeout", True, None)],
)
def test_failure_modes(kind: str, retryable: bool, code: str | None) -> None:
    api = FakeXApi()
    api.fail_next(kind)
    result = _send(api, _req())
    assert not result.ok and result.retryable is retryable and result.code == code
    assert "user-token" not in (result.error or "")


def test_duplicate_text_is_reported_not_retried() -> None:
    api = FakeXApi()
    assert _send(api, _req()).ok
    again = _send(api, _req())
    assert not again.ok and again.code == "duplicate" and not again.retryable


def test_missing_token() -> None:
    result = asyncio.run(x.XSender().send(_req(), {}))
    assert result.code == "token_expired"
