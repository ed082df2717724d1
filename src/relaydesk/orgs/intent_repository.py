"""The intents settings page's queries: one page of an organisation's intents, searched by name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.models import Intent


def like_pattern(text: str) -> str:
    """`text` anywhere, with LIKE's own wildcards taken literally (escape character: backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def intents_page(
    session: Session, org_id: int, search: str, department: str | None, offset: int, limit: int
) -> list[Intent]:
    stmt = select(Intent).where(Intent.org_id == org_id)
    if search:
        stmt = stmt.where(Intent.name.ilike(like_pattern(search), escape="\\"))
    if department:
        stmt = stmt.where(Intent.department_key == department)
    return list(session.scalars(stmt.order_by(Intent.name).offset(offset).limit(limit)))
