"""The channels slice in SQL: accounts, receipts, ignored webhook parts, reply targets, poll cursors.

Every function takes the caller's `Session`: the caller owns the transaction (webhooks commit
each event on its own, the ignored parts after them), so nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relaydesk.models import ChannelAccount, ContactIdentity, Conversation, IgnoredEvent, Message

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
