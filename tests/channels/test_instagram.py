"""Instagram: DMs (Messenger Platform shapes), comments, live comments, mentions, replies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from relaydesk.channels import graph, instagram, meta
from relaydesk.channels.base import OutboundRequest, ParsedEvent, ParseResult

from .fakes.graph import FakeGraph

FIXTURES = Path(__file__).parent / "fixtures" / "meta"
IG1, IG2 = "17841400123456789", "17841405555555555"
IGSID1 = "1122334455667788"
MEDIA = "18012345678901234"
TOKEN = "IGQWRPa1ZAtest-instagram-token"


IGMID_PREFIX = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMTIzNDU2Nzg5OjM0MDI4MjM2Njg0MTcxMDMwMDk0OTEyODE"


def igmid(n: int) -> str:
    return f"{IGMID_PREFIX}{n:04d}"


@pytest.fixture(scope="module")
def result() -> ParseResult:
    payload = json.loads((FIXTURES / "instagram.json").read_text(encoding="utf-8"))
    merged = ParseResult()
    for index, entry in enumerate(payload["entry"]):
        graph.merge(merged, instagram.parse_entry(entry, index))
    return merged


def by_id(result: ParseResult, external_id: str, action: str = "create") -> ParsedEvent:
    found = [e for e in result.events if e.event.external_id == external_id and e.action == action]
    assert len(found) == 1, (external_id, action)
    return found[0]


def test_dm_thread_is_the_sender(result: ParseResult) -> None:
    parsed = by_id(result, igmid(1))
    assert parsed.account_ref == IG1
    assert parsed.event.network == "instagram" and parsed.event.kind == "dm"
    assert parsed.event.thread_id == IGSID1 == parsed.event.author_id
    assert parsed.event.text == "สวัสดีครับ สินค้ายังไม่ถึงเลย ช่วยตรวจสอบให้หน่อย"


def test_story_mention_and_story_reply(result: ParseResult) -> None:
    mention = by_id(result, igmid(2))
    assert mention.event.kind == "mention"
    assert mention.event.attachments[0].url is not None
    reply = by_id(result, igmid(3))
    assert reply.event.reply_to_id == "17890000000000002"
    assert reply.event.text == "سلام، سفارش من هنوز نرسیده. کی ارسال می‌شود؟"


def test_echo_reaction_unsend_edit_read(result: ParseResult) -> None:
    echo = by_id(result, igmid(4), "echo")
    assert echo.event.author_id == IG1 and echo.event.thread_id == IGSID1
    reaction = next(e for e in result.events if e.action == "reaction")
    assert reaction.event.reply_to_id == igmid(4) and reaction.event.text == "\u2764\ufe0f"
    assert by_id(result, igmid(2), "delete").event.text == ""
    assert by_id(result, igmid(1), "edit").event.text.endswith("(แก้ไข)")
    assert [(s.external_id, s.status) for s in result.statuses] == [(igmid(4), "read")]


def test_dm_attachments(result: ParseResult) -> None:
    event = by_id(result, igmid(9)).event
    assert [a.kind for a in event.attachments] == ["image", "other"]
    assert event.attachments[1].name == "New arrivals"


def test_comment_threads_on_media(result: ParseResult) -> None:
    parsed = by_id(result, "17865432109876543")
    assert parsed.account_ref == IG2
    event = parsed.event
    assert event.kind == "comment" and event.thread_id == MEDIA and event.reply_to_id is None
    assert event.author_handle == "niloofar.shop"
    assert event.sent_at is not None


def test_comment_reply_points_at_parent(result: ParseResult) -> None:
    event = by_id(result, "17865432109876544").event
    assert event.reply_to_id == "17865432109876543" and event.thread_id == MEDIA
    assert event.text == "مرحبا، هل المنتج متوفر باللون الأزرق؟"


def test_own_comment_is_an_echo(result: ParseResult) -> None:
    assert by_id(result, "17865432109876545", "echo").event.author_id == IG2


def test_mentions_in_comment_and_caption_wait_for_their_details(result: ParseResult) -> None:
    # The webhook has ids only: the text and author are fetched before it is a message.
    in_comment = by_id(result, "17899999999999999", "needs_details")
    assert in_comment.event.kind == "mention" and in_comment.event.thread_id == "18098765432109876"
    in_caption = by_id(result, "18098765432100000", "needs_details")
    assert in_caption.event.kind == "mention" and in_caption.event.thread_id == "18098765432100000"
    assert in_caption.event.raw == {"media_id": "18098765432100000"}


def test_mention_details_are_asked_and_read_as_documented() -> None:
    path, params = instagram.mention_details_query(IG1, {"media_id": MEDIA})
    assert path == f"/{IG1}"
    assert params == {"fields": f"mentioned_media.media_id({MEDIA}){{{instagram.MENTIONED_MEDIA_FIELDS}}}"}
    _, params = instagram.mention_details_query(IG1, {"media_id": MEDIA, "comment_id": "17873440459141021"})
    assert params["fields"].startswith("mentioned_comment.comment_id(17873440459141021){")
    # The sample response of the IG User Mentioned Comment reference (no username asked there).
    answer = {
        "mentioned_comment": {
            "timestamp": "2017-05-03T16:09:08+0000",
            "like_count": 185,
            "text": "Shout out to @metricsaurus",
            "id": "17873440459141021",
        },
        "id": IG1,
    }
    event = instagram.mention_from_details({"media_id": MEDIA, "comment_id": "17873440459141021"}, answer)
    assert (event.text, event.thread_id, event.kind) == ("Shout out to @metricsaurus", MEDIA, "mention")
    assert event.author_id == "unknown:17873440459141021" and event.sent_at is not None
    with pytest.raises(graph.PartError):
        instagram.mention_from_details({"media_id": MEDIA}, {"id": IG1})
    with pytest.raises(ValueError):
        instagram.mention_details_query(IG1, {"media_id": "../../me"})


def test_live_comment_and_ignored_field(result: ParseResult) -> None:
    live = by_id(result, "17866666666666666").event
    assert live.kind == "comment" and live.text == "שלום, ההזמנה שלי הגיעה פגומה"
    assert result.ignored == ["entry[1].changes[6]: instagram field 'story_insights' not handled"]
    assert result.errors == []


def test_comment_missing_media_is_an_error() -> None:
    entry = {
        "id": IG2,
        "changes": [{"field": "comments", "value": {"id": "1", "from": {"id": "2"}, "text": "x"}}],
    }
    parsed = instagram.parse_entry(entry, 0)
    assert parsed.events == [] and parsed.errors == ["entry[0].changes[0]: missing media.id"]


def test_changes_messages_wrapping_is_understood() -> None:
    entry = {
        "id": IG1,
        "changes": [
            {
                "field": "messages",
                "value": {
                    "sender": {"id": IGSID1},
                    "recipient": {"id": IG1},
                    "timestamp": "1718000000",
                    "message": {"mid": "aWdfMID", "text": "hi"},
                },
            }
        ],
    }
    parsed = instagram.parse_entry(entry, 0)
    assert [e.event.external_id for e in parsed.events] == ["aWdfMID"]


# -- Sending --------------------------------------------------------------------------------


def request(**kw: Any) -> OutboundRequest:
    fields: dict[str, Any] = {
        "network": "instagram",
        "account_external_id": IG1,
        "recipient_id": IGSID1,
        "text": "ขอบคุณครับ",
        "idempotency_key": "outbox-ig-1",
    }
    fields.update(kw)
    return OutboundRequest(**fields)


def send(graph: FakeGraph, req: OutboundRequest) -> Any:
    return asyncio.run(meta.GraphSender(transport=graph.transport).send(req, {"access_token": TOKEN}))


def test_send_dm() -> None:
    graph = FakeGraph()
    result = send(graph, request(mode="dm"))
    assert result.ok and result.external_id
    call = graph.calls[0]
    assert call.endpoint == f"/{IG1}/messages"
    assert call.body["recipient"] == {"id": IGSID1} and call.body["message"] == {"text": "ขอบคุณครับ"}


def test_send_comment_reply() -> None:
    graph = FakeGraph()
    result = send(graph, request(mode="comment_reply", reply_to_external_id="17865432109876543"))
    assert result.ok and result.external_id == "17865432109876543_00000001"
    assert graph.calls[0].endpoint == "/17865432109876543/replies"
    assert graph.calls[0].body == {"message": "ขอบคุณครับ"}


def test_send_private_reply() -> None:
    graph = FakeGraph()
    assert send(graph, request(mode="private_reply", reply_to_external_id="17865432109876543")).ok
    assert graph.calls[0].body["recipient"] == {"comment_id": "17865432109876543"}


def test_send_mention_reply_uses_the_mentions_edge() -> None:
    graph = FakeGraph()
    graph.add_mentioned_media(IG1, MEDIA, caption="hi", username="someone")
    result = send(graph, request(mode="mention_reply", reply_to_external_id=MEDIA, thread_id=MEDIA))
    assert result.ok and graph.calls[0].endpoint == f"/{IG1}/mentions"
    assert graph.calls[0].body == {"media_id": MEDIA, "message": "ขอบคุณครับ"}


def test_send_token_expired() -> None:
    graph = FakeGraph().queue_failures("token_expired")
    result = send(graph, request())
    assert result.code == "token_expired" and TOKEN not in (result.error or "")
