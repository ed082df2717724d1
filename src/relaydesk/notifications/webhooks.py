"""Outbound notification webhooks (Slack-compatible incoming-webhook JSON) for escalations.

URLs are secrets, so they come from the environment, never from the database or the logs:
`RELAYDESK_WEBHOOK_ESCALATIONS=https://hooks.slack.com/services/...` names the webhook
"escalations"; a routing rule's `notify: ["webhook:pr-desk"]` uses `RELAYDESK_WEBHOOK_PR_DESK`.
Posts are queued on the session and sent only after its transaction commits, in the background,
with a few retries; a failed post is logged by name, never by URL.
"""

from __future__ import annotations

import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy.orm import Session

from relaydesk.core.events import WebhookRequested, publish_on_commit

log = logging.getLogger(__name__)
ENV_PREFIX = "RELAYDESK_WEBHOOK_"
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="relaydesk-webhooks")
_transport: httpx.BaseTransport | None = None  # tests plug a fake in here


def env_name(name: str) -> str:
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


def webhook_url(name: str) -> str | None:
    return os.environ.get(env_name(name)) or None


def queue(session: Session, name: str, text: str) -> bool:
    """Send `text` to webhook `name` once this session commits; False when it is not configured."""
    url = webhook_url(name)
    if url is None:
        return False
    publish_on_commit(session, WebhookRequested(name=name, text=text[:3000]))
    return True


def _post(name: str, url: str, text: str, attempts: int = 3) -> None:
    payload: dict[str, Any] = {"text": text}
    for attempt in range(attempts):
        try:
            with httpx.Client(timeout=5.0, transport=_transport) as client:
                response = client.post(url, json=payload)
            if response.status_code < 300:
                return
            log.warning("webhook %s answered %s", name, response.status_code)
        except httpx.HTTPError as exc:
            log.warning("webhook %s failed: %s", name, type(exc).__name__)
        time.sleep(0.5 * 2**attempt)


def submit(name: str, text: str) -> None:
    """Post in the background (the webhook listener, once the session committed)."""
    url = webhook_url(name)
    if url is not None:
        _pool.submit(_post, name, url, text)
