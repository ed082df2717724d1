"""Saving and removing an organisation's routing rules, one rule at a time.

The whole rule list can also be exported and applied as YAML (config/). `RuleService` is
re-exported by `routing.service`; it lives here so that module stays about routing decisions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from relaydesk.core.errors import NotFound, Refused
from relaydesk.models import RoutingRule
from relaydesk.routing import repository
from relaydesk.routing.rules import explain, validate_rules
from relaydesk.routing.schemas import DryRunIn, RuleIn, RuleOut
from relaydesk.triage.base import TriageInput


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

    def dry_run(self, session: Session, container: Any, org_id: int, body: DryRunIn) -> dict[str, Any]:
        """What this message would do (triage, routing decision, rule trace); nothing is stored."""
        account = repository.account_by_key(session, org_id, body.account)
        if account is None:
            raise NotFound(f"account: no account '{body.account}'")
        item = TriageInput(text=body.text, lang=body.lang, channel=account.network)
        result = container.triage.triage([item], container.triage.org_intents(session, org_id))[0]
        decision = container.pipeline.routing.decide(
            session,
            org_id=org_id,
            location_id=account.location_id,
            account=account,
            text=body.text,
            triage=result,
            contact=body.contact,
            open_count=body.open_conversations,
        )
        return {"triage": result.as_dict(), "decision": decision.as_dict(), "explanation": explain(decision)}


rule_service = RuleService()
