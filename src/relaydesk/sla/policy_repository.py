"""The SLA settings page's queries: pages of policies and agencies, and the keys they may name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.models import Agency, BusinessHours, Department, Intent, SlaPolicy


def policies_page(session: Session, org_id: int, offset: int, limit: int) -> list[SlaPolicy]:
    return list(
        session.scalars(
            select(SlaPolicy)
            .where(SlaPolicy.org_id == org_id)
            .order_by(SlaPolicy.name)
            .offset(offset)
            .limit(limit)
        )
    )


def policy_by_name(session: Session, org_id: int, name: str) -> SlaPolicy | None:
    return session.scalar(select(SlaPolicy).where(SlaPolicy.org_id == org_id, SlaPolicy.name == name))


def policy_covering(
    session: Session, org_id: int, department: str | None, priority: str | None, channel: str | None
) -> SlaPolicy | None:
    """The policy for exactly this department, priority and channel (None: any), if there is one."""
    conditions = [
        SlaPolicy.org_id == org_id,
        SlaPolicy.department_key.is_(None) if department is None else SlaPolicy.department_key == department,
        SlaPolicy.priority.is_(None) if priority is None else SlaPolicy.priority == priority,
        SlaPolicy.channel.is_(None) if channel is None else SlaPolicy.channel == channel,
    ]
    return session.scalars(select(SlaPolicy).where(*conditions).limit(1)).first()


def agencies_page(session: Session, org_id: int, offset: int, limit: int) -> list[Agency]:
    return list(
        session.scalars(
            select(Agency).where(Agency.org_id == org_id).order_by(Agency.key).offset(offset).limit(limit)
        )
    )


def agency_by_key(session: Session, org_id: int, key: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.org_id == org_id, Agency.key == key))


def department_keys(session: Session, org_id: int) -> list[str]:
    return list(
        session.scalars(select(Department.key).where(Department.org_id == org_id).order_by(Department.key))
    )


def business_hours_keys(session: Session, org_id: int) -> list[str]:
    return list(
        session.scalars(
            select(BusinessHours.key).where(BusinessHours.org_id == org_id).order_by(BusinessHours.key)
        )
    )


def intent_names(session: Session, org_id: int) -> list[str]:
    return list(session.scalars(select(Intent.name).where(Intent.org_id == org_id).order_by(Intent.name)))
