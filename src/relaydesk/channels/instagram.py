"""Instagram professional accounts: DMs (``messaging``), comments and @mentions (``changes``).

One webhook entry is one Instagram account (``entry.id`` = the IG user id, our ``account_ref``).
DMs use the Messenger Platform event shapes (see messenger.parse_messaging_event); comments come
as ``{"field": "comments", "value": {"id", "from": {"id", "username"}, "text", "media": {"id"},
"parent_id"?}}`` and mentions as ``{"field": "mentions", "value": {"media_id", "comment_id"?}}``.

A mention carries ids only. Its text and author come from the Graph API (Instagram's Mentions
guide): ``GET /{ig-user-id}?fields=mentioned_comment.comment_id(<id>){...}`` answers
``{"mentioned_comment": {"text", "username", "timestamp", "id", "media": {...}}, "id"}``, and
``GET /{ig-user-id}?fields=mentioned_media.media_id(<id>){...}`` answers
``{"mentioned_media": {"caption", "username", "timestamp", "permalink", "id", ...}, "id"}``.
`mention_details_query` builds that call and `mention_from_details` reads its answer (pure);
channels/mentions.py makes the call off the webhook's request path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relaydesk.channels import meta
from relaydesk.channels.base import (
    NEEDS_DETAILS,
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
from relaydesk.channels.messenger import messaging_type, parse_messaging_event

NETWORK = "instagram"


def parse_comment(account_ref: str | None, value: dict[str, Any], sent_at: Any) -> ParseResult:
    comment_id = require_id(value, "id")
    media_id = require_id(value, "media.id")
    author = require_id(value, "from.id")
    parent = id_str(value.get("parent_id"))
    # IG also notifies the account's own comments (replies sent from the app or by us).
    action = "echo" if account_ref is not None and author == account_ref else "create"
    return ParseResult(
        events=[
            ParsedEvent(
                account_ref=account_ref,
                action=action,
                event=InboundEvent(
                    network=NETWORK,
                    external_id=comment_id,
                    author_id=author,
                    author_handle=text_of(dig(value, "from.username")) or None,
                    text=text_of(value.get("text")),
                    sent_at=to_datetime(sent_at),
                    thread_id=media_id,
                    reply_to_id=parent if parent and parent != media_id else None,
                    kind="comment",
                    raw=value,
                ),
            )
        ]
    )


def parse_mention(account_ref: str | None, value: dict[str, Any], sent_at: Any) -> ParseResult:
    """An @mention in a caption (media_id only) or in a comment (media_id and comment_id).

    The webhook carries neither the text nor the author, so the event is marked NEEDS_DETAILS:
    the webhook holds it and channels/mentions.py fetches ``mentioned_comment`` /
    ``mentioned_media`` before the pipeline sees it.
    """
    media_id = require_id(value, "media_id")
    comment_id = id_str(value.get("comment_id"))
    return ParseResult(
        events=[
            ParsedEvent(
                account_ref=account_ref,
                action=NEEDS_DETAILS,
                event=InboundEvent(
                    network=NETWORK,
                    external_id=comment_id or media_id,
                    author_id="",
                    text=text_of(value.get("text")),
                    sent_at=to_datetime(sent_at),
                    thread_id=media_id,
                    kind="mention",
                    raw=value,
                ),
            )
        ]
    )


MENTIONED_MEDIA_FIELDS = "id,caption,username,timestamp,permalink,media_type"
MENTIONED_COMMENT_FIELDS = "id,text,username,timestamp,media{id,permalink}"
POST_PREFIX = "https://www.instagram.com/"


def mention_details_query(account_ref: str, value: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The Graph GET (path below the version, query) that returns a mention's text and author."""
    account = graph_id(account_ref, "the Instagram account id")
    comment_id = id_str(value.get("comment_id"))
    if comment_id is not None:
        comment = graph_id(comment_id, "comment_id")
        return f"/{account}", {
            "fields": f"mentioned_comment.comment_id({comment}){{{MENTIONED_COMMENT_FIELDS}}}"
        }
    media = graph_id(id_str(value.get("media_id")), "media_id")
    return f"/{account}", {"fields": f"mentioned_media.media_id({media}){{{MENTIONED_MEDIA_FIELDS}}}"}


def _permalink(value: Any) -> str | None:
    # Only Instagram's own post links: agents are shown it as a link.
    return value if isinstance(value, str) and value.startswith(POST_PREFIX) else None


def mention_from_details(value: dict[str, Any], details: Any, received_at: Any = None) -> InboundEvent:
    """The complete mention from the webhook's ids and the Graph answer to `mention_details_query`.

    The author is the username (the API gives no scoped id for a mention, as for tagged media);
    a mention without one gets an author of its own, never a shared "unknown" contact. Raises
    PartError when the answer does not describe the mention asked about.
    """
    media_id = require_id(value, "media_id")
    comment_id = id_str(value.get("comment_id"))
    key = "mentioned_comment" if comment_id is not None else "mentioned_media"
    found = details.get(key) if isinstance(details, dict) else None
    if not isinstance(found, dict):
        raise PartError(f"the Graph answer has no {key}")
    external_id = comment_id or media_id
    if id_str(found.get("id")) not in (None, external_id):
        raise PartError(f"the Graph answer describes another {key}")
    username = text_of(found.get("username")).strip() or None
    text = text_of(found.get("text") if comment_id is not None else found.get("caption"))
    link = _permalink(found.get("permalink")) or _permalink(dig(found, "media.permalink"))
    return InboundEvent(
        network=NETWORK,
        external_id=external_id,
        author_id=username or f"unknown:{external_id}",
        author_handle=username,
        author_name=username,
        text=text,
        sent_at=to_datetime(found.get("timestamp")) or to_datetime(received_at),
        thread_id=media_id,
        kind="mention",
        attachments=[Attachment(kind="other", url=link, name="the post on Instagram")] if link else [],
        raw={**value, key: found},
    )


