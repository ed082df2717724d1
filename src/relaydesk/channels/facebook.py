"""Facebook Pages: Messenger (``messaging``), Page feed comments/posts (``feed``), mentions.

One webhook entry is one Page: ``{"id": <page id>, "time": ..., "messaging": [...]}`` for
Messenger events, ``{"id": ..., "changes": [{"field": "feed", "value": {...}}]}`` for the feed.

Mentions of the Page come two ways, both as events of kind ``mention``: the ``mention`` field
(Page webhooks reference: ``{"post_id", "comment_id"?, "item": "post"|"comment", "verb",
"sender_id", "sender_name", "message", "created_time", ...}``; Workplace names the author in
``from`` instead), and ``feed`` posts the Page is tagged in (``message_tags`` naming the Page,
or a post that lives on someone else's timeline, ``post_id`` = ``<owner id>_<post id>``). One
post seen both ways has one external id, so it is stored once.

Instagram Messaging is built on the Messenger Platform and sends the same ``messaging`` events,
so ``parse_messaging_event`` is shared with instagram.py.

Threads: a Messenger DM thread is the person (their PSID); a comment thread is the post.
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
    GraphCall,
    PartError,
    as_object,
    dig,
    each_part,
    graph_id,
    id_str,
    require_id,
    text_of,
    to_datetime,
)

NETWORK = "facebook"

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


# Feed items that are a post on the Page's timeline (by the Page or a visitor).
_POST_ITEMS = frozenset({"status", "post", "photo", "video", "share", "link"})
_VERB_ACTIONS = {"add": "create", "edited": "edit", "edit": "edit", "remove": "delete", "delete": "delete"}


def parse_feed_change(page_id: str | None, value: dict[str, Any], path: str) -> ParseResult:
    """One ``feed`` change: a comment, a post, or a reaction on the Page's content."""
    result = ParseResult()
    item = text_of(value.get("item"))
    verb = text_of(value.get("verb"))
    author = id_str(dig(value, "from.id"))
    author_name = text_of(dig(value, "from.name")) or None
    sent_at = to_datetime(value.get("created_time"))

    if item == "reaction" or item == "like":
        target = id_str(value.get("comment_id")) or require_id(value, "post_id")
        if author is None:
            raise PartError("missing from.id")
        removed = verb == "remove"
        stamp = id_str(value.get("created_time")) or "0"
        result.events.append(
            ParsedEvent(
                account_ref=page_id,
                action="reaction",
                event=InboundEvent(
                    network=NETWORK,
                    external_id=f"{target}#reaction:{author}:{stamp}",
                    author_id=author,
                    author_name=author_name,
                    text="" if removed else text_of(value.get("reaction_type")) or "like",
                    sent_at=sent_at,
                    thread_id=id_str(value.get("post_id")),
                    reply_to_id=target,
                    kind="comment" if id_str(value.get("comment_id")) else "post",
                    raw=value,
                ),
            )
        )
        return result

    if item != "comment" and item not in _POST_ITEMS:
        result.ignored.append(f"{path}: feed item {item or '<none>'!r} ({verb or 'no verb'}) not handled")
        return result
    action = _VERB_ACTIONS.get(verb)
    if action is None:
        result.ignored.append(f"{path}: feed {item} verb {verb or '<none>'!r} not handled")
        return result

    post_id = require_id(value, "post_id")
    if item == "comment":
        external_id = require_id(value, "comment_id")
        parent = id_str(value.get("parent_id"))
        reply_to = parent if parent and parent != post_id else None
        kind = "comment"
    else:
        external_id, reply_to, kind = post_id, None, "post"
        if author != page_id and tags_page(value, page_id, post_id):
            kind = "mention"
    if author is None:
        if action != "delete":
            raise PartError("missing from.id")
        author = ""  # Meta may omit the author of a removed item; the row already knows it.
    if action == "create" and author == page_id:
        action = "echo"  # the Page's own comment or post, written here or elsewhere

    attachments: list[Attachment] = []
    for key, kind_name in (("photo", "image"), ("video", "video")):
        url = text_of(value.get(key))
        if url:
            attachments.append(Attachment(kind=kind_name, url=url))
    if item in ("photo", "video") and text_of(value.get("link")):
        attachments.append(
            Attachment(kind="image" if item == "photo" else "video", url=text_of(value["link"]))
        )

    result.events.append(
        ParsedEvent(
            account_ref=page_id,
            action=action,
            event=InboundEvent(
                network=NETWORK,
                external_id=external_id,
                author_id=author,
                author_name=author_name,
                text="" if action == "delete" else text_of(value.get("message")),
                sent_at=sent_at,
                thread_id=post_id,
                reply_to_id=reply_to,
                kind=kind,
                attachments=attachments,
                raw=value,
            ),
        )
    )
    return result


def tags_page(value: dict[str, Any], page_id: str | None, post_id: str) -> bool:
    """Is this feed post about the Page rather than on it: the Page tagged, or posted elsewhere?"""
    if page_id is None:
        return False
    tags = value.get("message_tags")
    if isinstance(tags, list) and any(isinstance(t, dict) and id_str(t.get("id")) == page_id for t in tags):
        return True
    owner = post_id.split("_", 1)[0] if "_" in post_id else None
    return owner is not None and owner != page_id


