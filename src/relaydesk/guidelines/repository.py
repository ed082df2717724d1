"""An organisation's guidelines and FAQ entries, read from the database."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import false, func, or_, select, update
from sqlalchemy.orm import Session

from relaydesk.models import (
    ChannelAccount,
    Department,
    FaqEntry,
    Location,
    Message,
    Organization,
    TimelineEvent,
    User,
)
from relaydesk.models import Guideline as GuidelineRow


def _place_and_above(session: Session, org_id: int, location_id: int | None) -> list[int]:
    """The place's id and those of every place above it (its region, its brand)."""
    if location_id is None:
        return []
    path = session.scalar(select(Location.path).where(Location.org_id == org_id, Location.id == location_id))
    return [int(part) for part in (path or "").split("/") if part.isdigit()] or [location_id]


def guideline_rows(session: Session, org_id: int, location_id: int | None = None) -> Sequence[GuidelineRow]:
    """The guidelines a reply at this place answers to: the organisation's own and those of the
    place and every place above it (its region, its brand). No place: the organisation's only."""
    places = _place_and_above(session, org_id, location_id)
    at_place = GuidelineRow.location_id.in_(places) if places else false()
    return session.scalars(
        select(GuidelineRow)
        .where(GuidelineRow.org_id == org_id, or_(GuidelineRow.location_id.is_(None), at_place))
        .order_by(GuidelineRow.id)
    ).all()


def places(session: Session, org_id: int, kinds: Collection[str]) -> Sequence[Location]:
    """Brands and regions to offer as a guideline's place (a chain's 1,000 shops are typed by key)."""
    return session.scalars(
        select(Location)
        .where(Location.org_id == org_id, Location.kind.in_(sorted(kinds)))
        .order_by(Location.path)
    ).all()


def place_by_key(session: Session, org_id: int, key: str) -> Location | None:
    return session.scalar(select(Location).where(Location.org_id == org_id, Location.key == key))


def place_keys(session: Session, org_id: int, ids: Collection[int]) -> dict[int, tuple[str, str]]:
    """id -> (key, name) of these places."""
    if not ids:
        return {}
    rows = session.execute(
        select(Location.id, Location.key, Location.name).where(
            Location.org_id == org_id, Location.id.in_(sorted(ids))
        )
    ).all()
    return {row.id: (row.key, row.name) for row in rows}


def approved_faq(session: Session, org_id: int, location_id: int | None = None) -> Sequence[FaqEntry]:
    """Approved entries for a conversation at this place: the organisation's and those of the place
    and every place above it (no place: the organisation's only), whether or not in force today
    (the caller knows the organisation's today)."""
    places = _place_and_above(session, org_id, location_id)
    at_place = FaqEntry.location_id.in_(places) if places else false()
    return session.scalars(
        select(FaqEntry)
        .where(
            FaqEntry.org_id == org_id,
            FaqEntry.status == "approved",
            or_(FaqEntry.location_id.is_(None), at_place),
        )
        .order_by(FaqEntry.key)
    ).all()


def count_faq_uses(session: Session, org_id: int, entry_ids: Collection[int], when: datetime) -> None:
    """One more sent reply carried each of these entries' answers (one UPDATE, no read-modify-write)."""
    if not entry_ids:
        return
    session.execute(
        update(FaqEntry)
        .where(FaqEntry.org_id == org_id, FaqEntry.id.in_(sorted(entry_ids)))
        .values(usage_count=FaqEntry.usage_count + 1, last_used_at=when)
        .execution_options(synchronize_session=False)
    )


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


def conversation_so_far(session: Session, conversation_id: int) -> tuple[int, bool, datetime | None]:
    """(inbound messages, whether anything was sent back, when the last away note went) of one
    conversation: what the automatic answers decide on. Two narrow reads on the conversation's index."""
    inbound = session.scalar(
        select(func.count(Message.id)).where(
            Message.conversation_id == conversation_id, Message.direction == "inbound"
        )
    )
    outbound = session.scalar(
        select(Message.id)
        .where(Message.conversation_id == conversation_id, Message.direction == "outbound")
        .limit(1)
    )
    last_away = session.scalar(
        select(func.max(TimelineEvent.created_at)).where(
            TimelineEvent.conversation_id == conversation_id,
            TimelineEvent.kind == "auto_answer",
            TimelineEvent.reason.like("away%"),
        )
    )
    return int(inbound or 0), outbound is not None, last_away


def account_by_key(session: Session, org_id: int, key: str) -> ChannelAccount | None:
    return session.scalar(
        select(ChannelAccount).where(ChannelAccount.org_id == org_id, ChannelAccount.key == key)
    )


def accounts(session: Session, org_id: int, limit: int) -> Sequence[ChannelAccount]:
    return session.scalars(
        select(ChannelAccount)
        .where(ChannelAccount.org_id == org_id)
        .order_by(ChannelAccount.key)
        .limit(limit)
    ).all()
