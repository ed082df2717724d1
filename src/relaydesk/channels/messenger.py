"""The Messenger Platform, shared by Facebook Pages and Instagram: DM events in, messages out.

Instagram Messaging is built on the Messenger Platform and sends the same ``messaging`` events
(``parse_messaging_event``); replies of both carry the same ``messaging_type`` and, on Messenger,
our idempotency key as ``message.metadata`` (handed back in the echo webhook).

A DM thread is the person (their PSID / IGSID).
"""

from __future__ import annotations

from typing import Any

from relaydesk.channels.base import (
    Attachment,
    InboundEvent,
    OutboundRequest,
    ParsedEvent,
    ParseResult,
    StatusUpdate,
)
from relaydesk.channels.graph import (
    PartError,
    as_object,
    dig,
    id_str,
    require_id,
    text_of,
    to_datetime,
)

# Messaging event keys we know and deliberately do not turn into messages.
_IGNORED_MESSAGING_KEYS = (
    "optin",
    "referral",
    "account_linking",
    "policy_enforcement",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "app_roles",
    "messaging_feedback",
    "game_play",
    "response_feedback",
)

_ATTACHMENT_KINDS = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "file": "file",
    "sticker": "sticker",
    "location": "location",
}


def _raw_attachments(message: dict[str, Any]) -> list[dict[str, Any]]:
    items = message.get("attachments")
    return [a for a in items if isinstance(a, dict)] if isinstance(items, list) else []


def _attachments(items: list[dict[str, Any]]) -> list[Attachment]:
    found: list[Attachment] = []
    for item in items:
        kind = text_of(item.get("type"))
        payload = as_object(item.get("payload"))
        url = text_of(payload.get("url")) or None
        if kind == "location" or isinstance(payload.get("coordinates"), dict):
            lat, lon = dig(payload, "coordinates.lat"), dig(payload, "coordinates.long")
            geo = f"geo:{lat},{lon}" if isinstance(lat, int | float) and isinstance(lon, int | float) else url
            found.append(Attachment(kind="location", url=geo, name=text_of(item.get("title")) or None))
            continue
        if kind == "image" and payload.get("sticker_id") is not None:
            kind = "sticker"
        found.append(
            Attachment(
                kind=_ATTACHMENT_KINDS.get(kind, "other"),
                url=url,
                name=text_of(item.get("title")) or text_of(payload.get("title")) or None,
            )
        )
    return found


