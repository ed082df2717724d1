"""Shared Meta webhook plumbing: handshake, signature, batch dispatch, Graph error mapping."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from relaydesk.channels import graph, meta
from relaydesk.channels.base import OutboundRequest, SignatureError

from .fakes.graph import FakeGraph

FIXTURES = Path(__file__).parent / "fixtures" / "meta"
SECRET = "3f1c0de5a9b84e2f8d7c6b5a49382716"
TOKEN = "EAAGm0PX4ZCpsBAKZCtest-page-token-0123456789"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# -- handshake -----------------------------------------------------------------------------


def test_handshake_returns_challenge() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "s3cret-verify", "hub.challenge": "1158201444"}
    assert meta.verify_handshake(params, "s3cret-verify") == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "s3cret-verify", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "s3cret-verify"},
        {},
    ],
)
def test_handshake_refuses_with_403(params: dict[str, str]) -> None:
    with pytest.raises(SignatureError) as info:
        meta.verify_handshake(params, "s3cret-verify")
    assert info.value.status_code == 403


def test_handshake_refuses_when_no_token_is_configured() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    with pytest.raises(SignatureError) as info:
        meta.verify_handshake(params, "")
    assert info.value.status_code == 403


# -- signature -----------------------------------------------------------------------------


def test_signature_accepts_meta_signed_body() -> None:
    body = fixture_bytes("page_messaging.json")
    meta.verify_signature({"X-Hub-Signature-256": meta.sign(body, SECRET)}, body, SECRET)
    # Header names are case-insensitive (ASGI lower-cases them).
    meta.verify_signature({"x-hub-signature-256": meta.sign(body, SECRET)}, body, SECRET)


def test_signature_value_is_hmac_sha256_hex() -> None:
    # Known HMAC-SHA256 value, so `sign` is not only checked against itself.
    assert meta.sign(b"hello", "key") == (
        "sha256=9307b3b915efb5171ff14d8cb55fbcc798c6c0ef1456d66ded1a6aa723a58b7b"
    )


def test_signature_rejects_tampered_body_with_403() -> None:
    body = fixture_bytes("page_messaging.json")
    header = meta.sign(body, SECRET)
    with pytest.raises(SignatureError) as info:
        meta.verify_signature(
            {"X-Hub-Signature-256": header}, body.replace(b"104523781234567", b"999"), SECRET
        )
    assert info.value.status_code == 403


def test_signature_rejects_other_secret() -> None:
    body = b'{"object":"page","entry":[]}'
    with pytest.raises(SignatureError):
        meta.verify_signature({"X-Hub-Signature-256": meta.sign(body, "other")}, body, SECRET)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": "sha1=0123456789abcdef0123456789abcdef01234567"},
        {"X-Hub-Signature-256": "sha256=not-hex"},
        {"X-Hub-Signature-256": "sha256=abcd"},
        {"X-Hub-Signature": "sha1=0123456789abcdef0123456789abcdef01234567"},
    ],
)
def test_signature_missing_or_garbled_is_401(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError) as info:
        meta.verify_signature(headers, b"{}", SECRET)
    assert info.value.status_code == 401


def test_signature_fails_closed_without_app_secret() -> None:
    body = b"{}"
    with pytest.raises(SignatureError):
        meta.verify_signature({"X-Hub-Signature-256": meta.sign(body, "")}, body, "")


# -- parse / dispatch ------------------------------------------------------------------------


def test_invalid_json_raises_value_error() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        meta.parse(b'{"object": "page", "entry": [')
    with pytest.raises(ValueError, match="not valid JSON"):
        meta.parse(b"\xff\xfe")


def test_body_that_is_not_an_object_raises() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        meta.parse(b'[{"object": "page"}]')


def test_unknown_object_is_ignored_not_raised() -> None:
    result = meta.parse(b'{"object": "permissions", "entry": [{"id": "1", "changes": []}]}')
    assert result.events == [] and result.errors == []
    assert result.ignored and "permissions" in result.ignored[0]


def test_missing_entry_list_is_an_error() -> None:
    result = meta.parse(b'{"object": "page"}')
    assert result.errors == ["entry: missing or not a list"]


@pytest.mark.parametrize(
    ("name", "network"),
    [
        ("page_messaging.json", "facebook"),
        ("page_feed.json", "facebook"),
        ("instagram.json", "instagram"),
        ("whatsapp.json", "whatsapp"),
    ],
)
def test_dispatch_by_object_and_every_entry_is_read(name: str, network: str) -> None:
    payload = json.loads(fixture_bytes(name))
    result = meta.parse(fixture_bytes(name))
    assert result.errors == []
    assert result.events, name
    assert {e.event.network for e in result.events} == {network}
    # Several entries per batch: events come from every one of them.
    assert len({e.account_ref for e in result.events}) == len(payload["entry"])
    for parsed in result.events:
        assert parsed.event.raw, "raw keeps the sub-object the event came from"
        assert parsed.action in {"create", "edit", "delete", "reaction", "echo", "needs_details"}


def test_half_parsable_batch_keeps_good_events_and_reports_paths() -> None:
    result = meta.parse(fixture_bytes("page_malformed.json"))
    texts = [e.event.text for e in result.events]
    assert len(result.events) == 3
    assert "سلام، سفارش من هنوز نرسیده. کی ارسال می‌شود؟" in texts
    assert "entry[0].messaging[1]: missing sender.id" in result.errors
    assert "entry[0].messaging[2]: missing message.mid" in result.errors
    assert "entry[0].messaging[3]: expected an object, got str" in result.errors
    assert "entry[0].messaging[4]: missing message_edit.mid" in result.errors
    assert "entry[1]: expected an object, got str" in result.errors
    assert "entry[2].messaging: expected a list, got dict" in result.errors
    assert "entry[3].changes[0]: missing comment_id" in result.errors
    assert "entry[3].changes[1]: missing value" in result.errors
    assert "entry[3].changes[2]: missing from.id" in result.errors
    assert any(line.startswith("entry[0].messaging[5]: unknown messaging event") for line in result.ignored)


def test_entry_without_id_still_yields_its_events() -> None:
    result = meta.parse(fixture_bytes("page_malformed.json"))
    orphan = [e for e in result.events if e.account_ref is None]
    assert len(orphan) == 1 and orphan[0].event.text == "שלום, ההזמנה שלי הגיעה פגומה"
    assert "entry[4]: missing id (the Page id)" in result.errors


def test_malformed_shapes_never_raise() -> None:
    bodies: list[Any] = [
        {"object": "page", "entry": [{"id": "1", "messaging": [{"sender": "x", "message": []}]}]},
        {"object": "page", "entry": [{"id": "1", "changes": [{"field": "feed", "value": {"item": 5}}]}]},
        {
            "object": "instagram",
            "entry": [{"id": "1", "changes": [{"field": "comments", "value": {"id": []}}]}],
        },
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"metadata": 1}}]}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": "x"}]},
        {
            "object": "page",
            "entry": [{"id": "1", "messaging": [{"sender": {"id": "2"}, "timestamp": "soon"}]}],
        },
    ]
    for body in bodies:
        result = meta.parse(json.dumps(body).encode())
        assert result.events == []
        assert result.errors or result.ignored


def test_timestamps_are_aware_utc_in_seconds_or_milliseconds() -> None:
    assert graph.to_datetime(1718000000) == datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC)
    assert graph.to_datetime(1718000000000) == datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC)
    assert graph.to_datetime("1718000000") == datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC)
    # Page feed `post.updated_time` style.
    assert graph.to_datetime("2024-06-10T06:13:20+0000") == datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC)
    assert graph.to_datetime(None) is None
    assert graph.to_datetime("soon") is None
    assert graph.to_datetime(True) is None


# -- Graph error mapping (pure) --------------------------------------------------------------

NOW = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)


def graph_error(code: int, message: str = "boom", **extra: Any) -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code, **extra}}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"recipient_id": "1", "message_id": "m_1"}, "m_1"),
        ({"id": "123_456"}, "123_456"),
        ({"messaging_product": "whatsapp", "messages": [{"id": "wamid.X"}]}, "wamid.X"),
        ({}, None),
    ],
)
def test_success_takes_the_returned_id(payload: dict[str, Any], expected: str | None) -> None:
    result = meta.classify_response(200, {}, payload, now=NOW)
    assert result.ok and result.external_id == expected


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80007, 130429])
def test_graph_rate_limit_codes_are_retryable(code: int) -> None:
    result = meta.classify_response(400, {}, graph_error(code), now=NOW)
    assert not result.ok and result.retryable
    assert result.retry_after == meta.DEFAULT_RATE_LIMIT_WAIT_S


def test_retry_after_header_seconds_and_http_date() -> None:
    seconds = meta.classify_response(429, {"Retry-After": "17"}, graph_error(4), now=NOW)
    assert seconds.retry_after == 17.0
    dated = meta.classify_response(429, {"retry-after": "Mon, 10 Jun 2024 12:02:00 GMT"}, None, now=NOW)
    assert dated.retryable and dated.retry_after == 120.0


@pytest.mark.parametrize("value", ["soon", "nan", "inf", "-5", ""])
def test_odd_retry_after_values_never_raise(value: str) -> None:
    result = meta.classify_response(429, {"Retry-After": value}, graph_error(4), now=NOW)
    assert result.retryable and result.retry_after is not None
    assert 0.0 <= result.retry_after <= meta.MAX_RETRY_AFTER_S
    usage = json.dumps({"1": [{"estimated_time_to_regain_access": value}]})
    assert meta.classify_response(
        400, {"X-Business-Use-Case-Usage": usage}, graph_error(80006), now=NOW
    ).retryable


def test_business_use_case_header_gives_the_wait() -> None:
    usage = json.dumps({"104523781234567": [{"type": "messenger", "estimated_time_to_regain_access": 5}]})
    result = meta.classify_response(400, {"X-Business-Use-Case-Usage": usage}, graph_error(80006), now=NOW)
    assert result.retryable and result.retry_after == 300.0


def test_token_expired_is_not_retryable() -> None:
    result = meta.classify_response(401, {}, graph_error(190, error_subcode=463), now=NOW)
    assert result.code == "token_expired" and not result.retryable


def test_whatsapp_window_closed() -> None:
    result = meta.classify_response(400, {}, graph_error(131047, "(#131047) Re-engagement message"), now=NOW)
    assert result.code == "window_closed" and not result.retryable


def test_messenger_window_closed_subcode() -> None:
    result = meta.classify_response(400, {}, graph_error(10, error_subcode=2018278), now=NOW)
    assert result.code == "window_closed"


def test_server_errors_and_transient_codes_are_retryable() -> None:
    assert meta.classify_response(503, {}, None, now=NOW).retryable
    assert meta.classify_response(400, {}, graph_error(2), now=NOW).retryable
    assert meta.classify_response(400, {}, graph_error(999, is_transient=True), now=NOW).retryable


def test_other_client_errors_carry_the_message() -> None:
    result = meta.classify_response(
        400, {}, graph_error(100, "(#100) Param recipient[id] must be a valid ID"), now=NOW
    )
    assert not result.ok and not result.retryable and result.code is None
    assert result.error is not None and "Param recipient[id]" in result.error


def test_error_text_never_contains_the_token() -> None:
    result = meta.classify_response(400, {}, graph_error(100, f"Invalid token {TOKEN} given"), token=TOKEN)
    assert result.error is not None and TOKEN not in result.error


# -- GraphSender against the fake -----------------------------------------------------------


def dm(network: str = "facebook", **kw: Any) -> OutboundRequest:
    fields: dict[str, Any] = {
        "network": network,
        "account_external_id": "104523781234567",
        "recipient_id": "6843219870123456",
        "text": "سلام، سفارش شما فردا ارسال می‌شود.",
        "idempotency_key": "outbox-7f3a9c",
    }
    fields.update(kw)
    return OutboundRequest(**fields)


def send(graph: FakeGraph, req: OutboundRequest, token: str = TOKEN) -> Any:
    sender = meta.GraphSender(transport=graph.transport)
    return asyncio.run(sender.send(req, {"access_token": token}))


def test_sender_posts_to_versioned_url_with_bearer_token_not_in_url() -> None:
    graph = FakeGraph()
    result = send(graph, dm())
    assert result.ok and result.external_id and result.external_id.startswith("m_")
    call = graph.calls[0]
    assert call.path == "/v21.0/104523781234567/messages"
    assert call.token == TOKEN
    assert TOKEN not in call.path


def test_sender_rate_limit_honours_retry_after() -> None:
    graph = FakeGraph(retry_after=42)
    graph.queue_failures("rate_limit")
    result = send(graph, dm())
    assert not result.ok and result.retryable and result.retry_after == 42.0
    assert graph.delivered == []
    again = send(graph, dm())
    assert again.ok and len(graph.delivered) == 1


def test_sender_token_expired() -> None:
    graph = FakeGraph()
    graph.queue_failures("token_expired")
    result = send(graph, dm())
    assert result.code == "token_expired" and not result.retryable
    assert TOKEN not in (result.error or "")


def test_sender_server_error_is_retryable() -> None:
    graph = FakeGraph()
    graph.queue_failures("server_error")
    result = send(graph, dm())
    assert not result.ok and result.retryable and result.code is None


@pytest.mark.parametrize("kind", ["timeout", "timeout_after_delivery", "connect_error"])
def test_sender_network_failures_are_retryable(kind: str) -> None:
    graph = FakeGraph()
    graph.queue_failures(kind)
    result = send(graph, dm())
    assert not result.ok and result.retryable
    assert len(graph.calls) == 1
    # The fake tells the outbox test what the customer really got.
    assert len(graph.delivered) == (1 if kind == "timeout_after_delivery" else 0)


def test_sender_without_token_makes_no_call() -> None:
    graph = FakeGraph()
    result = asyncio.run(meta.GraphSender(transport=graph.transport).send(dm(), {}))
    assert not result.ok and result.code == "token_expired"
    assert graph.calls == []


def test_sender_refuses_unknown_network_and_bad_ids_without_calling() -> None:
    graph = FakeGraph()
    assert not send(graph, dm(network="telegram")).ok
    bad = send(graph, dm(account_external_id="../../me"))
    assert bad.code == "invalid_request"
    assert graph.calls == []


def test_sender_shares_one_client_inside_async_with() -> None:
    graph = FakeGraph()

    async def run() -> list[bool]:
        async with meta.GraphSender(transport=graph.transport) as sender:
            results = [await sender.send(dm(), {"access_token": TOKEN}) for _ in range(3)]
        return [r.ok for r in results]

    assert asyncio.run(run()) == [True, True, True]
    assert len(graph.delivered) == 3


def test_sender_handles_non_json_error_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    sender = meta.GraphSender(transport=httpx.MockTransport(handler))
    result = asyncio.run(sender.send(dm(), {"access_token": TOKEN}))
    assert not result.ok and result.retryable and result.error == "HTTP 502 from Graph API"


def test_fake_rejects_unknown_failure_kind() -> None:
    with pytest.raises(ValueError):
        FakeGraph().queue_failures("flaky")
