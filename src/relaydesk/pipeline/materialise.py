"""Accepted events become messages: contact, conversation, message row and work item.

Workers run this before processing (`Pipeline.materialise`). One materialiser at a time
(`staging_repository.materialiser_lock`), oldest first, so a conversation's work items get ids in
the order its events were accepted. A transaction stops taking rows after WRITE_BUDGET_SECONDS
(SQLite has one writer and the webhook's group commit must not wait long behind it). An event
that cannot be stored is kept raw in ``ignored_events`` with the reason and set aside (``dead``);
it never blocks the queue. A database outage rolls the whole transaction back: nothing is lost,
the rows are taken again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.channels.base import InboundEvent, event_from_json
from relaydesk.db import transaction, urgent_writer_waiting
from relaydesk.models import StagedEvent
from relaydesk.pipeline import intake
from relaydesk.pipeline import repository as queue
from relaydesk.pipeline import staging_repository as staged

log = logging.getLogger(__name__)

# How long one write transaction of a worker may go on taking more rows.
WRITE_BUDGET_SECONDS = 0.02
# The database is away: nothing can be done for any event; the whole batch waits for it.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)

AcceptIn = Callable[[Session, int, InboundEvent, datetime], intake.AcceptResult]


def run(
    sessions: sessionmaker[Session], accept_in: AcceptIn, limit: int, purge_before: datetime | None
) -> int:
    """Materialise up to `limit` staged events in one transaction; returns how many were handled."""
    with transaction(sessions) as session:
        if not staged.materialiser_lock(session):
            return 0
        rows = staged.pending_staged(session, limit)
        # The session's identity map holds objects weakly: unless something keeps them, every
        # event read its account and organisation again (2 of ~16 statements per event).
        kept = staged.accounts_and_organisations(session, {row.account_id for row in rows})
        deadline = time.perf_counter() + WRITE_BUDGET_SECONDS
        done = 0
        for row in rows:
            one(session, row, accept_in)
            done += 1
            if time.perf_counter() > deadline or urgent_writer_waiting(session):
                break
        if purge_before is not None:
            staged.purge_staged(session, purge_before)
        del kept
    return done


def one(session: Session, row: StagedEvent, accept_in: AcceptIn) -> None:
    data = row.event if isinstance(row.event, dict) else {}
    try:
        with session.begin_nested():
            found = queue.message_ref(session, row.account_id, row.external_id)
            message_id = found[0] if found is not None else None
            if message_id is None:
                message_id = accept_in(
                    session, row.account_id, event_from_json(data), row.received_at
                ).message_id
            _done(row, message_id)
    except UNAVAILABLE:
        raise
    except intake.Duplicate:
        # Stored meanwhile by another way in (a poller, an import): the row maps onto it.
        found = queue.message_ref(session, row.account_id, row.external_id)
        _done(row, found[0] if found is not None else None)
    except Exception as exc:  # noqa: BLE001 - a poison event is set aside, never blocks the queue
        # The type only: a database error's message quotes the customer's text.
        reason = f"not accepted: could not be stored ({type(exc).__name__})"
        log.error("accepted event %d of account %d %s", row.id, row.account_id, reason)
        network = str(data.get("network") or "unknown")
        kind = f"{network}:{data.get('kind') or 'message'}"
        staged.keep_unstorable(session, row, network, kind, reason)
        row.state = staged.DEAD
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]


def _done(row: StagedEvent, message_id: int | None) -> None:
    row.state = staged.DONE
    row.message_id = message_id
    row.event = None  # the message holds it now; the row stays to answer redeliveries