def parse_messaging_event(
    network: str, account_ref: str | None, item: dict[str, Any], path: str
) -> ParseResult:
    """One Messenger-Platform event (Messenger or Instagram DM) → events / statuses / ignored.

    Raises PartError when an event we handle lacks the ids it needs.
    """
    result = ParseResult()
    sender = require_id(item, "sender.id")
    recipient = id_str(dig(item, "recipient.id"))
    sent_at = to_datetime(item.get("timestamp"))

    message = item.get("message")
    if isinstance(message, dict):
        mid = require_id(item, "message.mid")
        if message.get("is_echo") is True:
            # Our own send (from RelayDesk, the Page inbox or another app): the thread is the
            # customer it went to.
            if recipient is None:
                raise PartError("missing recipient.id on an echo")
            action, thread = "echo", recipient
        elif message.get("is_deleted") is True:
            action, thread = "delete", sender
        else:
            action, thread = "create", sender
        raw_attachments = _raw_attachments(message)
        attachments = _attachments(raw_attachments)
        # An Instagram story that @mentions the account arrives as a DM with this attachment.
        story_mention = any(a.get("type") == "story_mention" for a in raw_attachments)
        kind = "mention" if story_mention else "dm"
        reply_to = id_str(dig(message, "reply_to.mid")) or id_str(dig(message, "reply_to.story.id"))
        result.events.append(
            ParsedEvent(
                account_ref=account_ref,
                action=action,
                event=InboundEvent(
                    network=network,
                    external_id=mid,
                    author_id=sender,
                    text="" if action == "delete" else text_of(message.get("text")),
                    sent_at=sent_at,
                    thread_id=thread,
                    reply_to_id=reply_to,
                    kind=kind,
                    attachments=[] if action == "delete" else attachments,
                    raw=item,
                ),
            )
        )
        return result

    edit = item.get("message_edit")
    if isinstance(edit, dict):
        result.events.append(
            ParsedEvent(
                account_ref=account_ref,
                action="edit",
                event=InboundEvent(
                    network=network,
                    external_id=require_id(item, "message_edit.mid"),
                    author_id=sender,
                    text=text_of(edit.get("text")),
                    sent_at=sent_at,
                    thread_id=sender,
                    kind="dm",
                    raw=item,
                ),
            )
        )
        return result

    reaction = item.get("reaction")
    if isinstance(reaction, dict):
        target = require_id(item, "reaction.mid")
        removed = reaction.get("action") == "unreact"
        emoji = text_of(reaction.get("emoji")) or text_of(reaction.get("reaction"))
        stamp = id_str(item.get("timestamp")) or "0"
        result.events.append(
            ParsedEvent(
                account_ref=account_ref,
                action="reaction",
                event=InboundEvent(
                    network=network,
                    # A reaction has no id of its own; this one is stable across redeliveries.
                    external_id=f"{target}#reaction:{sender}:{stamp}",
                    author_id=sender,
                    text="" if removed else emoji,
                    sent_at=sent_at,
                    thread_id=sender,
                    reply_to_id=target,
                    kind="dm",
                    raw=item,
                ),
            )
        )
        return result

    postback = item.get("postback")
    if isinstance(postback, dict):
        stamp = id_str(item.get("timestamp")) or "0"
        result.events.append(
            ParsedEvent(
                account_ref=account_ref,
                event=InboundEvent(
                    network=network,
                    external_id=id_str(postback.get("mid")) or f"postback:{sender}:{stamp}",
                    author_id=sender,
                    text=text_of(postback.get("title")) or text_of(postback.get("payload")),
                    sent_at=sent_at,
                    thread_id=sender,
                    kind="dm",
                    raw=item,
                ),
            )
        )
        return result

    delivery = item.get("delivery")
    if isinstance(delivery, dict):
        mids = delivery.get("mids")
        at = to_datetime(delivery.get("watermark")) or sent_at
        if isinstance(mids, list) and mids:
            for delivered in filter(None, (id_str(mid) for mid in mids)):
                result.statuses.append(
                    StatusUpdate(
                        network=network,
                        external_id=delivered,
                        status="delivered",
                        at=at,
                        recipient_id=sender,
                        account_ref=account_ref,
                    )
                )
        else:
            result.ignored.append(f"{path}: delivery receipt with a watermark only (no mids)")
        return result

    read = item.get("read")
    if isinstance(read, dict):
        read_mid = id_str(read.get("mid"))
        if read_mid is None:
            # Messenger only says "everything before this watermark": no message to mark.
            result.ignored.append(f"{path}: read receipt with a watermark only (no mid)")
            return result
        result.statuses.append(
            StatusUpdate(
                network=network,
                external_id=read_mid,
                status="read",
                at=sent_at,
                recipient_id=sender,
                account_ref=account_ref,
            )
        )
        return result

    for key in _IGNORED_MESSAGING_KEYS:
        if key in item:
            result.ignored.append(f"{path}: {key} event not handled")
            return result
    keys = sorted(k for k in item if k not in ("sender", "recipient", "timestamp"))
    result.ignored.append(f"{path}: unknown messaging event with keys {keys}")
    return result


# --------------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------------

HUMAN_AGENT_TAG = "HUMAN_AGENT"


def messenger_message(req: OutboundRequest, *, with_metadata: bool) -> dict[str, Any]:
    message: dict[str, Any] = {"text": req.text}
    if with_metadata:
        # Comes back in the echo webhook: lets the outbox match an echo to its row.
        message["metadata"] = req.idempotency_key[:1000]
    return message


def messaging_type(req: OutboundRequest) -> dict[str, str]:
    """RESPONSE inside the 24 h window; the HUMAN_AGENT tag (7 days) when the caller asks."""
    if req.extra.get("tag") == HUMAN_AGENT_TAG:
        return {"messaging_type": "MESSAGE_TAG", "tag": HUMAN_AGENT_TAG}
    return {"messaging_type": "RESPONSE"}
