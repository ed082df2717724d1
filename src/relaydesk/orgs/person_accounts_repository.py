"""Queries for the channel accounts a person is limited to (user_accounts)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.models import ChannelAccount, UserAccount


def limits_of(session: Session, user_id: int) -> list[ChannelAccount]:
    """The accounts the person is limited to, by key (none: not limited)."""
    return list(
        session.scalars(
            select(ChannelAccount)
            .join(UserAccount, UserAccount.account_id == ChannelAccount.id)
            .where(UserAccount.user_id == user_id)
            .order_by(ChannelAccount.key)
        )
    )


def accounts_by_key(session: Session, org_id: int, keys: list[str]) -> dict[str, ChannelAccount]:
    if not keys:
        return {}
    return {
        a.key: a
        for a in session.scalars(
            select(ChannelAccount).where(
                ChannelAccount.org_id == org_id, ChannelAccount.key.in_(sorted(set(keys)))
            )
        )
    }


def account_choices(
    session: Session, org_id: int, within: frozenset[int] | None, limit: int
) -> list[tuple[str, str]]:
    """(key, name) of the accounts that may be handed out, by key, at most `limit`."""
    query = select(ChannelAccount.key, ChannelAccount.name).where(
        ChannelAccount.org_id == org_id, ChannelAccount.active.is_(True)
    )
    if within is not None:
        query = query.where(ChannelAccount.location_id.in_(sorted(within)))
    return [
        (str(k), str(n or k)) for k, n in session.execute(query.order_by(ChannelAccount.key).limit(limit))
    ]


def add(session: Session, user_id: int, account_ids: set[int]) -> None:
    for account_id in sorted(account_ids):
        session.add(UserAccount(user_id=user_id, account_id=account_id))


def remove(session: Session, user_id: int, account_ids: set[int]) -> None:
    # Row by row through the unit of work, so the audit log and the configuration stamp see each.
    for row in session.scalars(
        select(UserAccount).where(
            UserAccount.user_id == user_id, UserAccount.account_id.in_(sorted(account_ids))
        )
    ):
        session.delete(row)
