"""The outbox against the fake networks: a reply made through the API reaches the customer once.

Time is injected (`Clock`), sleeping only advances it; nothing here waits for real.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.channels import meta
from relaydesk.channels.base import InboundEvent, OutboundRequest, SendResult
from relaydesk.channels.generic import GenericSender
from relaydesk.channels.line import LineSender, retry_key
from relaydesk.channels.meta import GraphSender
from relaydesk.channels.outbox import ECHO_WAIT, LEASE, OutboxWorker, TokenBucket, backoff
from relaydesk.channels.telegram import TelegramSender
from relaydesk.channels.x import XSender
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, Message, OutboxItem, TimelineEvent
from tests.api.conftest import login
from tests.channels.accounts import add_accounts
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.line_api import FakeLineApi
from tests.channels.fakes.telegram_api import FakeTelegramApi
from tests.channels.fakes.x_api import FakeXApi

PAGE, PHONE, LINE_BOT, X_ME = "104523781234567", "106540352242922", "Ubot0000000000000000000000000001", "1000"
IG_USER = "17841400123456789"
TG_TOKEN = "123456:TEST-secret-token"


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)


class CrashAfterSend:
    """The network gets the call, then the worker process dies before it records the answer."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def send(self, req: OutboundRequest, credentials: dict[str, Any]) -> SendResult:
        await self.inner.send(req, credentials)
        raise asyncio.CancelledError


@pytest.fixture
def accounts(container: Any) -> dict[str, int]:
    specs: dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]] = {
        "fb": (
            "facebook",
            PAGE,
            {"access_token": "fb-page-token", "app_secret": "meta-secret", "verify_token": "v"},
            {},
        ),
        "wa": (
            "whatsapp",
            PHONE,
            {"access_token": "wa-token", "app_secret": "meta-secret"},
            {"templates": [{"name": "order_update", "language": "fa"}, "apology"]},
        ),
        "line": (
            "line",
            LINE_BOT,
            {"channel_access_token": "line-channel-token", "channel_secret": "ls"},
            {},
        ),
        "tg": ("telegram", "123456", {"bot_token": TG_TOKEN, "webhook_secret": "ts"}, {}),
        "ig": ("instagram", IG_USER, {"access_token": "ig-token", "app_secret": "meta-secret"}, {}),
        "x": ("x", X_ME, {"access_token": "x-token", "consumer_secret": "xs"}, {}),
    }
    return add_accounts(container, "out-", specs)


@pytest.fixture
def sam(app_client: TestClient) -> dict[str, str]:
    return login(app_client, "sam@test.example")


def inbound(container: Any, account_id: int, network: str, external_id: str, **kw: Any) -> int:
    event = InboundEvent(
        network=network,
        external_id=external_id,
        author_id=kw.pop("author_id", "cust-1"),
        text=kw.pop("text", "Where is my order?"),
        **kw,
    )
    return container.pipeline.accept(account_id, event).conversation_id


def reply(client: TestClient, headers: dict[str, str], conversation: int, **body: Any) -> int:
    body.setdefault("text", "Thanks, it ships tomorrow")
    response = client.post(f"/api/v1/conversations/{conversation}/reply", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["message_id"])


def worker(container: Any, senders: dict[str, Any], clock: Clock) -> OutboxWorker:
    return OutboxWorker(container.sessions, container.box, senders, clock=clock, sleep=clock.sleep, seed=1)


def item_of(container: Any, message_id: int) -> OutboxItem:
    with container.sessions() as session:
        return session.scalars(select(OutboxItem).where(OutboxItem.message_id == message_id)).one()


def message(container: Any, message_id: int) -> Message:
    with container.sessions() as session:
        found = session.get(Message, message_id)
        assert found is not None
        return found


def run(w: OutboxWorker) -> int:
    return asyncio.run(w.run_once())


# -- Graph: Messenger and WhatsApp ----------------------------------------------------------------


