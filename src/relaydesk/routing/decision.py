"""Applying a routing decision to a conversation: department (or the one a team staffs),
priority, tags, a rule's assignee and notify targets, and the timeline entry that says why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from relaydesk.core.enums import APPROVER_TAG
from relaydesk.core.events import (
    ConversationAssigned,
    ConversationTransferred,
    RoutingNotifyRequested,
    publish_on_commit,
)
from relaydesk.models import Conversation, Message, TimelineEvent
from relaydesk.orgs.snapshot import AgencyInfo, DepartmentInfo, OrgSnapshot
from relaydesk.routing import repository
from relaydesk.routing.agents import TEAM_TAG
from relaydesk.routing.rules import RouteDecision


def apply_decision(
    session: Session,
    snap: OrgSnapshot,
    conversation: Conversation,
    message: Message,
    decision: RouteDecision,
    now: datetime,
) -> None:
    dept = snap.department_by_key(decision.department or "")
    team: AgencyInfo | None = snap.agency_by_key(decision.team) if decision.team else None
    if team is not None and not decision.department_source.startswith("rule:"):
        # A rule named the team but no department: the team works in the department it staffs.
        staffed = snap.staffed_by(team.id)
        if staffed is not None:
            dept = staffed
            decision.reasons.append(f"routed to {staffed.key}: the department team {team.key} staffs")
    if dept is None:
        dept = snap.default_department
    _move(session, conversation, dept.id if dept else None)
    conversation.priority = decision.priority
    conversation.tags = _tags(conversation, decision, team)
    if decision.assignee:
        user_id = snap.active_handles.get(decision.assignee)
        if user_id is not None:
            previous = conversation.assignee_id
            conversation.assignee_id = user_id
            repository.stamp_assigned(session, user_id, now)
            if user_id != previous:
                publish_on_commit(
                    session,
                    ConversationAssigned(
                        org_id=conversation.org_id, conversation_id=conversation.id, user_id=user_id
                    ),
                )
    if decision.notify:
        # The notifications slice tells the targets, in this transaction (see its listeners).
        publish_on_commit(
            session,
            RoutingNotifyRequested(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                message_id=message.id,
                targets=list(decision.notify),
                matched_rules=list(decision.matched_rules),
            ),
        )
    session.add(_route_event(conversation, message, decision, dept, team))


def _move(session: Session, conversation: Conversation, department_id: int | None) -> None:
    previous = conversation.department_id
    conversation.department_id = department_id
    if previous is not None and previous != department_id:
        publish_on_commit(
            session,
            ConversationTransferred(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                from_department_id=previous,
                to_department_id=department_id,
            ),
        )


def _tags(conversation: Conversation, decision: RouteDecision, team: AgencyInfo | None) -> list[str]:
    tags = list(conversation.tags or [])
    wanted = list(decision.tags)
    if team is not None:
        # Assignment reads it, as it reads "skill:" tags: only the team's people are candidates.
        tags = [t for t in tags if not t.startswith(TEAM_TAG)]
        wanted.append(f"{TEAM_TAG}{team.key}")
    if decision.require_approval:
        wanted.append("needs-approval")
        wanted.extend(f"{APPROVER_TAG}{a}" for a in decision.approvers)
    for tag in wanted:
        if tag not in tags:
            tags.append(tag)
    return tags


def _route_event(
    conversation: Conversation,
    message: Message,
    decision: RouteDecision,
    dept: DepartmentInfo | None,
    team: AgencyInfo | None,
) -> TimelineEvent:
    reason = "; ".join(decision.reasons) or f"routed to {dept.key if dept else 'no department'}"
    return TimelineEvent(
        org_id=conversation.org_id,
        conversation_id=conversation.id,
        message_id=message.id,
        kind="route",
        reason=reason,
        data={
            "department": dept.key if dept else None,
            "priority": decision.priority,
            "tags": decision.tags,
            "matched_rules": decision.matched_rules,
            "require_approval": decision.require_approval,
            "approvers": decision.approvers,
            "team": team.key if team is not None else None,
            "notify": decision.notify,
        },
    )
