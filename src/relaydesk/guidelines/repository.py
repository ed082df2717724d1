"""An organisation's guidelines and FAQ entries, read from the database."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.models import Department, FaqEntry, Organization, User
from relaydesk.models import Guideline as GuidelineRow


def guideline_rows(session: Session, org_id: int) -> Sequence[GuidelineRow]:
    return session.scalars(
        select(GuidelineRow).where(GuidelineRow.org_id == org_id).order_by(GuidelineRow.id)
    ).all()


def approved_faq(session: Session, org_id: int) -> Sequence[FaqEntry]:
    """Approved entries, whether or not in force today (the caller knows the org's today)."""
    return session.scalars(
        select(FaqEntry)
        .where(FaqEntry.org_id == org_id, FaqEntry.status == "approved")
        .order_by(FaqEntry.key)
    ).all()


def faq_entries(session: Session, org_id: int) -> Sequence[FaqEntry]:
    return session.scalars(select(FaqEntry).where(FaqEntry.org_id == org_id).order_by(FaqEntry.key)).all()


def faq_by_key(session: Session, org_id: int, key: str) -> FaqEntry | None:
    return session.scalar(select(FaqEntry).where(FaqEntry.org_id == org_id, FaqEntry.key == key))


def speaks_for_brand(session: Session, org_id: int, department_ids: Collection[int]) -> bool:
    """Whether any of these departments is a spokesperson department."""
    if not department_ids:
        return False
    found = session.scalar(
        select(Department.id)
        .where(
            Department.org_id == org_id,
            Department.id.in_(sorted(department_ids)),
            Department.spokesperson.is_(True),
        )
        .limit(1)
    )
    return found is not None


def org_timezone(session: Session, org_id: int) -> str:
    zone = session.scalar(select(Organization.default_timezone).where(Organization.id == org_id))
    return zone or "UTC"


def user_names(session: Session, org_id: int, user_ids: Collection[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.execute(
        select(User.id, User.name).where(User.org_id == org_id, User.id.in_(sorted(user_ids)))
    ).all()
    return {row.id: row.name for row in rows}


def guideline_page(
    session: Session, org_id: int, search: str, offset: int, limit: int
) -> Sequence[GuidelineRow]:
    stmt = select(GuidelineRow).where(GuidelineRow.org_id == org_id)
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(GuidelineRow.name.ilike(f"%{escaped}%", escape="\\"))
    return session.scalars(stmt.order_by(GuidelineRow.name).offset(offset).limit(limit)).all()


def guideline_by_name(session: Session, org_id: int, name: str) -> GuidelineRow | None:
    return session.scalar(
        select(GuidelineRow).where(GuidelineRow.org_id == org_id, GuidelineRow.name == name)
    )
