"""Conversation rows as the summaries every use case answers with."""

from __future__ import annotations

from sqlalchemy.orm import Session

from relaydesk.conversations import repository as repo
from relaydesk.conversations.schemas import ConversationOut, Ref, SlaOut
from relaydesk.core.timeutil import utcnow
from relaydesk.models import Conversation


def summaries(session: Session, rows: list[Conversation]) -> list[ConversationOut]:
    names = repo.lookup_names(session, rows)
    now = utcnow()

    def ref(kind: str, ident: int | None) -> Ref | None:
        if ident is None:
            return None
        key, name = names[kind].get(ident, (None, None))
        return Ref(id=ident, key=key, name=name)

    out = []
    for c in rows:
        out.append(
            ConversationOut(
                id=c.id,
                status=c.status,
                priority=c.priority,
                subject=c.subject,
                network=c.network,
                account=ref("account", c.account_id) or Ref(id=c.account_id),
                location=ref("location", c.location_id) or Ref(id=c.location_id),
                contact=ref("contact", c.contact_id) or Ref(id=c.contact_id),
                department=ref("department", c.department_id),
                assignee=ref("user", c.assignee_id),
                language=c.language,
                sentiment=c.sentiment,
                intent=c.intent,
                latest_sentiment=c.latest_sentiment,
                latest_intent=c.latest_intent,
                stage=c.stage,
                urgency=c.urgency,
                tags=list(c.tags or []),
                sla=SlaOut(
                    state=repo.sla_state(c.next_response_due, now),
                    first_response_due=c.first_response_due,
                    next_response_due=c.next_response_due,
                    resolution_due=c.resolution_due,
                    first_response_at=c.first_response_at,
                    paused_since=c.sla_paused_at,
                ),
                snoozed_until=c.snoozed_until,
                last_message_at=c.last_message_at,
                created_at=c.created_at,
            )
        )
    return out


def summary(session: Session, conversation: Conversation) -> ConversationOut:
    return summaries(session, [conversation])[0]
