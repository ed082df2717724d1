"""The channels slice in SQL: accounts, receipts, ignored webhook parts, reply targets, poll cursors,
the outbox, held mentions and web-chat visitors.

Every function takes the caller's `Session`: the caller owns the transaction (webhooks commit
each event on its own, the ignored parts after them), so nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from relaydesk.core.enums import Direction
from relaydesk.models import (
    ChannelAccount,
    Contact,
    ContactIdentity,
    Conversation,
    IgnoredEvent,
    MediaFile,
    Message,
    OutboxItem,
    PendingMention,
    TimelineEvent,
    User,
    WebchatVisitor,
)
from relaydesk.models.upsert import insert_ignore

_Row = TypeVar("_Row")

# -- accounts --------------------------------------------------------------------------------


def account(session: Session, account_id: int) -> ChannelAccount | None:
    return session.get(ChannelAccount, account_id)


def active_accounts(session: Session, networks: Iterable[str] | None = None) -> list[ChannelAccount]:
    """Active accounts in id order, of `networks` when given."""
    query = select(ChannelAccount).where(ChannelAccount.active.is_(True))
    if networks is not None:
        query = query.where(ChannelAccount.network.in_(tuple(networks)))
    return list(session.scalars(query.order_by(ChannelAccount.id)))


def active_accounts_by_ref(session: Session, networks: set[str], refs: set[str]) -> list[ChannelAccount]:
    """Active accounts of `networks` whose id on the network is one of `refs`."""
    return list(
        session.scalars(
            select(ChannelAccount).where(
                ChannelAccount.network.in_(sorted(networks)),
                ChannelAccount.external_id.in_(sorted(refs)),
                ChannelAccount.active.is_(True),
            )
        )
    )


def sealed_credentials(session: Session, networks: tuple[str, ...]) -> list[str | None]:
    """The sealed credentials of every active account of `networks`."""
    return list(
        session.scalars(
            select(ChannelAccount.credentials_encrypted).where(
                ChannelAccount.network.in_(networks), ChannelAccount.active.is_(True)
            )
        ).all()
    )


def save_cursor(session: Session, account_id: int, name: str, cursor: Any) -> None:
    row = session.get(ChannelAccount, account_id)
    if row is not None:
        row.settings = {**(row.settings or {}), name: cursor}


# -- messages --------------------------------------------------------------------------------


def outbound_message(session: Session, account_id: int, external_id: str) -> Message | None:
    """Our outbound message of `account_id` the network knows as `external_id`."""
    return session.scalars(
        select(Message).where(
            Message.account_id == account_id,
            Message.external_id == external_id,
            Message.direction == "outbound",
        )
    ).first()


def last_inbound(session: Session, conversation_id: int, skip_kind: str) -> Message | None:
    """The conversation's latest customer message, leaving out those of `skip_kind`."""
    return session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == "inbound",
            Message.kind != skip_kind,
        )
        .order_by(Message.id.desc())
        .limit(1)
    ).first()


def conversation(session: Session, conversation_id: int) -> Conversation | None:
    return session.get(Conversation, conversation_id)


def latest_identity(session: Session, contact_id: int, network: str) -> ContactIdentity | None:
    return session.scalars(
        select(ContactIdentity)
        .where(ContactIdentity.contact_id == contact_id, ContactIdentity.network == network)
        .order_by(ContactIdentity.id.desc())
        .limit(1)
    ).first()


def message(session: Session, message_id: int) -> Message | None:
    return session.get(Message, message_id)


def message_ref(session: Session, account_id: int, external_id: str) -> tuple[int, int] | None:
    """(message id, conversation id) of the account's message the network knows as `external_id`."""
    found = session.execute(
        select(Message.id, Message.conversation_id).where(
            Message.account_id == account_id, Message.external_id == external_id
        )
    ).first()
    return None if found is None else (found[0], found[1])


def add_timeline_event(session: Session, event: TimelineEvent) -> None:
    session.add(event)


def _lock_for_claim(session: Session, stmt: Select[_Row]) -> Select[_Row]:
    # PostgreSQL: concurrent workers skip each other's rows. SQLite's BEGIN IMMEDIATE already
    # serialises the claims.
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


# -- outbox ----------------------------------------------------------------------------------


def outbox_item(session: Session, item_id: int) -> OutboxItem | None:
    return session.get(OutboxItem, item_id)


