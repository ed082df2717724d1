"""Automatic answers as a message is processed: the account's settings, the facts of the message,
and the reply queued like an agent's, marked automatic (rules: `auto_answer_rules.py`).

Called by the pipeline for every processed message of an account whose settings turn an automatic
answer on; with both off (the default) it reads nothing. The answer is queued in the processing's
transaction (it goes out with the message's results or not at all) and recorded on the timeline;
it does not meet the SLA's first response nor change the status: a person still answers.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.core import UnknownLocaleError
from babel.dates import format_datetime
from sqlalchemy.orm import Session

from relaydesk.conversations.sending import queue_outbox
from relaydesk.core.enums import PUBLIC_KINDS, SPAM, DeliveryStatus, Direction
from relaydesk.core.events import ConversationUpdated, publish_on_commit
from relaydesk.core.timeutil import utcnow
from relaydesk.crisis.alert_service import alert_service
from relaydesk.guidelines import repository
from relaydesk.guidelines.auto_answer_rules import (
    AutoAnswer,
    Candidate,
    Situation,
    clean,
    decide,
    fill_opens,
)
from relaydesk.guidelines.faq_service import faq_service
from relaydesk.models import ChannelAccount, Conversation, Message, TimelineEvent
from relaydesk.sla.clock import BusinessCalendar
from relaydesk.triage.base import TriageResult

SETTINGS_KEY = "auto_answers"


def wanted(account: ChannelAccount) -> bool:
    """Whether the account turned an automatic answer on (no read of anything else)."""
    raw = (account.settings or {}).get(SETTINGS_KEY)
    return isinstance(raw, dict) and any(
        isinstance(part, dict) and part.get("enabled") is True for part in raw.values()
    )


def _opens(calendar: BusinessCalendar, language: str) -> str:
    """When the place opens next, as the customer reads it ("Monday 09:00"; Persian, Arabic,
    Hebrew and Thai in their own words and digits where the locale has them)."""
    at = calendar.next_open(utcnow())
    try:
        return format_datetime(at, "EEEE HH:mm", tzinfo=ZoneInfo(calendar.tz), locale=language)
    except (ValueError, UnknownLocaleError):
        return format_datetime(at, "EEEE HH:mm", tzinfo=ZoneInfo(calendar.tz), locale="en")


class AutoAnswers:
    def on_inbound(
        self,
        session: Session,
        conversation: Conversation,
        message: Message,
        account: ChannelAccount,
        result: TriageResult,
        attributes: dict[str, object],
        calendar: BusinessCalendar,
    ) -> AutoAnswer | None:
        settings, problems = clean((account.settings or {}).get(SETTINGS_KEY))
        if problems or not settings.any:
            return None
        now = utcnow()
        tags = set(conversation.tags or [])
        inbound, answered, last_away = repository.conversation_so_far(session, conversation.id)
        language = conversation.language if conversation.language not in (None, "und") else result.lang
        situation = Situation(
            language=language or "en",
            public=message.kind in PUBLIC_KINDS,
            crisis=bool(result.crisis)
            or "crisis" in tags
            or alert_service.any_open_at(session, conversation.org_id, conversation.location_id),
            vip=attributes.get("vip") is True or "vip" in tags,
            spam=bool(result.spam) or SPAM in tags,
            open_now=calendar.is_open(now),
            answered_before=answered or conversation.first_response_at is not None,
            first_message=inbound <= 1,
            last_away_at=last_away,
            now=now,
        )
        offered: list[Candidate] = []
        if settings.faq and situation.first_message and not situation.answered_before:
            offered = [
                Candidate(s.key, s.answer, s.language, s.score)
                for s in faq_service.suggestions(
                    session,
                    conversation.org_id,
                    message.text or "",
                    language,
                    location_id=conversation.location_id,
                )
            ]
        answer = decide(settings, situation, offered)
        if answer is None:
            return None
        text = (
            fill_opens(answer.text, _opens(calendar, answer.language))
            if answer.kind == "away"
            else answer.text
        )
        self._queue(session, conversation, account, answer, text, now)
        return answer

    def _queue(
        self,
        session: Session,
        conversation: Conversation,
        account: ChannelAccount,
        answer: AutoAnswer,
        text: str,
        now: datetime,
    ) -> None:
        reply = Message(
            org_id=conversation.org_id,
            conversation_id=conversation.id,
            account_id=account.id,
            direction=Direction.OUTBOUND.value,
            kind="message",
            author_user_id=None,
            text=text,
            attachments=[],
            raw={"automatic": answer.kind, **({"faq_key": answer.faq_key} if answer.faq_key else {})},
            delivery_status=DeliveryStatus.QUEUED.value,
            sent_at=now,
            created_at=now,
        )
        session.add(reply)
        session.flush()
        queue_outbox(session, conversation, account.id, reply.id, now)
        session.add(
            TimelineEvent(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                message_id=reply.id,
                kind="auto_answer",
                reason=f"{answer.kind} answer sent automatically"
                + (f" (FAQ {answer.faq_key})" if answer.faq_key else ""),
                data={"automatic": answer.kind, "faq_key": answer.faq_key, "language": answer.language},
            )
        )
        if answer.kind == "faq":
            faq_service.count_uses(session, conversation.org_id, conversation.location_id, text)
        publish_on_commit(
            session,
            ConversationUpdated(
                org_id=conversation.org_id, conversation_id=conversation.id, fields=["messages"]
            ),
        )


auto_answers = AutoAnswers()
