"""The only place that queries conversations; every query carries the caller's scope."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import sorting
from relaydesk.conversations.filters import (
    ConversationFilters,
    unknown_key,
)
from relaydesk.core.enums import ConversationStatus, Direction
from relaydesk.core.errors import UserError
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.models import (
    CannedResponse,
    ChannelAccount,
    Contact,
    Conversation,
    Department,
    Intent,
    Location,
    Message,
    OutboxItem,
    TimelineEvent,
    User,
    UserAccount,
    UserDepartment,
)

SLA_WARNING = timedelta(minutes=15)


def sla_state(next_due: datetime | None, now: datetime) -> str:
    due = as_utc(next_due)
    if due is None:
        return "none"
    if due < now:
        return "breached"
    if due < now + SLA_WARNING:
        return "warning"
    return "ok"


def visible(scope: Scope) -> Select[Any]:
    return select(Conversation).where(scope.conversation_filter())


def visible_ids(session: Session, scope: Scope, ids: Iterable[int]) -> set[int]:
    """Which of these conversations the caller may see (one query, scoped like every read)."""
    wanted = sorted(set(ids))[:500]
    if not wanted:
        return set()
    stmt = select(Conversation.id).where(scope.conversation_filter(), Conversation.id.in_(wanted))
    return set(session.scalars(stmt).all())


def get_visible(session: Session, scope: Scope, conversation_id: int) -> Conversation | None:
    found: Conversation | None = session.scalars(
        visible(scope).where(Conversation.id == conversation_id)
    ).first()
    return found


def get_for_update(session: Session, scope: Scope, conversation_id: int) -> Conversation | None:
    stmt = visible(scope).where(Conversation.id == conversation_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    found: Conversation | None = session.scalars(stmt).first()
    return found


def unknown_filter_keys(session: Session, org_id: int, filters: ConversationFilters) -> list[str]:
    """Department, account and location keys of the filters that the organisation does not have."""
    problems = []
    if filters.department:
        departments = list(
            session.scalars(
                select(Department.key).where(Department.org_id == org_id).order_by(Department.key)
            )
        )
        if filters.department not in departments:
            problems.append(unknown_key("department", filters.department, departments))
    for name, model, key in (
        ("account", ChannelAccount, filters.account),
        ("location", Location, filters.location),
    ):
        if key and session.scalar(select(model.id).where(model.org_id == org_id, model.key == key)) is None:
            problems.append(unknown_key(name, key, ()))
    return problems


def list_conversations(
    session: Session, scope: Scope, filters: ConversationFilters, cursor: str | None, limit: int
) -> tuple[list[Conversation], str | None]:
    stmt = visible(scope)
    now = utcnow()
    if filters.status:
        stmt = stmt.where(Conversation.status.in_(filters.status))
    if filters.priority:
        stmt = stmt.where(Conversation.priority == filters.priority)
    if filters.department:
        stmt = stmt.where(
            Conversation.department_id.in_(
                select(Department.id).where(
                    Department.org_id == scope.org_id, Department.key == filters.department
                )
            )
        )
    if filters.assignee:
        if filters.assignee == "none":
            stmt = stmt.where(Conversation.assignee_id.is_(None))
        elif filters.assignee == "me":
            stmt = stmt.where(Conversation.assignee_id == scope.user_id)
        else:
            try:
                stmt = stmt.where(Conversation.assignee_id == int(filters.assignee))
            except ValueError as exc:
                raise UserError("assignee: use a user id, 'me' or 'none'") from exc
    for column, value in (
        (Conversation.language, filters.language),
        (Conversation.sentiment, filters.sentiment),
        (Conversation.intent, filters.intent),
        (Conversation.network, filters.network),
        (Conversation.stage, filters.stage),
    ):
        if value:
            stmt = stmt.where(column == value)
    if filters.created_from is not None:
        stmt = stmt.where(Conversation.created_at >= filters.created_from)
    if filters.created_to is not None:
        stmt = stmt.where(Conversation.created_at < filters.created_to)
    if filters.without_tag:
        stmt = stmt.where(~_has_tag(session, filters.without_tag.strip()[:200]))
    if filters.answered == "yes":
        stmt = stmt.where(Conversation.first_response_at.is_not(None))
    elif filters.answered == "no":
        stmt = stmt.where(Conversation.first_response_at.is_(None))
    if filters.account:
        stmt = stmt.where(
            Conversation.account_id.in_(
                select(ChannelAccount.id).where(
                    ChannelAccount.org_id == scope.org_id, ChannelAccount.key == filters.account
                )
            )
        )
    if filters.location:
        root = session.scalars(
            select(Location).where(Location.org_id == scope.org_id, Location.key == filters.location)
        ).first()
        if root is None:
            return [], None
        stmt = stmt.where(
            Conversation.location_id.in_(
                select(Location.id).where(
                    Location.org_id == scope.org_id, Location.path.startswith(root.path, autoescape=True)
                )
            )
        )
    if filters.sla:
        due = Conversation.next_response_due
        conditions = {
            "breached": due < now,
            "warning": and_(due >= now, due < now + SLA_WARNING),
            "ok": due >= now + SLA_WARNING,
            "none": due.is_(None),
        }
        if filters.sla not in conditions:
            raise UserError("sla: use ok, warning, breached or none")
        stmt = stmt.where(conditions[filters.sla])
    if filters.tag:
        stmt = stmt.where(_has_tag(session, filters.tag.strip()[:200]))
    if filters.q:
        needle = filters.q.strip().lower()[:200]
        stmt = stmt.where(
            or_(
                func.lower(Conversation.subject).contains(needle, autoescape=True),
                exists(
                    select(Message.id).where(
                        Message.conversation_id == Conversation.id,
                        Message.direction != "note",
                        func.lower(Message.text).contains(needle, autoescape=True),
                    )
                ),
            )
        )
    sort = filters.sort or sorting.DEFAULT_SORT
    if cursor:
        stmt = stmt.where(_after(sorting.decode(sort, cursor)))
    stmt = stmt.order_by(*_order(sort)).limit(limit + 1)
    rows: list[Conversation] = list(session.scalars(stmt))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = sorting.encode(_position(sort, rows[-1]))
    return rows, next_cursor


def _has_tag(session: Session, tag: str) -> Any:
    """Conversations whose JSON tag list holds `tag`: SQLite's json_each, PostgreSQL's
    json_array_elements_text, the same shape."""
    each = "json_array_elements_text" if session.get_bind().dialect.name == "postgresql" else "json_each"
    values = getattr(func, each)(Conversation.tags).table_valued("value").alias("tag_values")
    return exists(select(literal(1)).select_from(values).where(func.lower(values.c.value) == func.lower(tag)))


def _rank() -> Any:
    return case(sorting.PRIORITY_RANK, value=Conversation.priority, else_=len(sorting.PRIORITY_RANK))


def _order(sort: str) -> list[Any]:
    """The columns of an order (conversations/sorting.py), each ending in the id: a total order."""
    if sort == "waiting":
        return [Conversation.awaiting_since.asc().nulls_last(), Conversation.id.asc()]
    if sort == "due":
        return [Conversation.next_response_due.asc().nulls_last(), Conversation.id.asc()]
    if sort == "priority":
        return [_rank().asc(), Conversation.last_message_at.desc(), Conversation.id.desc()]
    return [Conversation.last_message_at.desc(), Conversation.id.desc()]


def _position(sort: str, last: Conversation) -> sorting.Position:
    if sort == "waiting":
        return sorting.Position(sort, as_utc(last.awaiting_since), None, last.id)
    if sort == "due":
        return sorting.Position(sort, as_utc(last.next_response_due), None, last.id)
    if sort == "priority":
        rank = sorting.PRIORITY_RANK.get(last.priority, len(sorting.PRIORITY_RANK))
        return sorting.Position(sort, rank, as_utc(last.last_message_at), last.id)
    return sorting.Position(sort, as_utc(last.last_message_at), None, last.id)


def _after(position: sorting.Position) -> Any:
    """The rows after `position` in its order (the keyset condition of the next page)."""
    ident = position.ident
    if position.sort in ("waiting", "due"):
        column = Conversation.awaiting_since if position.sort == "waiting" else Conversation.next_response_due
        if position.value is None:  # among the rows without a value: by id
            return and_(column.is_(None), Conversation.id > ident)
        return or_(
            column > position.value,
            and_(column == position.value, Conversation.id > ident),
            column.is_(None),
        )
    if position.sort == "priority":
        at = position.at
        return or_(
            _rank() > position.value,
            and_(
                _rank() == position.value,
                or_(
                    Conversation.last_message_at < at,
                    and_(Conversation.last_message_at == at, Conversation.id < ident),
                ),
            ),
        )
    return or_(
        Conversation.last_message_at < position.value,
        and_(Conversation.last_message_at == position.value, Conversation.id < ident),
    )


def messages_of(session: Session, conversation_id: int) -> list[Message]:
    return list(
        session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        )
    )


def reply_by_request_key(session: Session, conversation: Conversation, request_key: str) -> OutboxItem | None:
    """The reply a caller already made with this Idempotency-Key in this conversation (of its org)."""
    return session.scalars(
        select(OutboxItem).where(
            OutboxItem.org_id == conversation.org_id,
            OutboxItem.conversation_id == conversation.id,
            OutboxItem.request_key == request_key,
        )
    ).first()


def timeline_of(session: Session, conversation_id: int) -> list[TimelineEvent]:
    return list(
        session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.conversation_id == conversation_id)
            .order_by(TimelineEvent.id)
        )
    )


def lookup_names(
    session: Session, conversations: list[Conversation]
) -> dict[str, dict[int, tuple[str | None, str | None]]]:
    """Keys and names of the rows conversations point at, in one query per table."""

    def fetch(
        model: type, ids: set[int], key_col: str, name_col: str
    ) -> dict[int, tuple[str | None, str | None]]:
        if not ids:
            return {}
        rows = session.execute(
            select(model.id, getattr(model, key_col), getattr(model, name_col)).where(model.id.in_(ids))  # type: ignore[attr-defined]
        )
        return {int(r[0]): (r[1], r[2]) for r in rows}

    return {
        "account": fetch(ChannelAccount, {c.account_id for c in conversations}, "key", "handle"),
        "location": fetch(Location, {c.location_id for c in conversations}, "key", "name"),
        "contact": fetch(Contact, {c.contact_id for c in conversations}, "display_name", "display_name"),
        "department": fetch(
            Department, {c.department_id for c in conversations if c.department_id}, "key", "name"
        ),
        "user": fetch(User, {c.assignee_id for c in conversations if c.assignee_id}, "handle", "name"),
    }


# -- what the use cases look up besides conversations ---------------------------------------------


def handles_of(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return {u.id: u.handle for u in session.scalars(select(User).where(User.id.in_(user_ids)))}


def sorted_handles(session: Session, user_ids: list[int]) -> tuple[str, ...]:
    if not user_ids:
        return ()
    return tuple(session.scalars(select(User.handle).where(User.id.in_(user_ids)).order_by(User.handle)))


def active_users_by_handle(session: Session, org_id: int, handles: list[str]) -> list[User]:
    if not handles:
        return []
    return list(
        session.scalars(
            select(User).where(User.org_id == org_id, User.handle.in_(handles), User.active.is_(True))
        )
    )


def active_users_with_roles(
    session: Session, org_id: int, roles: list[str], department_id: int | None
) -> list[User]:
    """People of `roles` who see a conversation of `department_id`: its members, and owners and
    admins (who see every department)."""
    members = (
        select(UserDepartment.user_id).where(UserDepartment.department_id == department_id)
        if department_id is not None
        else None
    )
    org_wide = User.role.in_(("owner", "admin"))
    where = org_wide if members is None else (org_wide | User.id.in_(members))
    return list(
        session.scalars(
            select(User).where(User.org_id == org_id, User.role.in_(roles), User.active.is_(True), where)
        )
    )


def outside_accounts(session: Session, user_id: int, account_id: int) -> bool:
    """Whether the person is limited to named accounts and this is not one of them."""
    limits = set(session.scalars(select(UserAccount.account_id).where(UserAccount.user_id == user_id)))
    return bool(limits) and account_id not in limits


def is_member(session: Session, user_id: int, department_id: int | None) -> bool:
    return (
        session.scalars(
            select(UserDepartment).where(
                UserDepartment.user_id == user_id,
                UserDepartment.department_id == department_id,
            )
        ).first()
        is not None
    )


def last_inbound_kind(session: Session, conversation_id: int) -> str | None:
    kind: str | None = session.scalars(
        select(Message.kind)
        .where(Message.conversation_id == conversation_id, Message.direction == Direction.INBOUND.value)
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
    return kind


def last_inbound_text(session: Session, conversation_id: int) -> str | None:
    text: str | None = session.scalars(
        select(Message.text)
        .where(Message.conversation_id == conversation_id, Message.direction == Direction.INBOUND.value)
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
    return text


def reply_by_other_since(
    session: Session, conversation_id: int, last_seen: int, user_id: int
) -> tuple[int, str] | None:
    """The first reply someone other than `user_id` sent after message `last_seen`: (id, handle)."""
    row = session.execute(
        select(Message.id, User.handle)
        .join(User, User.id == Message.author_user_id)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.OUTBOUND.value,
            Message.id > last_seen,
            Message.author_user_id != user_id,
        )
        .limit(1)
    ).first()
    return (int(row[0]), str(row[1])) if row is not None else None


def outbox_item_of(session: Session, message_id: int) -> OutboxItem | None:
    return session.scalars(select(OutboxItem).where(OutboxItem.message_id == message_id)).first()


def department_by_key(session: Session, org_id: int, key: str) -> Department | None:
    return session.scalars(
        select(Department).where(Department.org_id == org_id, Department.key == key)
    ).first()


def department_moves(session: Session, conversation_id: int) -> list[TimelineEvent]:
    """The route and transfer events of a conversation, oldest first."""
    return list(
        session.scalars(
            select(TimelineEvent)
            .where(
                TimelineEvent.conversation_id == conversation_id,
                TimelineEvent.kind.in_(("route", "transfer")),
            )
            .order_by(TimelineEvent.id)
        )
    )


def snoozed_until_before(session: Session, now: datetime) -> list[Conversation]:
    return list(
        session.scalars(
            select(Conversation).where(
                Conversation.status == ConversationStatus.SNOOZED.value,
                Conversation.snoozed_until <= now,
            )
        )
    )


def intent_vocabulary(session: Session, org_id: int) -> list[tuple[str, bool]]:
    """The organisation's own intents, each with whether it has examples."""
    rows = session.execute(select(Intent.name, Intent.examples).where(Intent.org_id == org_id)).all()
    return [(name, bool(examples)) for name, examples in rows]


def canned_responses(session: Session, org_id: int) -> list[CannedResponse]:
    """The organisation's saved replies in the order the config lists them."""
    return list(
        session.scalars(
            select(CannedResponse).where(CannedResponse.org_id == org_id).order_by(CannedResponse.id)
        )
    )


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def department_keys(session: Session, department_ids: Iterable[int]) -> set[str]:
    wanted = sorted(set(department_ids))
    if not wanted:
        return set()
    return set(session.scalars(select(Department.key).where(Department.id.in_(wanted))))