def outbox_item_by_key(session: Session, account_id: int, key: str) -> OutboxItem | None:
    return session.scalars(
        select(OutboxItem).where(OutboxItem.idempotency_key == key, OutboxItem.account_id == account_id)
    ).first()


def due_outbox_items(session: Session, now: datetime, lease: timedelta, limit: int) -> list[OutboxItem]:
    """Up to `limit` rows due now, or `sending` with their lease run out, oldest due first; locked."""
    stmt = (
        select(OutboxItem)
        .where(
            or_(
                (OutboxItem.status == "queued") & (OutboxItem.next_attempt_at <= now),
                # A worker died holding it: the lease has run out.
                (OutboxItem.status == "sending") & (OutboxItem.next_attempt_at <= now - lease),
            )
        )
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(limit)
    )
    return list(session.scalars(_lock_for_claim(session, stmt)).all())


# -- held mentions ---------------------------------------------------------------------------


def hold_mention(
    session: Session,
    *,
    org_id: int,
    account_id: int,
    network: str,
    external_id: str,
    value: dict[str, Any],
    now: datetime,
    received_at: datetime,
) -> int | None:
    """A `pending` row for the mention, unless the account holds it already; the new row's id."""
    return insert_ignore(
        session,
        PendingMention.__table__,
        {
            "org_id": org_id,
            "account_id": account_id,
            "network": network,
            "external_id": external_id[:256],
            "value": value,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": None,
            "received_at": received_at,
        },
        ["account_id", "external_id"],
    )


def pending_mention(session: Session, pending_id: int) -> PendingMention | None:
    return session.get(PendingMention, pending_id)


def delete_pending_mention(session: Session, pending_id: int) -> None:
    row = session.get(PendingMention, pending_id)
    if row is not None:
        session.delete(row)


def due_pending_mentions(
    session: Session, now: datetime, lease: timedelta, limit: int
) -> list[PendingMention]:
    """Up to `limit` rows due now, or `fetching` with their lease run out, oldest due first; locked."""
    stmt = (
        select(PendingMention)
        .where(
            ((PendingMention.status == "pending") & (PendingMention.next_attempt_at <= now))
            | ((PendingMention.status == "fetching") & (PendingMention.next_attempt_at <= now - lease))
        )
        .order_by(PendingMention.next_attempt_at, PendingMention.id)
        .limit(limit)
    )
    return list(session.scalars(_lock_for_claim(session, stmt)).all())


def pending_mention_counts(session: Session) -> list[tuple[int, str, int]]:
    """(account id, status, how many) for every account and status with held mentions."""
    rows = session.execute(
        select(PendingMention.account_id, PendingMention.status, func.count(PendingMention.id)).group_by(
            PendingMention.account_id, PendingMention.status
        )
    ).all()
    return [(account_id, status, count) for account_id, status, count in rows]


# -- web-chat visitors -----------------------------------------------------------------------


def visitor(session: Session, account_id: int, visitor_key: str) -> WebchatVisitor | None:
    return session.scalars(
        select(WebchatVisitor).where(
            WebchatVisitor.account_id == account_id, WebchatVisitor.visitor_key == visitor_key
        )
    ).first()


def visitor_exists(session: Session, account_id: int, visitor_key: str) -> bool:
    found = session.execute(
        select(WebchatVisitor.id).where(
            WebchatVisitor.account_id == account_id, WebchatVisitor.visitor_key == visitor_key
        )
    ).first()
    return found is not None


def add_visitor(
    session: Session, account_id: int, visitor_key: str, name: str | None, email: str | None, now: datetime
) -> None:
    insert_ignore(
        session,
        WebchatVisitor.__table__,
        {
            "account_id": account_id,
            "visitor_key": visitor_key,
            "name": name,
            "email": email,
            "created_at": now,
            "last_seen_at": now,
        },
        ["account_id", "visitor_key"],
    )


def visitor_profile(session: Session, account_id: int, visitor_key: str) -> tuple[str | None, str | None]:
    """The visitor's (name, email); (None, None) for an unknown visitor."""
    row = session.execute(
        select(WebchatVisitor.name, WebchatVisitor.email).where(
            WebchatVisitor.account_id == account_id, WebchatVisitor.visitor_key == visitor_key
        )
    ).first()
    return (row[0], row[1]) if row else (None, None)


