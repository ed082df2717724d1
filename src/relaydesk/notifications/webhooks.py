"""Outbound notification webhooks (Slack-compatible incoming-webhook JSON) for escalations and rules.

URLs are secrets. A webhook is named: `RELAYDESK_WEBHOOK_ESCALATIONS=https://hooks.slack.com/...`
names "escalations", and a routing rule's `notify: ["webhook:pr-desk"]` uses
`RELAYDESK_WEBHOOK_PR_DESK`. An organisation's admins may also keep named destinations in the
database (`/settings/destinations`, URL sealed with the SecretBox); the environment wins when both
name the same webhook, so a server's operator keeps the last word. Neither URL ever travels in an
event or a log line: an event carries the name (and the organisation), and the URL is looked up
again when the post is made.

Posts are queued on the session and sent only after its transaction commits, in the background,
with a few retries; a failed post is logged by name, never by URL.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session

from relaydesk.core.events import WebhookRequested, publish_on_commit
from relaydesk.notifications import repository

log = logging.getLogger(__name__)
ENV_PREFIX = "RELAYDESK_WEBHOOK_"
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="relaydesk-webhooks")
_transport: httpx.BaseTransport | None = None  # tests plug a fake in here

# (org_id, name) -> the URL of that organisation's stored destination, or None.
StoredLookup = Callable[[int, str], str | None]
_stored: StoredLookup | None = None


@dataclass(frozen=True)
class Delivery:
    """How one post went, said without the URL (which may be in an exception's text)."""

    ok: bool
    status: int | None = None  # the receiver's HTTP status, when it answered
    error: str | None = None  # the kind of failure when it did not (ConnectError, ReadTimeout...)


def env_name(name: str) -> str:
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


def webhook_url(name: str) -> str | None:
    return os.environ.get(env_name(name)) or None


def env_webhooks() -> list[str]:
    """The environment variables that define webhooks, by name (their values stay unread)."""
    return sorted(
        k for k, v in os.environ.items() if k.startswith(ENV_PREFIX) and len(k) > len(ENV_PREFIX) and v
    )


def use_stored(lookup: StoredLookup | None) -> None:
    """How this process reads stored destinations (set once by the container, like the listeners)."""
    global _stored
    _stored = lookup


def queue(session: Session, name: str, text: str, org_id: int | None = None) -> bool:
    """Send `text` to webhook `name` once this session commits; False when it is not configured.

    With `org_id`, a destination that organisation stored under `name` counts too.
    """
    if webhook_url(name) is None and (
        org_id is None or repository.active_destination(session, org_id, name.strip().lower()) is None
    ):
        return False
    publish_on_commit(session, WebhookRequested(name=name, text=text[:3000], org_id=org_id))
    return True


def send_once(url: str, text: str) -> Delivery:
    """One post of `text`; what the "Send a test" button shows, and each attempt of a queued post."""
    payload: dict[str, Any] = {"text": text}
    try:
        with httpx.Client(timeout=5.0, transport=_transport) as client:
            response = client.post(url, json=payload)
    except httpx.HTTPError as exc:
        return Delivery(ok=False, error=type(exc).__name__)
    return Delivery(ok=response.status_code < 300, status=response.status_code)


def _post(name: str, url: str, text: str, attempts: int = 3) -> None:
    for attempt in range(attempts):
        sent = send_once(url, text)
        if sent.ok:
            return
        if sent.status is not None:
            log.warning("webhook %s answered %s", name, sent.status)
        else:
            log.warning("webhook %s failed: %s", name, sent.error)
        time.sleep(0.5 * 2**attempt)


def resolve(name: str, org_id: int | None) -> str | None:
    """The URL to post to: the environment's, else the organisation's stored one."""
    url = webhook_url(name)
    if url is None and org_id is not None and _stored is not None:
        url = _stored(org_id, name.strip().lower())
    return url


def _deliver(name: str, text: str, org_id: int | None) -> None:
    try:
        url = resolve(name, org_id)
    except Exception:  # a database hiccup must not kill the pool's thread; the name is enough
        log.exception("webhook %s: could not read its destination", name)
        return
    if url is not None:
        _post(name, url, text)


def submit(name: str, text: str, org_id: int | None = None) -> None:
    """Post in the background (the webhook listener, once the session committed)."""
    _pool.submit(_deliver, name, text, org_id)
