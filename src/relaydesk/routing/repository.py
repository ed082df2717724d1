"""Queries of the routing slice: the saved rules and the names a rule may refer to."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relaydesk.models import Agency, ChannelAccount, Department, RoutingRule, User


def rules(session: Session, org_id: int) -> list[RoutingRule]:
    return list(
        session.scalars(
            select(RoutingRule).where(RoutingRule.org_id == org_id).order_by(RoutingRule.position)
        )
    )


def rule_by_name(session: Session, org_id: int, name: str) -> RoutingRule | None:
    return session.scalars(
        select(RoutingRule).where(RoutingRule.org_id == org_id, RoutingRule.name == name)
    ).first()


def last_rule_position(session: Session, org_id: int) -> int | None:
    return session.scalar(select(func.max(RoutingRule.position)).where(RoutingRule.org_id == org_id))


def department_keys(session: Session, org_id: int) -> set[str]:
    return set(session.scalars(select(Department.key).where(Department.org_id == org_id)))


def user_handles(session: Session, org_id: int) -> set[str]:
    return set(session.scalars(select(User.handle).where(User.org_id == org_id)))


def agency_keys(session: Session, org_id: int) -> set[str]:
    return set(session.scalars(select(Agency.key).where(Agency.org_id == org_id)))


def account_by_key(session: Session, org_id: int, key: str) -> ChannelAccount | None:
    return session.scalars(
        select(ChannelAccount).where(ChannelAccount.org_id == org_id, ChannelAccount.key == key)
    ).first()
