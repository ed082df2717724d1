"""An agent answers the customer: checks before sending, the outbox row, or a hold for approval."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import repository as repo
from relaydesk.conversations import timeline
from relaydesk.conversations.approvals import Hold
from relaydesk.conversations.attachments import CheckedFile, Upload, check_files
from relaydesk.conversations.collisions import check_collision
from relaydesk.conversations.context import Deps, visible
from relaydesk.conversations.held_replies import approver_ids, needs_approval
from relaydesk.conversations.schemas import ConversationOut
from relaydesk.conversations.sending import queue_outbox, release
from relaydesk.conversations.views import summary
from relaydesk.core.enums import DeliveryStatus, Direction
from relaydesk.core.errors import NotFound, Refused
from relaydesk.core.timeutil import utcnow
from relaydesk.db import reading, transaction
from relaydesk.guidelines import service as guidelines
from relaydesk.models import ChannelAccount, Conversation, MediaFile, Message, User
from relaydesk.notifications import service as notifications


def reply(
    deps: Deps,
    scope: Scope,
    conversation_id: int,
    text: str,
    *,
    set_pending: bool = False,
    idempotency_key: str | None = None,
    template: str | None = None,
    override_guidelines: bool = False,
    last_seen_message_id: int | None = None,
    force: bool = False,
    template_params: list[str] | None = None,
    files: list[Upload] | None = None,
) -> tuple[ConversationOut, int]:
    scope.require_write()
    checked = check_files(list(files or []))
    with transaction(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id, lock=True)
        if idempotency_key:
            # A retried request (same Idempotency-Key) gets the reply it already made; the key
            # means something only in this organisation and conversation.
            existing = repo.reply_by_request_key(session, conversation, idempotency_key)
            if existing is not None:
                return summary(session, conversation), existing.message_id
        if not force:
            check_collision(deps, session, scope, conversation, last_seen_message_id)
        account = session.get(ChannelAccount, conversation.account_id)
        assert account is not None
        now = utcnow()
        # Refuse now what the network would refuse later (WhatsApp's 24-hour window).
        from relaydesk.channels import replies

        replies.check_can_reply(session, conversation, account, template, now, template_params)
        if template and checked:
            raise Refused(
                "files: a template message carries no files; send them once the customer writes again"
            ).saying("template_no_files")
        replies.check_files(account, len(checked), text)
        if template:
            # The thread shows what the customer reads: the approved body with the values in it.
            text = replies.template_text(account, template, list(template_params or [])) or text
        author = session.get(User, scope.user_id)
        findings = guidelines.check(
            session,
            conversation.org_id,
            text,
            conversation.language,
            is_public(session, conversation),
            conversation.location_id,
            network=conversation.network,
            agent_name=author.name if author is not None else None,
        )
        blocking = [f for f in findings if f.severity == "block"]
        if blocking and not override_guidelines:
            raise Refused(f"text: the reply breaks brand guidelines: {guidelines.describe(blocking)}").saying(
                "guidelines", findings=guidelines.describe(blocking)
            )
        hold = needs_approval(session, conversation, author)
        if blocking:
            reason = f"sent despite guideline findings ({guidelines.describe(blocking)})"
            hold = replace(hold, reason=f"{hold.reason}; {reason}") if hold is not None else Hold(reason)
        message = Message(
            org_id=conversation.org_id,
            conversation_id=conversation.id,
            account_id=conversation.account_id,
            direction=Direction.OUTBOUND.value,
            kind="message",
            author_user_id=scope.user_id,
            text=text,
            attachments=[],
            raw={"set_pending": set_pending, **({"approval": hold.as_dict()} if hold else {})},
            delivery_status="draft" if hold else DeliveryStatus.QUEUED.value,
            sent_at=now,
            created_at=now,
        )
        session.add(message)
        session.flush()
        if checked:
            message.attachments = _store_files(session, conversation, scope.user_id, checked)
        queue_outbox(
            session,
            conversation,
            account.id,
            message.id,
            now,
            held=hold is not None,
            request_key=idempotency_key or None,
            payload={"template": template, "params": list(template_params or [])} if template else None,
        )
        if hold is not None:
            approvers = approver_ids(session, conversation, hold, scope.user_id)
            notifications.notify_users(
                session,
                conversation,
                approvers,
                "approval",
                f"a reply on conversation #{conversation.id} waits for your approval: {hold.reason}",
            )
            timeline.record(
                session,
                conversation,
                "draft",
                f"reply held for approval by {hold.waiting_for()}: {hold.reason}",
                {
                    "reason": hold.reason,
                    "approvers": list(hold.approvers),
                    "notified": approvers,
                    "guidelines": [vars(f) for f in findings],
                },
                actor_id=scope.user_id,
                message_id=message.id,
            )
        else:
            release(deps, session, conversation, message, account, scope.user_id, set_pending, now)
        out = summary(session, conversation)
        message_id = message.id
    return out, message_id


def media(deps: Deps, scope: Scope, media_id: int) -> MediaFile:
    with reading(deps.sessions) as session:
        row = session.get(MediaFile, media_id)
        if row is None or row.org_id != scope.org_id:
            raise NotFound(f"no file {media_id}")
        visible(session, scope, row.conversation_id)  # NotFound unless the caller sees it
        session.expunge(row)
        return row


def attachment(deps: Deps, scope: Scope, message_id: int, index: int) -> dict[str, Any]:
    """One attachment of a message the caller may see (else NotFound)."""
    with reading(deps.sessions) as session:
        message = session.get(Message, message_id)
        if message is None or message.org_id != scope.org_id:
            raise NotFound(f"no message {message_id}")
        visible(session, scope, message.conversation_id)
        items = list(message.attachments or [])
        if not 0 <= index < len(items) or not isinstance(items[index], dict):
            raise NotFound(f"message {message_id} has no attachment {index}")
        return dict(items[index])


def _store_files(
    session: Session, conversation: Conversation, user_id: int | None, files: list[CheckedFile]
) -> list[dict[str, Any]]:
    """The files kept with the reply; what the message's `attachments` says of each."""
    out: list[dict[str, Any]] = []
    for file in files:
        row = MediaFile.holding(
            file.data,
            file.mime_type,
            org_id=conversation.org_id,
            conversation_id=conversation.id,
            name=file.name,
            uploaded_by=user_id,
        )
        session.add(row)
        session.flush()
        out.append(
            {
                "kind": file.kind,
                "name": file.name,
                "mime_type": file.mime_type,
                "size": file.size,
                "media_id": row.id,
            }
        )
    return out


