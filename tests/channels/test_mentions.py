"""Mentions of a brand on Facebook and Instagram: taken in as conversations, answered in place.

Facebook: the Page webhook's ``mention`` field and ``feed`` posts the Page is tagged in
(fixtures/meta/page_mentions.json, in the documented shapes). Instagram: the ``mentions`` webhook
carries ids only; the text and author are fetched from the Graph API in the background (a fake
Graph answering as Instagram's Mentions guide documents), and replies go through
``POST /{ig-user-id}/mentions``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.channels import facebook, graph, instagram, meta
from relaydesk.channels.base import NEEDS_DETAILS, ParsedEvent, ParseResult
from relaydesk.channels.check import check_accounts
from relaydesk.channels.mentions import LEASE, MentionDetails
from relaydesk.channels.meta import GraphSender
from relaydesk.channels.outbox import OutboxWorker
from relaydesk.channels.service import IngestService
from relaydesk.core.timeutil import utcnow
from relaydesk.models import Contact, Conversation, Message, OutboxItem, PendingMention
from tests.api.conftest import login
from tests.channels.accounts import add_accounts
from tests.channels.fakes.graph import FakeGraph

FIXTURES = Path(__file__).parent / "fixtures" / "meta"
PAGE = "104523781234567"
IG_USER = "17841400123456789"
CAPTION_MEDIA = "18098765432100000"
COMMENT_MEDIA = "18098765432109876"
COMMENT = "17899999999999999"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)


@pytest.fixture
def accounts(container: Any) -> dict[str, int]:
    specs = {
        "fb": ("facebook", PAGE, {"access_token": "fb-page-token", "app_secret": "meta-secret"}, {}),
        "ig": ("instagram", IG_USER, {"access_token": "ig-user-token", "app_secret": "meta-secret"}, {}),
    }
    return add_accounts(container, "mention-", specs)


def meta_post(client: TestClient, payload: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(payload, ensure_ascii=False).encode()
    response = client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta.sign(body, "meta-secret")}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def inbound_messages(container: Any, account_id: int) -> list[Message]:
    with container.sessions() as session:
        return list(
            session.scalars(
                select(Message)
                .where(Message.account_id == account_id, Message.direction == "inbound")
                .order_by(Message.id)
            )
        )


def contact_name(container: Any, message: Message) -> str:
    with container.sessions() as session:
        contact = session.get(Contact, message.contact_id)
        assert contact is not None
        return contact.display_name


def pending_rows(container: Any) -> list[PendingMention]:
    with container.sessions() as session:
        return list(session.scalars(select(PendingMention).order_by(PendingMention.id)))


def reply_and_send(
    client: TestClient, container: Any, conversation_id: int, graph: FakeGraph, network: str
) -> tuple[Any, Any]:
    headers = login(client, "admin@test.example")
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/reply",
        json={"text": "ممنون، پیگیری می‌کنیم"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    clock = Clock()
    worker = OutboxWorker(
        container.sessions,
        container.box,
        {network: GraphSender(transport=graph.transport)},
        clock=clock,
        sleep=clock.sleep,
        seed=1,
    )
    assert asyncio.run(worker.run_once()) == 1
    with container.sessions() as session:
        item = session.scalars(
            select(OutboxItem).where(OutboxItem.message_id == response.json()["message_id"])
        ).one()
        return graph.calls[-1], item


# -- Facebook Page mentions --------------------------------------------------------------------


def parsed_page_mentions() -> ParseResult:
    payload = json.loads((FIXTURES / "page_mentions.json").read_text(encoding="utf-8"))
    result = ParseResult()
    for index, entry in enumerate(payload["entry"]):
        graph.merge(result, facebook.parse_entry(entry, index))
    return result


def test_page_mention_field_and_tagged_feed_posts_are_mentions() -> None:
    result = parsed_page_mentions()
    assert result.errors == [] and result.ignored == []
    events = [(e.action, e.event.kind, e.event.external_id) for e in result.events]
    assert events == [
        ("create", "mention", "7283645019283746_998877665544332"),
        ("create", "mention", "443322110099887_1200000000000001"),
        ("create", "mention", "6012345678901234_112233445566778"),  # tagged, via feed
        ("create", "mention", "6012345678901234_112233445566778"),  # the same post, via mention
        ("create", "mention", "104523781234567_873215400000077"),  # tagged on our own timeline
        ("echo", "mention", "104523781234567_873215400000088"),  # the Page naming itself
        ("delete", "mention", "7283645019283746_998877665544000"),
    ]
    post, comment = result.events[0].event, result.events[1].event
    assert (post.author_id, post.author_name) == ("7283645019283746", "سارا احمدی")
    assert post.thread_id == post.external_id and post.text.startswith("سفارشم از Bazaar Shop")
    assert post.sent_at is not None and result.events[0].account_ref == PAGE
    assert comment.thread_id == "5566778899001122_443322110099887" and comment.reply_to_id is None
    assert comment.author_id == "7766554433221100" and comment.text.startswith("اسألوا")


def test_page_mention_without_an_author_is_an_error_and_odd_verbs_are_ignored() -> None:
    entry = {
        "id": PAGE,
        "changes": [
            {"field": "mention", "value": {"post_id": "1_2", "item": "post", "verb": "add", "message": "x"}},
            {
                "field": "mention",
                "value": {"post_id": "1_3", "item": "post", "verb": "hide", "sender_id": "1"},
            },
        ],
    }
    result = facebook.parse_entry(entry, 0)
    assert result.events == [] and result.errors == ["entry[0].changes[0]: missing sender_id"]
    assert result.ignored == ["entry[0].changes[1].value: mention post verb 'hide' not handled"]


def test_page_mentions_become_conversations_once_over_the_webhook(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    payload = json.loads((FIXTURES / "page_mentions.json").read_text(encoding="utf-8"))
    outcome = meta_post(app_client, payload)
    accepted = [(a["external_id"], a["duplicate"]) for a in outcome["accepted"]]
    assert accepted == [
        ("7283645019283746_998877665544332", False),
        ("443322110099887_1200000000000001", False),
        ("6012345678901234_112233445566778", False),
        ("6012345678901234_112233445566778", True),  # seen twice, stored once
        ("104523781234567_873215400000077", False),
    ]
    stored = inbound_messages(container, accounts["fb"])
    assert [m.kind for m in stored] == ["mention"] * 4
    assert [contact_name(container, m) for m in stored] == [
        "سارا احمدی",
        "مریم رضایی",
        "สมชาย ใจดี",
        "דנה כהן",
    ]
    assert meta_post(app_client, payload)["accepted"][0]["duplicate"] is True
    assert len(inbound_messages(container, accounts["fb"])) == 4


def test_a_reply_to_a_page_mention_is_a_comment_under_it(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    payload = json.loads((FIXTURES / "page_mentions.json").read_text(encoding="utf-8"))
    payload["entry"][0]["changes"] = payload["entry"][0]["changes"][:1]
    meta_post(app_client, payload)
    [mention] = inbound_messages(container, accounts["fb"])
    call, item = reply_and_send(app_client, container, mention.conversation_id, FakeGraph(), "facebook")
    assert call.endpoint == "/7283645019283746_998877665544332/comments"
    assert call.body == {"message": "ممنون، پیگیری می‌کنیم"} and item.status == "sent"


# -- Instagram mentions: held, completed in the background, answered in place ---------------------


def ig_mentions(*values: dict[str, str]) -> dict[str, Any]:
    """The documented `mentions` webhook (Instagram Mentions guide): ids only."""
    return {
        "object": "instagram",
        "entry": [
            {
                "id": IG_USER,
                "time": 1718100000,
                "changes": [{"field": "mentions", "value": value} for value in values],
            }
        ],
    }


CAPTION = {"media_id": CAPTION_MEDIA}
IN_COMMENT = {"comment_id": COMMENT, "media_id": COMMENT_MEDIA}


def fake_graph() -> FakeGraph:
    graph = FakeGraph()
    graph.add_mentioned_media(
        IG_USER, CAPTION_MEDIA, caption="bazaarshop سفارشم شکسته رسید 😡", username="niloofar.shop"
    )
    graph.add_mentioned_comment(
        IG_USER, COMMENT, media_id=COMMENT_MEDIA, text="bazaarshop لم يصل طلبي بعد", username="layla_q8"
    )
    return graph


def test_instagram_mentions_are_held_then_fetched_in_the_background(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    outcome = meta_post(app_client, ig_mentions(CAPTION, IN_COMMENT))
    # Nothing half empty reaches the inbox, and Meta is answered without a Graph call.
    assert outcome["accepted"] == [] and [p["external_id"] for p in outcome["pending"]] == [
        CAPTION_MEDIA,
        COMMENT,
    ]
    assert inbound_messages(container, accounts["ig"]) == []
    assert [(r.external_id, r.status) for r in pending_rows(container)] == [
        (CAPTION_MEDIA, "pending"),
        (COMMENT, "pending"),
    ]
    graph = fake_graph()
    assert asyncio.run(MentionDetails.of(container, transport=graph.transport).run_once()) == 2
    caption, comment = inbound_messages(container, accounts["ig"])
    assert (caption.external_id, caption.kind, caption.thread_external_id) == (
        CAPTION_MEDIA,
        "mention",
        CAPTION_MEDIA,
    )
    assert caption.text == "bazaarshop سفارشم شکسته رسید 😡"
    assert contact_name(container, caption) == "niloofar.shop"
    assert caption.attachments[0]["url"].startswith("https://www.instagram.com/p/")
    assert (comment.external_id, comment.thread_external_id) == (COMMENT, COMMENT_MEDIA)
    assert comment.text == "bazaarshop لم يصل طلبي بعد" and contact_name(container, comment) == "layla_q8"
    assert caption.processed_at is not None  # triaged and routed on the real text
    asked = [(c.method, c.endpoint) for c in graph.calls]
    assert asked == [("GET", f"/{IG_USER}")] * 2
    assert graph.calls[0].token == "ig-user-token"
    assert pending_rows(container) == []
    # A redelivered webhook points at the message we have; nothing is held again.
    again = meta_post(app_client, ig_mentions(CAPTION))
    assert again["pending"] == [] and again["accepted"][0]["duplicate"] is True
    assert pending_rows(container) == [] and len(inbound_messages(container, accounts["ig"])) == 2


def hold(container: Any, account_id: int, *values: dict[str, str]) -> None:
    parsed = ParseResult(
        events=[
            ParsedEvent(
                IG_USER, instagram.parse_mention(IG_USER, value, 1718100000).events[0].event, NEEDS_DETAILS
            )
            for value in values
        ]
    )
    outcome = IngestService(container).accept_parsed(account_id, parsed)
    assert len(outcome["pending"]) == len(values)


def test_a_failed_fetch_keeps_the_mention_pending_and_retries_it(
    container: Any, accounts: dict[str, int]
) -> None:
    hold(container, accounts["ig"], CAPTION)
    graph, clock = fake_graph().queue_failures("server_error"), Clock()
    details = MentionDetails.of(container, transport=graph.transport, clock=clock)
    assert asyncio.run(details.run_once()) == 1
    [row] = pending_rows(container)
    assert (row.status, row.attempts) == ("pending", 1) and "unexpected error" in (row.last_error or "")
    assert inbound_messages(container, accounts["ig"]) == []
    assert asyncio.run(details.run_once()) == 0  # not due yet: backing off
    clock.advance(31)
    graph.queue_failures("token_expired")
    assert asyncio.run(details.run_once()) == 1
    [row] = pending_rows(container)
    assert row.status == "pending" and "ig-user-token" not in (row.last_error or "")
    clock.advance(1800)
    assert asyncio.run(details.run_once()) == 0  # a refused token is tried again hourly
    clock.advance(1801)
    assert asyncio.run(details.run_once()) == 1
    [message] = inbound_messages(container, accounts["ig"])
    assert message.text.startswith("bazaarshop") and pending_rows(container) == []


def test_a_worker_that_dies_mid_fetch_loses_nothing(container: Any, accounts: dict[str, int]) -> None:
    hold(container, accounts["ig"], IN_COMMENT)
    graph, clock = fake_graph(), Clock()
    dying = MentionDetails.of(container, transport=graph.transport, clock=clock)
    assert len(dying.claim()) == 1  # ... and the process is killed before it records anything
    assert pending_rows(container)[0].status == "fetching"
    later = MentionDetails.of(container, transport=graph.transport, clock=clock)
    assert asyncio.run(later.run_once()) == 0  # still leased
    clock.advance(LEASE.total_seconds() + 1)
    assert asyncio.run(later.run_once()) == 1
    assert [m.external_id for m in inbound_messages(container, accounts["ig"])] == [COMMENT]


def test_a_mention_instagram_will_not_describe_is_kept_as_failed_and_counted(
    container: Any, accounts: dict[str, int]
) -> None:
    hold(container, accounts["ig"], {"media_id": "18000000000000404"})  # deleted since
    graph = fake_graph()
    assert asyncio.run(MentionDetails.of(container, transport=graph.transport).run_once()) == 1
    [row] = pending_rows(container)
    assert row.status == "failed" and "does not exist" in (row.last_error or "")
    assert asyncio.run(MentionDetails.of(container, transport=graph.transport).run_once()) == 0
    with container.sessions() as session:
        [ig] = [
            r for r in check_accounts(session, container.box, "https://rd.example") if r.key == "mention-ig"
        ]
    assert any("1 mention(s) Instagram will not describe" in note for note in ig.notes)


def accept_fetched(container: Any, account_id: int, value: dict[str, str]) -> int:
    graph = fake_graph()
    hold(container, account_id, value)
    asyncio.run(MentionDetails.of(container, transport=graph.transport).run_once())
    external_id = value.get("comment_id") or value["media_id"]
    with container.sessions() as session:
        return int(
            session.scalars(
                select(Conversation.id)
                .join(Message, Message.conversation_id == Conversation.id)
                .where(Message.external_id == external_id)
            ).one()
        )


def test_a_reply_to_a_caption_mention_goes_through_the_mentions_edge(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    conversation = accept_fetched(container, accounts["ig"], CAPTION)
    call, item = reply_and_send(app_client, container, conversation, fake_graph(), "instagram")
    assert call.endpoint == f"/{IG_USER}/mentions"
    assert call.body == {"media_id": CAPTION_MEDIA, "message": "ممنون، پیگیری می‌کنیم"}
    assert item.status == "sent" and call.outcome == "ok" and call.response["id"]


def test_a_reply_to_a_comment_mention_names_the_comment_too(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    conversation = accept_fetched(container, accounts["ig"], IN_COMMENT)
    call, item = reply_and_send(app_client, container, conversation, fake_graph(), "instagram")
    assert call.endpoint == f"/{IG_USER}/mentions"
    assert call.body == {"media_id": COMMENT_MEDIA, "comment_id": COMMENT, "message": "ممنون، پیگیری می‌کنیم"}
    assert item.status == "sent"


def test_a_story_mention_is_answered_by_dm(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    story = {
        "object": "instagram",
        "entry": [
            {
                "id": IG_USER,
                "time": 1718100000,
                "messaging": [
                    {
                        "sender": {"id": "1122334455667788"},
                        "recipient": {"id": IG_USER},
                        "timestamp": 1718100000000,
                        "message": {
                            "mid": "aWdfZAG1faXRlbTpzdG9yeV9tZW50aW9u",
                            "attachments": [
                                {
                                    "type": "story_mention",
                                    "payload": {
                                        "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"
                                    },
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    meta_post(app_client, story)
    [mention] = inbound_messages(container, accounts["ig"])
    assert mention.kind == "mention"
    call, _item = reply_and_send(app_client, container, mention.conversation_id, FakeGraph(), "instagram")
    assert call.endpoint == f"/{IG_USER}/messages" and call.body["recipient"] == {"id": "1122334455667788"}
