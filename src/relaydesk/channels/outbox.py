"""Reliable sending: outbox rows are claimed, sent with retries and a rate limit, and recorded.

Every reply is an outbox row with a unique idempotency key. A worker claims due rows in a short
transaction (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so workers never take the same row; SQLite:
the ``BEGIN IMMEDIATE`` write lock serialises claims), flips them to ``sending`` with a lease,
calls the network, and records the answer in a second transaction.

Exactly once, and where it is only at least once. A worker that dies between the network's
answer and the record leaves the row ``sending``; when the lease (2 minutes) runs out the row is
sent again with the SAME key:

- LINE (push with ``X-Line-Retry-Key``), e-mail (Message-ID derived from the key), the generic
  webhook (``id`` = key) and web chat de-duplicate on it: the customer sees one copy.
- Facebook Messenger and WhatsApp have no idempotency key, but hand our key back: Messenger in the
  echo webhook (``message.metadata``), WhatsApp in status webhooks (``biz_opaque_callback_data``).
  The webhook endpoint marks the row sent when it sees the key (`confirm_by_key`), so by the time
  the lease runs out a delivered reply is no longer due. After a timeout / 5xx (the request may have
  arrived) we wait at least ``ECHO_WAIT`` before trying again, for the same reason. What is left:
  a crash or timeout whose echo arrives later than that wait, or never (webhooks not subscribed to
  ``message_echoes``), is sent twice. Facebook comment replies go through ``/comments`` with no
  metadata and share that window.
- Instagram, Telegram and X DMs have neither: a crash in that window can post twice. X refuses an
  identical post, which on a resend we read as "the first one got through" (code ``duplicate``).
  A LINE reply sent with a reply token takes no retry key either: the token is single use, so the
  resend is refused and falls back to a push (a second copy).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.crypto import SecretBox, SecretKeyMissing
from relaydesk.channels import registry, replies, repository
from relaydesk.channels.base import OutboundRequest, SendResult
from relaydesk.channels.registry import Sender
from relaydesk.core import metrics
from relaydesk.core.events import ReplyFailed, ReplySent, publish_on_commit
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.models import Message, OutboxItem, TimelineEvent

log = logging.getLogger(__name__)

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "Claimed",
    "OutboxWorker",
    "Sender",
    "TokenBucket",
    "backoff",
    "confirm_by_key",
    "default_senders",
]

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
BASE_DELAY = 2.0
MAX_DELAY = 15 * 60.0
# How long an echo / status webhook gets to confirm a send whose answer we never saw.
ECHO_WAIT = 30.0
DEFAULT_RATE_PER_SECOND = 20.0
# A rate-limit wait longer than this gives the row back instead of holding its lease.
MAX_HOLD = LEASE.total_seconds() / 4
SANDBOX_PREFIX = "sandbox:"  # external id of a reply a sandbox account did not really send

# Plain words for refusals the agent has to act on; the platform's own reason follows them.
ADVICE = {
    "token_expired": "the account's access token was refused; reconnect the account",
    "window_closed": "the customer service window is closed; send an approved template",
    "blocked": "the customer blocked the account",
    "undeliverable": "the network could not deliver it to this customer",
    "quota_exhausted": "the account's monthly message quota is used up",
    "config": "the account is not fully configured (see `relaydesk channels check`)",
    "unsupported": "RelayDesk cannot send on this network",
}

default_senders = registry.default_senders
DELIVERY_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}


def backoff(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Full-jitter exponential backoff, never sooner than the network asked (Retry-After)."""
    ceiling = min(MAX_DELAY, BASE_DELAY * 2 ** max(0, attempt - 1))
    delay = rng.uniform(0, ceiling)
    return max(delay, retry_after or 0.0)


@dataclass
class TokenBucket:
    """Per-account send rate, so one busy account does not trip its network's limit.

    Tokens may go negative: a caller that takes one is told how long to wait for it, and the next
    caller waits behind it, without the clock having to move between the two calls.
    """

    rate: float
    capacity: float
    tokens: float | None = None
    updated: float = 0.0

    def take(self, now: float) -> float:
        if self.tokens is None:
            self.tokens, self.updated = self.capacity, now
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def give_back(self) -> None:
        if self.tokens is not None:
            self.tokens = min(self.capacity, self.tokens + 1)


@dataclass
class Claimed:
    item_id: int
    message_id: int
    attempt: int
    network: str
    account_id: int
    request: OutboundRequest
    credentials: dict[str, Any]
    rate: float
    resumed: bool  # the row was `sending` when its worker died
    # The account's `settings.sandbox`: replies are recorded as sent but never leave RelayDesk
    # (the demo organisation, a staging install, an account being set up).
    sandbox: bool = False


