"""The saved replies settings page's queries: one page of replies, scoped to what the caller sees."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, String, cast, false, or_, select
from sqlalchemy.orm import Session

from relaydesk.models import CannedResponse


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _offered_to(departments: Collection[str]) -> ColumnElement[bool]:
    """Replies for everyone, or limited to one of `departments`.

    `department_keys` is a JSON list of keys; keys hold no quotes (config/schemas.py), so a key in
    quotes inside the list's text is that key, on SQLite and PostgreSQL alike.
    """
    listed = cast(CannedResponse.department_keys, String)
    conditions: list[ColumnElement[bool]] = [
        CannedResponse.department_keys.is_(None),
        listed == "[]",
        *(listed.like(f'%"{_like(key)}"%', escape="\\") for key in sorted(departments)),
    ]
    return or_(false(), *conditions)


def canned_page(
    session: Session,
    org_id: int,
    search: str,
    departments: Collection[str] | None,
    offset: int,
    limit: int,
) -> list[CannedResponse]:
    """`departments` None: every reply (owners, admins); else those offered to these departments."""
    stmt = select(CannedResponse).where(CannedResponse.org_id == org_id)
    if departments is not None:
        stmt = stmt.where(_offered_to(departments))
    if search:
        pattern = f"%{_like(search)}%"
        stmt = stmt.where(
            or_(
                CannedResponse.key.ilike(pattern, escape="\\"),
                CannedResponse.title.ilike(pattern, escape="\\"),
            )
        )
    return list(session.scalars(stmt.order_by(CannedResponse.key).offset(offset).limit(limit)))


def canned_by_key(session: Session, org_id: int, key: str) -> CannedResponse | None:
    return session.scalar(
        select(CannedResponse).where(CannedResponse.org_id == org_id, CannedResponse.key == key)
    )
