"""An organisation's guidelines and approved FAQ entries, read from the database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.models import FaqEntry
from relaydesk.models import Guideline as GuidelineRow


def guideline_rows(session: Session, org_id: int) -> Sequence[GuidelineRow]:
    return session.scalars(
        select(GuidelineRow).where(GuidelineRow.org_id == org_id).order_by(GuidelineRow.id)
    ).all()


def approved_faq(session: Session, org_id: int) -> Sequence[FaqEntry]:
    return session.scalars(
        select(FaqEntry).where(FaqEntry.org_id == org_id, FaqEntry.approved.is_(True))
    ).all()
