"""SLA clocks on conversations: due times from the policy and the location's business hours.

`next_response_due` is the response currently owed to the customer (the first response
included); it is None while nothing is owed (answered, or pending on the customer).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.core.timeutil import as_utc
from relaydesk.models import Agency, Conversation, Department, Message, SlaPolicy, SlaRecord, TimelineEvent
from relaydesk.models.orgs import BusinessHours
from relaydesk.notifications import service as notifications
from relaydesk.notifications import webhooks
from relaydesk.orgs import repository as orgs
from relaydesk.sla.clock import BusinessCalendar
from relaydesk.sla.policies import choose_policy
from relaydesk.sla.timers import ClockAction, ClockState, due_actions, raised_priority

log = logging.getLogger(__name__)

WARN_BEFORE = timedelta(minutes=15)


def contract_policy(agency: Agency, base: SlaPolicy | None) -> SlaPolicy | None:
    """The agency's contract as the clock of its departments' conversations.

    What the brand bought from the agency (first response within N minutes, 24/7 or not) is the
    agreement the agency is measured by, whatever the in-house policies say; terms the contract
    leaves out (next response, resolution, business hours) come from the policy that would apply
    otherwise. The result is a transient policy, never stored.
    """
    contract = dict(agency.contract or {})
    first = contract.get("first_response_minutes")
    resolution = contract.get("resolution_minutes")
    if not isinstance(first, int) or isinstance(first, bool) or first <= 0:
        return base  # the contract sets no clock of its own
    return SlaPolicy(
        org_id=agency.org_id,
        name=f"{agency.key} contract",
        department_key=base.department_key if base else None,
        priority=None,
        channel=None,
        first_response_minutes=first,
        next_response_minutes=base.next_response_minutes if base else None,
        resolution_minutes=resolution
        if isinstance(resolution, int) and not isinstance(resolution, bool) and resolution > 0
        else (base.resolution_minutes if base else None),
        business_hours_key=base.business_hours_key if base else None,
        around_the_clock=bool(contract.get("around_the_clock")) or bool(base and base.around_the_clock),
    )


class SlaService:
    def policy(self, session: Session, conversation: Conversation) -> SlaPolicy | None:
        policies = list(
            session.scalars(
                select(SlaPolicy).where(SlaPolicy.org_id == conversation.org_id).order_by(SlaPolicy.id)
            )
        )
        dept = session.get(Department, conversation.department_id) if conversation.department_id else None
        chosen = choose_policy(
            policies, dept.key if dept else None, conversation.priority or "normal", conversation.network
        )
        agency = session.get(Agency, dept.agency_id) if dept is not None and dept.agency_id else None
        if agency is None:
            return chosen
        return contract_policy(agency, chosen)

    def calendar(self, session: Session, conversation: Conversation, policy: SlaPolicy) -> BusinessCalendar:
        if policy.around_the_clock:
            return BusinessCalendar.always_open()
        location = orgs.location_info(session, conversation.location_id)
        weekly = location.weekly
        holidays = list(location.holidays)
        if policy.business_hours_key:
            hours = session.scalars(
                select(BusinessHours).where(
                    BusinessHours.org_id == conversation.org_id,
                    BusinessHours.key == policy.business_hours_key,
                )
            ).first()
            if hours is not None:
                weekly, holidays = dict(hours.weekly), list(hours.holidays)
        if not weekly:
            return BusinessCalendar.always_open()
        try:
            return BusinessCalendar.from_config(weekly, holidays, location.timezone)
        except ValueError as exc:
            log.warning("business hours of location %s unusable (%s); using 24/7", location.key, exc)
            return BusinessCalendar.always_open()

    def on_inbound(self, session: Session, conversation: Conversation, message: Message) -> None:
        """A customer message: start the first-response or next-response clock if none runs."""
        policy = self.policy(session, conversation)
        if policy is None:
            return
        calendar = self.calendar(session, conversation, policy)
        start = as_utc(conversation.awaiting_since) or as_utc(message.sent_at)
        assert start is not None
        if conversation.first_response_at is None:
            if conversation.first_response_due is None:
                conversation.first_response_due = calendar.add_business_minutes(
                    start, policy.first_response_minutes
                )
                self._note(
                    session, conversation, message, "first_response", policy, conversation.first_response_due
                )
            conversation.next_response_due = conversation.first_response_due
        elif conversation.next_response_due is None and policy.next_response_minutes:
            conversation.next_response_due = calendar.add_business_minutes(
                start, policy.next_response_minutes
            )
            self._note(
                session, conversation, message, "next_response", policy, conversation.next_response_due
            )
        if conversation.resolution_due is None and policy.resolution_minutes:
            created = as_utc(conversation.created_at)
            assert created is not None
            conversation.resolution_due = calendar.add_business_minutes(created, policy.resolution_minutes)

    def _note(
        self,
        session: Session,
        conversation: Conversation,
        message: Message,
        target: str,
        policy: SlaPolicy,
        due: datetime | None,
    ) -> None:
        hours = "24/7" if policy.around_the_clock else "business hours"
        session.add(
            TimelineEvent(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                message_id=message.id,
                kind="sla",
                reason=f"{target.replace('_', ' ')} due {due.isoformat() if due else '-'} "
                f"by policy '{policy.name}' ({hours})",
                data={"target": target, "policy": policy.name, "due": due.isoformat() if due else None},
            )
        )

    def on_reply(self, session: Session, conversation: Conversation, at: datetime) -> list[SlaRecord]:
        """An agent answered: record the owed response as met or breached and stop its clock."""
        records: list[SlaRecord] = []
        due = as_utc(conversation.next_response_due)
        waited_from = as_utc(conversation.awaiting_since)
        if due is not None and waited_from is not None:
            target = "first_response" if conversation.first_response_at is None else "next_response"
            record = SlaRecord(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                department_id=conversation.department_id,
                target=target,
                due_at=due,
                done_at=at,
                met=at <= due,
                seconds=max(0, int((at - waited_from).total_seconds())),
            )
            session.add(record)
            records.append(record)
        if conversation.first_response_at is None:
            conversation.first_response_at = at
        self.stop_clock(conversation)
        return records

    def stop_clock(self, conversation: Conversation) -> None:
        conversation.next_response_due = None
        conversation.awaiting_since = None
        conversation.sla_warned_at = None
        conversation.sla_breached_at = None

    def tick(
        self, session: Session, now: datetime, warn_before: timedelta = WARN_BEFORE
    ) -> list[ClockAction]:
        """Warn before a breach and escalate on it (raise priority); each once per owed response."""
        stmt = select(Conversation).where(
            Conversation.next_response_due.is_not(None),
            Conversation.next_response_due <= now + warn_before,
            Conversation.status.in_(("new", "open", "reopened")),
            Conversation.sla_breached_at.is_(None),
        )
        if session.get_bind().dialect.name == "postgresql":
            # Several workers tick at once in scale-out mode: each clock is handled by one of them.
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(session.scalars(stmt))
        by_id = {c.id: c for c in rows}
        clocks = [
            ClockState(
                c.id, as_utc(c.next_response_due), c.sla_warned_at is not None, c.sla_breached_at is not None
            )
            for c in rows
        ]
        actions = due_actions(clocks, now, warn_before)
        for action in actions:
            conversation = by_id[action.conversation_id]
            target = "first response" if conversation.first_response_at is None else "next response"
            due = as_utc(conversation.next_response_due)
            if action.kind == "warning":
                conversation.sla_warned_at = now
                reason = f"SLA warning: {target} due {due.isoformat() if due else '-'}"
                data: dict[str, object] = {"target": target}
            else:
                conversation.sla_warned_at = conversation.sla_warned_at or now
                conversation.sla_breached_at = now
                before = conversation.priority
                conversation.priority = raised_priority(before)
                reason = f"SLA breached: {target} was due {due.isoformat() if due else '-'}; priority {before} -> {conversation.priority}"
                data = {"target": target, "priority_from": before, "priority_to": conversation.priority}
                notifications.notify_users(
                    session,
                    conversation,
                    notifications.escalation_recipients(session, conversation),
                    "escalation",
                    f"conversation #{conversation.id}: {reason}",
                )
                webhooks.queue(
                    session, "escalations", f"RelayDesk: conversation #{conversation.id}: {reason}"
                )
            session.add(
                TimelineEvent(
                    org_id=conversation.org_id,
                    conversation_id=conversation.id,
                    kind=f"sla_{action.kind}",
                    reason=reason,
                    data=data,
                )
            )
        return actions

    def on_resolve(self, session: Session, conversation: Conversation, at: datetime) -> SlaRecord | None:
        due = as_utc(conversation.resolution_due)
        created = as_utc(conversation.created_at)
        self.stop_clock(conversation)
        if due is None or created is None:
            return None
        record = SlaRecord(
            org_id=conversation.org_id,
            conversation_id=conversation.id,
            department_id=conversation.department_id,
            target="resolution",
            due_at=due,
            done_at=at,
            met=at <= due,
            seconds=max(0, int((at - created).total_seconds())),
        )
        session.add(record)
        return record
