"""The notifications slice as listeners of domain events: e-mail, outbound webhooks, and the
in-app notifications of SLA warnings, breaches and routing rules' notify actions.

`install()` subscribes them on the in-process hub, once, when the container is built (it is
idempotent); listeners run after the commit, so a rolled-back unit of work never mails or posts.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from relaydesk.core.events import (
    EmailRequested,
    EventHub,
    RoutingNotifyRequested,
    SlaBreach,
    SlaWarning,
    WebhookRequested,
    hub,
)
from relaydesk.models import Conversation, Message
from relaydesk.notifications import mailer, webhooks
from relaydesk.notifications import service as notifications


def send_email(event: EmailRequested) -> None:
    # Read at send time from the same environment the queueing side checked.
    config = mailer.configured()
    if config is not None:
        mailer.submit(config, mailer.Mail(to=event.to, subject=event.subject, text=event.text))


def post_webhook(event: WebhookRequested) -> None:
    webhooks.submit(event.name, event.text, event.org_id)


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
    webhooks.queue(
        session,
        "escalations",
        f"RelayDesk: conversation #{conversation.id}: {event.reason}",
        conversation.org_id,
    )


def notify_rule_targets(session: Session, event: RoutingNotifyRequested) -> None:
    """A routing rule's notify action: its webhooks, its e-mail addresses and its people."""
    conversation = session.get(Conversation, event.conversation_id)  # both in the identity map
    message = session.get(Message, event.message_id)
    assert conversation is not None and message is not None
    rules = ", ".join(event.matched_rules)
    for target in event.targets:
        if target.startswith("webhook:"):
            webhooks.queue(
                session,
                target.removeprefix("webhook:"),
                f"RelayDesk: conversation #{conversation.id} matched {rules}",
                conversation.org_id,
            )
    text = f"conversation #{conversation.id} matched rule(s) {rules}: " + " ".join(message.text.split())[:160]
    addresses = notifications.email_addresses(event.targets)
    if addresses:
        notifications.email_people(session, conversation, [("", a) for a in addresses], "rule", text)
    if event.targets:
        notifications.notify_users(
            session,
            conversation,
            notifications.handles_to_ids(session, conversation.org_id, event.targets),
            "rule",
            text,
        )


def install(on: EventHub = hub) -> None:
    on.subscribe(EmailRequested, send_email)
    on.subscribe(WebhookRequested, post_webhook)
    # In the publisher's transaction: the in-app notification commits with the SLA change.
    on.subscribe_in_transaction(SlaWarning, notify_sla_warning)
    on.subscribe_in_transaction(SlaBreach, escalate_sla_breach)
    # The rule's in-app notifications commit with the routing decision; its mails and webhook
    # posts still wait for that commit (EmailRequested, WebhookRequested above).
    on.subscribe_in_transaction(RoutingNotifyRequested, notify_rule_targets)
