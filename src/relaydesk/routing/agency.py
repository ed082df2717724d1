"""Handing a conversation from an agency to an in-house team when it leaves the agency's remit.

The contract's `intents` list is what the agency may answer and its `languages` list the
languages it answers in; anything else, and anything high or critical, goes in-house with a
note, so the agency never sits on a complaint, a crisis or a message nobody there may take.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.core.enums import BUILTIN_INTENT_DEPARTMENTS
from relaydesk.core.events import ConversationTransferred, publish_on_commit
from relaydesk.models import Conversation, Message, TimelineEvent
from relaydesk.orgs.snapshot import DepartmentInfo, OrgSnapshot
from relaydesk.routing.agents import TEAM_TAG
from relaydesk.triage.base import TriageResult


def outside_remit(contract: dict[str, Any], triage: TriageResult, language: str | None) -> str | None:
    """Why the agency under `contract` may not keep this conversation; None when it may."""
    remit = contract.get("intents")
    languages = contract.get("languages")
    if triage.urgency in ("high", "critical"):
        return f"urgency {triage.urgency}"
    if triage.crisis:
        return "crisis signal"
    if isinstance(remit, list) and remit and triage.intent is not None and triage.intent not in remit:
        return f"intent {triage.intent} is outside the agency's remit ({', '.join(map(str, remit))})"
    if (
        isinstance(remit, list)
        and remit
        and triage.intent is None
        and triage.complaint
        and "complaint" not in remit
    ):
        # an organisation whose intents do not name complaints: the signal still says what it is
        return f"a complaint (signal) is outside the agency's remit ({', '.join(map(str, remit))})"
    if (
        isinstance(languages, list)
        and languages
        and language
        and language != "und"
        and language not in languages
        and language.split("-")[0] not in languages
    ):
        return f"language {language} is outside the agency's contract ({', '.join(map(str, languages))})"
    return None


def in_house_target(snap: OrgSnapshot, triage: TriageResult) -> DepartmentInfo | None:
    """The in-house department for the triaged need, else the default, else any in-house one."""
    known = {d.key: d for d in snap.departments if d.agency_id is None}
    wanted = triage.department or BUILTIN_INTENT_DEPARTMENTS.get(triage.intent or "")
    target = known.get(wanted or "")
    if target is not None:
        return target
    default = snap.default_department
    return default if default is not None and default.agency_id is None else next(iter(known.values()), None)


def hand_off(
    session: Session,
    snap: OrgSnapshot,
    conversation: Conversation,
    message: Message,
    triage: TriageResult,
    under_alert: Callable[[], bool] | None = None,
) -> str | None:
    """Move an agency's conversation in-house when it is outside the remit, or when a crisis alert
    is open over its place (`under_alert`, asked only for an agency's conversation): the new
    department's key."""
    if conversation.department_id is None:
        return None
    dept = snap.department(conversation.department_id)
    if dept is None or dept.agency_id is None:
        return None
    agency = snap.agencies.get(dept.agency_id)
    why = outside_remit(dict(agency.contract) if agency else {}, triage, conversation.language)
    if why is None and under_alert is not None and under_alert():
        why = CRISIS_HOLD
    if why is None:
        return None
    target = in_house_target(snap, triage)
    if target is None:
        return None
    move(session, snap, conversation, dept, target, why, message.id)
    return target.key


# A conversation handed over without a new message: its department comes from its stored intent.
_NO_READING = TriageResult(lang="und", sentiment="neutral", intent=None, stage="unknown", urgency="normal")
# Why an agency lets go of a conversation while an alert is open (the playbook: the agency holds).
CRISIS_HOLD = "a crisis alert is open here: the agency holds and hands over to the in-house team"


def hand_over_for_crisis(session: Session, snap: OrgSnapshot, conversations: Sequence[Conversation]) -> int:
    """An alert opened: the agencies' open conversations at its places go in-house (each to the
    team its reading asks for). How many moved."""
    moved = 0
    for conversation in conversations:
        dept = snap.department(conversation.department_id) if conversation.department_id else None
        if dept is None or dept.agency_id is None:
            continue
        wanted = BUILTIN_INTENT_DEPARTMENTS.get(conversation.intent or "")
        known = {d.key: d for d in snap.departments if d.agency_id is None}
        target = known.get(wanted or "") or in_house_target(snap, _NO_READING)
        if target is None:
            continue
        move(session, snap, conversation, dept, target, CRISIS_HOLD, None)
        moved += 1
    return moved


def move(
    session: Session,
    snap: OrgSnapshot,
    conversation: Conversation,
    dept: DepartmentInfo,
    target: DepartmentInfo,
    why: str,
    message_id: int | None,
) -> None:
    """The conversation leaves the agency's department for `target`, with a note saying why."""
    agency = snap.agencies.get(dept.agency_id) if dept.agency_id is not None else None
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
            message_id=message_id,
            kind="transfer",
            reason=f"agency hand-off: {dept.key} -> {target.key} because {why}",
            data={"from": dept.key, "to": target.key, "automatic": True},
        )
    )
    publish_on_commit(
        session,
        ConversationTransferred(
            org_id=conversation.org_id,
            conversation_id=conversation.id,
            from_department_id=dept.id,
            to_department_id=target.id,
        ),
    )
