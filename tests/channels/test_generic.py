from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from relaydesk.channels import generic
from relaydesk.channels.base import OutboundRequest, SignatureError

FIXTURES = Path(__file__).parent / "fixtures" / "generic"
SECRET = "generic-shared-secret"
NOW = 1_714_557_600.0


def _body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# -- signatures ------------------------------------------------------------------------------


def test_signature_without_timestamp_is_hex_hmac_of_body() -> None:
    body = _body("single_review.json")
    generic.verify(body, {"X-RelayDesk-Signature": generic.sign(body, SECRET)}, SECRET)
    assert generic.sign(body, SECRET).startswith("sha256=")
    assert len(generic.sign(body, SECRET)) == len("sha256=") + 64


def test_headers_are_matched_case_insensitively() -> None:
    body = b'{"id": "1"}'
    generic.verify(body, {"x-relaydesk-signature": generic.sign(body, SECRET)}, SECRET)


def test_missing_signature_is_401() -> None:
    with pytest.raises(SignatureError) as err:
        generic.verify(b"{}", {}, SECRET)
    assert err.value.status_code == 401


def test_wrong_signature_or_tampered_body_is_403() -> None:
    body = _body("single_review.json")
    good = generic.sign(body, SECRET)
    with pytest.raises(SignatureError) as err:
        generic.verify(body + b" ", {"X-RelayDesk-Signature": good}, SECRET)
    assert err.value.status_code == 403
    with pytest.raises(SignatureError):
        generic.verify(body, {"X-RelayDesk-Signature": generic.sign(body, "other-secret")}, SECRET)


def test_timestamped_signature_accepted_within_five_minutes() -> None:
    body = b'{"id": "1"}'
    headers = generic.signed_headers(body, SECRET, now=NOW)
    generic.verify(body, headers, SECRET, now=NOW + 299)


def test_stale_timestamp_is_refused_even_with_a_valid_signature() -> None:
    body = b'{"id": "1"}'
    headers = generic.signed_headers(body, SECRET, now=NOW)
    with pytest.raises(SignatureError) as err:
        generic.verify(body, headers, SECRET, now=NOW + 301)
    assert err.value.status_code == 403


def test_rewriting_the_timestamp_of_a_captured_request_breaks_the_signature() -> None:
    body = b'{"id": "1"}'
    headers = generic.signed_headers(body, SECRET, now=NOW)
    headers["X-RelayDesk-Timestamp"] = str(int(NOW + 600))
    with pytest.raises(SignatureError):
        generic.verify(body, headers, SECRET, now=NOW + 600)


def test_non_numeric_timestamp_is_refused() -> None:
    body = b"{}"
    headers = {"X-RelayDesk-Signature": generic.sign(body, SECRET), "X-RelayDesk-Timestamp": "yesterday"}
    with pytest.raises(SignatureError):
        generic.verify(body, headers, SECRET, now=NOW)


# -- parsing ---------------------------------------------------------------------------------


def test_single_review_maps_every_field() -> None:
    result = generic.parse(_body("single_review.json"), account_ref="acct-1")
    assert result.errors == [] and len(result.events) == 1
    parsed = result.events[0]
    event = parsed.event
    assert parsed.account_ref == "acct-1" and parsed.action == "create"
    assert event.network == "generic"
    assert event.external_id == "rev-9001"
    assert event.author_id == "u-77" and event.author_name == "مریم" and event.author_handle == "maryam"
    assert event.author_followers == 310
    assert event.text.startswith("کیفیت")
    assert event.thread_id == "product-55"
    assert event.kind == "review"
    assert event.lang_hint == "fa"
    assert event.sent_at == datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    assert event.attachments[0].kind == "image" and event.attachments[0].name == "1.jpg"
    assert event.contact_attributes == {"rating": 3, "site": "reviews.example"}


