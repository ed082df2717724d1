"""The work queue for admins: its counts, the messages set aside after failing, and their retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from relaydesk.auth.scopes import Scope
from relaydesk.core import metrics
from relaydesk.core.errors import Forbidden, UserError
from relaydesk.core.pagination import CURSOR_HELP, CURSOR_MAX_LENGTH, cursor_id, id_cursor
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.pipeline import repository as queue
from relaydesk.pipeline.schemas import (
    MAX_ID,
    DeadItemOut,
    DeadItemPage,
    QueueStatsOut,
    RetryOut,
    RetryRequest,
)

router = APIRouter(prefix="/api/v1/work", tags=["work queue"])


def _admin_locations(scope: Scope) -> frozenset[int] | None:
    """None for the whole org; else the locations an admin limited to part of the org sees."""
    if not scope.can_configure:
        # Set-aside messages carry errors about customer messages of every department.
        raise Forbidden("only owners and admins can see and retry the work queue")
    if scope.location_ids is not None:
        return scope.location_ids
    return frozenset() if scope.location_path else None


@router.get("/stats", response_model=QueueStatsOut)
def work_stats(container: ContainerDep, scope: ScopeDep) -> QueueStatsOut:
    """The organisation's queue: messages waiting, the oldest one's age, and those set aside (admins)."""
    locations = _admin_locations(scope)
    with container.sessions() as session:
        stats = queue.stats(session, scope.org_id, location_ids=locations)
    return QueueStatsOut(
        pending=stats.pending,
        oldest_pending_at=stats.oldest_pending_at,
        oldest_pending_age_seconds=round(metrics.age_seconds(stats.oldest_pending_at, utcnow()), 3),
        dead=stats.dead,
    )


@router.get("/dead", response_model=DeadItemPage)
def dead_items(
    container: ContainerDep,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX_LENGTH, description=CURSOR_HELP)] = None,
    after: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_ID,
            deprecated=True,
            description="deprecated, removed in the next release: use cursor",
        ),
    ] = None,
) -> DeadItemPage:
    """Messages of the organisation set aside after failing 5 times, oldest first, with the last error (admins)."""
    locations = _admin_locations(scope)
    if cursor:
        if after is not None:
            raise UserError("cursor: give cursor or the deprecated after, not both")
        after = cursor_id(cursor)
    with container.sessions() as session:
        rows = queue.dead_items(session, scope.org_id, limit, location_ids=locations, after=after)
        items = [
            DeadItemOut(
                id=row.id,
                message_id=row.message_id,
                conversation_id=row.conversation_id,
                attempts=row.attempts,
                last_error=row.last_error,
                created_at=row.created_at,
            )
            for row in rows
        ]
    last = items[-1].id if len(items) == limit else None
    return DeadItemPage(items=items, next_cursor=None if last is None else id_cursor(last), next_after=last)


@router.post("/dead/retry", response_model=RetryOut)
def retry_dead(container: ContainerDep, scope: ScopeDep, body: RetryRequest | None = None) -> RetryOut:
    """Put set-aside messages back in the queue: the named ones, or all of the organisation's (admins)."""
    locations = _admin_locations(scope)
    ids = body.ids if body is not None else None
    with transaction(container.sessions) as session:
        retried = queue.retry_dead(session, scope.org_id, ids, utcnow(), location_ids=locations)
    if retried:
        # Wake the workers (embedded: a thread of this process; scale-out: through the bus).
        container.pipeline.notify_work()
    done = set(retried)
    return RetryOut(retried=retried, not_retried=sorted({i for i in ids or () if i not in done}))
