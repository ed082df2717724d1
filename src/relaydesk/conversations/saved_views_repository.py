"""Queries of saved inbox views; every one is limited to the caller's organisation."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from relaydesk.models import SavedView


def views_for(session: Session, org_id: int, user_id: int) -> list[SavedView]:
    """The caller's own views and the ones shared in their organisation, by name."""
    return list(
        session.scalars(
            select(SavedView)
            .where(SavedView.org_id == org_id, or_(SavedView.user_id == user_id, SavedView.shared.is_(True)))
            .order_by(func.lower(SavedView.name), SavedView.id)
        )
    )


def count_own(session: Session, org_id: int, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(SavedView.id)).where(SavedView.org_id == org_id, SavedView.user_id == user_id)
        )
        or 0
    )


def view_in_org(session: Session, org_id: int, view_id: int) -> SavedView | None:
    return session.scalars(
        select(SavedView).where(SavedView.id == view_id, SavedView.org_id == org_id)
    ).first()
