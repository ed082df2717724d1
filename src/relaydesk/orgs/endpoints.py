"""Departments, people and intents: the configuration objects editable one by one.

Routing rules are edited through routing/endpoints.py.

The whole organisation can also be exported and applied as YAML (config/endpoints.py).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlalchemy import func, select

from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.models import Agency, Department, Intent, User, UserDepartment
from relaydesk.orgs.schemas import (
    AgentOut,
    DepartmentOut,
    IntentIn,
    IntentOut,
    PresenceIn,
)

router = APIRouter(prefix="/api/v1", tags=["organisation"])


@router.get("/departments", response_model=list[DepartmentOut])
def list_departments(container: ContainerDep, scope: ScopeDep) -> list[DepartmentOut]:
    with container.sessions() as session:
        rows = session.scalars(
            select(Department).where(Department.org_id == scope.org_id).order_by(Department.id)
        )
        return [
            DepartmentOut(id=d.id, key=d.key, name=d.name, is_default=d.is_default, assignment=d.assignment)
            for d in rows
        ]


@router.get("/agents", response_model=list[AgentOut])
def list_agents(container: ContainerDep, scope: ScopeDep) -> list[AgentOut]:
    with container.sessions() as session:
        users = list(
            session.scalars(
                select(User).where(User.org_id == scope.org_id, User.active.is_(True)).order_by(User.id)
            )
        )
        memberships = session.execute(
            select(UserDepartment.user_id, Department.key)
            .join(Department, Department.id == UserDepartment.department_id)
            .where(Department.org_id == scope.org_id)
        )
        by_user: dict[int, list[str]] = {}
        for user_id, key in memberships:
            by_user.setdefault(int(user_id), []).append(str(key))
        agencies = {a.id: a.key for a in session.scalars(select(Agency).where(Agency.org_id == scope.org_id))}
        return [
            AgentOut(
                id=u.id,
                handle=u.handle,
                name=u.name,
                role=u.role,
                languages=list(u.languages or []),
                skills=list(u.skills or []),
                online=u.online,
                max_concurrent=u.max_concurrent,
                departments=sorted(by_user.get(u.id, [])),
                agency=agencies.get(u.agency_id) if u.agency_id else None,
            )
            for u in users
        ]


@router.put("/me/presence", response_model=AgentOut)
def set_presence(body: PresenceIn, container: ContainerDep, scope: ScopeDep) -> AgentOut:
    """Agents go online/offline; only online agents receive new conversations."""
    with transaction(container.sessions) as session:
        user = session.get(User, scope.user_id)
        assert user is not None
        user.online = body.online
    return next(a for a in list_agents(container, scope) if a.id == scope.user_id)


@router.get("/intents", response_model=list[IntentOut])
def list_intents(container: ContainerDep, scope: ScopeDep) -> list[IntentOut]:
    with container.sessions() as session:
        rows = session.scalars(select(Intent).where(Intent.org_id == scope.org_id).order_by(Intent.id))
        return [IntentOut(name=i.name, department=i.department_key, examples=list(i.examples)) for i in rows]


@router.put("/intents/{name}", response_model=IntentOut)
def put_intent(name: str, body: IntentIn, container: ContainerDep, scope: ScopeDep) -> IntentOut:
    """Create or replace an intent; the next message is matched against it, no restart needed."""
    scope.require_configure()
    examples = [e.strip() for e in body.examples if e.strip()]
    if not examples:
        raise HTTPException(status_code=422, detail="examples: at least one non-empty example is needed")
    if len(name) > 64 or not name.replace("_", "").replace("-", "").isalnum():
        raise HTTPException(status_code=422, detail="name: letters, digits, '_' or '-', at most 64")
    with transaction(container.sessions) as session:
        if body.department is not None:
            known = session.scalar(
                select(func.count(Department.id)).where(
                    Department.org_id == scope.org_id, Department.key == body.department
                )
            )
            if not known:
                raise HTTPException(status_code=422, detail=f"department: no department '{body.department}'")
        row = session.scalars(
            select(Intent).where(Intent.org_id == scope.org_id, Intent.name == name)
        ).first()
        if row is None:
            row = Intent(org_id=scope.org_id, name=name)
            session.add(row)
        row.examples = examples
        row.department_key = body.department
        row.updated_at = utcnow()
    container.triage.invalidate(scope.org_id)
    return IntentOut(name=name, department=body.department, examples=examples)


@router.delete("/intents/{name}", status_code=204)
def delete_intent(name: str, container: ContainerDep, scope: ScopeDep) -> None:
    scope.require_configure()
    with transaction(container.sessions) as session:
        row = session.scalars(
            select(Intent).where(Intent.org_id == scope.org_id, Intent.name == name)
        ).first()
        if row is None:
            raise HTTPException(status_code=404, detail=f"no intent '{name}'")
        session.delete(row)
    container.triage.invalidate(scope.org_id)
