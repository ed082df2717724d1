"""Departments and agencies as the settings pages read them: counted, and what still uses one.

Beside repository.py (what routing and the other slices ask of departments). Nothing here commits.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relaydesk.models import (
    Agency,
    Conversation,
    Department,
    Intent,
    RoutingRule,
    SlaPolicy,
    User,
    UserDepartment,
)

# An organisation's rules are read to see which name a department: a few hundred at most.
RULE_LIMIT = 5000


def departments(session: Session, org_id: int, limit: int) -> list[Department]:
    query = select(Department).where(Department.org_id == org_id).order_by(Department.name, Department.id)
    return list(session.scalars(query.limit(limit)))


def department_by_key(session: Session, org_id: int, key: str) -> Department | None:
    return session.scalars(
        select(Department).where(Department.org_id == org_id, Department.key == key)
    ).first()


def member_counts(session: Session, org_id: int) -> dict[int, int]:
    """Active people per department (absent: none)."""
    rows = session.execute(
        select(UserDepartment.department_id, func.count(UserDepartment.user_id))
        .join(User, User.id == UserDepartment.user_id)
        .where(User.org_id == org_id, User.active.is_(True))
        .group_by(UserDepartment.department_id)
    )
    return {int(dept): int(n) for dept, n in rows}


def agencies(session: Session, org_id: int, limit: int) -> list[Agency]:
    query = select(Agency).where(Agency.org_id == org_id).order_by(Agency.name, Agency.id)
    return list(session.scalars(query.limit(limit)))


def agency_by_key(session: Session, org_id: int, key: str) -> Agency | None:
    return session.scalars(select(Agency).where(Agency.org_id == org_id, Agency.key == key)).first()


def uses(session: Session, org_id: int, department: Department) -> dict[str, int]:
    """What still sends work to a department or counts on it: what deleting it would break."""
    members = int(
        session.scalar(
            select(func.count(UserDepartment.user_id)).where(UserDepartment.department_id == department.id)
        )
        or 0
    )
    conversations = int(
        session.scalar(select(func.count(Conversation.id)).where(Conversation.department_id == department.id))
        or 0
    )
    actions = session.scalars(
        select(RoutingRule.actions).where(RoutingRule.org_id == org_id).limit(RULE_LIMIT)
    )
    rules = sum(1 for then in actions if isinstance(then, dict) and then.get("department") == department.key)
    intents = int(
        session.scalar(
            select(func.count(Intent.id)).where(
                Intent.org_id == org_id, Intent.department_key == department.key
            )
        )
        or 0
    )
    policies = int(
        session.scalar(
            select(func.count(SlaPolicy.id)).where(
                SlaPolicy.org_id == org_id, SlaPolicy.department_key == department.key
            )
        )
        or 0
    )
    return {
        "people": members,
        "routing rules": rules,
        "conversations": conversations,
        "intents": intents,
        "SLA policies": policies,
    }