def parse_mention_change(page_id: str | None, value: dict[str, Any], path: str) -> ParseResult:
    """One ``mention`` change: the Page @mentioned in a post or a comment, wherever it is."""
    result = ParseResult()
    item = text_of(value.get("item"))
    verb = text_of(value.get("verb"))
    action = _VERB_ACTIONS.get(verb)
    if action is None:
        result.ignored.append(f"{path}: mention {item or '<no item>'} verb {verb or '<none>'!r} not handled")
        return result
    post_id = require_id(value, "post_id")
    comment_id = id_str(value.get("comment_id"))
    if item == "comment" and comment_id is None:
        raise PartError("missing comment_id")
    # Public Pages name the author in sender_id / sender_name, Workplace in `from`.
    author = id_str(value.get("sender_id")) or id_str(dig(value, "from.id"))
    author_name = text_of(value.get("sender_name")) or text_of(dig(value, "from.name")) or None
    if author is None:
        if action != "delete":
            raise PartError("missing sender_id")
        author = ""
    if action == "create" and author == page_id:
        action = "echo"  # the Page naming itself
    parent = id_str(value.get("parent_id"))
    attachments: list[Attachment] = []
    for key, kind_name in (("photo", "image"), ("video", "video")):
        url = text_of(value.get(key))
        if url:
            attachments.append(Attachment(kind=kind_name, url=url))
    result.events.append(
        ParsedEvent(
            account_ref=page_id,
            action=action,
            event=InboundEvent(
                network=NETWORK,
                external_id=comment_id or post_id,
                author_id=author,
                author_name=author_name,
                text="" if action == "delete" else text_of(value.get("message")),
                sent_at=to_datetime(value.get("created_time")),
                thread_id=post_id,
                reply_to_id=parent if comment_id and parent and parent not in (post_id, comment_id) else None,
                kind="mention",
                attachments=[] if action == "delete" else attachments,
                raw=value,
            ),
        )
    )
    return result


def parse_entry(entry: dict[str, Any], index: int) -> ParseResult:
    """One ``object: "page"`` entry → events for that Page (``account_ref`` = the Page id)."""
    result = ParseResult()
    path = f"entry[{index}]"
    page_id = id_str(entry.get("id"))
    if page_id is None:
        result.errors.append(f"{path}: missing id (the Page id)")

    found = False
    for key in ("messaging", "standby"):
        # `standby` carries the same events while another app owns the thread (handover).
        if key in entry:
            found = True
            each_part(
                result,
                entry[key],
                f"{path}.{key}",
                lambda item, part: parse_messaging_event(NETWORK, page_id, item, part),
            )

    if "changes" in entry:
        found = True

        def one_change(change: dict[str, Any], part: str) -> ParseResult:
            field_name = text_of(change.get("field"))
            value = change.get("value")
            if field_name not in ("feed", "mention"):
                return ParseResult(ignored=[f"{part}: page field {field_name or '<none>'!r} not handled"])
            if not isinstance(value, dict):
                raise PartError("missing value")
            if field_name == "mention":
                return parse_mention_change(page_id, value, f"{part}.value")
            return parse_feed_change(page_id, value, f"{part}.value")

        each_part(result, entry["changes"], f"{path}.changes", one_change)

    if not found:
        result.ignored.append(f"{path}: no messaging, standby or changes")
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


def build_request(req: OutboundRequest) -> GraphCall:
    """The Graph call for a Facebook reply.

    - ``message`` / ``dm``: Send API ``POST /{page-id}/messages`` to ``recipient_id`` (PSID).
    - ``comment_reply``: public reply ``POST /{comment-id}/comments`` (``reply_to_external_id``).
    - ``private_reply``: one Messenger message to a commenter, ``POST /{page-id}/messages`` with
      ``recipient.comment_id`` (or ``recipient.post_id`` when ``extra["target"] == "post"``).
    """
    if req.mode in ("message", "dm"):
        page = graph_id(req.account_external_id, "account_external_id (Page id)")
        return GraphCall(
            path=f"/{page}/messages",
            body={
                "recipient": {"id": req.recipient_id},
                **messaging_type(req),
                "message": messenger_message(req, with_metadata=True),
            },
        )
    if req.mode == "comment_reply":
        comment = graph_id(req.reply_to_external_id, "reply_to_external_id (comment id)")
        return GraphCall(path=f"/{comment}/comments", body={"message": req.text})
    if req.mode == "private_reply":
        page = graph_id(req.account_external_id, "account_external_id (Page id)")
        target = graph_id(req.reply_to_external_id, "reply_to_external_id (comment or post id)")
        key = "post_id" if req.extra.get("target") == "post" else "comment_id"
        return GraphCall(
            path=f"/{page}/messages",
            body={"recipient": {key: target}, "message": messenger_message(req, with_metadata=True)},
        )
    raise ValueError(f"facebook cannot send mode {req.mode!r}")
