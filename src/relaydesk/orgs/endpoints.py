"""Departments, people and intents: the configuration objects editable one by one.

Routing rules are edited through routing/endpoints.py.

The whole organisation can also be exported and applied as YAML (config/endpoints.py).
"""

from __future__ import annotations

from fastapi import APIRouter

from relaydesk.db import transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.orgs.intent_service import intent_service
from relaydesk.orgs.schemas import AgentOut, DepartmentOut, IntentIn, IntentOut, PresenceIn
from relaydesk.orgs.service import org_service

router = APIRouter(prefix="/api/v1", tags=["organisation"])


@router.get("/departments", response_model=list[DepartmentOut])
def list_departments(container: ContainerDep, scope: ScopeDep) -> list[DepartmentOut]:
    return org_service.department_list(container.sessions, scope)


@router.get("/agents", response_model=list[AgentOut])
def list_agents(container: ContainerDep, scope: ScopeDep) -> list[AgentOut]:
    return org_service.agent_list(container.sessions, scope)


@router.put("/me/presence", response_model=AgentOut)
def set_presence(body: PresenceIn, container: ContainerDep, scope: ScopeDep) -> AgentOut:
    """Agents go online/offline; only online agents receive new conversations."""
    return org_service.set_own_presence(container.sessions, scope, body.online)


@router.get("/intents", response_model=list[IntentOut])
def list_intents(container: ContainerDep, scope: ScopeDep) -> list[IntentOut]:
    return org_service.intent_list(container.sessions, scope)


@router.put("/intents/{name}", response_model=IntentOut)
def put_intent(name: str, body: IntentIn, container: ContainerDep, scope: ScopeDep) -> IntentOut:
    """Create or replace an intent; the next message is matched against it, no restart needed.
    Owners and admins change any; a manager of the whole organisation those of her departments."""
    with transaction(container.sessions) as session:
        intent = intent_service.put(session, scope, name, body, via="api")
    container.triage.invalidate(scope.org_id)
    return IntentOut(name=intent.name, department=intent.department, examples=intent.examples)


@router.delete("/intents/{name}", status_code=204)
def delete_intent(name: str, container: ContainerDep, scope: ScopeDep) -> None:
    with transaction(container.sessions) as session:
        intent_service.delete(session, scope, name, via="api")
    container.triage.invalidate(scope.org_id)
