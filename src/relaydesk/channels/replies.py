"""Where a reply goes: the network request for an outbound message, and whether it may go at all.

The answer comes from the conversation itself: the recipient is the contact's identity on the
account's network; what we answer (comment id, tweet id, Telegram message, e-mail Message-ID,
LINE reply token) comes from the latest customer message (`external_id`, `thread_external_id`,
`raw`). Edits of a customer message are skipped: they are a note on a message, not a new one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.channels import registry, repository
from relaydesk.channels.base import OutboundFile, OutboundRequest
from relaydesk.channels.whatsapp import approved_templates, fill_template
from relaydesk.core.errors import Refused
from relaydesk.core.timeutil import utcnow
from relaydesk.models import ChannelAccount, Conversation, Message, OutboxItem

EDIT_KIND = "edit"


def reply_mode(network: str, kind: str | None, raw: dict[str, Any] | None = None) -> str:
    """How the answer to a customer message of `kind` is posted (its network's `reply_mode`)."""
    found = registry.channel(network)
    return found.reply_mode(kind or "message", raw or {}) if found else "message"


def last_inbound(session: Session, conversation_id: int) -> Message | None:
    return repository.last_inbound(session, conversation_id, skip_kind=EDIT_KIND)


def recipient_for(session: Session, conversation: Conversation, network: str) -> str:
    identity = repository.latest_identity(session, conversation.contact_id, network)
    return identity.external_user_id if identity else ""


def check_can_reply(
    session: Session,
    conversation: Conversation,
    account: ChannelAccount,
    template: str | None,
    now: datetime | None = None,
    template_params: list[str] | None = None,
) -> None:
    """Refuse (422) a reply the network would refuse anyway, while the agent can still act on it."""
    del session  # part of the call the conversation service makes; this check needs no query
    found = registry.channel(account.network)
    if found is not None:
        found.check_reply(account.settings, conversation.last_inbound_at, template, now or utcnow())
        if template:
            found.check_template(account.settings, template, list(template_params or []))


def check_files(account: ChannelAccount, count: int, text: str) -> None:
    """Refuse (422) files this network does not take from us, before the reply is queued."""
    if not count:
        return
    found = registry.channel(account.network)
    most = found.max_files if found is not None else 0
    if most == 0:
        raise Refused(
            f"files: replies on {account.network} cannot carry files from RelayDesk yet; "
            "send a link to the file instead"
        ).saying("network_no_files", network=account.network)
    if count > most:
        raise Refused(
            f"files: a reply on {account.network} carries at most {most} file(s), not {count}"
        ).saying("too_many_files", most=most)
    limit = found.max_text_with_files if found is not None else None
    if limit == 0 and text.strip():
        raise Refused(
            f"text: on {account.network} a file goes alone, without text; "
            "send the file now and the text as its own reply"
        ).saying("file_alone", network=account.network)
    if limit is not None and len(text) > limit:
        raise Refused(
            f"text: with a file, a reply on {account.network} has at most {limit} characters "
            f"(this one has {len(text)}); send the file and the long text separately"
        ).saying("file_text_long", network=account.network, most=limit)


def _files(session: Session, message: Message) -> list[OutboundFile]:
    ids = [a["media_id"] for a in message.attachments or [] if isinstance(a, dict) and a.get("media_id")]
    if not ids:
        return []
    rows = repository.media_files(session, ids)
    return [
        OutboundFile(name=rows[i].name, mime_type=rows[i].mime_type, kind=rows[i].kind, data=rows[i].data)
        for i in ids
        if i in rows
    ]


def template_text(account: ChannelAccount, name: str, values: list[str]) -> str | None:
    """What the customer reads for a template send, when the account knows the template's body."""
    known = next((t for t in approved_templates(account.settings or {}) if t["name"] == name), None)
    return fill_template(known["text"], values) if known and "text" in known else None


def reply_window(account: ChannelAccount, conversation: Conversation, now: datetime) -> dict[str, Any]:
    """Whether free text may go now and, when it may not, the templates that may (the composer)."""
    found = registry.channel(account.network)
    if found is None:
        return {"window_open": True, "templates": [], "max_files": 0}
    window = found.reply_window(account.settings, conversation.last_inbound_at, now)
    return {**window, "max_files": found.max_files}


def _template(
    name: str, account: ChannelAccount, conversation: Conversation, values: list[str]
) -> dict[str, Any]:
    settings = account.settings or {}
    language = next((t.get("language") for t in approved_templates(settings) if t["name"] == name), None)
    language = language or settings.get("template_language") or conversation.language or "en"
    template: dict[str, Any] = {"name": name, "language": {"code": str(language)}}
    if values:
        # The Cloud API's body parameters, in the order of {{1}}, {{2}}...
        template["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": value} for value in values]}
        ]
    return template


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
    found = registry.channel(network)
    if found is not None and inbound is not None:
        extra.update(found.reply_extra(raw, inbound.created_at, attempt, now))
    if payload.get("tag"):
        extra["tag"] = str(payload["tag"])
    template = None
    if isinstance(template_name, str) and template_name:
        mode = "template"
        values = [str(v) for v in payload.get("params") or []]
        template = _template(template_name, account, conversation, values)
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
        files=_files(session, message),
    )
