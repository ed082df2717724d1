"""KPI reports from stored conversations, scoped to what the caller may see."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.analytics import repository
from relaydesk.analytics.kpis import ConversationFacts, KpiSummary, summarize
from relaydesk.analytics.staffing import StaffingHour, hourly_staffing
from relaydesk.auth.scopes import Scope
from relaydesk.core.enums import SPAM
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.db import reading

IN_HOUSE = "in-house"


@dataclass(frozen=True, slots=True)
class OverviewRow:
    """One conversation of the operator's overview, with where routing sent it and why."""

    conversation_id: int
    language: str | None
    intent: str | None
    sentiment: str | None
    urgency: str | None
    department: str | None  # its key
    assignee: str | None  # the agent's handle; None = in the queue
    route_reason: str | None  # the first route event's reason


class AnalyticsService:
    """Reports over stored conversations; every method reads in a session of its own."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def kpi_summary(
        self,
        scope: Scope,
        since: datetime | None = None,
        until: datetime | None = None,
        tz: str = "UTC",
    ) -> KpiSummary:
        with reading(self.sessions) as session:
            facts = _conversation_facts(session, scope, since, until)
        return summarize(facts, utcnow(), tz)

    def hourly_arrivals(self, scope: Scope, days: int, tz: str = "UTC") -> list[float]:
        """Average new conversations per hour of the day (local to `tz`) over the last `days` days."""
        since = utcnow() - timedelta(days=days)
        zone = ZoneInfo(tz)
        counts = [0] * 24
        with reading(self.sessions) as session:
            for created in repository.created_times(session, scope, since):
                moment = as_utc(created)
                if moment is not None:
                    counts[moment.astimezone(zone).hour] += 1
        return [c / days for c in counts]

    def staffing_plan(
        self,
        scope: Scope,
        *,
        days: int = 28,
        tz: str = "UTC",
        aht_minutes: float = 12.0,
        target_seconds: float = 900.0,
        service_level: float = 0.8,
        concurrency: float = 3.0,
        shrinkage: float = 0.3,
    ) -> list[StaffingHour]:
        """Agents each hour needs (Erlang C) for the traffic of the last `days` days in the caller's scope."""
        arrivals = self.hourly_arrivals(scope, days, tz)
        return hourly_staffing(
            arrivals,
            aht_seconds=aht_minutes * 60,
            target_answer_seconds=target_seconds,
            target_service_level=service_level,
            concurrency=concurrency,
            shrinkage=shrinkage,
        )

    # -- the operator's overview (`relaydesk demo`): every organisation, no scope -----------------

    def conversation_overview(self) -> list[OverviewRow]:
        """Every conversation with its department, assignee and routing reason, by id."""
        with reading(self.sessions) as session:
            return [
                OverviewRow(
                    conversation_id=conversation.id,
                    language=conversation.language,
                    intent=conversation.intent,
                    sentiment=conversation.sentiment,
                    urgency=conversation.urgency,
                    department=department,
                    assignee=handle,
                    route_reason=repository.first_route_reason(session, conversation.id),
                )
                for conversation, department, handle in repository.overview_rows(session)
            ]

    def assigned_among(self, conversation_ids: list[int]) -> list[tuple[int, int]]:
        """(conversation id, assignee id) of the assigned ones among these conversations, by id."""
        with reading(self.sessions) as session:
            return repository.assigned_among(session, conversation_ids)

    def answered_conversation_ids(self) -> set[int]:
        """Conversations that have had at least one reply."""
        with reading(self.sessions) as session:
            return repository.answered_conversation_ids(session)


def _conversation_facts(
    session: Session, scope: Scope, since: datetime | None = None, until: datetime | None = None
) -> list[ConversationFacts]:
    return facts_of(session, scope.org_id, repository.conversations_created(session, scope, since, until))


def facts_of(session: Session, org_id: int, rows: Iterable[Any]) -> list[ConversationFacts]:
    """What the KPIs need of these conversations (ORM rows or column rows of the same names)."""
    # Spam is not customer care: counting it would lower response rates for answering nobody.
    conversations = [c for c in rows if SPAM not in (c.tags or [])]
    if not conversations:
        return []
    ids = [c.id for c in conversations]
    first_inbound: dict[int, datetime] = {}
    sla: dict[tuple[int, str], bool] = {}
    for chunk in _chunks(ids):
        first_inbound.update(repository.first_inbound_times(session, chunk))
        for conv_id, target, met in repository.sla_results(session, chunk):
            # A conversation's next-response target is met only if every next response was.
            key = (int(conv_id), str(target))
            sla[key] = sla.get(key, True) and bool(met)
    org_departments = repository.departments(session, org_id)
    departments = {d.id: d.key for d in org_departments}
    agency_keys = repository.agency_keys(session, org_id)
    teams = {
        d.id: f"agency:{agency_keys.get(d.agency_id, d.agency_id)}" if d.agency_id else IN_HOUSE
        for d in org_departments
    }
    approvals: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        approvals.update(_approval_facts(session, chunk))
    now = utcnow()
    facts = []
    for c in conversations:
        first_met = sla.get((c.id, "first_response"))
        due = as_utc(c.next_response_due)
        if first_met is None and c.first_response_at is None and due is not None and due < now:
            first_met = False  # still unanswered past its due time: already breached
        facts.append(
            ConversationFacts(
                created_at=c.created_at,
                first_inbound_at=first_inbound.get(c.id),
                first_response_at=c.first_response_at,
                resolved_at=c.resolved_at,
                department=departments.get(c.department_id) if c.department_id else None,
                channel=c.network,
                sentiment=c.sentiment,
                sla_first_response_met=first_met,
                sla_next_response_met=sla.get((c.id, "next_response")),
                sla_resolution_met=sla.get((c.id, "resolution")),
                first_response_business_seconds=(
                    float(c.first_response_business_seconds)
                    if c.first_response_business_seconds is not None
                    else None
                ),
                team=teams.get(c.department_id) if c.department_id else None,
                conversation_id=c.id,
                location_id=c.location_id,
                department_id=c.department_id,
                account_id=c.account_id,
                assignee_id=c.assignee_id,
                intent=c.intent,
                language=c.language,
                stage=c.stage,
                **approvals.get(c.id, {}),
            )
        )
    return facts


def _chunks(ids: list[int], size: int = 5000) -> Iterator[list[int]]:
    # Bound the IN lists: a busy day of a large chain holds ~100k conversations.
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _approval_facts(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per conversation: drafts held for approval, each decision's review time, and the SLA policy
    its first clock ran by (timeline)."""
    out: dict[int, dict[str, Any]] = {}
    for conv_id, kind, data in repository.approval_events(session, ids):
        facts = out.setdefault(
            int(conv_id),
            {
                "approvals_requested": 0,
                "approvals_approved": 0,
                "approvals_rejected": 0,
                "review_seconds": (),
            },
        )
        details = data if isinstance(data, dict) else {}
        if kind == "sla":
            if "sla_policy" not in facts and isinstance(details.get("policy"), str):
                facts["sla_policy"] = details["policy"]
            continue
        if kind == "draft":
            facts["approvals_requested"] += 1
            continue
        facts["approvals_approved" if details.get("approved") else "approvals_rejected"] += 1
        seconds = details.get("approval_seconds")
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            facts["review_seconds"] = (*facts["review_seconds"], float(seconds))
    return out
