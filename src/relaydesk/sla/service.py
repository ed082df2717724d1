"""SLA clocks on conversations: due times from the policy and the location's business hours.

`next_response_due` is the response currently owed to the customer (the first response
included); it is None while nothing is owed (answered) or while the clocks are paused.

Pending on the customer pauses the clocks rather than stopping them: `pause` moves the owed
response's due time aside (`sla_paused_next_due`) and notes when; `resume` puts it back pushed
by the business time that was left at the pause (`BusinessCalendar.resume_due`), and pushes the
first-response and resolution targets the same way, so time spent waiting on the customer never
counts against the team.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from relaydesk.core import metrics
from relaydesk.core.enums import ConversationStatus
from relaydesk.core.events import SlaBreach, SlaWarning, publish_on_commit
from relaydesk.core.timeutil import as_utc
from relaydesk.models import Agency, Conversation, Message, SlaPolicy, SlaRecord, TimelineEvent
from relaydesk.notifications import service as notifications
from relaydesk.orgs.snapshot import OrgSnapshots
from relaydesk.sla import repository
from relaydesk.sla.clock import BusinessCalendar
from relaydesk.sla.policies import choose_policy
from relaydesk.sla.timers import ClockAction, ClockState, due_actions, raised_priority

log = logging.getLogger(__name__)

DEFAULT_WARN_MINUTES = 15
WARN_BEFORE = timedelta(minutes=DEFAULT_WARN_MINUTES)


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
        warn_before_minutes=base.warn_before_minutes if base else DEFAULT_WARN_MINUTES,
    )


def warn_lead(policy: SlaPolicy | None) -> timedelta:
    """How long before a due time the policy warns (the default when there is no policy)."""
    if policy is None or policy.warn_before_minutes is None:
        return WARN_BEFORE
    return timedelta(minutes=max(0, policy.warn_before_minutes))


def count_actions(actions: list[ClockAction]) -> None:
    """Count raised warnings and breaches in /metrics; call it once their transaction committed
    (a rolled-back tick raises them again on the next one, and they must not count twice)."""
    warnings = sum(1 for action in actions if action.kind == "warning")
    if warnings:
        metrics.SLA_WARNINGS.inc(warnings)
    if len(actions) > warnings:
        metrics.SLA_BREACHES.inc(len(actions) - warnings)


class SlaService:
    def __init__(self, snapshots: OrgSnapshots | None = None) -> None:
        # Policies and business hours are read once per organisation until its stamp changes.
        self.snapshots = snapshots or OrgSnapshots()

    def policy(self, session: Session, conversation: Conversation) -> SlaPolicy | None:
        snap = self.snapshots.get(session, conversation.org_id)
        dept = snap.department(conversation.department_id) if conversation.department_id else None
        chosen = choose_policy(
            snap.policies, dept.key if dept else None, conversation.priority or "normal", conversation.network
        )
        agency = snap.agencies.get(dept.agency_id) if dept is not None and dept.agency_id else None
        if agency is None:
            return chosen
        return contract_policy(agency.as_model(), chosen)

    def location_calendar(self, session: Session, conversation: Conversation) -> BusinessCalendar:
        """The open hours of the conversation's location, whatever any policy says."""
        return self._calendar(session, conversation, None)

    def calendar(self, session: Session, conversation: Conversation, policy: SlaPolicy) -> BusinessCalendar:
        if policy.around_the_clock:
            return BusinessCalendar.always_open()
        return self._calendar(session, conversation, policy.business_hours_key)

    def _calendar(
        self, session: Session, conversation: Conversation, business_hours_key: str | None
    ) -> BusinessCalendar:
        snap = self.snapshots.get(session, conversation.org_id)
        key = (conversation.location_id, business_hours_key)
        known = snap.calendar(key)
        if known is not None:
            return known
        location = snap.location_info(conversation.location_id)
        weekly = location.weekly
        holidays = list(location.holidays)
        if business_hours_key:
            hours = snap.hours.get(business_hours_key)
            if hours is not None:
                weekly, holidays = dict(hours[0]), list(hours[1])
        calendar = BusinessCalendar.always_open()
        if weekly:
            try:
                calendar = BusinessCalendar.from_config(weekly, holidays, location.timezone)
            except ValueError as exc:
                log.warning("business hours of location %s unusable (%s); using 24/7", location.key, exc)
        snap.remember_calendar(key, calendar)
        return calendar

    def on_inbound(self, session: Session, conversation: Conversation, message: Message) -> None:
        """A customer message: resume paused clocks, start the first- or next-response clock if none runs."""
        if conversation.sla_paused_at is not None and conversation.status != ConversationStatus.PENDING.value:
            # The customer answered while we waited on them: the clocks go on from their message.
            paused = as_utc(conversation.sla_paused_at)
            at = as_utc(message.sent_at) or paused
            assert paused is not None and at is not None
            self.resume(session, conversation, max(paused, at), "the customer answered")
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
                data={
                    "target": target,
                    "policy": policy.name,
                    "due": due.isoformat() if due else None,
                    "clock": "always" if policy.around_the_clock else "business",
                },
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
            conversation.first_response_business_seconds = self._business_seconds_to(
                session, conversation, at
            )
        self.stop_clock(conversation)
        return records

    def _business_seconds_to(self, session: Session, conversation: Conversation, at: datetime) -> int | None:
        """Open time of the location between the customer's first message and `at`."""
        first = repository.first_inbound_at(session, conversation.id)
        arrived = as_utc(first)
        if arrived is None:
            return None
        try:
            seconds = self.location_calendar(session, conversation).business_seconds_between(arrived, at)
        except ValueError as exc:  # a schedule with no opening in the search horizon
            log.warning(
                "first response of conversation %s not counted in business hours: %s", conversation.id, exc
            )
            return None
        return int(seconds)

    def stop_clock(self, conversation: Conversation) -> None:
        conversation.next_response_due = None
        conversation.awaiting_since = None
        conversation.sla_warned_at = None
        conversation.sla_breached_at = None
        conversation.sla_paused_at = None
        conversation.sla_paused_next_due = None

    def pause(self, session: Session, conversation: Conversation, at: datetime) -> None:
        """Pending on the customer: the clocks stand still, keeping the business time they had left."""
        if conversation.sla_paused_at is not None:
            return  # already paused: the first pause is the one that counts
        conversation.sla_paused_at = at
        conversation.sla_paused_next_due = conversation.next_response_due
        conversation.next_response_due = None

    def resume(self, session: Session, conversation: Conversation, at: datetime, why: str) -> None:
        """Leaving pending: every target moves on by the business time it had left at the pause."""
        paused = as_utc(conversation.sla_paused_at)
        if paused is None:
            return
        at = max(as_utc(at) or paused, paused)
        policy = self.policy(session, conversation)
        calendar = (
            self.calendar(session, conversation, policy)
            if policy is not None
            else self.location_calendar(session, conversation)
        )
        owed = as_utc(conversation.sla_paused_next_due)
        moved: dict[str, str] = {}
        try:
            if owed is not None:
                conversation.next_response_due = calendar.resume_due(owed, paused, at)
                moved["next_response"] = conversation.next_response_due.isoformat()
                if as_utc(conversation.next_response_due) != owed:
                    # A later due time deserves its own warning.
                    conversation.sla_warned_at = None
            first = as_utc(conversation.first_response_due)
            if conversation.first_response_at is None and first is not None:
                conversation.first_response_due = calendar.resume_due(first, paused, at)
                moved["first_response"] = conversation.first_response_due.isoformat()
            resolution = as_utc(conversation.resolution_due)
            if resolution is not None:
                conversation.resolution_due = calendar.resume_due(resolution, paused, at)
                moved["resolution"] = conversation.resolution_due.isoformat()
        except ValueError as exc:
            # No opening within the horizon: keep the targets where they were rather than fail.
            log.warning("SLA of conversation %s not resumed: %s", conversation.id, exc)
            conversation.next_response_due = owed
        conversation.sla_paused_at = None
        conversation.sla_paused_next_due = None
        minutes = int((at - paused).total_seconds() // 60)
        session.add(
            TimelineEvent(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                kind="sla",
                reason=f"SLA clock resumed after {minutes} min pending ({why})"
                + (
                    "; " + ", ".join(f"{k.replace('_', ' ')} due {v}" for k, v in moved.items())
                    if moved
                    else ""
                ),
                data={"paused_at": paused.isoformat(), "resumed_at": at.isoformat(), "due": moved},
            )
        )

    def tick(
        self,
        session: Session,
        now: datetime,
        warn_before: timedelta = WARN_BEFORE,
        enough: Callable[[], bool] = lambda: False,
    ) -> list[ClockAction]:
        """Warn before a breach and escalate on it (raise priority); each once per owed response.

        Each clock is warned as far ahead as its policy's `warn_before_minutes` says (`warn_before`
        when it has no policy); the warning goes to the assignee, or to the department's managers
        while nobody is assigned. A breach notifies both and raises the priority.

        `enough`: asked after each action; once it says so the rest are left for the next call
        (returned actions are the ones taken; a taken one is never due again).
        """
        longest = repository.longest_warning_minutes(session)
        horizon = max(warn_before, timedelta(minutes=int(longest or 0)))
        rows = repository.clocks_due_by(session, now + horizon, now)
        by_id = {c.id: c for c in rows}
        leads: dict[tuple[int, int | None, str, str], timedelta] = {}

        def lead(c: Conversation) -> timedelta:
            key = (c.org_id, c.department_id, c.priority or "normal", c.network)
            if key not in leads:
                policy = self.policy(session, c)
                leads[key] = warn_lead(policy) if policy is not None else warn_before
            return leads[key]

        clocks = [
            ClockState(
                c.id,
                as_utc(c.next_response_due),
                c.sla_warned_at is not None,
                c.sla_breached_at is not None,
                None if c.sla_warned_at is not None else lead(c),
            )
            for c in rows
        ]
        actions = due_actions(clocks, now, warn_before)
        for taken, action in enumerate(actions):
            if taken and enough():
                return actions[:taken]
            conversation = by_id[action.conversation_id]
            target = "first response" if conversation.first_response_at is None else "next response"
            due = as_utc(conversation.next_response_due)
            if action.kind == "warning":
                conversation.sla_warned_at = now
                reason = f"SLA warning: {target} due {due.isoformat() if due else '-'}"
                recipients = notifications.warning_recipients(session, conversation)
                publish_on_commit(
                    session,
                    SlaWarning(
                        org_id=conversation.org_id,
                        conversation_id=conversation.id,
                        target=target,
                        reason=reason,
                        user_ids=recipients,
                    ),
                )
                data: dict[str, object] = {"target": target, "notified": recipients}
            else:
                conversation.sla_warned_at = conversation.sla_warned_at or now
                conversation.sla_breached_at = now
                before = conversation.priority
                conversation.priority = raised_priority(before)
                reason = f"SLA breached: {target} was due {due.isoformat() if due else '-'}; priority {before} -> {conversation.priority}"
                data = {"target": target, "priority_from": before, "priority_to": conversation.priority}
                publish_on_commit(
                    session,
                    SlaBreach(
                        org_id=conversation.org_id,
                        conversation_id=conversation.id,
                        target=target,
                        reason=reason,
                    ),
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
        # Resolved while pending: the resolution target is judged without the time spent waiting.
        self.resume(session, conversation, at, "resolved")
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