def identity_contact_id(session: Session, org_id: int, network: str, external_user_id: str) -> int | None:
    return session.execute(
        select(ContactIdentity.contact_id).where(
            ContactIdentity.org_id == org_id,
            ContactIdentity.network == network,
            ContactIdentity.external_user_id == external_user_id,
        )
    ).scalar()


def merged_into(session: Session, contact_id: int) -> int | None:
    return session.execute(select(Contact.merged_into_id).where(Contact.id == contact_id)).scalar()


def conversations_written_in(
    session: Session, account_id: int, contact_id: int, external_prefix: str
) -> list[int]:
    """The contact's conversations on the account that hold an inbound message whose external id
    starts with `external_prefix`."""
    own = aliased(Message)
    return list(
        session.scalars(
            select(Conversation.id).where(
                Conversation.account_id == account_id,
                Conversation.contact_id == contact_id,
                # Only conversations this visitor wrote in: a merge must not show a visitor
                # the replies meant for someone else's browser.
                exists().where(
                    own.conversation_id == Conversation.id,
                    own.direction == Direction.INBOUND.value,
                    own.external_id.startswith(external_prefix, autoescape=True),
                ),
            )
        )
    )


def conversation_messages(
    session: Session, conversation_ids: list[int], account_id: int, after: int, limit: int
) -> list[Message]:
    """Inbound and outbound messages (no internal notes) after id `after`, in id order."""
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.conversation_id.in_(conversation_ids),
                Message.account_id == account_id,
                Message.id > after,
                # Internal notes never leave the desk.
                Message.direction.in_((Direction.INBOUND.value, Direction.OUTBOUND.value)),
            )
            .order_by(Message.id)
            .limit(limit)
        )
    )


def users(session: Session, user_ids: set[int]) -> list[User]:
    return list(session.scalars(select(User).where(User.id.in_(user_ids))))


# -- ignored webhook parts -----------------------------------------------------------------------


def recent_ignored(
    session: Session,
    network: str,
    kind: str,
    since: datetime,
    account_id: int | None,
    org_id: int | None,
) -> list[IgnoredEvent]:
    """The latest rows of this network and kind for the same account and org since `since`."""
    query = (
        select(IgnoredEvent)
        .where(
            IgnoredEvent.network == network,
            IgnoredEvent.kind == kind,
            IgnoredEvent.received_at >= since,
            IgnoredEvent.account_id.is_(None)
            if account_id is None
            else IgnoredEvent.account_id == account_id,
            IgnoredEvent.org_id.is_(None) if org_id is None else IgnoredEvent.org_id == org_id,
        )
        .order_by(IgnoredEvent.id.desc())
        .limit(100)
    )
    return list(session.scalars(query))


def add_ignored(session: Session, event: IgnoredEvent) -> int:
    session.add(event)
    session.flush()
    return event.id


def ignored_for_org(
    session: Session,
    org_id: int,
    *,
    network: str | None = None,
    limit: int = 50,
    before: int | None = None,
    location_ids: frozenset[int] | None = None,
) -> list[IgnoredEvent]:
    """The org's ignored events, newest first.

    `location_ids`: the caller is limited to these locations (a one-region admin), so only the
    events of accounts there; events of no account belong to the whole org and are left out.
    """
    query = select(IgnoredEvent).where(IgnoredEvent.org_id == org_id)
    if location_ids is not None:
        query = query.where(
            IgnoredEvent.account_id.in_(
                select(ChannelAccount.id).where(
                    ChannelAccount.org_id == org_id, ChannelAccount.location_id.in_(sorted(location_ids))
                )
            )
        )
    if network:
        query = query.where(IgnoredEvent.network == network)
    if before is not None:
        query = query.where(IgnoredEvent.id < before)
    return list(session.scalars(query.order_by(IgnoredEvent.id.desc()).limit(limit)))


def ignored_count_by_account(session: Session) -> dict[int, int]:
    """How many ignored events each account has (for `relaydesk channels check`)."""
    rows = session.execute(
        select(IgnoredEvent.account_id, func.count(IgnoredEvent.id))
        .where(IgnoredEvent.account_id.is_not(None))
        .group_by(IgnoredEvent.account_id)
    )
    return {int(account_id): int(n) for account_id, n in rows if account_id is not None}


def media_files(session: Session, ids: list[int]) -> dict[int, MediaFile]:
    """The files a reply carries, by id (their bytes included)."""
    return {m.id: m for m in session.scalars(select(MediaFile).where(MediaFile.id.in_(ids)))}