def test_messenger_reply_is_sent_with_its_key_and_recorded(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(container, accounts["fb"], "facebook", "m_in_1", author_id="psid-1", kind="dm")
    message_id = reply(app_client, sam, conv)
    graph, clock = FakeGraph(), Clock()
    assert run(worker(container, {"facebook": GraphSender(transport=graph.transport)}, clock)) == 1
    assert len(graph.delivered) == 1
    call = graph.delivered[0]
    assert call.endpoint == f"/{PAGE}/messages" and call.body["recipient"] == {"id": "psid-1"}
    assert call.body["message"]["metadata"] == item_of(container, message_id).idempotency_key
    assert call.token == "fb-page-token"
    sent = message(container, message_id)
    assert sent.delivery_status == "sent" and sent.external_id == call.response["message_id"]  # type: ignore[index]
    assert item_of(container, message_id).status == "sent"
    assert run(worker(container, {"facebook": GraphSender(transport=graph.transport)}, clock)) == 0


def test_a_sandbox_account_records_the_reply_as_sent_without_calling_the_network(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    with transaction(container.sessions) as session:
        row = session.get(ChannelAccount, accounts["fb"])
        assert row is not None
        row.settings = {"sandbox": True}
    conv = inbound(container, accounts["fb"], "facebook", "m_sb_1", author_id="psid-9", kind="dm")
    message_id = reply(app_client, sam, conv)
    graph, clock = FakeGraph(), Clock()
    assert run(worker(container, {"facebook": GraphSender(transport=graph.transport)}, clock)) == 1
    assert graph.delivered == []
    sent = message(container, message_id)
    assert sent.delivery_status == "sent"
    assert sent.external_id == "sandbox:" + item_of(container, message_id).idempotency_key
    detail = app_client.get(f"/api/v1/conversations/{conv}", headers=sam).json()
    assert detail["messages"][-1]["external_id"].startswith("sandbox:")
    # Only `true` switches it on: a stray string in the settings must not silence a live account.
    with transaction(container.sessions) as session:
        row = session.get(ChannelAccount, accounts["fb"])
        assert row is not None
        row.settings = {"sandbox": "yes"}
    reply(app_client, sam, conv, text="A second answer")
    assert run(worker(container, {"facebook": GraphSender(transport=graph.transport)}, Clock())) == 1
    assert len(graph.delivered) == 1


def test_comment_is_answered_under_the_comment(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(
        container,
        accounts["fb"],
        "facebook",
        "873215498765432_1200934567812345",
        kind="comment",
        thread_id="post1",
    )
    reply(app_client, sam, conv, text="We have sent you a message")
    graph = FakeGraph()
    run(worker(container, {"facebook": GraphSender(transport=graph.transport)}, Clock()))
    assert [c.endpoint for c in graph.delivered] == ["/873215498765432_1200934567812345/comments"]


def test_rate_limited_send_waits_for_retry_after(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(container, accounts["fb"], "facebook", "m_in_2", author_id="psid-2", kind="dm")
    message_id = reply(app_client, sam, conv)
    graph, clock = FakeGraph(retry_after=30).queue_failures("rate_limit"), Clock()
    w = worker(container, {"facebook": GraphSender(transport=graph.transport)}, clock)
    assert run(w) == 1
    item = item_of(container, message_id)
    due = as_utc(item.next_attempt_at)
    assert item.status == "queued" and due is not None
    assert clock.now + timedelta(seconds=29) <= due <= clock.now + timedelta(seconds=31)
    clock.advance(25)
    assert run(w) == 0  # not due yet
    clock.advance(10)
    assert run(w) == 1
    assert len(graph.delivered) == 1 and message(container, message_id).delivery_status == "sent"


def test_expired_token_fails_with_the_platform_reason(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(container, accounts["fb"], "facebook", "m_in_3", author_id="psid-3", kind="dm")
    message_id = reply(app_client, sam, conv)
    graph = FakeGraph().queue_failures("token_expired")
    run(worker(container, {"facebook": GraphSender(transport=graph.transport)}, Clock()))
    failed = message(container, message_id)
    assert failed.delivery_status == "failed" and failed.delivery_error
    assert "reconnect the account" in failed.delivery_error
    assert "Error validating access token" in failed.delivery_error
    assert "fb-page-token" not in failed.delivery_error
    assert item_of(container, message_id).status == "failed"
    with container.sessions() as session:
        events = session.scalars(select(TimelineEvent).where(TimelineEvent.message_id == message_id)).all()
        assert any(e.kind == "delivery" and e.data["code"] == "token_expired" for e in events)


def test_timeouts_are_retried_and_graph_waits_for_an_echo_first(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(container, accounts["fb"], "facebook", "m_in_4", author_id="psid-4", kind="dm")
    message_id = reply(app_client, sam, conv)
    graph, clock = FakeGraph().queue_failures("timeout", "server_error"), Clock()
    w = worker(container, {"facebook": GraphSender(transport=graph.transport)}, clock)
    run(w)
    item = item_of(container, message_id)
    due = as_utc(item.next_attempt_at)
    assert item.status == "queued" and item.attempts == 1 and due is not None
    assert due >= clock.now + timedelta(seconds=ECHO_WAIT - 1)
    for _ in range(2):
        clock.advance(ECHO_WAIT + 60)
        run(w)
    assert item_of(container, message_id).status == "sent" and item_of(container, message_id).attempts == 3
    assert len(graph.delivered) == 1


def test_gives_up_after_max_attempts(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(container, accounts["fb"], "facebook", "m_in_5", author_id="psid-5", kind="dm")
    message_id = reply(app_client, sam, conv)
    graph, clock = FakeGraph().fail_always("server_error"), Clock()
    w = OutboxWorker(
        container.sessions,
        container.box,
        {"facebook": GraphSender(transport=graph.transport)},
        clock=clock,
        sleep=clock.sleep,
        max_attempts=3,
    )
    for _ in range(5):
        run(w)
        clock.advance(3600)
    assert len(graph.calls) == 3
    failed = message(container, message_id)
    assert failed.delivery_status == "failed" and "gave up after 3 attempts" in (failed.delivery_error or "")


def test_whatsapp_window_closed_at_the_network_fails_with_advice(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(container, accounts["wa"], "whatsapp", "wamid.in1", author_id="98912")
    message_id = reply(app_client, sam, conv)
    graph = FakeGraph().queue_failures("window_closed")
    run(worker(container, {"whatsapp": GraphSender(transport=graph.transport)}, Clock()))
    failed = message(container, message_id)
    assert failed.delivery_status == "failed"
    assert "approved template" in (failed.delivery_error or "") and "131047" in (failed.delivery_error or "")


def test_whatsapp_outside_the_window_only_templates_go(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(
        container,
        accounts["wa"],
        "whatsapp",
        "wamid.in2",
        author_id="98913",
        sent_at=utcnow() - timedelta(days=2),
    )
    url = f"/api/v1/conversations/{conv}/reply"
    refused = app_client.post(url, json={"text": "Hello"}, headers=sam)
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert "24-hour" in detail and "order_update" in detail and "apology" in detail
    unknown = app_client.post(url, json={"text": "x", "template": "not_approved"}, headers=sam)
    assert unknown.status_code == 422 and "not_approved" in unknown.json()["detail"]
    message_id = reply(app_client, sam, conv, text="order update", template="order_update")
    graph = FakeGraph()
    run(worker(container, {"whatsapp": GraphSender(transport=graph.transport)}, Clock()))
    body = graph.delivered[0].body
    assert body["type"] == "template" and body["to"] == "98913"
    assert body["template"] == {"name": "order_update", "language": {"code": "fa"}}
    assert message(container, message_id).external_id == graph.delivered[0].response["messages"][0]["id"]  # type: ignore[index]


def test_per_account_rate_limit_spaces_the_sends(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    with transaction(container.sessions) as session:
        row = session.get(ChannelAccount, accounts["fb"])
        assert row is not None
        row.settings = {"rate_per_second": 1}
    for n in range(3):
        conv = inbound(
            container, accounts["fb"], "facebook", f"m_rate_{n}", author_id=f"psid-r{n}", kind="dm"
        )
        reply(app_client, sam, conv)
    graph, clock = FakeGraph(), Clock()
    assert run(worker(container, {"facebook": GraphSender(transport=graph.transport)}, clock)) == 3
    assert clock.sleeps == [1.0, 1.0] and len(graph.delivered) == 3


def test_a_long_rate_wait_hands_the_rows_back(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    with transaction(container.sessions) as session:
        row = session.get(ChannelAccount, accounts["fb"])
        assert row is not None
        row.settings = {"rate_per_second": 0.01}
    ids = []
    for n in range(2):
        conv = inbound(
            container, accounts["fb"], "facebook", f"m_slow_{n}", author_id=f"psid-s{n}", kind="dm"
        )
        ids.append(reply(app_client, sam, conv))
    graph, clock = FakeGraph(), Clock()
    assert run(worker(container, {"facebook": GraphSender(transport=graph.transport)}, clock)) == 1
    later = item_of(container, ids[1])
    assert later.status == "queued" and later.attempts == 0  # no attempt used up
    assert (as_utc(later.next_attempt_at) or clock.now) > clock.now + timedelta(seconds=60)


# -- killed mid-send -----------------------------------------------------------------------------


def echo_of(call: Any) -> bytes:
    """The message_echoes webhook Meta sends for one of our Messenger sends."""
    event = {
        "sender": {"id": PAGE},
        "recipient": call.body["recipient"],
        "timestamp": 1718000002000,
        "message": {
            "is_echo": True,
            "app_id": 1517776481860111,
            "metadata": call.body["message"]["metadata"],
            "mid": call.response["message_id"],
            "text": call.body["message"]["text"],
        },
    }
    return json.dumps({"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [event]}]}).encode()


def post_meta(client: TestClient, body: bytes) -> dict[str, Any]:
    response = client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta.sign(body, "meta-secret")}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_messenger_killed_mid_send_is_confirmed_by_its_echo_not_resent(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(container, accounts["fb"], "facebook", "m_in_c1", author_id="psid-c1", kind="dm")
    message_id = reply(app_client, sam, conv)
    graph, clock = FakeGraph(), Clock()
    dying = worker(container, {"facebook": CrashAfterSend(GraphSender(transport=graph.transport))}, clock)
    with pytest.raises(asyncio.CancelledError):
        run(dying)
    assert len(graph.delivered) == 1 and item_of(container, message_id).status == "sending"
    assert post_meta(app_client, echo_of(graph.delivered[0]))["confirmed"] == 1
    clock.advance(LEASE.total_seconds() + 1)
    assert run(worker(container, {"facebook": GraphSender(transport=graph.transport)}, clock)) == 0
    assert len(graph.delivered) == 1  # exactly one copy reached the customer
    sent = message(container, message_id)
    assert sent.delivery_status == "sent" and sent.external_id == graph.delivered[0].response["message_id"]  # type: ignore[index]


def test_lost_answer_then_echo_means_no_resend(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(container, accounts["fb"], "facebook", "m_in_c2", author_id="psid-c2", kind="dm")
    message_id = reply(app_client, sam, conv)
    graph, clock = FakeGraph().queue_failures("timeout_after_delivery"), Clock()
    w = worker(container, {"facebook": GraphSender(transport=graph.transport)}, clock)
    run(w)
    assert item_of(container, message_id).status == "queued"  # waiting ECHO_WAIT for the echo
    post_meta(app_client, echo_of(graph.delivered[0]))
    clock.advance(ECHO_WAIT + 1)
    assert run(w) == 0 and len(graph.delivered) == 1
    assert message(container, message_id).delivery_status == "sent"


def test_without_an_echo_a_crashed_graph_send_is_resent(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    """The documented at-least-once window: no echo within the lease, the row is sent again."""
    conv = inbound(container, accounts["fb"], "facebook", "m_in_c3", author_id="psid-c3", kind="dm")
    message_id = reply(app_client, sam, conv)
    graph, clock = FakeGraph(), Clock()
    with pytest.raises(asyncio.CancelledError):
        run(worker(container, {"facebook": CrashAfterSend(GraphSender(transport=graph.transport))}, clock))
    clock.advance(LEASE.total_seconds() - 5)
    assert run(worker(container, {"facebook": GraphSender(transport=graph.transport)}, clock)) == 0
    clock.advance(10)
    assert run(worker(container, {"facebook": GraphSender(transport=graph.transport)}, clock)) == 1
    assert item_of(container, message_id).attempts == 2 and len(graph.delivered) == 2


def test_whatsapp_killed_mid_send_is_confirmed_by_its_status(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(container, accounts["wa"], "whatsapp", "wamid.in3", author_id="98914")
    message_id = reply(app_client, sam, conv)
    graph, clock = FakeGraph(), Clock()
    with pytest.raises(asyncio.CancelledError):
        run(worker(container, {"whatsapp": CrashAfterSend(GraphSender(transport=graph.transport))}, clock))
    call = graph.delivered[0]
    wamid = call.response["messages"][0]["id"]  # type: ignore[index]
    status = {
        "id": wamid,
        "status": "delivered",
        "timestamp": "1718000100",
        "recipient_id": "98914",
        "biz_opaque_callback_data": call.body["biz_opaque_callback_data"],
    }
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE}, "statuses": [status]}
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()
    outcome = post_meta(app_client, body)
    assert outcome["confirmed"] == 1 and outcome["statuses_updated"] == 1
    clock.advance(LEASE.total_seconds() + 1)
    assert run(worker(container, {"whatsapp": GraphSender(transport=graph.transport)}, clock)) == 0
    assert len(graph.delivered) == 1
    done = message(container, message_id)
    assert done.external_id == wamid and done.delivery_status == "delivered"


def test_line_killed_mid_push_relies_on_the_retry_key(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    api = FakeLineApi()
    conv = inbound(
        container,
        accounts["line"],
        "line",
        "468789577898262530",
        author_id="Ucust",
        thread_id="Ucust",
        raw={"replyToken": api.issue_reply_token()},
    )
    message_id = reply(app_client, sam, conv)
    clock = Clock(utcnow() + timedelta(minutes=5))  # the reply token has expired: push
    sender = LineSender(transport=api.transport, base_url=api.base_url)
    with pytest.raises(asyncio.CancelledError):
        run(worker(container, {"line": CrashAfterSend(sender)}, clock))
    clock.advance(LEASE.total_seconds() + 1)
    assert run(worker(container, {"line": sender}, clock)) == 1
    assert len(api.delivered) == 1 and api.delivered[0]["to"] == "Ucust"
    key = retry_key(item_of(container, message_id).idempotency_key)
    assert [c.headers.get("x-line-retry-key") for c in api.calls] == [key, key]
    assert message(container, message_id).delivery_status == "sent"


def test_line_fresh_reply_token_is_used_on_the_first_attempt(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    api = FakeLineApi()
    token = api.issue_reply_token()
    conv = inbound(
        container,
        accounts["line"],
        "line",
        "468789577898262531",
        author_id="Ucust2",
        thread_id="Ucust2",
        raw={"replyToken": token},
    )
    reply(app_client, sam, conv)
    run(worker(container, {"line": LineSender(transport=api.transport, base_url=api.base_url)}, Clock()))
    assert [c.path for c in api.calls] == ["/v2/bot/message/reply"] and api.delivered[0][
        "to"
    ] == f"reply:{token}"


def test_x_resend_after_a_crash_is_recognised_as_a_duplicate(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    api = FakeXApi(me=X_ME)
    customer = api.add_user("Sara", "sara_a")
    tweet = api.add_post(customer, "@brand my order never arrived", mentions=[X_ME])
    conv = inbound(container, accounts["x"], "x", tweet, author_id=customer, kind="mention")
    message_id = reply(app_client, sam, conv, text="Sorry Sara, we sent you a DM")
    sender, clock = XSender(transport=api.transport, base_url=api.base_url), Clock()
    with pytest.raises(asyncio.CancelledError):
        run(worker(container, {"x": CrashAfterSend(sender)}, clock))
    clock.advance(LEASE.total_seconds() + 1)
    run(worker(container, {"x": sender}, clock))
    ours = [p for p in api.posts if p["author_id"] == X_ME]
    assert len(ours) == 1 and ours[0]["referenced_tweets"] == [{"type": "replied_to", "id": tweet}]
    assert item_of(container, message_id).status == "sent"


# -- delivery status on the message, as the conversation detail API shows it ---------------------


def whatsapp_status(wamid: str, state: str, **extra: Any) -> bytes:
    status = {"id": wamid, "status": state, "timestamp": "1718000200", "recipient_id": "98920", **extra}
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE}, "statuses": [status]}
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


def test_delivery_status_moves_on_the_message_in_the_conversation_detail(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(container, accounts["wa"], "whatsapp", "wamid.in20", author_id="98920")

    def shown(message_id: int) -> tuple[str, str | None]:
        detail = app_client.get(f"/api/v1/conversations/{conv}", headers=sam)
        assert detail.status_code == 200, detail.text
        found = next(m for m in detail.json()["messages"] if m["id"] == message_id)
        return found["delivery_status"], found["delivery_error"]

    first = reply(app_client, sam, conv)
    assert shown(first) == ("queued", None)
    graph = FakeGraph()
    run(worker(container, {"whatsapp": GraphSender(transport=graph.transport)}, Clock()))
    assert shown(first) == ("sent", None)
    wamid = graph.delivered[0].response["messages"][0]["id"]  # type: ignore[index]
    for state in ("delivered", "read"):
        assert post_meta(app_client, whatsapp_status(wamid, state))["statuses_updated"] == 1
        assert shown(first) == (state, None)
    # A late "delivered" after "read" does not move it back.
    post_meta(app_client, whatsapp_status(wamid, "delivered"))
    assert shown(first) == ("read", None)

    second = reply(app_client, sam, conv, text="And the invoice")
    run(worker(container, {"whatsapp": GraphSender(transport=graph.transport)}, Clock()))
    wamid2 = graph.delivered[1].response["messages"][0]["id"]  # type: ignore[index]
    errors = [
        {"code": 131026, "title": "Message undeliverable", "error_data": {"details": "Receiver is incapable"}}
    ]
    post_meta(app_client, whatsapp_status(wamid2, "failed", errors=errors))
    state, reason = shown(second)
    assert (
        state == "failed" and reason is not None and "131026" in reason and "Receiver is incapable" in reason
    )


# -- the documented at-least-once windows: no key on the network's side, nothing handed back ------


def crash_then_restart(container: Any, network: str, sender: Any, message_id: int) -> None:
    """Kill the worker after the network took the reply; restart it before and after the lease."""
    clock = Clock()
    with pytest.raises(asyncio.CancelledError):
        run(worker(container, {network: CrashAfterSend(sender)}, clock))
    assert item_of(container, message_id).status == "sending"
    clock.advance(LEASE.total_seconds() - 5)
    assert run(worker(container, {network: sender}, clock)) == 0  # the lease still holds it
    clock.advance(10)
    assert run(worker(container, {network: sender}, clock)) == 1
    assert item_of(container, message_id).status == "sent" and item_of(container, message_id).attempts == 2


def test_telegram_killed_mid_send_is_sent_again_after_the_lease(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    """Telegram's sendMessage takes no idempotency key: the README's at-least-once window."""
    api = FakeTelegramApi(token=TG_TOKEN)
    conv = inbound(container, accounts["tg"], "telegram", "42:9", author_id="42", thread_id="42", kind="dm")
    message_id = reply(app_client, sam, conv)
    crash_then_restart(
        container, "telegram", TelegramSender(transport=api.transport, base_url=api.base_url), message_id
    )
    assert len(api.sent) == 2
    assert message(container, message_id).external_id == f"42:{api.sent[1]['message_id']}"


def test_instagram_killed_mid_send_is_sent_again_after_the_lease(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    """Instagram hands no key back in its echoes: the README's at-least-once window."""
    conv = inbound(container, accounts["ig"], "instagram", "aWdfZAG1_in1", author_id="igsid-1", kind="dm")
    message_id = reply(app_client, sam, conv)
    graph = FakeGraph()
    crash_then_restart(container, "instagram", GraphSender(transport=graph.transport), message_id)
    assert [c.endpoint for c in graph.delivered] == [f"/{IG_USER}/messages"] * 2
    assert message(container, message_id).external_id == graph.delivered[1].response["message_id"]  # type: ignore[index]


def test_line_killed_after_a_reply_token_send_pushes_a_second_copy(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    """A reply token is single use and takes no retry key: the README's at-least-once window."""
    api = FakeLineApi()
    token = api.issue_reply_token()
    conv = inbound(
        container,
        accounts["line"],
        "line",
        "468789577898262599",
        author_id="Ucust9",
        thread_id="Ucust9",
        raw={"replyToken": token},
    )
    message_id = reply(app_client, sam, conv)
    crash_then_restart(
        container, "line", LineSender(transport=api.transport, base_url=api.base_url), message_id
    )
    assert [d["to"] for d in api.delivered] == [f"reply:{token}", "Ucust9"]


def test_x_dm_killed_mid_send_is_sent_again_after_the_lease(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    """X refuses a duplicate post but not a duplicate DM: the README's at-least-once window."""
    api = FakeXApi(me=X_ME)
    customer = api.add_user("Sara", "sara_a")
    conv = inbound(container, accounts["x"], "x", "dm-ev-1", author_id=customer, kind="dm")
    message_id = reply(app_client, sam, conv, text="We have sent the invoice")
    crash_then_restart(container, "x", XSender(transport=api.transport, base_url=api.base_url), message_id)
    assert [d["to"] for d in api.dms] == [customer, customer]


def test_credentials_never_reach_the_logs_or_the_message(
    app_client: TestClient,
    container: Any,
    accounts: dict[str, int],
    sam: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    api, graph = FakeTelegramApi(token=TG_TOKEN), FakeGraph().queue_failures("token_expired")
    tg = reply(
        app_client, sam, inbound(container, accounts["tg"], "telegram", "43:900", author_id="43", kind="dm")
    )
    fb = reply(
        app_client,
        sam,
        inbound(container, accounts["fb"], "facebook", "m_tok", author_id="psid-t", kind="dm"),
    )
    senders = {
        "telegram": TelegramSender(transport=api.transport, base_url=api.base_url),
        "facebook": GraphSender(transport=graph.transport),
    }
    with caplog.at_level("DEBUG"):
        run(worker(container, senders, Clock()))
    assert len(api.sent) == 1 and message(container, fb).delivery_status == "failed"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "sendMessage" in logged  # httpx did log the request, with the token taken out
    shown = logged + str(message(container, tg).delivery_error) + str(message(container, fb).delivery_error)
    for secret in (TG_TOKEN, TG_TOKEN.split(":")[1], "fb-page-token", "meta-secret"):
        assert secret not in shown


def test_telegram_timeout_is_retried_into_the_chat(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    api = FakeTelegramApi(token=TG_TOKEN)
    conv = inbound(container, accounts["tg"], "telegram", "42:7", author_id="42", thread_id="42", kind="dm")
    message_id = reply(app_client, sam, conv)
    api.fail_next("timeout")
    clock = Clock()
    w = worker(container, {"telegram": TelegramSender(transport=api.transport, base_url=api.base_url)}, clock)
    run(w)
    assert item_of(container, message_id).status == "queued" and not api.sent
    clock.advance(3600)
    run(w)
    assert len(api.sent) == 1 and api.sent[0]["reply_to_message"]["message_id"] == 7
    assert message(container, message_id).external_id == "42:1"


def test_run_forever_sends_and_stops_when_told(
    app_client: TestClient, container: Any, accounts: dict[str, int], sam: dict[str, str]
) -> None:
    conv = inbound(container, accounts["fb"], "facebook", "m_in_loop", author_id="psid-loop", kind="dm")
    message_id = reply(app_client, sam, conv)
    graph = FakeGraph()

    async def main() -> None:
        stop = asyncio.Event()

        class StopAfterSend:
            async def send(self, req: OutboundRequest, credentials: dict[str, Any]) -> SendResult:
                result = await GraphSender(transport=graph.transport).send(req, credentials)
                stop.set()
                return result

        await worker(container, {"facebook": StopAfterSend()}, Clock()).run_forever(stop, every=0.01)

    asyncio.run(main())
    assert len(graph.delivered) == 1 and item_of(container, message_id).status == "sent"


# -- the generic webhook: the receiver de-duplicates on our key ------------------------------------


class FakeReviewSite:
    """A receiver of the documented generic webhook: it keeps one post per `id` (our idempotency key)."""

    def __init__(self) -> None:
        self.delivered: dict[str, dict[str, Any]] = {}
        self.calls = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        body = json.loads(request.content)
        self.delivered.setdefault(body["id"], body)
        return httpx.Response(200, json={"id": f"site-{len(self.delivered)}"})


def test_generic_killed_mid_send_reaches_the_receiver_once(
    app_client: TestClient, container: Any, sam: dict[str, str]
) -> None:
    with transaction(container.sessions) as session:
        row = session.scalars(select(ChannelAccount).where(ChannelAccount.key == "north-generic")).one()
        creds = container.box.open(row.credentials_encrypted)
        row.credentials_encrypted = container.box.seal({**creds, "url": "https://reviews.example/reply"})
        account_id = row.id
    conv = inbound(container, account_id, "generic", "rev-1", kind="review")
    message_id = reply(app_client, sam, conv)
    site, clock = FakeReviewSite(), Clock()
    sender = GenericSender(transport=httpx.MockTransport(site.handler))
    with pytest.raises(asyncio.CancelledError):
        run(worker(container, {"generic": CrashAfterSend(sender)}, clock))
    clock.advance(LEASE.total_seconds() + 1)
    assert run(worker(container, {"generic": sender}, clock)) == 1
    assert site.calls == 2 and len(site.delivered) == 1
    assert message(container, message_id).external_id == "site-1"


# -- pure parts ------------------------------------------------------------------------------------


def test_backoff_grows_with_full_jitter_and_honours_retry_after() -> None:
    rng = random.Random(3)
    first = [backoff(1, None, rng) for _ in range(50)]
    sixth = [backoff(6, None, rng) for _ in range(50)]
    assert all(0 <= d <= 2.0 for d in first) and all(0 <= d <= 64.0 for d in sixth)
    assert max(sixth) > 2.0  # the ceiling really grows
    assert backoff(1, 30.0, rng) >= 30.0


def test_token_bucket_reserves_in_order() -> None:
    bucket = TokenBucket(rate=2.0, capacity=2.0)
    assert [bucket.take(100.0) for _ in range(4)] == [0.0, 0.0, 0.5, 1.0]
    assert bucket.take(110.0) == 0.0  # refilled
