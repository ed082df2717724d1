"""Facebook Pages: Messenger (``messaging``), Page feed comments/posts (``feed``), mentions.

One webhook entry is one Page: ``{"id": <page id>, "time": ..., "messaging": [...]}`` for
Messenger events, ``{"id": ..., "changes": [{"field": "feed", "value": {...}}]}`` for the feed.

Mentions of the Page come two ways, both as events of kind ``mention``: the ``mention`` field
(Page webhooks reference: ``{"post_id", "comment_id"?, "item": "post"|"comment", "verb",
"sender_id", "sender_name", "message", "created_time", ...}``; Workplace names the author in
``from`` instead), and ``feed`` posts the Page is tagged in (``message_tags`` naming the Page,
or a post that lives on someone else's timeline, ``post_id`` = ``<owner id>_<post id>``). One
post seen both ways has one external id, so it is stored once.

Messenger events themselves (shared with Instagram) are read in messenger.py.

Threads: a Messenger DM thread is the person (their PSID); a comment thread is the post.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relaydesk.channels import meta
from relaydesk.channels.base import (
    Attachment,
    InboundEvent,
    OutboundRequest,
    ParsedEvent,
    ParseResult,
)
from relaydesk.channels.channel import Channel
from relaydesk.channels.graph import (
    GraphCall,
    PartError,
    dig,
    each_part,
    graph_id,
    id_str,
    require_id,
    text_of,
    to_datetime,
)
from relaydesk.channels.messenger import messaging_type, messenger_message, parse_messaging_event

NETWORK = "facebook"

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


# Our attachment kinds -> the Send API's attachment types.
_ATTACHMENT_TYPES = {"image": "image", "audio": "audio", "video": "video", "file": "file"}


def build_request(req: OutboundRequest) -> GraphCall:
    """The Graph call for a Facebook reply.

    - ``message`` / ``dm``: Send API ``POST /{page-id}/messages`` to ``recipient_id`` (PSID).
    - ``comment_reply``: public reply ``POST /{comment-id}/comments`` (``reply_to_external_id``).
    - ``private_reply``: one Messenger message to a commenter, ``POST /{page-id}/messages`` with
      ``recipient.comment_id`` (or ``recipient.post_id`` when ``extra["target"] == "post"``).
    """
    if req.mode in ("message", "dm") and req.files:
        # A Messenger attachment goes alone (it has no caption), uploaded in the same call.
        page = graph_id(req.account_external_id, "account_external_id (Page id)")
        file = req.files[0]
        message = messenger_message(req, with_metadata=True)
        del message["text"]
        message["attachment"] = {
            "type": _ATTACHMENT_TYPES.get(file.kind, "file"),
            "payload": {"is_reusable": False},
        }
        return GraphCall(
            path=f"/{page}/messages",
            body={"recipient": {"id": req.recipient_id}, **messaging_type(req), "message": message},
            file=file,
        )
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


# Kind of the customer's message -> how the answer is posted.
_REPLY_MODES = {
    "comment": "comment_reply",
    "post": "comment_reply",
    # A comment under the post (or comment) that names the Page, like any public comment reply.
    "mention": "comment_reply",
}


def reply_mode(kind: str, raw: Mapping[str, Any]) -> str:
    del raw
    return _REPLY_MODES.get(kind, "message")


CHANNEL = Channel(
    # Messenger echoes carry our key back in message.metadata.
    spec=meta.network_spec(NETWORK, echoed=True, identity="page"),
    verify=meta.verify,
    parse=meta.parse_delivery,
    sender=meta.GraphSender,
    reply_mode=reply_mode,
    fetch_media=meta.fetch_cdn_media,
    max_files=1,
    max_text_with_files=0,  # a Messenger attachment carries no text
)
