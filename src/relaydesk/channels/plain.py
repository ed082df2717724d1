"""The fast path of a surge: a per-account delivery that needs nothing but appending.

A surge is thousands of plain deliveries a second to one account. `plain_delivery` verifies and
parses one on the server's event loop without touching the database (the account was read less
than a second ago), `stage_plain` appends its events to the intake queue and answers, without
holding a thread while the group commit runs. Anything else (an account not read lately, a bad
signature, parts to keep raw, receipts, reactions, echoes) goes the full way
(`IngestService.account_delivery`), which answers the same for the same delivery.
"""

from __future__ import annotations

import hashlib
import time
import weakref
from collections.abc import Mapping
from typing import Any

from relaydesk.channels import deliveries, ignored, registry, repository
from relaydesk.channels.base import InboundEvent, ParsedEvent, SignatureError, storable_event
from relaydesk.channels.deliveries import WebhookRefused
from relaydesk.channels.replies import EDIT_KIND
from relaydesk.container import Container
from relaydesk.db import reading
from relaydesk.models import ChannelAccount
from relaydesk.pipeline.staging import Accepted

Outcome = dict[str, Any]

# Per database (its session factory): account id -> (read at, the account or None).
_ACCOUNTS: weakref.WeakKeyDictionary[Any, dict[int, tuple[float, ChannelAccount | None]]] = (
    weakref.WeakKeyDictionary()
)
ACCOUNTS_MAX = 10_000
ACCOUNT_SECONDS = 1.0


def cached_account(container: Container, account_id: int, *, fresh: bool = False) -> ChannelAccount | None:
    """The account, read at most once per ACCOUNT_SECONDS per process (None: there is none).

    A deactivation or a new secret applies within that time; the webhook checks a signature that
    fails against the remembered secret again against a fresh read (`fresh`).
    """
    if not fresh:
        found = _remembered(container, account_id)
        if found is not None:
            return found[0]
    with reading(container.sessions) as session:
        account = repository.account(session, account_id)
    cache = _ACCOUNTS.setdefault(container.sessions, {})
    if len(cache) >= ACCOUNTS_MAX:
        cache.clear()
    cache[account_id] = (time.monotonic(), account)
    return account


def _remembered(container: Container, account_id: int) -> tuple[ChannelAccount | None] | None:
    """(the account or None) when read less than ACCOUNT_SECONDS ago; None when not remembered."""
    found = _ACCOUNTS.get(container.sessions, {}).get(account_id)
    if found is None or time.monotonic() - found[0] > ACCOUNT_SECONDS:
        return None
    return (found[1],)


def org_of(container: Container, account_id: int) -> int:
    """The organisation of an account (the remembered account's: an account never changes organisation)."""
    account = cached_account(container, account_id)
    if account is None:
        raise LookupError(f"account {account_id} does not exist")
    return account.org_id


def edit_of(item: ParsedEvent) -> None:
    """Turn an edit into its own row that points at the original (which stays as it was)."""
    event = item.event
    stamp = event.sent_at.isoformat() if event.sent_at else ""
    digest = hashlib.sha256(f"{stamp}\n{event.text}".encode()).hexdigest()[:16]
    event.reply_to_id = event.external_id
    event.external_id = f"{event.external_id}#edit:{digest}"
    event.kind = EDIT_KIND


def plain_delivery(
    container: Container, account_id: int, network: str, body: bytes, headers: Mapping[str, str]
) -> tuple[int, list[InboundEvent]] | None:
    """(org id, events) of a delivery that needs nothing but appending to the intake queue,
    found without the database; None when it needs more (`account_delivery` then handles it):
    an account not read lately, a signature that does not verify, parts to keep raw, receipts,
    reactions, echoes. A surge is made of plain deliveries; they never wait for a thread.
    """
    found = _remembered(container, account_id)
    if found is None or found[0] is None:
        return None
    account = found[0]
    channel = registry.channel(network)
    if not account.active or account.network != network or channel is None:
        return None
    if channel.verify is None or channel.parse is None:
        return None
    parse = channel.parse
    secrets = deliveries.opened(container.box, account.credentials_encrypted)
    secret = registry.credential(secrets, channel.spec, channel.spec.webhook_credentials[0])
    ref = account.external_id if channel.parse_with_account_ref else None
    try:
        if not secret:
            return None
        channel.verify(body, headers, str(secret))
        parsed, payload = deliveries.read(body, lambda raw: parse(raw, ref))
    except (SignatureError, WebhookRefused):
        return None
    if parsed.errors or parsed.ignored or parsed.statuses or not parsed.events:
        return None
    if ignored.skipped_parts(network, payload, parsed.ignored, parsed.errors):
        return None
    if deliveries.drop_foreign(parsed, channel, account.external_id, account_id):
        return None
    if any(item.action not in ("create", "edit") for item in parsed.events):
        return None
    for item in parsed.events:
        item.event = storable_event(item.event)
        if item.action == "edit":
            edit_of(item)
    return account.org_id, [item.event for item in parsed.events]


async def stage_plain(
    container: Container, org_id: int, account_id: int, events: list[InboundEvent]
) -> Outcome:
    """Append a plain delivery's events (`plain_delivery`) and answer as `account_delivery`."""
    accepted = await container.pipeline.stage_async(org_id, account_id, events)
    return {
        "accepted": accepted_entries(accepted),
        "pending": [],
        "ignored": [],
        "errors": [],
        "confirmed": 0,
        "ignored_events": [],
    }


def accepted_entries(accepted: list[Accepted]) -> list[dict[str, Any]]:
    """The ``accepted`` part of a webhook's answer, the same on both ways in."""
    return [
        {
            "external_id": a.external_id,
            "event_id": a.event_id,
            "message_id": a.message_id,
            "conversation_id": a.conversation_id,
            "duplicate": a.duplicate,
        }
        for a in accepted
    ]
