"""The notifications slice as listeners of committed domain events: e-mail and outbound webhooks.

`install()` subscribes them on the in-process hub; it is idempotent and is called by whoever
queues such work (and by the container), so a rolled-back unit of work never mails or posts.
"""

from __future__ import annotations

from relaydesk.core.events import EmailRequested, EventHub, WebhookRequested, hub
from relaydesk.notifications import mailer, webhooks


def send_email(event: EmailRequested) -> None:
    # Read at send time from the same environment the queueing side checked.
    config = mailer.configured()
    if config is not None:
        mailer.submit(config, mailer.Mail(to=event.to, subject=event.subject, text=event.text))


def post_webhook(event: WebhookRequested) -> None:
    webhooks.submit(event.name, event.text)


def install(on: EventHub = hub) -> None:
    on.subscribe(EmailRequested, send_email)
    on.subscribe(WebhookRequested, post_webhook)
