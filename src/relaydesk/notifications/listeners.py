"""The notifications slice as listeners of committed domain events: e-mail and outbound webhooks.

`install()` subscribes them on the in-process hub, once, when the container is built (it is
idempotent); listeners run after the commit, so a rolled-back unit of work never mails or posts.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from relaydesk.core.events import EmailRequested, EventHub, SlaBreach, SlaWarning, WebhookRequested, hub
from relaydesk.models import Conversation
from relaydesk.notifications import mailer, webhooks
from relaydesk.notifications import service as notifications


def send_email(event: EmailRequested) -> None:
    # Read at send time from the same environment the queueing side checked.
    config = mailer.configured()
    if config is not None:
        mailer.submit(config, mailer.Mail(to=event.to, subject=event.subject, text=event.text))


def post_webhook(event: WebhookRequested) -> None:
    webhooks.submit(event.name, event.text)


def notify_sla_warning(session: Session, event: SlaWarning) -> None:
    conversation = session.get(Conversation, event.conversation_id)  # in the identity map: no query
    assert conversation is not None
    notifications.notify_users(
        session,
        conversation,
        event.user_ids,
        "sla_warning",
        f"conversation #{conversation.id}: {event.reason}",
    )


def escalate_sla_breach(session: Session, event: SlaBreach) -> None:
    conversation = session.get(Conversation, event.conversation_id)
    assert conversation is not None
    notifications.notify_users(
        session,
        conversation,
        notifications.escalation_recipients(session, conversation),
        "escalation",
        f"conversation #{conversation.id}: {event.reason}",
    )
    webhooks.queue(session, "escalations", f"RelayDesk: conversation #{conversation.id}: {event.reason}")


def install(on: EventHub = hub) -> None:
    on.subscribe(EmailRequested, send_email)
    on.subscribe(WebhookRequested, post_webhook)
    # In the publisher's transaction: the in-app notification commits with the SLA change.
    on.subscribe_in_transaction(SlaWarning, notify_sla_warning)
    on.subscribe_in_transaction(SlaBreach, escalate_sla_breach)
