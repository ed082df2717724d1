"""Accepted events become messages: contact, conversation, message row and work item.

Workers run this before processing (`Pipeline.materialise`). One materialiser at a time
(`staging_repository.materialiser_lock`), oldest first, so a conversation's work items get ids in
the order its events were accepted. A transaction stops taking rows after `db.WRITE_BUDGET_SECONDS`
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
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.channels.base import event_from_json
from relaydesk.db import transaction, turn_over
from relaydesk.models import StagedEvent
from relaydesk.pipeline import intake, intake_repository
from relaydesk.pipeline import staging_repository as staged

log = logging.getLogger(__name__)

# Events stored together (`intake.store_many`): the write slot is looked at again between runs.
RUN = 16
# The database is away: nothing can be done for any event; the whole batch waits for it.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)

Store = Callable[[Session, list[intake.Arrival]], list[intake.AcceptResult]]


def run(sessions: sessionmaker[Session], store: Store, limit: int, purge_before: datetime | None) -> int:
    """Materialise up to `limit` staged events in one transaction; returns how many were handled.

    The events are stored together (`intake.store_many`, a few statements for the whole run); if
    that fails, each alone, so an event that cannot be stored costs only itself.
    """
    with transaction(sessions) as session:
        if not staged.materialiser_lock(session):
            return 0
        rows = staged.pending_staged(session, limit)
        # The session's identity map holds objects weakly: unless something keeps them, every
        # event read its account and organisation again.
        kept = staged.accounts_and_organisations(session, {row.account_id for row in rows})
        started = time.perf_counter()
        done = 0
        for start in range(0, len(rows), RUN):
            done += _run(session, rows[start : start + RUN], store)
            if turn_over(session, started):
                break
        if purge_before is not None:
            staged.purge_staged(session, purge_before)
        del kept
    return done


def _run(session: Session, rows: list[StagedEvent], store: Store) -> int:
    """Store the rows' events together; if that fails, each alone. Returns how many were handled."""
    arrivals = {row.id: _arrival(row) for row in rows}
    together = [row for row in rows if arrivals[row.id] is not None]
    if together and _together(session, together, arrivals, store):
        rows = [row for row in rows if arrivals[row.id] is None]
    for row in rows:
        one(session, row, store)
    return len(arrivals)


def _arrival(row: StagedEvent) -> intake.Arrival | None:
    """The staged row as an event to store; None when it cannot be read back (`one` sets it aside)."""
    try:
        return intake.Arrival(row.account_id, event_from_json(_data(row)), row.received_at)
    except (TypeError, ValueError):
        return None


def _data(row: StagedEvent) -> dict[str, Any]:
    return row.event if isinstance(row.event, dict) else {}


def _together(
    session: Session, rows: list[StagedEvent], arrivals: dict[int, intake.Arrival | None], store: Store
) -> bool:
    """Store the rows' events as one run; False (nothing kept) when any of them failed."""
    try:
        with session.begin_nested():
            results = store(session, [a for row in rows if (a := arrivals[row.id]) is not None])
            for row, result in zip(rows, results, strict=True):
                _done(row, result.message_id)
    except UNAVAILABLE:
        raise
    except Exception:  # noqa: BLE001 - the events are stored one by one next, where the failure is kept
        log.info("%d accepted events could not be stored together; storing each alone", len(rows))
        return False
    return True


def one(session: Session, row: StagedEvent, store: Store) -> None:
    data = _data(row)
    try:
        with session.begin_nested():
            result = store(session, [intake.Arrival(row.account_id, event_from_json(data), row.received_at)])[
                0
            ]
            _done(row, result.message_id)
    except UNAVAILABLE:
        raise
    except intake.Duplicate:
        # Stored meanwhile by another way in (a poller, an import): the row maps onto it.
        key = (row.account_id, row.external_id)
        found = intake_repository.message_refs(session, {key}).get(key)
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
