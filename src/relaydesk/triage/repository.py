"""Triage in the database: each organisation's own intents, and agents' corrections of a reading
(stored, they become examples)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relaydesk.core.enums import Sentiment
from relaydesk.core.errors import NotFound, UserError
from relaydesk.core.timeutil import utcnow
from relaydesk.models import Conversation, Intent, Message, TimelineEvent, TriageCorrection

FIELDS = ("lang", "sentiment", "intent")


def intents_stamp(session: Session, org_id: int) -> tuple[int, datetime | None]:
    """How many intents an organisation has and when one last changed: a cache key for them."""
    row = session.execute(
        select(func.count(Intent.id), func.max(Intent.updated_at)).where(Intent.org_id == org_id)
    ).one()
    return (int(row[0]), row[1])


def org_intents(session: Session, org_id: int) -> list[Intent]:
    return list(session.scalars(select(Intent).where(Intent.org_id == org_id).order_by(Intent.id)))


def record_correction(
    session: Session, conversation: Conversation, message_id: int, user_id: int, field: str, value: str | None
) -> TriageCorrection:
    if field not in FIELDS:
        raise UserError(f"field: one of {', '.join(FIELDS)}")
    if field == "sentiment" and value not in {s.value for s in Sentiment}:
        raise UserError("value: positive, neutral or negative")
    if field == "lang" and (not value or len(value) > 8):
        raise UserError("value: an ISO 639-1 language code")
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conversation.id or message.direction != "inbound":
        raise NotFound(f"message {message_id}: no customer message of conversation {conversation.id}")
    triage = dict(message.triage or {})
    old = triage.get(field)
    triage[field] = value
    triage.setdefault("reasons", []).append(f"{field} corrected by an agent: {old} -> {value}")
    message.triage = triage
    row = TriageCorrection(
        org_id=conversation.org_id,
        message_id=message.id,
        user_id=user_id,
        field=field,
        old_value=None if old is None else str(old),
        new_value=value,
        text=message.text,
    )
    session.add(row)
    routed, latest = _readings_of(session, conversation, message.id)
    if field == "lang":
        conversation.language = value
    elif field == "sentiment":
        if routed:
            conversation.sentiment = value
        if latest:
            conversation.latest_sentiment = value
    else:
        if routed:
            conversation.intent = value
        if latest:
            conversation.latest_intent = value
        # An organisation intent learns the corrected message as one more example, at once.
        intent = session.scalars(
            select(Intent).where(Intent.org_id == conversation.org_id, Intent.name == value)
        ).first()
        if intent is not None and message.text.strip() and message.text not in intent.examples:
            intent.examples = [*intent.examples, message.text[:1000]]
            intent.updated_at = utcnow()
    session.add(
        TimelineEvent(
            org_id=conversation.org_id,
            conversation_id=conversation.id,
            message_id=message.id,
            kind="correction",
            actor_user_id=user_id,
            reason=f"{field} corrected: {old} -> {value}",
            data={"field": field, "from": old, "to": value},
        )
    )
    return row


def _readings_of(session: Session, conversation: Conversation, message_id: int) -> tuple[bool, bool]:
    """Whether a message's reading is the conversation's routed one (the message its first
    routing event names, else its first customer message) and whether it is the latest one."""
    routed_id = session.scalars(
        select(TimelineEvent.message_id)
        .where(TimelineEvent.conversation_id == conversation.id, TimelineEvent.kind == "route")
        .order_by(TimelineEvent.id)
        .limit(1)
    ).first()
    inbound = select(func.min(Message.id), func.max(Message.id)).where(
        Message.conversation_id == conversation.id,
        Message.direction == "inbound",
        Message.processed_at.is_not(None),
    )
    first_id, last_id = session.execute(inbound).one()
    return message_id == (routed_id or first_id), message_id == last_id


def correction_examples(session: Session, org_id: int | None = None) -> list[tuple[str, str, str]]:
    stmt = select(TriageCorrection).order_by(TriageCorrection.id)
    if org_id is not None:
        stmt = stmt.where(TriageCorrection.org_id == org_id)
    return [(c.text, c.field, c.new_value or "") for c in session.scalars(stmt) if c.new_value]