def confirm_by_key(session: Session, account_id: int, key: str, external_id: str | None) -> bool:
    """The network told us (echo / status webhook) that the send with `key` arrived.

    Marks the outbox row and its message sent, so no worker sends it again. Returns whether a row
    of this account had that key.
    """
    item = repository.outbox_item_by_key(session, account_id, key)
    if item is None:
        return False
    message = repository.message(session, item.message_id)
    if item.status != "sent":
        item.status = "sent"
        item.last_error = None
    if message is not None:
        if external_id and not message.external_id:
            message.external_id = external_id
        if DELIVERY_RANK.get(message.delivery_status or "queued", 0) < DELIVERY_RANK["sent"] or (
            message.delivery_status == "failed"
        ):
            message.delivery_status = "sent"
            message.delivery_error = None
    return True


class OutboxWorker:
    """``await worker.run_once()`` sends what is due; ``run_forever(stop)`` polls every second.

    `clock` (aware UTC datetimes) and `sleep` are injected so tests control time; `seed` fixes the
    jitter.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        box: SecretBox,
        senders: dict[str, Sender],
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        seed: int | None = None,
        lease: timedelta = LEASE,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.senders = senders
        self.clock = clock
        self.sleep = sleep
        self.rng = random.Random(seed)
        self.lease = lease
        self.max_attempts = max_attempts
        self.buckets: dict[int, TokenBucket] = {}

    # -- claim ---------------------------------------------------------------------------

    def claim(self, limit: int = 50) -> list[Claimed]:
        """Flip up to `limit` due rows to `sending` (their lease starts now) and return them."""
        now = self.clock()
        claimed: list[Claimed] = []
        with transaction(self.sessions) as session:
            for item in repository.due_outbox_items(session, now, self.lease, limit):
                job = self._claim_one(session, item, now)
                if job is not None:
                    claimed.append(job)
        return claimed

    def _claim_one(self, session: Session, item: OutboxItem, now: datetime) -> Claimed | None:
        message = repository.message(session, item.message_id)
        account = repository.account(session, item.account_id)
        if message is None or account is None or not account.active:
            item.status = "failed"
            item.last_error = "the message or its account no longer exists or is inactive"
            if message is not None:
                message.delivery_status = "failed"
                message.delivery_error = item.last_error
            return None
        resumed = item.status == "sending"
        item.status = "sending"
        item.attempts += 1
        item.next_attempt_at = now
        try:
            request = replies.build_request(session, message, account, item, attempt=item.attempts, now=now)
            credentials = self.box.open(account.credentials_encrypted) or {}
        except (LookupError, ValueError, TypeError, SecretKeyMissing) as exc:
            # A broken row (undecryptable credentials, conversation gone) must not stop the others.
            log.warning("outbox item %s cannot be prepared: %s", item.id, type(exc).__name__)
            item.status = "failed"
            item.last_error = f"cannot prepare the reply ({type(exc).__name__})"
            message.delivery_status = "failed"
            message.delivery_error = item.last_error
            return None
        if resumed:
            known = registry.spec(account.network)
            if known is not None and not known.server_idempotency:
                # No key on the network's side and no echo within the lease: this is the
                # at-least-once window described at the top of this module.
                log.warning(
                    "outbox item %s (%s) resent after its worker died; it may arrive twice",
                    item.id,
                    account.network,
                )
        rate = (account.settings or {}).get("rate_per_second", DEFAULT_RATE_PER_SECOND)
        return Claimed(
            item_id=item.id,
            message_id=message.id,
            attempt=item.attempts,
            network=account.network,
            account_id=account.id,
            request=request,
            credentials=registry.sender_credentials(account.network, credentials),
            rate=float(rate) if isinstance(rate, int | float) and rate > 0 else DEFAULT_RATE_PER_SECOND,
            resumed=resumed,
            sandbox=(account.settings or {}).get("sandbox") is True,
        )

    # -- send ----------------------------------------------------------------------------

    def _bucket(self, job: Claimed) -> TokenBucket:
        bucket = self.buckets.get(job.account_id)
        if bucket is None or bucket.rate != job.rate:
            bucket = TokenBucket(rate=job.rate, capacity=max(1.0, job.rate))
            self.buckets[job.account_id] = bucket
        return bucket

    async def run_once(self, limit: int = 50) -> int:
        """Send what is due now; returns how many rows were attempted."""
        claimed = await asyncio.to_thread(self.claim, limit)
        attempted = 0
        for position, job in enumerate(claimed):
            bucket = self._bucket(job)
            wait = bucket.take(self.clock().timestamp())
            if wait > MAX_HOLD:
                # Holding the lease that long would let another worker take the row: hand back
                # this one and the rest of the batch, due when the bucket has room again.
                bucket.give_back()
                await asyncio.to_thread(self.release, claimed[position:], wait)
                break
            if wait > 0:
                await self.sleep(wait)
            result = await self._send(job)
            await asyncio.to_thread(self.record, job, result)
            attempted += 1
        return attempted

    async def _send(self, job: Claimed) -> SendResult:
        if job.sandbox:
            return SendResult(ok=True, external_id=f"{SANDBOX_PREFIX}{job.request.idempotency_key}")
        channel = registry.channel(job.network)
        if channel is not None and channel.delivered_by_storing:
            # The visitor's widget fetches the reply: storing it is the delivery.
            return SendResult(ok=True, external_id=f"{job.network}:{job.request.idempotency_key}")
        sender = self.senders.get(job.network)
        if sender is None:
            return SendResult(ok=False, error=f"no sender for {job.network}", code="unsupported")
        try:
            return await sender.send(job.request, job.credentials)
        except Exception as exc:  # noqa: BLE001 - logged below, without the traceback
            # A sender bug must not lose the reply: it is retried like a network failure. No
            # traceback in the log: an exception's text may hold a URL with a token in it.
            log.warning("sender for %s raised %s", job.network, type(exc).__name__)
            return SendResult(ok=False, error=f"sender error: {type(exc).__name__}", retryable=True)

    # -- record --------------------------------------------------------------------------

    def release(self, jobs: list[Claimed], delay: float) -> None:
        """Give claimed rows back unsent (no attempt used), due after `delay` seconds."""
        due = self.clock() + timedelta(seconds=delay)
        with transaction(self.sessions) as session:
            for job in jobs:
                item = repository.outbox_item(session, job.item_id)
                if item is not None and item.status == "sending" and item.attempts == job.attempt:
                    item.status = "queued"
                    item.attempts -= 1
                    item.next_attempt_at = due

    def record(self, job: Claimed, result: SendResult) -> None:
        now = self.clock()
        with transaction(self.sessions) as session:
            item = repository.outbox_item(session, job.item_id)
            message = repository.message(session, job.message_id)
            if item is None or message is None:
                return
            if item.status != "sending" or item.attempts != job.attempt:
                # An echo confirmed it meanwhile, or our lease ran out and another worker owns it.
                log.info("outbox item %s already settled (%s); result not recorded", item.id, item.status)
                return
            if result.ok or (result.code == "duplicate" and job.attempt > 1):
                self._sent(item, message, result)
                outcome = "sent"
                publish_on_commit(
                    session,
                    ReplySent(
                        org_id=message.org_id, conversation_id=message.conversation_id, reply_id=message.id
                    ),
                )
            elif result.retryable and job.attempt < self.max_attempts:
                self._retry(item, message, job, result, now)
                outcome = "retried"
            else:
                self._failed(session, item, message, job, result)
                outcome = "failed"
                publish_on_commit(
                    session,
                    ReplyFailed(
                        org_id=message.org_id,
                        conversation_id=message.conversation_id,
                        reply_id=message.id,
                        reason=message.delivery_error or "",
                    ),
                )
        # After the commit: a record rolled back is not a result (the send is recorded again).
        metrics.OUTBOUND_SENDS.labels(network=job.network, result=outcome).inc()

    def _sent(self, item: OutboxItem, message: Message, result: SendResult) -> None:
        item.status = "sent"
        item.last_error = None if result.ok else "the network already had it (an earlier attempt got through)"
        if DELIVERY_RANK.get(message.delivery_status or "queued", 0) < DELIVERY_RANK["sent"]:
            message.delivery_status = "sent"
        if result.external_id:
            message.external_id = result.external_id
        message.delivery_error = None
        log.info("outbox item %s sent", item.id)

    def _retry(
        self, item: OutboxItem, message: Message, job: Claimed, result: SendResult, now: datetime
    ) -> None:
        delay = backoff(job.attempt, result.retry_after, self.rng)
        known = registry.spec(job.network)
        if known is not None and known.key_echoed_back and result.retry_after is None:
            # A timeout or 5xx may hide a delivered message: give its echo time to arrive.
            delay = max(delay, ECHO_WAIT)
        item.status = "queued"
        item.next_attempt_at = now + timedelta(seconds=delay)
        item.last_error = result.error
        message.delivery_error = f"retrying in {delay:.0f}s: {result.error}"
        log.info("outbox item %s: attempt %s failed, retry in %.0fs", item.id, job.attempt, delay)

    def _failed(
        self, session: Session, item: OutboxItem, message: Message, job: Claimed, result: SendResult
    ) -> None:
        reason = result.error or result.code or "the network refused the message"
        if result.retryable:
            reason = f"gave up after {job.attempt} attempts: {reason}"
        advice = ADVICE.get(result.code or "")
        item.status = "failed"
        item.last_error = reason
        message.delivery_status = "failed"
        message.delivery_error = f"{advice} ({reason})" if advice else reason
        repository.add_timeline_event(
            session,
            TimelineEvent(
                org_id=message.org_id,
                conversation_id=message.conversation_id,
                message_id=message.id,
                kind="delivery",
                reason=f"reply not delivered: {message.delivery_error}",
                data={"code": result.code, "attempts": job.attempt, "network": job.network},
            ),
        )
        log.info("outbox item %s failed (code=%s)", item.id, result.code)

    # -- loop ----------------------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event, every: float = 1.0) -> None:
        """Poll until `stop` is set; a full batch is followed at once by the next one."""
        batch = 50
        while not stop.is_set():
            try:
                attempted = await self.run_once(batch)
            except Exception:
                log.exception("outbox pass failed; retrying")
                attempted = 0
            if attempted < batch:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=every)
                except TimeoutError:
                    pass
