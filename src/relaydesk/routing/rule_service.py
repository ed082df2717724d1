"""Saving and removing an organisation's routing rules, one rule at a time.

The whole rule list can also be exported and applied as YAML (config/). `RuleService` is
re-exported by `routing.service`; it lives here so that module stays about routing decisions.
Who may change which rule is `rule_access.py`; every change is written to the audit log.
"""

from __future__ import annotations

import builtins
import re
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.scopes import Scope
from relaydesk.core.enums import BUILTIN_INTENTS
from relaydesk.core.errors import Forbidden, NotFound, Refused
from relaydesk.models import RoutingRule
from relaydesk.routing import repository
from relaydesk.routing.rule_access import RuleEditor, refusal
from relaydesk.routing.rules import explain, validate_rules
from relaydesk.routing.schemas import DryRunIn, RuleIn, RuleOut
from relaydesk.triage.base import TriageInput

_NAME = re.compile(r"[\w][\w .:+-]{0,127}", re.UNICODE)


def _out(row: RoutingRule, editable: bool) -> RuleOut:
    return RuleOut(
        name=row.name,
        position=row.position,
        when=dict(row.conditions or {}),
        then=dict(row.actions or {}),
        stop=row.stop,
        enabled=row.enabled,
        editable=editable,
    )


class RuleService:
    """Stateless; every method runs inside the caller's transaction."""

    def editor(self, session: Session, scope: Scope) -> RuleEditor:
        locations = (
            repository.location_keys_of(session, scope.org_id, scope.location_ids)
            if scope.location_ids is not None
            else None
        )
        departments = repository.department_keys_of(session, scope.org_id, scope.department_ids)
        return RuleEditor(role=scope.role, departments=departments, locations=locations)

    def list(self, session: Session, scope: Scope) -> list[RuleOut]:
        editor = self.editor(session, scope)
        return [
            _out(r, refusal(editor, r.conditions or {}, r.actions or {}) is None)
            for r in repository.rules(session, scope.org_id)
        ]

    def get(self, session: Session, scope: Scope, name: str) -> RuleOut:
        row = repository.rule_by_name(session, scope.org_id, name)
        if row is None:
            raise NotFound(f"no rule '{name}'")
        editor = self.editor(session, scope)
        return _out(row, refusal(editor, row.conditions or {}, row.actions or {}) is None)

    def exists(self, session: Session, scope: Scope, name: str) -> bool:
        return repository.rule_by_name(session, scope.org_id, name.strip()) is not None

    def _may_change(self, editor: RuleEditor, row: RoutingRule | None, body: RuleIn | None) -> None:
        versions: list[tuple[dict[str, Any], dict[str, Any]]] = []
        if row is not None:
            versions.append((row.conditions or {}, row.actions or {}))
        if body is not None:
            versions.append((body.when, body.then))
        for when, then in versions:
            reason = refusal(editor, when, then)
            if reason is not None:
                raise Forbidden(reason)

    def put(self, session: Session, scope: Scope, name: str, body: RuleIn, via: str = "api") -> RuleOut:
        """Create or replace a rule; one naming an unknown department, field or person is refused."""
        name = name.strip()
        if not _NAME.fullmatch(name):
            raise Refused("name: 1-128 letters, digits, spaces or . : + - _")
        editor = self.editor(session, scope)
        row = repository.rule_by_name(session, scope.org_id, name)
        self._may_change(editor, row, body)
        departments = repository.department_keys(session, scope.org_id)
        handles = repository.user_handles(session, scope.org_id)
        agencies = repository.agency_keys(session, scope.org_id)
        raw = [{"name": name, "when": body.when, "then": body.then, "stop": body.stop}]
        problems = validate_rules(raw, departments, agencies=agencies, handles=handles)
        if problems:
            raise Refused("; ".join(f"{p.field}: {p.message}" for p in problems))
        if body.position is not None and (row is None or body.position != row.position):
            if not editor.may_reorder:
                raise Forbidden("only owners and admins change the order of the rules")
        act_as(session, scope, via)
        if row is None:
            last = repository.last_rule_position(session, scope.org_id)
            row = RoutingRule(org_id=scope.org_id, name=name, position=(last or 0) + 1, enabled=True)
            session.add(row)
        if body.position is not None:
            row.position = body.position
        row.conditions = body.when
        row.actions = body.then
        row.stop = body.stop
        if body.enabled is not None:
            row.enabled = body.enabled
        session.flush()
        return _out(row, True)

    def set_enabled(
        self, session: Session, scope: Scope, name: str, enabled: bool, via: str = "api"
    ) -> RuleOut:
        row = repository.rule_by_name(session, scope.org_id, name)
        if row is None:
            raise NotFound(f"no rule '{name}'")
        self._may_change(self.editor(session, scope), row, None)
        act_as(session, scope, via)
        row.enabled = enabled
        session.flush()
        return _out(row, True)

    def move(
        self, session: Session, scope: Scope, name: str, steps: int, via: str = "api"
    ) -> builtins.list[RuleOut]:
        """Move a rule up (negative) or down the list; the positions are renumbered 1..n."""
        editor = self.editor(session, scope)
        if not editor.may_reorder:
            raise Forbidden("only owners and admins change the order of the rules")
        rows = repository.rules(session, scope.org_id)
        index = next((i for i, r in enumerate(rows) if r.name == name), None)
        if index is None:
            raise NotFound(f"no rule '{name}'")
        act_as(session, scope, via)
        row = rows.pop(index)
        rows.insert(max(0, min(len(rows), index + steps)), row)
        for position, each in enumerate(rows, start=1):
            if each.position != position:
                each.position = position
        session.flush()
        return [_out(r, True) for r in rows]

    def delete(self, session: Session, scope: Scope, name: str, via: str = "api") -> None:
        row = repository.rule_by_name(session, scope.org_id, name)
        if row is None:
            raise NotFound(f"no rule '{name}'")
        self._may_change(self.editor(session, scope), row, None)
        act_as(session, scope, via)
        session.delete(row)
        session.flush()

    def choices(self, session: Session, scope: Scope) -> dict[str, builtins.list[tuple[str, str]]]:
        """What the rule form offers: the organisation's departments, accounts, places, people..."""
        found = repository.rule_choices(session, scope.org_id)
        own = {name for name, _ in found["intents"]}
        found["intents"] = [(n, n) for n in BUILTIN_INTENTS if n not in own] + found["intents"]
        return found

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
