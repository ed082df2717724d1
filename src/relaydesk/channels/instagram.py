"""Instagram professional accounts: DMs (``messaging``), comments and @mentions (``changes``).

One webhook entry is one Instagram account (``entry.id`` = the IG user id, our ``account_ref``).
DMs use the Messenger Platform event shapes (see facebook.parse_messaging_event); comments come
as ``{"field": "comments", "value": {"id", "from": {"id", "username"}, "text", "media": {"id"},
"parent_id"?}}`` and mentions as ``{"field": "mentions", "value": {"media_id", "comment_id"?}}``.
"""

from __future__ import annotations

from typing import Any

from relaydesk.channels.base import InboundEvent, OutboundRequest, ParsedEvent, ParseResult
from relaydesk.channels.facebook import messaging_type, parse_messaging_event
from relaydesk.channels.meta import (
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

    The webhook carries neither the text nor the author: author_id is empty until the pipeline
    fetches ``GET /{ig-user-id}?fields=mentioned_comment...`` / ``mentioned_media``.
    """
    media_id = require_id(value, "media_id")
    comment_id = id_str(value.get("comment_id"))
    return ParseResult(
        events=[
            ParsedEvent(
                account_ref=account_ref,
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
    raise ValueError(f"instagram cannot send mode {req.mode!r}")
