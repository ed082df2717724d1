"""Routing rules, edited one by one, and the dry-run: what would this message do, and why."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from relaydesk.db import transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.routing.rule_service import rule_service
from relaydesk.routing.schemas import DryRunIn, RuleIn, RuleOut

router = APIRouter(prefix="/api/v1/route", tags=["routing"])
# Rule editing kept the organisation tag and paths it had when it lived in orgs/.
rules_router = APIRouter(prefix="/api/v1", tags=["organisation"])


@router.post("/dry-run")
def route_dry_run(body: DryRunIn, container: ContainerDep, scope: ScopeDep) -> dict[str, Any]:
    with container.sessions() as session:
        return rule_service.dry_run(session, container, scope.org_id, body)


@rules_router.get("/rules", response_model=list[RuleOut])
def list_rules(container: ContainerDep, scope: ScopeDep) -> list[RuleOut]:
    with container.sessions() as session:
        return rule_service.list(session, scope)


@rules_router.put("/rules/{name}", response_model=RuleOut)
def put_rule(name: str, body: RuleIn, container: ContainerDep, scope: ScopeDep) -> RuleOut:
    """Create or replace a routing rule; a rule naming an unknown department or field is rejected.

    Owners and admins change any rule; a manager the rules that route to her own departments.
    """
    with transaction(container.sessions) as session:
        return rule_service.put(session, scope, name, body)


@rules_router.delete("/rules/{name}", status_code=204)
def delete_rule(name: str, container: ContainerDep, scope: ScopeDep) -> None:
    with transaction(container.sessions) as session:
        rule_service.delete(session, scope, name)


@rules_router.post("/rules/{name}/move", response_model=list[RuleOut])
def move_rule(name: str, container: ContainerDep, scope: ScopeDep, steps: int = -1) -> list[RuleOut]:
    """Move a rule up (`steps` < 0) or down the list; owners and admins only. Returns the new order."""
    with transaction(container.sessions) as session:
        return rule_service.move(session, scope, name, steps)
