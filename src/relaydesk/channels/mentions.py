"""Instagram @mentions: held by the webhook, completed in the background, then accepted.

Instagram's ``mentions`` webhook names the media (and the comment) but not the text or the
author. Accepting it as it is would give agents an empty message from "unknown" and route it on
no text. So the webhook only stores a ``pending_mentions`` row (`hold`, idempotent on the account
and the mention's id) and answers Meta at once; `MentionDetails` fetches the text and author from
the Graph API (instagram.mention_details_query) and hands the complete mention to the pipeline,
which stores it once per (account, external id), then deletes the row.

Nothing is lost when the fetch fails: the row stays ``pending`` and is retried with back-off
(timeouts, 5xx, rate limits, and a refused token, which an admin can renew); a claimed row whose
worker died is taken again when its lease runs out. Only an answer saying the mention will never
be readable (deleted or private media, comments turned off) makes it ``failed``, kept with the
reason and counted by ``relaydesk channels check``. A sandbox account (fake credentials) is not
asked: its mentions are accepted with what the webhook said.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.crypto import SecretBox, SecretKeyMissing
from relaydesk.channels import graph, instagram, meta, repository
from relaydesk.channels.base import InboundEvent, ParsedEvent
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.db import transaction

if TYPE_CHECKING:
    from relaydesk.container import Container
    from relaydesk.pipeline.service import Pipeline

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
ERROR_MAX = 500


def hold(sessions: sessionmaker[Session], account_id: int, item: ParsedEvent) -> dict[str, Any]:
    """Keep a mention until its details are fetched; what the webhook reports for it.

    A redelivery of a mention already accepted points at its message; one still waiting maps onto
    the row we have (``duplicate: true``).
    """
    event = item.event
    with transaction(sessions) as session:
        found = repository.message_ref(session, account_id, event.external_id)
        if found is not None:
            return {
                "external_id": event.external_id,
                "message_id": found[0],
                "conversation_id": found[1],
                "duplicate": True,
            }
        account = repository.account(session, account_id)
        assert account is not None
        now = utcnow()
        pending_id = repository.hold_mention(
            session,
            org_id=account.org_id,
            account_id=account_id,
            network=event.network,
            external_id=event.external_id,
            value=event.raw,
            now=now,
            received_at=as_utc(event.sent_at) or now,
        )
    return {"external_id": event.external_id, "pending": True, "duplicate": pending_id is None}


def count_by_account(session: Session) -> dict[int, tuple[int, int]]:
    """account id -> (mentions waiting for details, mentions whose details will never come)."""
    out: dict[int, tuple[int, int]] = {}
    for account_id, status, count in repository.pending_mention_counts(session):
        waiting, failed = out.get(account_id, (0, 0))
        if status == "failed":
            failed += int(count)
        else:
            waiting += int(count)
        out[account_id] = (waiting, failed)
    return out


@dataclass(frozen=True)
class Job:
    pending_id: int
    account_id: int
    account_ref: str
    value: dict[str, Any]
    received_at: datetime
    attempts: int
    token: str | None
    sandbox: bool


@dataclass(frozen=True)
class Outcome:
    event: InboundEvent | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds; None: the back-off decides
    permanent: bool = False


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... up to an hour between tries."""
    return min(FIRST_RETRY * int(2 ** max(0, attempts - 1)), MAX_RETRY)


