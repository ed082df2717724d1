"""Every query of the config slice: the rows an apply compares against and an export reads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from relaydesk.models import ChannelAccount, Organization, UserAccount, UserDepartment


def organization_by_key(session: Session, key: str) -> Organization | None:
    return session.scalars(select(Organization).where(Organization.key == key)).one_or_none()


def organization(session: Session, org_id: int) -> Organization | None:
    return session.get(Organization, org_id)


def org_rows(session: Session, model: Any, org_id: int, *order: Any) -> list[Any]:
    """Every row of one organisation in a table with an `org_id` column."""
    stmt = select(model).where(model.org_id == org_id)
    if order:
        stmt = stmt.order_by(*order)
    return list(session.scalars(stmt))


def keyed_rows(session: Session, model: Any, org_id: int, key: str) -> dict[Any, Any]:
    return {getattr(row, key): row for row in org_rows(session, model, org_id)}


def used_ids(session: Session, column: Any, ids: Iterable[int]) -> set[int]:
    """Which of `ids` the column holds (rows that still point at them)."""
    wanted = list(ids)
    if not wanted:
        return set()
    found = session.scalars(select(column).where(column.in_(wanted)).distinct())
    return {value for value in found if value is not None}


def memberships(session: Session, user_ids: list[int], *, ordered: bool = False) -> list[UserDepartment]:
    stmt = select(UserDepartment).where(UserDepartment.user_id.in_(user_ids))
    if ordered:
        stmt = stmt.order_by(UserDepartment.department_id)
    return list(session.scalars(stmt))


def account_limits(session: Session, user_ids: list[int]) -> list[UserAccount]:
    return list(session.scalars(select(UserAccount).where(UserAccount.user_id.in_(user_ids))))


def identities_held_elsewhere(
    session: Session, org_id: int, by_network: Mapping[str, list[str]]
) -> list[tuple[str, str]]:
    """The (network, external id) pairs among `by_network` that another organisation's accounts hold."""
    found = session.execute(
        select(ChannelAccount.network, ChannelAccount.external_id).where(
            ChannelAccount.org_id != org_id,
            or_(
                *(
                    and_(ChannelAccount.network == network, ChannelAccount.external_id.in_(ids))
                    for network, ids in sorted(by_network.items())
                )
            ),
        )
    )
    return [(str(network), str(external_id)) for network, external_id in found]


def remove(session: Session, row: Any) -> None:
    session.delete(row)