def is_public(session: Session, conversation: Conversation) -> bool:
    return repo.last_inbound_kind(session, conversation.id) in guidelines.PUBLIC_KINDS


def check_reply(deps: Deps, scope: Scope, conversation_id: int, text: str) -> dict[str, Any]:
    """Guideline findings for a draft, and approved FAQ answers for the customer's last message."""
    with reading(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id)
        author = session.get(User, scope.user_id)
        findings = guidelines.check(
            session,
            conversation.org_id,
            text,
            conversation.language,
            is_public(session, conversation),
            conversation.location_id,
            network=conversation.network,
            agent_name=author.name if author is not None else None,
        )
        return {
            "findings": [vars(f) for f in findings],
            "blocking": any(f.severity == "block" for f in findings),
            "faq": _faq_for(session, conversation),
        }


def reply_window(deps: Deps, scope: Scope, conversation_id: int) -> dict[str, Any]:
    """Whether free text may be sent now and, on WhatsApp after 24 hours, the templates that may."""
    from relaydesk.channels import replies

    with reading(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id)
        account = session.get(ChannelAccount, conversation.account_id)
        if account is None:
            return {"window_open": True, "templates": [], "max_files": 0}
        return replies.reply_window(account, conversation, utcnow())


def faq_answers(deps: Deps, scope: Scope, conversation_id: int) -> list[dict[str, Any]]:
    """Approved FAQ answers for the customer's last message (the page offers them beside the reply)."""
    with reading(deps.sessions) as session:
        return _faq_for(session, visible(session, scope, conversation_id))


def _faq_for(session: Session, conversation: Conversation) -> list[dict[str, Any]]:
    last = repo.last_inbound_text(session, conversation.id)
    suggestions = guidelines.faq_suggestions(
        session, conversation.org_id, last or "", conversation.language, conversation.location_id
    )
    return [vars(x) for x in suggestions]