def parse_entry(entry: dict[str, Any], index: int) -> ParseResult:
    """One ``object: "instagram"`` entry → events for that IG account."""
    result = ParseResult()
    path = f"entry[{index}]"
    account_ref = id_str(entry.get("id"))
    if account_ref is None:
        result.errors.append(f"{path}: missing id (the Instagram account id)")
    entry_time = entry.get("time")

    found = False
    for key in ("messaging", "standby"):
        if key in entry:
            found = True
            each_part(
                result,
                entry[key],
                f"{path}.{key}",
                lambda item, part: parse_messaging_event(NETWORK, account_ref, item, part),
            )

    if "changes" in entry:
        found = True

        def one_change(change: dict[str, Any], part: str) -> ParseResult:
            field_name = text_of(change.get("field"))
            value = change.get("value")
            if field_name not in ("comments", "live_comments", "mentions", "messages"):
                return ParseResult(
                    ignored=[f"{part}: instagram field {field_name or '<none>'!r} not handled"]
                )
            if not isinstance(value, dict):
                raise PartError("missing value")
            if field_name == "mentions":
                return parse_mention(account_ref, value, entry_time)
            if field_name == "messages":
                # The dashboard's test button and some API versions wrap a DM event this way.
                return parse_messaging_event(NETWORK, account_ref, value, f"{part}.value")
            return parse_comment(account_ref, value, entry_time)

        each_part(result, entry["changes"], f"{path}.changes", one_change)

    if not found:
        result.ignored.append(f"{path}: no messaging, standby or changes")
    return result


def build_request(req: OutboundRequest) -> GraphCall:
    """The Graph call for an Instagram reply.

    - ``message`` / ``dm``: ``POST /{ig-user-id}/messages`` to ``recipient_id`` (IGSID).
    - ``comment_reply``: public reply ``POST /{ig-comment-id}/replies``.
    - ``private_reply``: one DM to a commenter, ``POST /{ig-user-id}/messages`` with
      ``recipient.comment_id``.
    - ``mention_reply``: a comment on someone else's media whose caption @mentions us, or a reply
      to their comment that does: ``POST /{ig-user-id}/mentions`` with ``media_id`` (the thread)
      and ``message``, plus ``comment_id`` for a comment mention (``reply_to_external_id`` then
      differs from the media id). ``/{media-id}/comments`` and ``/{comment-id}/replies`` only
      work on the account's own media.
    """
    if req.mode in ("message", "dm"):
        account = graph_id(req.account_external_id, "account_external_id (Instagram account id)")
        return GraphCall(
            path=f"/{account}/messages",
            body={
                "recipient": {"id": req.recipient_id},
                **messaging_type(req),
                "message": {"text": req.text},
            },
        )
    if req.mode == "comment_reply":
        comment = graph_id(req.reply_to_external_id, "reply_to_external_id (comment id)")
        return GraphCall(path=f"/{comment}/replies", body={"message": req.text})
    if req.mode == "private_reply":
        account = graph_id(req.account_external_id, "account_external_id (Instagram account id)")
        comment = graph_id(req.reply_to_external_id, "reply_to_external_id (comment id)")
        return GraphCall(
            path=f"/{account}/messages",
            body={"recipient": {"comment_id": comment}, "message": {"text": req.text}},
        )
    if req.mode == "mention_reply":
        account = graph_id(req.account_external_id, "account_external_id (Instagram account id)")
        media = graph_id(req.thread_id or req.reply_to_external_id, "thread_id (the mentioning media id)")
        body: dict[str, Any] = {"media_id": media, "message": req.text}
        if req.reply_to_external_id and req.reply_to_external_id != media:
            body["comment_id"] = graph_id(req.reply_to_external_id, "reply_to_external_id (comment id)")
        return GraphCall(path=f"/{account}/mentions", body=body)
    raise ValueError(f"instagram cannot send mode {req.mode!r}")


def reply_mode(kind: str, raw: Mapping[str, Any]) -> str:
    if kind == "comment":
        return "comment_reply"
    if kind == "mention":
        # A story that mentions us arrives as a DM (Messenger Platform event): answer by DM.
        # Media and comments that @mention us belong to someone else: only
        # POST /{ig-user-id}/mentions may comment there (`build_request`).
        return "message" if isinstance(raw.get("message"), dict) else "mention_reply"
    return "message"


CHANNEL = Channel(
    # Instagram hands nothing of ours back.
    spec=meta.network_spec(NETWORK, echoed=False, identity="user id"),
    verify=meta.verify,
    parse=meta.parse_delivery,
    sender=meta.GraphSender,
    reply_mode=reply_mode,
    fetch_media=meta.fetch_cdn_media,
)
