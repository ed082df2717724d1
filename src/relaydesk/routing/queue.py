"""Department queues as the periodic drain sees them: which can take work, and in what order."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from relaydesk.core.enums import PRIORITY_ORDER
from relaydesk.models import Conversation
from relaydesk.orgs.service import org_service
from relaydesk.orgs.snapshot import MemberInfo, OrgSnapshot
from relaydesk.routing import repository

_RANK = {p.value: i for i, p in enumerate(reversed(PRIORITY_ORDER))}


def departments_with_room(
    session: Session, snapshot: Callable[[int], OrgSnapshot], org_id: int | None
) -> set[int]:
    """The queues with someone waiting that an agent could still take work from.

    A department whose every member is at capacity (or that has no one who may answer, or is
    pulled from by hand) can assign nothing this drain: assignment would turn each of its
    conversations down (`assignment.ineligibility`), so they are not loaded at all. The load is
    read without a lock; a queue found to have room is judged again under the lock at assignment.
    """
    snapshots: dict[int, OrgSnapshot] = {}
    members: dict[int, list[MemberInfo]] = {}
    for org, department_id in repository.waiting_departments(session, org_id):
        if org not in snapshots:
            snapshots[org] = snapshot(org)
        dept = snapshots[org].department(department_id)
        if dept is None or dept.assignment == "manual":
            continue
        members[department_id] = [
            m for m in snapshots[org].members.get(department_id, []) if m.role != "viewer"
        ]
    agents = sorted({m.id for people in members.values() for m in people})
    counts = org_service.open_counts(session, agents) if agents else {}
    return {
        department_id
        for department_id, people in members.items()
        if any(counts.get(m.id, 0) < m.max_concurrent for m in people)
    }


def by_urgency(waiting: Iterable[Conversation]) -> list[Conversation]:
    """Urgent first, then the longest waiting."""
    return sorted(waiting, key=lambda c: (_RANK.get(c.priority, 9), c.awaiting_since or c.created_at))