class MentionDetails:
    """Fetches the details of held mentions and accepts them (run by the server in the background)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        box: SecretBox,
        pipeline: Pipeline,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        base_url: str = meta.DEFAULT_BASE_URL,
        timeout: float = meta.DEFAULT_TIMEOUT_S,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.pipeline = pipeline
        self.transport = transport
        self.base_url = base_url
        self.timeout = timeout
        self.clock = clock

    @classmethod
    def of(cls, container: Container, **kwargs: Any) -> MentionDetails:
        return cls(container.sessions, container.box, container.pipeline, **kwargs)

    # -- claim ---------------------------------------------------------------------------

    def claim(self, limit: int = 20) -> list[Job]:
        """Take up to `limit` due rows under a lease (a dead worker's rows come back after it)."""
        now = self.clock()
        jobs: list[Job] = []
        with transaction(self.sessions) as session:
            for row in repository.due_pending_mentions(session, now, LEASE, limit):
                account = repository.account(session, row.account_id)
                if account is None or not account.active or not account.external_id:
                    # Kept as it is: it is fetched once the account is active (and named) again.
                    row.next_attempt_at = now + MAX_RETRY
                    row.last_error = "the account is inactive or has no external_id"
                    continue
                try:
                    credentials = self.box.open(account.credentials_encrypted) or {}
                except (SecretKeyMissing, ValueError):
                    credentials = {}
                token = credentials.get("access_token")
                row.status = "fetching"
                row.attempts += 1
                row.next_attempt_at = now
                jobs.append(
                    Job(
                        pending_id=row.id,
                        account_id=row.account_id,
                        account_ref=str(account.external_id),
                        value=dict(row.value or {}),
                        received_at=as_utc(row.received_at) or now,
                        attempts=row.attempts,
                        token=token if isinstance(token, str) and token else None,
                        sandbox=(account.settings or {}).get("sandbox") is True,
                    )
                )
        return jobs

    # -- fetch ---------------------------------------------------------------------------

    async def fetch(self, job: Job) -> Outcome:
        if job.sandbox:
            return Outcome(event=self._as_received(job))
        if job.token is None:
            return Outcome(error="the account has no access_token to read the mention with", retry_after=3600)
        try:
            path, params = instagram.mention_details_query(job.account_ref, job.value)
        except ValueError as exc:
            return Outcome(error=f"cannot ask for this mention: {exc}", permanent=True)
        headers = {"Authorization": f"Bearer {job.token}"}
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, transport=self.transport, timeout=self.timeout
            ) as client:
                response = await client.get(path, params=params, headers=headers)
        except httpx.TimeoutException:
            return Outcome(error="timed out asking the Graph API for the mention")
        except httpx.TransportError as exc:
            return Outcome(error=f"Graph API unreachable ({type(exc).__name__})")
        try:
            payload: Any = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            payload = None
        if not 200 <= response.status_code < 300:
            result = meta.classify_response(
                response.status_code, response.headers, payload, now=self.clock(), token=job.token
            )
            if result.code == "token_expired":
                # An admin renews the token; every mention waiting is read then.
                return Outcome(error=result.error, retry_after=3600)
            return Outcome(error=result.error, retry_after=result.retry_after, permanent=not result.retryable)
        try:
            event = instagram.mention_from_details(job.value, payload, job.received_at)
        except (graph.PartError, ValueError) as exc:
            return Outcome(error=f"unexpected answer from the Graph API: {exc}", permanent=True)
        return Outcome(event=event)

    @staticmethod
    def _as_received(job: Job) -> InboundEvent:
        media_id = graph.id_str(job.value.get("media_id")) or ""
        external_id = graph.id_str(job.value.get("comment_id")) or media_id
        return InboundEvent(
            network=instagram.NETWORK,
            external_id=external_id,
            author_id=f"unknown:{external_id}",
            text=graph.text_of(job.value.get("text")),
            sent_at=job.received_at,
            thread_id=media_id or None,
            kind="mention",
            raw={**job.value, "details": "not fetched: sandbox account"},
        )

    # -- record --------------------------------------------------------------------------

    def record(self, job: Job, outcome: Outcome) -> None:
        if outcome.event is not None:
            # Accepted first, deleted after: a crash in between accepts it again, which the
            # pipeline maps onto the message it already has.
            self.pipeline.accept(job.account_id, outcome.event)
            with transaction(self.sessions) as session:
                repository.delete_pending_mention(session, job.pending_id)
            return
        now = self.clock()
        with transaction(self.sessions) as session:
            row = repository.pending_mention(session, job.pending_id)
            if row is None:
                return
            row.last_error = (outcome.error or "unknown error")[:ERROR_MAX]
            if outcome.permanent:
                row.status = "failed"
                log.warning("instagram mention %s cannot be read: kept as failed", job.pending_id)
                return
            wait = (
                timedelta(seconds=outcome.retry_after)
                if outcome.retry_after is not None
                else backoff(job.attempts)
            )
            row.status = "pending"
            row.next_attempt_at = now + max(wait, FIRST_RETRY)
            log.info("instagram mention %s not read yet (attempt %s); retrying", job.pending_id, job.attempts)

    # -- loop ----------------------------------------------------------------------------

    async def run_once(self, limit: int = 20) -> int:
        """Fetch what is due now; returns how many mentions were tried."""
        jobs = await asyncio.to_thread(self.claim, limit)
        for job in jobs:
            outcome = await self.fetch(job)
            try:
                await asyncio.to_thread(self.record, job, outcome)
            except Exception:
                # The row stays `fetching` and comes back when its lease ends.
                log.exception("recording instagram mention %s failed; it will be retried", job.pending_id)
        return len(jobs)

    async def run_forever(self, stop: asyncio.Event, every: float = 5.0) -> None:
        batch = 20
        while not stop.is_set():
            try:
                tried = await self.run_once(batch)
            except Exception:
                log.exception("mention details pass failed; retrying")
                tried = 0
            if tried < batch:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=every)
                except TimeoutError:
                    pass
