"""The channel accounts as the settings pages read them: listed, searched, and what happened to them.

Beside repository.py (the accounts as the webhooks and the outbox read them), which is long
enough. Every function takes the caller's `Session`; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from relaydesk.models import ChannelAccount, Location, OutboxItem, StagedEvent

# Outbox rows whose error is the account's current trouble: being retried, or given up on.
_ERROR_STATES = ("queued", "sending", "failed")


def _in_places(
    column: InstrumentedAttribute[int], location_ids: frozenset[int] | None
) -> ColumnElement[bool]:
    return column.in_(sorted(location_ids)) if location_ids is not None else true()


def accounts(
    session: Session,
    org_id: int,
    location_ids: frozenset[int] | None,
    search: str,
    limit: int,
    account_ids: frozenset[int] | None = None,
) -> list[tuple[ChannelAccount, Location]]:
    """The org's accounts (in `location_ids` when given) with their location, by key.

    `search` matches, case-insensitively, the key, name, handle, network, network id or the
    location's key or name.
    """
    query = (
        select(ChannelAccount, Location)
        .join(Location, Location.id == ChannelAccount.location_id)
        .where(ChannelAccount.org_id == org_id, _in_places(ChannelAccount.location_id, location_ids))
    )
    if account_ids is not None:  # a person limited to named accounts sees those only
        query = query.where(ChannelAccount.id.in_(sorted(account_ids)))
    if search:
        needle = search.lower()
        query = query.where(
            or_(
                *(
                    func.lower(column).contains(needle, autoescape=True)
                    for column in (
                        ChannelAccount.key,
                        ChannelAccount.name,
                        ChannelAccount.handle,
                        ChannelAccount.network,
                        ChannelAccount.external_id,
                        Location.key,
                        Location.name,
                    )
                )
            )
        )
    rows = session.execute(query.order_by(ChannelAccount.key).limit(limit)).all()
    return [(account, location) for account, location in rows]


def account_by_key(session: Session, org_id: int, key: str) -> tuple[ChannelAccount, Location] | None:
    row = session.execute(
        select(ChannelAccount, Location)
        .join(Location, Location.id == ChannelAccount.location_id)
        .where(ChannelAccount.org_id == org_id, ChannelAccount.key == key)
    ).first()
    return None if row is None else (row[0], row[1])


def location_by_key(session: Session, org_id: int, key: str) -> Location | None:
    return session.scalars(select(Location).where(Location.org_id == org_id, Location.key == key)).first()


def locations(
    session: Session, org_id: int, location_ids: frozenset[int] | None, limit: int
) -> list[tuple[str, str]]:
    """(key, name) of the org's locations (in `location_ids` when given), by name."""
    rows = session.execute(
        select(Location.key, Location.name)
        .where(Location.org_id == org_id, _in_places(Location.id, location_ids))
        .order_by(Location.name, Location.key)
        .limit(limit)
    ).all()
    return [(key, name) for key, name in rows]


def identity_holder(
    session: Session, network: str, external_id: str, other_than: int | None
) -> ChannelAccount | None:
    """The account of the whole installation that holds this network identity, if any."""
    query = select(ChannelAccount).where(
        ChannelAccount.network == network, ChannelAccount.external_id == external_id
    )
    if other_than is not None:
        query = query.where(ChannelAccount.id != other_than)
    return session.scalars(query).first()


def last_event_times(session: Session, account_ids: Iterable[int]) -> dict[int, datetime]:
    """When each account last received an event (webhook or poll) in the intake queue's week.

    One index step per account (ix_staged_events_account_received), however busy it is.
    """
    out: dict[int, datetime] = {}
    for account_id in sorted(set(account_ids)):
        found = session.scalars(
            select(StagedEvent.received_at)
            .where(StagedEvent.account_id == account_id)
            .order_by(StagedEvent.received_at.desc())
            .limit(1)
        ).first()
        if found is not None:
            out[account_id] = found
    return out


def last_errors(session: Session, account_ids: Iterable[int]) -> dict[int, OutboxItem]:
    """Each account's latest reply with an error that is still retried or was given up on."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    latest = (
        select(func.max(OutboxItem.id))
        .where(
            OutboxItem.status.in_(_ERROR_STATES),
            OutboxItem.last_error.is_not(None),
            OutboxItem.account_id.in_(wanted),
        )
        .group_by(OutboxItem.account_id)
    )
    return {
        item.account_id: item for item in session.scalars(select(OutboxItem).where(OutboxItem.id.in_(latest)))
    }
