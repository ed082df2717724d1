"""What each person chose for reading the pages: language and date convention."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.core.errors import NotFound
from relaydesk.db import transaction
from relaydesk.models import User


def save_reading(sessions: sessionmaker[Session], user_id: int, locale: str | None, calendar: str) -> None:
    """Store the person's choice; `locale` None means "follow my browser"."""
    with transaction(sessions) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("user not found")
        user.ui_locale = locale
        user.calendar = calendar
