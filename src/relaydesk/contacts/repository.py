"""The contacts a caller may see, in SQL: through the conversations their scope already allows."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, update
from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.models import Contact, ContactIdentity, Conversation, Message


def visible_condition(scope: Scope) -> ColumnElement[bool]:
    """An owner or admin of the whole org sees every contact; others, those they talk to."""
    if scope.org_wide and not scope.location_path:
        return Contact.org_id == scope.org_id
    # A merged contact has no conversations left; it is visible where its survivor is.
    return exists(
        select(Conversation.id).where(
            or_(Conversation.contact_id == Contact.id, Conversation.contact_id == Contact.merged_into_id),
            scope.conversation_filter(),
        )
    ).correlate(Contact)


def visible(scope: Scope) -> Select[Contact]:
    return select(Contact).where(Contact.org_id == scope.org_id, visible_condition(scope))


def search(session: Session, scope: Scope, q: str | None, after_id: int | None, limit: int) -> list[Contact]:
    stmt = visible(scope)
    if q:
        needle = q.strip().lower()[:200]
        stmt = stmt.where(
            or_(
                func.lower(Contact.display_name).contains(needle, autoescape=True),
                exists(
                    select(ContactIdentity.id).where(
                        ContactIdentity.contact_id == Contact.id,
                        or_(
                            func.lower(ContactIdentity.handle).contains(needle, autoescape=True),
                            func.lower(ContactIdentity.external_user_id).contains(needle, autoescape=True),
                        ),
                    )
                ).correlate(Contact),
            )
        )
    if after_id is not None:
        stmt = stmt.where(Contact.id < after_id)
    return list(session.scalars(stmt.order_by(Contact.id.desc()).limit(limit)))


def get_visible(session: Session, scope: Scope, contact_id: int, lock: bool = False) -> Contact | None:
    stmt = visible(scope).where(Contact.id == contact_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def identities(session: Session, contact_ids: list[int]) -> dict[int, list[ContactIdentity]]:
    out: dict[int, list[ContactIdentity]] = {i: [] for i in contact_ids}
    if contact_ids:
        rows = session.scalars(
            select(ContactIdentity)
            .where(ContactIdentity.contact_id.in_(contact_ids))
            .order_by(ContactIdentity.network, ContactIdentity.id)
        )
        for row in rows:
            out[row.contact_id].append(row)
    return out


def conversation_counts(session: Session, scope: Scope, contact_ids: list[int]) -> dict[int, int]:
    if not contact_ids:
        return {}
    rows = session.execute(
        select(Conversation.contact_id, func.count())
        .where(Conversation.contact_id.in_(contact_ids), scope.conversation_filter())
        .group_by(Conversation.contact_id)
    )
    return {int(contact_id): int(count) for contact_id, count in rows}


def recent_conversations(
    session: Session, scope: Scope, contact_id: int, limit: int = 20
) -> list[Conversation]:
    return list(
        session.scalars(
            select(Conversation)
            .where(Conversation.contact_id == contact_id, scope.conversation_filter())
            .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
            .limit(limit)
        )
    )


def move_to(session: Session, duplicate_id: int, survivor_id: int) -> list[int]:
    """Give the duplicate's identities, conversations and messages to the survivor.

    Returns the conversations that moved (each gets a timeline entry).
    """
    session.execute(
        update(ContactIdentity)
        .where(ContactIdentity.contact_id == duplicate_id)
        .values(contact_id=survivor_id)
    )
    moved = list(session.scalars(select(Conversation.id).where(Conversation.contact_id == duplicate_id)))
    session.execute(
        update(Conversation).where(Conversation.contact_id == duplicate_id).values(contact_id=survivor_id)
    )
    session.execute(update(Message).where(Message.contact_id == duplicate_id).values(contact_id=survivor_id))
    return moved


def repoint_merged(session: Session, duplicate_id: int, survivor_id: int) -> None:
    session.execute(
        update(Contact).where(Contact.merged_into_id == duplicate_id).values(merged_into_id=survivor_id)
    )
