"""Routing and assignment as the pipeline runs them: rules + triage -> department -> agent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.core.enums import BUILTIN_INTENT_DEPARTMENTS, PRIORITY_ORDER, SPAM, Priority
from relaydesk.core.events import ConversationAssigned, publish_on_commit
from relaydesk.core.timeutil import utcnow
from relaydesk.models import ChannelAccount, Conversation, Message, TimelineEvent
from relaydesk.orgs.snapshot import OrgSnapshot, OrgSnapshots
from relaydesk.routing import agency, agent_load, agents, queue, repository
from relaydesk.routing.agents import STICKY_KEY as STICKY_KEY
from relaydesk.routing.agents import TEAM_TAG as TEAM_TAG
from relaydesk.routing.decision import apply_decision
from relaydesk.routing.rule_service import RuleService as RuleService
from relaydesk.routing.rules import RouteDecision, RouteInput, evaluate
from relaydesk.routing.stage import default_department_for_stage
from relaydesk.triage.base import TriageResult


def rule_dicts(session: Session, org_id: int) -> list[dict[str, Any]]:
    rows = repository.enabled_rules(session, org_id)
    return [
        {"name": r.name, "when": dict(r.conditions or {}), "then": dict(r.actions or {}), "stop": r.stop}
        for r in rows
    ]


class RoutingService:
    def __init__(self, snapshots: OrgSnapshots | None = None) -> None:
        # Configuration is read once per organisation and kept until its stamp changes.
        self.snapshots = snapshots or OrgSnapshots()

    def snapshot(self, session: Session, org_id: int) -> OrgSnapshot:
        return self.snapshots.get(session, org_id)

    def decide(
        self,
        session: Session,
        *,
        org_id: int,
        location_id: int,
        account: ChannelAccount,
        text: str,
        triage: TriageResult,
        contact: dict[str, Any],
        open_count: int,
        priority: str = Priority.NORMAL.value,
    ) -> RouteDecision:
        """What the rules would do with this message (no writes): used by routing and dry-runs."""
        snap = self.snapshot(session, org_id)
        default = snap.default_department
        location = snap.location_info(location_id)
        known = snap.known_departments
        rules = snap.rules
        intent_department = triage.department or BUILTIN_INTENT_DEPARTMENTS.get(triage.intent or "")
        overrides = snap.stage_departments
        stage_department = default_department_for_stage(triage.stage, triage.intent, overrides)
        inp = RouteInput(
            channel=account.network,
            account_key=account.key,
            location_keys=list(location.ancestor_keys),
            language=triage.lang,
            intent=triage.intent,
            # Fallbacks only name departments this organisation has.
            intent_department=intent_department if intent_department in known else None,
            sentiment=triage.sentiment,
            stage=triage.stage,
            urgency=triage.urgency,
            text=text,
            contact={**contact, "open_conversations": open_count},
            at=utcnow(),
            timezone=location.timezone,
            default_department=default.key if default else "",
            priority=priority,
            stage_department=stage_department if stage_department in known else None,
            spam=triage.spam,
            crisis=triage.crisis,
            complaint=triage.complaint,
        )
        return evaluate(rules, inp)

    def route(
        self,
        session: Session,
        conversation: Conversation,
        account: ChannelAccount,
        message: Message,
        triage: TriageResult,
        contact: dict[str, Any],
        open_count: int,
    ) -> RouteDecision:
        decision = self.decide(
            session,
            org_id=conversation.org_id,
            location_id=conversation.location_id,
            account=account,
            text=message.text,
            triage=triage,
            contact=contact,
            open_count=open_count,
            priority=conversation.priority or Priority.NORMAL.value,
        )
        apply_decision(
            session, self.snapshot(session, conversation.org_id), conversation, message, decision, utcnow()
        )
        return decision

    def agency_handoff(
        self,
        session: Session,
        conversation: Conversation,
        message: Message,
        triage: TriageResult,
        under_alert: Callable[[], bool] | None = None,
    ) -> str | None:
        """Hand an agency's conversation to an in-house team when it leaves the agency's remit or
        a crisis alert is open over its place."""
        if conversation.department_id is None:
            return None
        return agency.hand_off(
            session, self.snapshot(session, conversation.org_id), conversation, message, triage, under_alert
        )

    def hand_over_for_crisis(self, session: Session, org_id: int, place_path: str | None) -> int:
        """An alert opened at the place with this path (None: the whole organisation): the
        agencies' open conversations there go in-house. How many moved."""
        snap = self.snapshot(session, org_id)
        agency_departments = [d.id for d in snap.departments if d.agency_id is not None]
        if not agency_departments:
            return 0
        found = repository.open_conversations_in(session, org_id, agency_departments, place_path)
        return agency.hand_over_for_crisis(session, snap, found)

    def escalate_for_urgency(self, session: Session, conversation: Conversation, message: Message) -> None:
        current = Priority(conversation.priority or "normal")
        if PRIORITY_ORDER.index(current) < PRIORITY_ORDER.index(Priority.URGENT):
            conversation.priority = Priority.URGENT.value
            session.add(
                TimelineEvent(
                    org_id=conversation.org_id,
                    conversation_id=conversation.id,
                    message_id=message.id,
                    kind="priority",
                    reason=f"priority {current.value} -> urgent because the new message is critical",
                    data={"from": current.value, "to": Priority.URGENT.value, "critical": True},
                )
            )

    def assign(
        self, session: Session, conversation: Conversation, message: Message | None, quiet: bool = False
    ) -> int | None:
        """Least-loaded (or the department's strategy) eligible agent, else the department queue."""
        if conversation.department_id is None:
            return None
        snap = self.snapshot(session, conversation.org_id)
        dept = snap.department(conversation.department_id)
        if dept is None:
            return None
        now = utcnow()
        choice = agents.choose(session, snap, dept, conversation, now)
        previous = conversation.assignee_id
        if choice.agent_id is not None:
            conversation.assignee_id = choice.agent_id
            repository.stamp_assigned(session, choice.agent_id, now)
            agent_load.stamped(session, choice.agent_id, now)
        if choice.agent_id != previous or (choice.agent_id is None and not quiet):
            session.add(
                TimelineEvent(
                    org_id=conversation.org_id,
                    conversation_id=conversation.id,
                    message_id=message.id if message else None,
                    kind="assign",
                    reason=(
                        f"assigned to {agents.handle_of(snap, choice.agent_id)}: {choice.reason}"
                        if choice.agent_id
                        else f"waiting in the {dept.key} queue: {choice.reason}"
                    ),
                    data={
                        "agent_id": choice.agent_id,
                        "handle": snap.handles.get(choice.agent_id) if choice.agent_id else None,
                        "how": choice.how,
                        "queue": dept.key,
                        "considered": choice.considered[:50],
                    },
                )
            )
        if choice.agent_id is not None and choice.agent_id != previous:
            publish_on_commit(
                session,
                ConversationAssigned(
                    org_id=conversation.org_id, conversation_id=conversation.id, user_id=choice.agent_id
                ),
            )
        return choice.agent_id

    def drain(
        self,
        session: Session,
        org_id: int | None = None,
        limit: int = 200,
        enough: Callable[[], bool] = lambda: False,
    ) -> int:
        """Give waiting conversations to agents who freed up: urgent first, then the longest waiting.

        `enough`: asked after each assignment; once it says so the rest wait for the next call.
        """
        # A queue whose every agent is at capacity can take nothing: its conversations stay unread.
        room = queue.departments_with_room(session, lambda org: self.snapshot(session, org), org_id)
        if not room:
            return 0
        waiting = queue.by_urgency(repository.waiting_conversations(session, org_id, room, limit * 5))
        # All the agents this drain may assign, locked at once in id order: locking them one
        # department at a time could deadlock two drains that walk departments in other orders.
        department_ids = {c.department_id for c in waiting if c.department_id is not None}
        if department_ids and repository.is_postgres(session):
            repository.lock_agents(session, repository.department_member_ids(session, department_ids))
        assigned = 0
        for conversation in waiting[:limit]:
            # Manual and unknown departments were left out with the full ones (no room to take).
            if SPAM in (conversation.tags or []):
                continue
            if self.assign(session, conversation, None, quiet=True) is not None:
                assigned += 1
                session.flush()
                if enough():
                    break
        return assigned

    def department_key(self, session: Session, department_id: int | None) -> str | None:
        if department_id is None:
            return None
        dept = repository.department(session, department_id)
        return dept.key if dept else None

    # -- agents' load kept for a write transaction (agent_load.py) ----------------------------------

    def keep_agent_load(self, session: Session) -> None:
        agent_load.remember(session)

    def reread_agent_load(self, session: Session) -> None:
        agent_load.forget(session)

    def counted_for(self, conversation: Conversation) -> int | None:
        return agent_load.counted_for(conversation)

    def settle_agent_load(self, session: Session, before: int | None, conversation: Conversation) -> None:
        agent_load.settle(session, before, conversation)

    def department_key_in(self, session: Session, org_id: int, department_id: int | None) -> str | None:
        dept = self.snapshot(session, org_id).department(department_id)
        return dept.key if dept else None
