"""Where a reply goes: the network request for an outbound message, and whether it may go at all.

The answer comes from the conversation itself: the recipient is the contact's identity on the
account's network; what we answer (comment id, tweet id, Telegram message, e-mail Message-ID,
LINE reply token) comes from the latest customer message (`external_id`, `thread_external_id`,
`raw`). Edits of a customer message are skipped: they are a note on a message, not a new one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.channels import repository, whatsapp
from relaydesk.channels.base import OutboundRequest
from relaydesk.core.errors import Refused
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.models import ChannelAccount, Conversation, Message, OutboxItem

# LINE documents reply tokens as usable for about a minute; past that we push, which is also the
# only path with a server-side idempotency key (X-Line-Retry-Key).
LINE_REPLY_TOKEN_TTL = timedelta(seconds=50)
EDIT_KIND = "edit"

# (network, kind of the customer's message) -> how the answer is posted.
_MODES: dict[tuple[str, str], str] = {
    ("facebook", "comment"): "comment_reply",
    ("facebook", "post"): "comment_reply",
    # A comment under the post (or comment) that names the Page, like any public comment reply.
    ("facebook", "mention"): "comment_reply",
    ("instagram", "comment"): "comment_reply",
    # Media and comments that @mention us belong to someone else: only POST /{ig-user-id}/mentions
    # may comment there (instagram.build_request).
    ("instagram", "mention"): "mention_reply",
    ("x", "mention"): "post_reply",
    ("x", "post"): "post_reply",
    ("x", "comment"): "post_reply",
    ("x", "dm"): "dm",
}


def reply_mode(network: str, kind: str | None, raw: dict[str, Any] | None = None) -> str:
    if network == "instagram" and kind == "mention" and isinstance((raw or {}).get("message"), dict):
        # A story that mentions us arrives as a DM (Messenger Platform event): answer by DM.
        return "message"
    return _MODES.get((network, kind or "message"), "message")


def last_inbound(session: Session, conversation_id: int) -> Message | None:
    return repository.last_inbound(session, conversation_id, skip_kind=EDIT_KIND)


def recipient_for(session: Session, conversation: Conversation, network: str) -> str:
    identity = repository.latest_identity(session, conversation.contact_id, network)
    return identity.external_user_id if identity else ""


def approved_templates(settings: dict[str, Any] | None) -> list[dict[str, str]]:
    """Account setting ``templates``: names, or ``{"name", "language"}`` objects."""
    found: list[dict[str, str]] = []
    for entry in (settings or {}).get("templates") or []:
        if isinstance(entry, str) and entry:
            found.append({"name": entry})
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]:
            language = entry.get("language")
            found.append(
                {"name": entry["name"], **({"language": language} if isinstance(language, str) else {})}
            )
    return found


def _template_names(settings: dict[str, Any] | None) -> str:
    names = [t["name"] for t in approved_templates(settings)]
    return ", ".join(names) if names else "none configured"


def check_can_reply(
    session: Session,
    conversation: Conversation,
    account: ChannelAccount,
    template: str | None,
    now: datetime | None = None,
) -> None:
    """Refuse (422) a reply the network would refuse anyway, while the agent can still act on it.

    WhatsApp accepts free text only within 24 hours of the customer's last message; after that,
    only an approved template, whose names come from the account's ``templates`` setting.
    """
    del session  # part of the call the conversation service makes; this check needs no query
    if account.network != "whatsapp":
        return
    known = approved_templates(account.settings)
    if template:
        if known and template not in {t["name"] for t in known}:
            raise Refused(
                f"template: {template!r} is not an approved template of this WhatsApp number. "
                f"Approved templates: {_template_names(account.settings)}."
            )
        return
    if not whatsapp.window_open(conversation.last_inbound_at, now or utcnow()):
        raise Refused(
            f"text: {whatsapp.WINDOW_CLOSED_REASON} Approved templates: {_template_names(account.settings)}."
        )


def _template(name: str, account: ChannelAccount, conversation: Conversation) -> dict[str, Any]:
    settings = account.settings or {}
    language = next((t.get("language") for t in approved_templates(settings) if t["name"] == name), None)
    language = language or settings.get("template_language") or conversation.language or "en"
    return {"name": name, "language": {"code": str(language)}}


def build_request(
    session: Session,
    message: Message,
    account: ChannelAccount,
    item: OutboxItem,
    *,
    attempt: int = 1,
    now: datetime | None = None,
) -> OutboundRequest:
    """The OutboundRequest for one outbox item (its idempotency key included)."""
    now = now or utcnow()
    conversation = repository.conversation(session, message.conversation_id)
    if conversation is None:
        raise LookupError(f"conversation {message.conversation_id} no longer exists")
    network = account.network
    inbound = last_inbound(session, conversation.id)
    raw: dict[str, Any] = (
        dict(inbound.raw or {}) if inbound is not None and isinstance(inbound.raw, dict) else {}
    )
    payload = dict(item.payload or {})
    template_name = payload.get("template")
    mode = str(payload.get("mode") or reply_mode(network, inbound.kind if inbound else None, raw))
    extra: dict[str, Any] = {}
    if network == "line" and inbound is not None and attempt == 1:
        token = raw.get("replyToken")
        received = as_utc(inbound.created_at)
        # Only a first attempt may spend the reply token: a resend after a crash must go by push,
        # where LINE's retry key makes it harmless.
        if isinstance(token, str) and received is not None and now - received < LINE_REPLY_TOKEN_TTL:
            extra["reply_token"] = token
    if network == "email" and inbound is not None:
        subject = raw.get("subject")
        if isinstance(subject, str):
            extra["subject"] = subject
        references = raw.get("references")
        if isinstance(references, list):
            extra["references"] = [str(r) for r in references]
    if payload.get("tag"):
        extra["tag"] = str(payload["tag"])
    template = None
    if isinstance(template_name, str) and template_name:
        mode = "template"
        template = _template(template_name, account, conversation)
    return OutboundRequest(
        network=network,
        account_external_id=account.external_id,
        recipient_id=recipient_for(session, conversation, network),
        text=message.text,
        idempotency_key=item.idempotency_key,
        reply_to_external_id=inbound.external_id if inbound is not None else None,
        thread_id=inbound.thread_external_id if inbound is not None else None,
        mode=mode,
        template=template,
        extra=extra,
    )
