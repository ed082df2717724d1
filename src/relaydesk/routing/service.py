"""Routing and assignment as the pipeline runs them: rules + triage -> department -> agent."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from relaydesk.core.enums import APPROVER_TAG, BUILTIN_INTENT_DEPARTMENTS, PRIORITY_ORDER, SPAM, Priority
from relaydesk.core.timeutil import utcnow
from relaydesk.models import (
    ChannelAccount,
    Conversation,
    Department,
    Message,
    TimelineEvent,
    UserDepartment,
)
from relaydesk.notifications import service as notifications
from relaydesk.notifications import webhooks
from relaydesk.orgs.service import OPEN_STATUSES, org_service
from relaydesk.orgs.shifts import is_on_shift
from relaydesk.orgs.snapshot import AgencyInfo, MemberInfo, OrgSnapshot, OrgSnapshots
from relaydesk.routing import repository
from relaydesk.routing.assignment import AgentCandidate, AssignmentChoice, AssignmentNeed, choose_agent
from relaydesk.routing.rule_service import RuleService as RuleService
from relaydesk.routing.rules import RouteDecision, RouteInput, evaluate
from relaydesk.routing.stage import default_department_for_stage
from relaydesk.triage.base import TriageResult

log = logging.getLogger(__name__)

# Where the pipeline leaves each conversation's sticky agent, read for its whole batch at once.
STICKY_KEY = "relaydesk.sticky_agents"
# Conversation tags that carry a routing decision into assignment and approval, like "skill:".
TEAM_TAG = "team:"


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
        snap = self.snapshot(session, conversation.org_id)
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
        conversation.department_id = dept.id if dept else None
        conversation.priority = decision.priority
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
        conversation.tags = tags
        if decision.assignee:
            user_id = snap.active_handles.get(decision.assignee)
            if user_id is not None:
                conversation.assignee_id = user_id
                repository.stamp_assigned(session, user_id, utcnow())
        for target in decision.notify:
            if target.startswith("webhook:"):
                webhooks.queue(
                    session,
                    target.removeprefix("webhook:"),
                    f"RelayDesk: conversation #{conversation.id} matched {', '.join(decision.matched_rules)}",
                )
        addresses = notifications.email_addresses(decision.notify)
        if addresses:
            notifications.email_people(
                session,
                conversation,
                [("", a) for a in addresses],
                "rule",
                f"conversation #{conversation.id} matched rule(s) {', '.join(decision.matched_rules)}: "
                + " ".join(message.text.split())[:160],
            )
        if decision.notify:
            notifications.notify_users(
                session,
                conversation,
                notifications.handles_to_ids(session, conversation.org_id, decision.notify),
                "rule",
                f"conversation #{conversation.id} matched rule(s) {', '.join(decision.matched_rules)}: "
                + " ".join(message.text.split())[:160],
            )
        reason = "; ".join(decision.reasons) or f"routed to {dept.key if dept else 'no department'}"
        session.add(
            TimelineEvent(
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
        )
        return decision

    def agency_handoff(
        self, session: Session, conversation: Conversation, message: Message, triage: TriageResult
    ) -> str | None:
        """Hand a conversation from the agency to an in-house team when it leaves the agency's remit.

        The contract's `intents` list is what the agency may answer and its `languages` list the
        languages it answers in; anything else, and anything high or critical, goes in-house with a
        note, so the agency never sits on a complaint, a crisis or a message nobody there may take.
        """
        if conversation.department_id is None:
            return None
        snap = self.snapshot(session, conversation.org_id)
        dept = snap.department(conversation.department_id)
        if dept is None or dept.agency_id is None:
            return None
        agency = snap.agencies.get(dept.agency_id)
        contract = dict(agency.contract) if agency else {}
        remit = contract.get("intents")
        languages = contract.get("languages")
        language = conversation.language
        why = None
        if triage.urgency in ("high", "critical"):
            why = f"urgency {triage.urgency}"
        elif triage.crisis:
            why = "crisis signal"
        elif isinstance(remit, list) and remit and triage.intent is not None and triage.intent not in remit:
            why = f"intent {triage.intent} is outside the agency's remit ({', '.join(map(str, remit))})"
        elif (
            isinstance(remit, list)
            and remit
            and triage.intent is None
            and triage.complaint
            and "complaint" not in remit
        ):
            # an organisation whose intents do not name complaints: the signal still says what it is
            why = f"a complaint (signal) is outside the agency's remit ({', '.join(map(str, remit))})"
        elif (
            isinstance(languages, list)
            and languages
            and language
            and language != "und"
            and language not in languages
            and language.split("-")[0] not in languages
        ):
            why = f"language {language} is outside the agency's contract ({', '.join(map(str, languages))})"
        if why is None:
            return None
        known = {d.key: d for d in snap.departments if d.agency_id is None}
        wanted = triage.department or BUILTIN_INTENT_DEPARTMENTS.get(triage.intent or "")
        target = known.get(wanted or "")
        if target is None:
            default = snap.default_department
            target = (
                default
                if default is not None and default.agency_id is None
                else next(iter(known.values()), None)
            )
        if target is None:
            return None
        conversation.department_id = target.id
        conversation.assignee_id = None
        conversation.transfer_count += 1
        # Out of the agency's hands: a team tag naming it would keep in-house agents from taking it.
        conversation.tags = [t for t in (conversation.tags or []) if not t.startswith(TEAM_TAG)]
        # The agency's contract clock stops being the measure: the in-house team is held to its own
        # policy, counted from when the customer started waiting (the SLA service restarts it next).
        conversation.next_response_due = None
        conversation.sla_warned_at = None
        conversation.sla_breached_at = None
        if conversation.first_response_at is None:
            conversation.first_response_due = None
        conversation.resolution_due = None
        note = f"Handed from {agency.name if agency else dept.key} to {target.name}: {why}."
        session.add(
            Message(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                account_id=conversation.account_id,
                direction="note",
                kind="note",
                text=note,
                attachments=[],
                raw={},
            )
        )
        session.add(
            TimelineEvent(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                message_id=message.id,
                kind="transfer",
                reason=f"agency hand-off: {dept.key} -> {target.key} because {why}",
                data={"from": dept.key, "to": target.key, "automatic": True},
            )
        )
        return target.key

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
        location_path = snap.location_info(conversation.location_id).path
        # An agent limited to a subtree of the org only gets conversations they can see; a viewer
        # may sit in a department to read it but can never answer, so is never given work.
        members = [
            m
            for m in snap.members.get(dept.id, [])
            if m.role != "viewer"
            and (m.location_id is None or location_path.startswith(snap.location_path(m.location_id)))
        ]
        team_keys = [t[len(TEAM_TAG) :] for t in (conversation.tags or []) if t.startswith(TEAM_TAG)]
        agencies = snap.agencies
        if team_keys:
            # A rule handed it to a team: only that team's people may take it.
            team_ids = {a.id for a in agencies.values() if a.key in team_keys}
            members = [m for m in members if m.agency_id in team_ids]
        # What changes all day is read live, never from the snapshot: presence, the last
        # assignment (round-robin) and, after the lock, the load each agent carries now.
        live = repository.live_agents(session, [m.id for m in members])
        members = [m for m in members if m.id in live]
        counts = org_service.open_counts(session, [m.id for m in members])
        # The count is of stored rows; this conversation is among them only as stored (the
        # pipeline processes without autoflush, so its pending changes are not in the count).
        counted_as = _stored_assignee(conversation)
        now = utcnow()
        sticky = self._last_agent(session, conversation)
        candidates = [
            AgentCandidate(
                id=m.id,
                handle=m.handle,
                languages=list(m.languages),
                skills=list(m.skills),
                online=live[m.id][0],
                on_shift=_on_shift(m, now, _agent_holidays(snap, m)),
                open_count=counts.get(m.id, 0) - (1 if counted_as == m.id else 0),
                max_concurrent=m.max_concurrent,
                last_assigned_at=live[m.id][1],
                active=True,
                contract_languages=_contract_languages(agencies.get(m.agency_id) if m.agency_id else None),
            )
            for m in members
        ]
        need = AssignmentNeed(
            language=conversation.language,
            required_skills=[t[len("skill:") :] for t in (conversation.tags or []) if t.startswith("skill:")],
            sticky_agent_id=sticky,
        )
        choice = choose_agent(candidates, need, dept.assignment)
        if team_keys and not members and choice.agent_id is None:
            choice = AssignmentChoice(
                None, f"no member of team {', '.join(team_keys)} in this department", choice.considered
            )
        previous = conversation.assignee_id
        if choice.agent_id is not None:
            conversation.assignee_id = choice.agent_id
            repository.stamp_assigned(session, choice.agent_id, now)
        if choice.agent_id != previous or (choice.agent_id is None and not quiet):
            session.add(
                TimelineEvent(
                    org_id=conversation.org_id,
                    conversation_id=conversation.id,
                    message_id=message.id if message else None,
                    kind="assign",
                    reason=(
                        f"assigned to {_handle(snap, choice.agent_id)}: {choice.reason}"
                        if choice.agent_id
                        else f"waiting in the {dept.key} queue: {choice.reason}"
                    ),
                    data={"agent_id": choice.agent_id, "considered": choice.considered[:50]},
                )
            )
        return choice.agent_id

    def drain(self, session: Session, org_id: int | None = None, limit: int = 200) -> int:
        """Give waiting conversations to agents who freed up: urgent first, then the longest waiting."""
        rank = {p.value: i for i, p in enumerate(reversed(PRIORITY_ORDER))}
        stmt = select(Conversation).where(
            Conversation.assignee_id.is_(None),
            Conversation.department_id.is_not(None),
            Conversation.status.in_(("new", "open", "reopened")),
        )
        if org_id is not None:
            stmt = stmt.where(Conversation.org_id == org_id)
        stmt = stmt.order_by(Conversation.created_at, Conversation.id).limit(limit * 5)
        if repository.is_postgres(session):
            # Concurrent drains (workers, a resolve and the timer) each take different waiting
            # conversations instead of handing the same one to two agents.
            stmt = stmt.with_for_update(skip_locked=True, key_share=True)
        waiting = sorted(
            session.scalars(stmt),
            key=lambda c: (rank.get(c.priority, 9), c.awaiting_since or c.created_at),
        )
        # All the agents this drain may assign, locked at once in id order: locking them one
        # department at a time could deadlock two drains that walk departments in other orders.
        department_ids = {c.department_id for c in waiting if c.department_id is not None}
        if department_ids and repository.is_postgres(session):
            repository.lock_agents(
                session,
                list(
                    session.scalars(
                        select(UserDepartment.user_id).where(UserDepartment.department_id.in_(department_ids))
                    )
                ),
            )
        assigned = 0
        for conversation in waiting[:limit]:
            if SPAM in (conversation.tags or []):
                continue
            dept = self.snapshot(session, conversation.org_id).department(conversation.department_id)
            if dept is None or dept.assignment == "manual":
                continue
            if self.assign(session, conversation, None, quiet=True) is not None:
                assigned += 1
                session.flush()
        return assigned

    def _last_agent(self, session: Session, conversation: Conversation) -> int | None:
        if conversation.assignee_id is not None:
            return conversation.assignee_id
        known: dict[int, int | None] | None = session.info.get(STICKY_KEY)
        if known is not None and conversation.id in known:
            # The pipeline read the contact's history for its whole batch (pipeline/service.py).
            return known[conversation.id]
        return session.execute(
            select(Conversation.assignee_id)
            .where(
                Conversation.contact_id == conversation.contact_id,
                Conversation.id != conversation.id,
                Conversation.assignee_id.is_not(None),
            )
            .order_by(Conversation.last_message_at.desc())
            .limit(1)
        ).scalar()

    def department_key(self, session: Session, department_id: int | None) -> str | None:
        if department_id is None:
            return None
        dept = session.get(Department, department_id)
        return dept.key if dept else None

    def department_key_in(self, session: Session, org_id: int, department_id: int | None) -> str | None:
        dept = self.snapshot(session, org_id).department(department_id)
        return dept.key if dept else None


def _stored_value(conversation: Conversation, key: str) -> Any:
    """The value as the database holds it now (before any pending change of this session)."""
    state = inspect(conversation)
    if state.pending or state.transient:
        return None
    history = state.attrs[key].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return None if history.added else getattr(conversation, key)


def _stored_assignee(conversation: Conversation) -> int | None:
    """Whose open-conversation count includes this conversation as stored, if anyone's."""
    if _stored_value(conversation, "status") not in OPEN_STATUSES:
        return None
    assignee = _stored_value(conversation, "assignee_id")
    return int(assignee) if assignee is not None else None


def _agent_holidays(snap: OrgSnapshot, member: MemberInfo) -> tuple[str, ...]:
    """Public holidays where an agent works: those of their location's business hours.

    An agent tied to a location (a franchisee, a region lead) keeps its holidays; an agent without
    one has none beyond their own time off, since the conversation's location says nothing about
    where the agent sits.
    """
    if member.location_id is None:
        return ()
    try:
        return snap.location_info(member.location_id).holidays
    except LookupError:
        return ()


def _contract_languages(agency: AgencyInfo | None) -> list[str]:
    """The languages an agency's contract lets its people answer in; empty = any."""
    languages = (agency.contract or {}).get("languages") if agency is not None else None
    return [str(x) for x in languages] if isinstance(languages, list) else []


def _on_shift(user: MemberInfo, now: Any, holidays: Sequence[str] = ()) -> bool:
    try:
        return is_on_shift(list(user.shifts), user.timezone, now, list(holidays))
    except ValueError:
        log.warning("agent %s has invalid shifts; treated as off shift", user.id)
        return False


def _handle(snap: OrgSnapshot, user_id: int | None) -> str:
    if user_id is None:
        return "nobody"
    handle = snap.handles.get(user_id)
    return f"@{handle}" if handle else f"user {user_id}"
