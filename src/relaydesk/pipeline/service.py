"""The flow of one message: accept -> thread -> triage -> route -> assign -> SLA -> events.

`accept` is the only step on the webhook's critical path: it stores the raw event idempotently
(`intake.py`, threading in `conversation_threads.py`) and answers. `process` does the rest and
is idempotent too, so the in-process bus can call it at once and a scale-out worker can call it
again after a crash without doing anything twice; a batch's rows are read together (`batch.py`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.channels.base import InboundEvent, storable_event
from relaydesk.core import metrics
from relaydesk.core.enums import SPAM, ConversationStatus
from relaydesk.core.events import ConversationUpdated, publish_on_commit
from relaydesk.core.timeutil import utcnow
from relaydesk.crisis.alert_service import alert_service
from relaydesk.db import reading, transaction, turn_over
from relaydesk.guidelines import auto_answer_service
from relaydesk.models import (
    ChannelAccount,
    Conversation,
    Message,
)
from relaydesk.pipeline import intake, intake_repository, materialise, timeline_rows
from relaydesk.pipeline import repository as queue
from relaydesk.pipeline.batch import Batch
from relaydesk.pipeline.bus.base import Bus
from relaydesk.pipeline.intake import AcceptResult
from relaydesk.pipeline.staging import Accepted, Stager, ToStage, with_messages
from relaydesk.routing.service import STICKY_KEY, RoutingService
from relaydesk.sla.service import SlaService
from relaydesk.triage.base import TriageInput, TriageResult
from relaydesk.triage.service import TriageService

log = logging.getLogger(__name__)


# Triage judges the opening of a very long message; the whole text is still stored and shown.
TRIAGE_CHARS = 20_000


BATCH = 32  # messages leased, triaged and committed together
LOAD_AHEAD = 8  # messages whose rows a chunk reads at once
LEASE = timedelta(minutes=2)  # a worker that dies holding work loses it to another after this
MAX_ATTEMPTS = 5  # failures before a message is set aside for an admin (dead-letter)
# During a surge at the door the workers (all of a process's threads together) take at most this
# share of the time, and never stop.
SURGE_SHARE = 0.25
SURGE_PAUSE_MAX = 0.5
STAGED_KEPT = timedelta(days=7)  # a redelivery within this is answered `duplicate` at the door
PURGE_EVERY = timedelta(minutes=10)


def surge_pause(spent: float, threads: int) -> float:
    """The pause after `spent` seconds of work that keeps a process's `threads` workers, together,
    at SURGE_SHARE of the time (each thread taking the whole share made two take half)."""
    share = SURGE_SHARE / max(1, threads)
    return min(SURGE_PAUSE_MAX, spent * (1 - share) / share)


@dataclass(frozen=True)
class ProcessResult:
    message_id: int
    conversation_id: int
    skipped: bool
    department: str | None = None
    assignee_id: int | None = None


class Pipeline:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        bus: Bus,
        triage: TriageService,
        routing: RoutingService | None = None,
        sla: SlaService | None = None,
        lease: timedelta = LEASE,
        *,
        background: bool = False,
    ) -> None:
        self.sessions = sessions
        # background: a server; its threads materialise and process, so `stage` answers at once.
        self.background = background
        self.stager = Stager(sessions, self.notify_work, background=background)
        # Whether webhooks crowd the door (the workers yield then): this process's own door, or in
        # a server's worker process what the server tells it (worker_child.py).
        self.surging: Callable[[], bool] = self.stager.surging
        self._purged_at: datetime | None = None
        self.bus = bus
        self.triage = triage
        self.routing = routing or RoutingService()
        self.sla = sla or SlaService()
        self._wakers: list[Callable[[], None]] = []
        self.lease = lease

    # -- accept ---------------------------------------------------------------------------

    def accept(self, account_id: int, event: InboundEvent, *, publish: bool = True) -> AcceptResult:
        """Store one inbound event exactly once; a redelivery returns the row we already have.

        Text PostgreSQL cannot hold (NUL, lone surrogates) is stored as `core.safetext` says, the
        same on every database.
        """
        event = storable_event(event)
        existing = self._existing(account_id, event.external_id)
        if existing is not None:
            return existing
        try:
            with transaction(self.sessions) as session:
                result = self._accept_in(session, account_id, event)
        except intake.Duplicate:
            found = self._existing(account_id, event.external_id)
            if found is None:  # pragma: no cover - the conflicting row must exist once we lost
                raise
            return found
        if publish:
            self.notify_work()
        return result

    def stage(self, org_id: int, account_id: int, events: list[InboundEvent]) -> list[Accepted]:
        """Accept a delivery's events: appended to the intake queue, committed, nothing else.

        The events must already be storable (`channels.base.storable_event`, as ingest makes them).

        A server answers right after the commit (message ids come later); without background
        work the events are processed before this returns, and their message ids are filled in.
        """
        staged = self.stager.stage([ToStage(org_id, account_id, e) for e in events])
        if self.background and not any(s.message_id for s in staged):
            return [Accepted(s.event_id, s.external_id, s.duplicate) for s in staged]
        return with_messages(self.sessions, staged)

    async def stage_async(self, org_id: int, account_id: int, events: list[InboundEvent]) -> list[Accepted]:
        """`stage` on a server's event loop (the webhook's fast path): answers after the commit."""
        staged = await self.stager.stage_async([ToStage(org_id, account_id, e) for e in events])
        return [Accepted(s.event_id, s.external_id, s.duplicate, s.message_id) for s in staged]

    def notify_work(self) -> None:
        """Wake whoever drains the queue: worker threads, scale-out workers through the bus."""
        for waker in list(self._wakers):
            try:
                waker()
            except Exception:
                # The work is already stored in the queue; a worker polling will find it.
                log.warning("could not wake the pipeline's workers; they will poll", exc_info=True)

    def add_waker(self, waker: Callable[[], None]) -> None:
        self._wakers.append(waker)

    def _existing(self, account_id: int, external_id: str) -> AcceptResult | None:
        with reading(self.sessions) as session:
            row = intake_repository.message_refs(session, {(account_id, external_id)}).get(
                (account_id, external_id)
            )
        if row is None:
            return None
        return AcceptResult(message_id=row[0], conversation_id=row[1], duplicate=True)

    def _accept_in(
        self, session: Session, account_id: int, event: InboundEvent, at: datetime | None = None
    ) -> AcceptResult:
        # The pipeline's clock (tests set it) stamps the accept; a staged event keeps its own time.
        return intake.store(session, account_id, event, at or utcnow())

    def _store(self, session: Session, arrivals: list[intake.Arrival]) -> list[AcceptResult]:
        return intake.store_many(session, arrivals)

    # -- process --------------------------------------------------------------------------

    def release_leases_of(self, owner_prefix: str) -> int:
        """The work a dead worker held is taken again at once, not when its leases run out."""
        with transaction(self.sessions) as session:
            return queue.expire_leases(session, owner_prefix, utcnow())

    def process(self, message_id: int) -> ProcessResult:
        """Process one message now, outside the queue (its queue item, if any, is removed)."""
        with transaction(self.sessions) as session:
            batch = self._load(session, [message_id])
            result = self._process_in(session, message_id, None, batch)
            queue.forget(session, message_id)
        return result

    def drain(self, owner: str = "inline", batch: int = BATCH) -> int:
        """Store every accepted event and process every ready item now; returns how many were processed."""
        handled = 0
        while True:
            materialised = self.materialise(batch)
            count = self.process_batch(owner, batch)
            if materialised == 0 and count == 0:
                return handled
            handled += count

    def run_once(self, owner: str, batch: int = BATCH, threads: int = 1) -> int:
        """Turn accepted events into messages, then process a batch of them; returns the count.

        During a surge at the door the worker then pauses (SURGE_SHARE): on SQLite and under one
        interpreter lock, accepting and processing share the same writer and the same core, and
        a network's answer cannot wait. The queue grows on disk and is caught up once it ends.
        `threads`: how many workers of this process share SURGE_SHARE.
        """
        started = time.perf_counter()
        handled = self.materialise(batch) + self.process_batch(owner, batch)
        if handled and self.surging():
            time.sleep(surge_pause(time.perf_counter() - started, threads))
        return handled

    # -- materialise: accepted events become messages with their work ---------------------------

    def materialise(self, limit: int = BATCH) -> int:
        """Store staged events as contacts, conversations, messages and work items, oldest first
        (`materialise.py`); returns how many were handled."""
        now = utcnow()
        purge_before = None
        if self._purged_at is None or now - self._purged_at > PURGE_EVERY:
            self._purged_at = now
            purge_before = now - STAGED_KEPT
        done = materialise.run(self.sessions, self._store, limit, purge_before)
        metrics.MATERIALISED.inc(done)
        return done

    # -- process ------------------------------------------------------------------------------

    def process_batch(self, owner: str, batch: int = BATCH) -> int:
        """Lease a batch of ready work, triage it in one call, store every result in one commit.

        A message that fails is rolled back to its savepoint and given back to the queue with a
        delay (set aside after MAX_ATTEMPTS); the rest of the batch still commits.
        """
        started = time.perf_counter()
        now = utcnow()
        with transaction(self.sessions) as session:
            queue.bury_crash_loops(session, now, MAX_ATTEMPTS)
            claimed = queue.claim(session, owner, batch, self.lease, now)
        if not claimed:
            return 0
        try:
            triage_started = time.perf_counter()
            triaged = self._triage_batch([item.message_id for item in claimed])
            metrics.TRIAGE_BATCH_SECONDS.labels(backend=metrics.backend_name(self.triage.triager)).observe(
                time.perf_counter() - triage_started
            )
        except Exception as exc:
            log.exception("triage failed for a batch of %d; it will be retried", len(claimed))
            with transaction(self.sessions) as session:
                outcomes = [
                    queue.fail(session, item.id, owner, _describe(exc), utcnow(), MAX_ATTEMPTS)
                    for item in claimed
                ]
            _count_failures(outcomes)
            return len(claimed)
        outcomes = []
        lost = 0
        remaining = list(claimed)
        while remaining:
            # Several short transactions rather than one long one: see db.WRITE_BUDGET_SECONDS.
            taken = 0
            with transaction(self.sessions) as session:
                held = queue.hold(session, [item.id for item in remaining], owner)
                self.routing.keep_agent_load(session)
                work: Batch | None = None
                finished: list[int] = []
                accepted_at: list[datetime] = []
                chunk_started = time.perf_counter()
                for item in remaining:
                    if taken and turn_over(session, chunk_started):
                        break
                    taken += 1
                    if item.id not in held:
                        log.warning("lease on work item %d was lost; another worker redoes it", item.id)
                        lost += 1
                        continue
                    if work is None or item.message_id not in work.message_ids:
                        # What the next few messages read, once: their rows, their contacts'
                        # history, each organisation's configuration snapshot. A few at a time: a
                        # chunk ends when the writer is wanted, and what it loaded for the rest
                        # would be read again by the next one.
                        ahead = remaining[taken - 1 : taken - 1 + LOAD_AHEAD]
                        work = self._load(session, [i.message_id for i in ahead if i.id in held])
                    conversation = work.conversation_of(item.message_id)
                    counted = self.routing.counted_for(conversation) if conversation else None
                    try:
                        # One flush per message, at the savepoint's release: assignment corrects
                        # its load count for this conversation's unflushed state (routing/service.py).
                        with session.begin_nested(), session.no_autoflush:
                            self._process_in(session, item.message_id, triaged.get(item.message_id), work)
                            timeline_rows.insert_together(session)
                    except Exception as exc:
                        log.exception("processing message %d failed", item.message_id)
                        outcomes.append(
                            queue.fail(session, item.id, owner, _describe(exc), utcnow(), MAX_ATTEMPTS)
                        )
                        # The savepoint's rollback expired what the chunk had loaded: read it again.
                        work.refresh(session)
                        self.routing.reread_agent_load(session)
                        continue
                    if conversation is not None:
                        self.routing.settle_agent_load(session, counted, conversation)
                    finished.append(item.id)
                    accepted_at.append(item.created_at)
                # Held since the start of this transaction, so every one of them is still ours.
                queue.complete_many(session, finished, owner)
            remaining = remaining[taken:]
            # Counted once committed: a chunk rolled back by a database cut is done again, not twice.
            committed = utcnow()
            for at in accepted_at:
                metrics.PROCESSING_SECONDS.observe(metrics.age_seconds(at, committed))
            metrics.PROCESSED.labels(outcome="done").inc(len(finished))
        if lost:
            metrics.PROCESSED.labels(outcome="lost_lease").inc(lost)
        _count_failures(outcomes)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        return len(claimed)

    def _load(self, session: Session, message_ids: list[int]) -> Batch:
        batch = Batch(message_ids)
        batch.refresh(session)
        self.routing.snapshots.pin(session, {c.org_id for c in batch.conversations.values()})
        return batch

    def _triage_batch(self, message_ids: list[int]) -> dict[int, TriageResult]:
        """One triage call per organisation for the whole batch."""
        by_org: dict[int, list[tuple[int, TriageInput]]] = {}
        customs: dict[int, list[Any]] = {}
        # Only reads: on SQLite a plain session would hold the one writer while it triages.
        with reading(self.sessions) as session:
            batch = Batch(message_ids)
            batch.refresh(session)
            for message_id in message_ids:
                message = batch.messages.get(message_id)
                if message is None or message.processed_at is not None:
                    continue
                conversation = batch.conversations.get(message.conversation_id)
                account = batch.accounts.get(message.account_id)
                if conversation is None or account is None:
                    continue
                item = self._triage_input(batch, message, conversation, account)
                by_org.setdefault(conversation.org_id, []).append((message_id, item))
                if conversation.org_id not in customs:
                    customs[conversation.org_id] = self.triage.org_intents(session, conversation.org_id)
        out: dict[int, TriageResult] = {}
        for org_id, pairs in by_org.items():
            results = self.triage.triage([item for _, item in pairs], customs[org_id])
            out.update({message_id: result for (message_id, _), result in zip(pairs, results, strict=True)})
        return out

    def _triage_input(
        self, batch: Batch, message: Message, conversation: Conversation, account: ChannelAccount
    ) -> TriageInput:
        contact = batch.contacts.get(message.contact_id) if message.contact_id else None
        attrs = dict(contact.attributes or {}) if contact else {}
        open_count, negative_count = batch.history(conversation)
        hint = (message.raw or {}).get("lang") if isinstance(message.raw, dict) else None
        return TriageInput(
            text=message.text[:TRIAGE_CHARS],
            lang=hint if isinstance(hint, str) else None,
            channel=account.network,
            author_followers=_int_or_none(attrs.get("followers")),
            previous_negative=negative_count,
            open_conversations=open_count,
        )

    def _process_in(
        self, session: Session, message_id: int, triaged: TriageResult | None, batch: Batch
    ) -> ProcessResult:
        message = batch.messages.get(message_id)
        if message is None:
            raise LookupError(f"message {message_id} does not exist")
        conversation = batch.conversations.get(message.conversation_id)
        assert conversation is not None
        if message.processed_at is not None:
            return ProcessResult(message_id, conversation.id, skipped=True)
        account = batch.accounts.get(message.account_id)
        assert account is not None
        contact = batch.contacts.get(message.contact_id) if message.contact_id else None
        attrs = dict(contact.attributes or {}) if contact else {}
        open_count, _negative = batch.history(conversation)
        result = triaged
        if result is None:
            item = self._triage_input(batch, message, conversation, account)
            custom = self.triage.org_intents(session, conversation.org_id)
            result = self.triage.triage([item], custom)[0]
        message.triage = result.as_dict()
        # Set with the triage (the savepoint undoes both on failure): one UPDATE of the message.
        message.processed_at = utcnow()
        conversation.language = result.lang if result.lang != "und" else (conversation.language or "und")
        needs_routing = conversation.department_id is None
        # The conversation keeps the reading it was routed on (what its department, rules and
        # reports rest on); every message's own reading is on the message, the newest one also
        # beside the routed one. A conversation placed without routing takes its first reading.
        if needs_routing or conversation.sentiment is None:
            conversation.intent = result.intent
            conversation.sentiment = result.sentiment
        conversation.latest_intent = result.intent
        conversation.latest_sentiment = result.sentiment
        if result.stage != "unknown" or conversation.stage is None:
            conversation.stage = result.stage
        conversation.urgency = result.urgency
        session.add(timeline_rows.triage_event(conversation, message.id, result))

        session.info.setdefault(STICKY_KEY, {})[conversation.id] = batch.last_agent(conversation)
        if needs_routing:
            self.routing.route(session, conversation, account, message, result, attrs, open_count)
        elif result.urgency == "critical":
            self.routing.escalate_for_urgency(session, conversation, message)
        self.routing.agency_handoff(
            session,
            conversation,
            message,
            result,
            # asked only for an agency's conversation: the agency holds while an alert is open
            under_alert=lambda: alert_service.any_open_at(
                session, conversation.org_id, conversation.location_id
            ),
        )
        if SPAM not in (conversation.tags or []):
            if conversation.assignee_id is None or conversation.status == ConversationStatus.REOPENED.value:
                self.routing.assign(session, conversation, message)
            self.sla.on_inbound(session, conversation, message)
        if auto_answer_service.wanted(account):
            auto_answer_service.auto_answers.on_inbound(
                session,
                conversation,
                message,
                account,
                result,
                attrs,
                self.sla.location_calendar(session, conversation),
            )
        if conversation.status == ConversationStatus.NEW.value and conversation.assignee_id is not None:
            conversation.status = ConversationStatus.OPEN.value
        # Later messages of the batch see this one's effect on the contact's history.
        batch.remember(conversation)
        # Open pages learn its reading, department and clock: someone who sees only the department
        # it was routed to heard nothing of it while nobody was assigned (`relaydesk bench e2e`).
        publish_on_commit(
            session,
            ConversationUpdated(
                org_id=conversation.org_id, conversation_id=conversation.id, fields=["triage", "department"]
            ),
        )
        department_key = self.routing.department_key_in(
            session, conversation.org_id, conversation.department_id
        )
        return ProcessResult(
            message_id=message.id,
            conversation_id=conversation.id,
            skipped=False,
            department=department_key,
            assignee_id=conversation.assignee_id,
        )

    def ingest(self, account_id: int, event: InboundEvent) -> AcceptResult:
        """Accept and process at once; used by the CLI import and the demo."""
        result = self.accept(account_id, event, publish=False)
        self.drain()
        return result


def _count_failures(outcomes: list[str]) -> None:
    """Failed items: given back for a retry (`pending`) or set aside (`dead`)."""
    for outcome in (queue.PENDING, queue.DEAD):
        count = outcomes.count(outcome)
        if count:
            metrics.PROCESSED.labels(outcome="retry" if outcome == queue.PENDING else "dead").inc(count)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _int_or_none(value: object) -> int | None:
    try:
        return None if value is None else int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
