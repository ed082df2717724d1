"""Saving and removing an organisation's routing rules, one rule at a time.

The whole rule list can also be exported and applied as YAML (config/). `RuleService` is
re-exported by `routing.service`; it lives here so that module stays about routing decisions.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from relaydesk.core.errors import NotFound, Refused
from relaydesk.models import RoutingRule
from relaydesk.routing import repository
from relaydesk.routing.rules import validate_rules
from relaydesk.routing.schemas import RuleIn, RuleOut


class RuleService:
    """Stateless; every method runs inside the caller's transaction."""

    def list(self, session: Session, org_id: int) -> list[RuleOut]:
        return [
            RuleOut(name=r.name, position=r.position, when=r.conditions, then=r.actions, stop=r.stop)
            for r in repository.rules(session, org_id)
        ]

    def put(self, session: Session, org_id: int, name: str, body: RuleIn) -> RuleOut:
        """Create or replace a rule; one naming an unknown department, field or person is refused."""
        departments = repository.department_keys(session, org_id)
        handles = repository.user_handles(session, org_id)
        agencies = repository.agency_keys(session, org_id)
        raw = [{"name": name, "when": body.when, "then": body.then, "stop": body.stop}]
        problems = validate_rules(raw, departments, agencies=agencies, handles=handles)
        if problems:
            raise Refused("; ".join(f"{p.field}: {p.message}" for p in problems))
        row = repository.rule_by_name(session, org_id, name)
        if row is None:
            last = repository.last_rule_position(session, org_id)
            row = RoutingRule(org_id=org_id, name=name, position=(last or 0) + 1)
            session.add(row)
        if body.position is not None:
            row.position = body.position
        row.conditions = body.when
        row.actions = body.then
        row.stop = body.stop
        return RuleOut(name=name, position=row.position, when=body.when, then=body.then, stop=body.stop)

    def delete(self, session: Session, org_id: int, name: str) -> None:
        row = repository.rule_by_name(session, org_id, name)
        if row is None:
            raise NotFound(f"no rule '{name}'")
        session.delete(row)


rule_service = RuleService()
