"""What a caller may see, expressed as SQL conditions: reads are scoped in the query itself."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, true

from relaydesk.auth.repository import location_subtree
from relaydesk.core.enums import ORG_WIDE_ROLES, Role

# Re-exported for the modules other helpers are splitting now; new code imports core.errors.
from relaydesk.core.errors import Forbidden
from relaydesk.models import Conversation


@dataclass(frozen=True)
class Scope:
    org_id: int
    user_id: int
    role: Role
    department_ids: frozenset[int]
    location_path: str | None = None  # a subtree of the org the caller is limited to
    # The ids of that subtree, read when the scope is built. As a list of constants in the query
    # the planner can see how few conversations a one-shop person has; behind a LIKE subquery
    # SQLite walked the whole org's activity index (`relaydesk bench scope`: ~100 ms -> ~1 ms).
    location_ids: frozenset[int] | None = None
    # The channel accounts the person is limited to (None: every account the rest allows): a
    # recruiter who answers only the careers page, an agency kept off the CEO's page.
    account_ids: frozenset[int] | None = None

    @property
    def org_wide(self) -> bool:
        return self.role in ORG_WIDE_ROLES

    @property
    def can_write(self) -> bool:
        return self.role != Role.VIEWER

    @property
    def can_configure(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    @property
    def can_manage(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN, Role.MANAGER)

    def sees_account(self, account_id: int) -> bool:
        return self.account_ids is None or account_id in self.account_ids

    def sees_department(self, department_id: int | None) -> bool:
        return self.org_wide or (department_id is not None and department_id in self.department_ids)

    def conversation_filter(self) -> ColumnElement[bool]:
        """Conversations of the caller's org, departments (or assigned to them), location subtree and
        accounts."""
        conditions: list[ColumnElement[bool]] = [Conversation.org_id == self.org_id]
        if not self.org_wide:
            by_department: ColumnElement[bool] = (
                Conversation.department_id.in_(sorted(self.department_ids))
                if self.department_ids
                else false()
            )
            conditions.append(or_(by_department, Conversation.assignee_id == self.user_id))
        if self.location_ids is not None:
            conditions.append(Conversation.location_id.in_(sorted(self.location_ids)))
        elif self.location_path:
            conditions.append(Conversation.location_id.in_(location_subtree(self.org_id, self.location_path)))
        if self.account_ids is not None:
            conditions.append(Conversation.account_id.in_(sorted(self.account_ids)))
        return and_(true(), *conditions)

    def require_write(self) -> None:
        if not self.can_write:
            raise Forbidden("viewers can read conversations but not change them")

    def require_configure(self) -> None:
        if not self.can_configure:
            raise Forbidden("only owners and admins can change the organisation's configuration")
