"""Queries of the one-time set-password links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from relaydesk.models import WelcomeLink


def link_by_hash(session: Session, hashed: str) -> WelcomeLink | None:
    return session.scalars(select(WelcomeLink).where(WelcomeLink.token_hash == hashed)).first()


def retire_links(session: Session, user_id: int, now: datetime) -> None:
    """Mark the person's unused links used: only the newest one works."""
    session.execute(
        update(WelcomeLink)
        .where(WelcomeLink.user_id == user_id, WelcomeLink.used_at.is_(None))
        .values(used_at=now)
    )


def claim(session: Session, link_id: int, now: datetime) -> bool:
    """Use the link once: of two tabs submitting at the same moment only one wins."""
    result = session.execute(
        update(WelcomeLink)
        .where(WelcomeLink.id == link_id, WelcomeLink.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(getattr(result, "rowcount", 0))
