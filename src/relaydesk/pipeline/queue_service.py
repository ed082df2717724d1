"""The work queue as operators and admins see it: counts, the items set aside, and retrying them.

The command line reads the queue through here rather than through `pipeline.repository`, so the
queue's queries stay in the pipeline slice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from relaydesk.models import WorkItem
from relaydesk.pipeline import repository
from relaydesk.pipeline.repository import QueueStats

__all__ = ["QueueService", "QueueStats", "queue_service"]


class QueueService:
    """Stateless; every method runs inside the caller's transaction."""

    def stats(
        self, session: Session, org_id: int | None = None, *, location_ids: frozenset[int] | None = None
    ) -> QueueStats:
        """Pending and dead counts and the oldest pending arrival, of one organisation or all."""
        return repository.stats(session, org_id, location_ids=location_ids)

    def dead_items(
        self,
        session: Session,
        org_id: int | None,
        limit: int = 100,
        *,
        location_ids: frozenset[int] | None = None,
        after: int | None = None,
    ) -> list[WorkItem]:
        """Set-aside items of an organisation (None: of all), oldest first."""
        return repository.dead_items(session, org_id, limit, location_ids=location_ids, after=after)

    def retry_dead(
        self,
        session: Session,
        org_id: int | None,
        item_ids: list[int] | None,
        now: datetime,
        *,
        location_ids: frozenset[int] | None = None,
    ) -> list[int]:
        """Put set-aside items back in the queue; the ids put back (others' or live items are left)."""
        return repository.retry_dead(session, org_id, item_ids, now, location_ids=location_ids)


queue_service = QueueService()