def test_batch_keeps_good_messages_and_reports_bad_ones_with_paths() -> None:
    result = generic.parse(_body("batch_with_errors.json"))
    assert [p.event.external_id for p in result.events] == ["m-1", "m-2"]
    assert result.events[1].event.reply_to_id == "m-1"
    assert result.events[1].event.sent_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert "messages[2].text: field required" in result.errors
    assert "messages[3].author.id: field required" in result.errors
    assert any(e.startswith("messages[3].attachments[0].kind:") for e in result.errors)
    assert "messages[4]: must be an object" in result.errors


def test_naive_sent_at_is_taken_as_utc() -> None:
    result = generic.parse({"id": "1", "author": {"id": "a"}, "text": "x", "sent_at": "2024-05-01T10:00:00"})
    assert result.events[0].event.sent_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_invalid_json_raises_value_error_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        generic.parse(b"{not json")
    with pytest.raises(ValueError, match="JSON object"):
        generic.parse(b"[1, 2]")


def test_messages_that_is_not_a_list_is_an_error_not_an_exception() -> None:
    result = generic.parse({"messages": {"id": "1"}})
    assert result.events == [] and result.errors == ["messages: must be a list"]


def test_single_message_errors_have_top_level_paths() -> None:
    result = generic.parse({"id": "", "author": {"id": "a", "followers": -1}, "text": "x"})
    assert result.events == []
    assert any(e.startswith("id:") for e in result.errors)
    assert any(e.startswith("author.followers:") for e in result.errors)


# -- sending ---------------------------------------------------------------------------------


def _req(**kw: object) -> OutboundRequest:
    base: dict[str, object] = {
        "network": "generic",
        "account_external_id": None,
        "recipient_id": "u-77",
        "text": "Sorry about the delay!",
        "idempotency_key": "reply-42",
        "reply_to_external_id": "rev-9001",
    }
    base.update(kw)
    return OutboundRequest(**base)  # type: ignore[arg-type]


CREDS = {"url": "https://hooks.example/relaydesk", "secret": SECRET}


def test_sender_posts_signed_payload_the_receiver_can_verify() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        generic.verify(request.content, dict(request.headers), SECRET, now=NOW)
        return httpx.Response(200, json={"id": "remote-1"})

    sender = generic.GenericSender(transport=httpx.MockTransport(handler), clock=lambda: NOW)
    result = asyncio.run(sender.send(_req(), CREDS))
    assert result.ok and result.external_id == "remote-1"
    payload = json.loads(seen[0].content)
    assert payload == {
        "id": "reply-42",
        "in_reply_to": "rev-9001",
        "recipient": "u-77",
        "text": "Sorry about the delay!",
    }
    assert str(seen[0].url) == CREDS["url"]


def test_sender_falls_back_to_the_idempotency_key_as_id() -> None:
    sender = generic.GenericSender(transport=httpx.MockTransport(lambda r: httpx.Response(204)))
    result = asyncio.run(sender.send(_req(), CREDS))
    assert result.ok and result.external_id == "reply-42"


@pytest.mark.parametrize(
    ("response", "retryable", "retry_after", "code"),
    [
        (httpx.Response(429, headers={"Retry-After": "12"}), True, 12.0, None),
        (httpx.Response(503), True, None, None),
        (httpx.Response(401), False, None, "token_expired"),
        (httpx.Response(422, json={"error": "bad"}), False, None, None),
    ],
)
def test_sender_maps_failures(
    response: httpx.Response, retryable: bool, retry_after: float | None, code: str | None
) -> None:
    sender = generic.GenericSender(transport=httpx.MockTransport(lambda r: response), clock=lambda: NOW)
    result = asyncio.run(sender.send(_req(), CREDS))
    assert not result.ok
    assert result.retryable is retryable
    assert result.retry_after == retry_after
    assert result.code == code
    assert SECRET not in (result.error or "")


def test_sender_timeout_is_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    result = asyncio.run(generic.GenericSender(transport=httpx.MockTransport(handler)).send(_req(), CREDS))
    assert not result.ok and result.retryable


def test_sender_without_url_is_a_config_error() -> None:
    result = asyncio.run(generic.GenericSender().send(_req(), {"secret": "s"}))
    assert not result.ok and result.code == "config"
