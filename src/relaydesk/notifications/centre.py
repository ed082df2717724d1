"""The person's notification centre: the bell's count, the list, marking read.

Every read is the caller's own: each query is filtered by the user id of the scope, so one
person never sees or changes another's notices.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.scopes import Scope
from relaydesk.core.errors import NotFound
from relaydesk.core.timeutil import utcnow
from relaydesk.db import reading, transaction
from relaydesk.models import Notification
from relaydesk.notifications import repository

LATEST = 100


class NotificationCentre:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def unread_count(self, scope: Scope) -> int:
        with reading(self.sessions) as session:
            return repository.unread_count(session, scope.user_id)

    def latest(self, scope: Scope, *, unread: bool = False, limit: int = LATEST) -> Sequence[Notification]:
        with reading(self.sessions) as session:
            rows = repository.notifications_of(session, scope.user_id, unread, limit)
            session.expunge_all()
            return rows

    def mark_read(self, scope: Scope, notification_id: int) -> Notification:
        """Read now (once: reading it again keeps the first time); returns it, for its link."""
        with transaction(self.sessions) as session:
            row = repository.notification_of(session, scope.user_id, notification_id)
            if row is None:
                raise NotFound(f"notification {notification_id} not found")
            row.read_at = row.read_at or utcnow()
            session.flush()
            session.expunge(row)
            return row

    def mark_all_read(self, scope: Scope) -> int:
        with transaction(self.sessions) as session:
            return repository.mark_all_read(session, scope.user_id, utcnow())
