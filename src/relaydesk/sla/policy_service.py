"""SLA policies and agency contracts one at a time, for their settings page.

A policy or a contract is checked with the same models as relaydesk.yaml (config/schemas.py), so
what the page saves exports and applies back unchanged. Who may do what is `policy_access.py`;
every change goes through a session that names its actor, so the audit log records it. Routing
and the timers read the policies from the organisation snapshot, whose stamp every change moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.scopes import Scope
from relaydesk.config.schemas import AgencyContract, SlaPolicyConfig
from relaydesk.core.enums import BUILTIN_INTENTS
from relaydesk.core.errors import Forbidden, NotFound, Refused
from relaydesk.models import Agency, SlaPolicy
from relaydesk.sla import policy_repository as repository
from relaydesk.sla.policy_access import SlaAction, refusal

PAGE_SIZE = 50


@dataclass(frozen=True)
class PolicyPage:
    policies: list[SlaPolicy]
    agencies: list[Agency]
    offset: int
    more: bool
    editable: bool


@dataclass(frozen=True)
class SlaChoices:
    departments: list[str]
    business_hours: list[str]
    intents: list[str]


def _refused(exc: ValidationError) -> Refused:
    """The first problem pydantic found, named by its field (the API's `field`)."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ())) or "body"
    return Refused(f"{field}: {first.get('msg', 'invalid')}", field=field)


def policy_values(policy: SlaPolicyConfig) -> dict[str, Any]:
    """The row's columns for a checked policy (what `config apply` writes for it too)."""
    return {
        "department_key": policy.department,
        "priority": policy.priority.value if policy.priority else None,
        "channel": policy.channel.value if policy.channel else None,
        "first_response_minutes": policy.first_response_minutes,
        "next_response_minutes": policy.next_response_minutes,
        "resolution_minutes": policy.resolution_minutes,
        "business_hours_key": policy.business_hours,
        "around_the_clock": policy.around_the_clock,
        "warn_before_minutes": policy.warn_before_minutes,
    }


class PolicyService:
    """Stateless; every method runs inside the caller's transaction."""

    def _require(self, scope: Scope, action: SlaAction) -> None:
        reason = refusal(scope.role, action)
        if reason is not None:
            raise Forbidden(reason)

    def may_edit(self, scope: Scope) -> bool:
        return refusal(scope.role, SlaAction.EDIT) is None

    def page(self, session: Session, scope: Scope, offset: int = 0) -> PolicyPage:
        self._require(scope, SlaAction.VIEW)
        offset = max(offset, 0)
        rows = repository.policies_page(session, scope.org_id, offset, PAGE_SIZE + 1)
        agencies = repository.agencies_page(session, scope.org_id, 0, PAGE_SIZE) if offset == 0 else []
        return PolicyPage(rows[:PAGE_SIZE], agencies, offset, len(rows) > PAGE_SIZE, self.may_edit(scope))

    def choices(self, session: Session, scope: Scope) -> SlaChoices:
        self._require(scope, SlaAction.VIEW)
        intents = repository.intent_names(session, scope.org_id)
        return SlaChoices(
            departments=repository.department_keys(session, scope.org_id),
            business_hours=repository.business_hours_keys(session, scope.org_id),
            intents=sorted(set(intents) | set(BUILTIN_INTENTS)),
        )

    def get(self, session: Session, scope: Scope, name: str) -> SlaPolicy:
        self._require(scope, SlaAction.VIEW)
        row = repository.policy_by_name(session, scope.org_id, name)
        if row is None:
            raise NotFound(f"no SLA policy '{name}'")
        return row

    def exists(self, session: Session, scope: Scope, name: str) -> bool:
        return repository.policy_by_name(session, scope.org_id, name.strip()) is not None

    def put(self, session: Session, scope: Scope, fields: dict[str, Any], via: str = "api") -> SlaPolicy:
        """Create or change the policy named in `fields` (the keys of a policy in relaydesk.yaml)."""
        self._require(scope, SlaAction.EDIT)
        try:
            policy = SlaPolicyConfig.model_validate(fields)
        except ValidationError as exc:
            raise _refused(exc) from None
        choices = self.choices(session, scope)
        if policy.department is not None and policy.department not in choices.departments:
            raise Refused(f"department: no department '{policy.department}'", field="department")
        if policy.business_hours is not None and policy.business_hours not in choices.business_hours:
            raise Refused(
                f"business_hours: no business hours '{policy.business_hours}'", field="business_hours"
            )
        values = policy_values(policy)
        same = repository.policy_covering(
            session, scope.org_id, values["department_key"], values["priority"], values["channel"]
        )
        if same is not None and same.name != policy.name:
            raise Refused(
                f"name: policy '{same.name}' already covers the same department, priority and channel",
                field="name",
            )
        act_as(session, scope, via)
        row = repository.policy_by_name(session, scope.org_id, policy.name)
        if row is None:
            row = SlaPolicy(org_id=scope.org_id, name=policy.name)
            session.add(row)
        for column, value in values.items():
            setattr(row, column, value)
        session.flush()
        return row

    def delete(self, session: Session, scope: Scope, name: str, via: str = "api") -> None:
        self._require(scope, SlaAction.EDIT)
        row = repository.policy_by_name(session, scope.org_id, name)
        if row is None:
            raise NotFound(f"no SLA policy '{name}'")
        act_as(session, scope, via)
        session.delete(row)
        session.flush()

    def agency(self, session: Session, scope: Scope, key: str) -> Agency:
        self._require(scope, SlaAction.VIEW)
        row = repository.agency_by_key(session, scope.org_id, key)
        if row is None:
            raise NotFound(f"no agency '{key}'")
        return row

    def put_contract(
        self, session: Session, scope: Scope, key: str, fields: dict[str, Any], via: str = "api"
    ) -> Agency:
        """Replace an agency's contract: its clock, the intents and languages it answers."""
        self._require(scope, SlaAction.EDIT)
        row = self.agency(session, scope, key)
        try:
            contract = AgencyContract.model_validate(fields)
        except ValidationError as exc:
            raise _refused(exc) from None
        known = set(self.choices(session, scope).intents)
        unknown = [i for i in contract.intents if i not in known]
        if unknown:
            raise Refused(f"intents: no intent '{unknown[0]}'", field="intents")
        act_as(session, scope, via)
        row.contract = contract.model_dump(mode="json")
        session.flush()
        return row


policy_service = PolicyService()
