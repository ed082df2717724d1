"""The rows of the reports' CSV downloads (pure): a breakdown table, and one line per conversation.

Durations are whole seconds, times ISO 8601 in UTC, shares between 0 and 1: a spreadsheet can
compute with every cell. Column names are English keys, like the API's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from relaydesk.analytics.kpis import SLA_TARGETS, ConversationFacts
from relaydesk.analytics.report import Figures, GroupLine, Report

TABLE_HEADER = (
    "group",
    "name",
    "conversations",
    "with_customer_message",
    "answered",
    "answered_share",
    "answered_within_24h",
    "had_24h",
    "first_response_median_seconds",
    "first_response_p90_seconds",
    "sla_first_response_met",
    "sla_first_response_decided",
    "resolved",
    "negative",
    "negative_share",
)


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def figure_cells(f: Figures) -> list[object]:
    return [
        f.conversations,
        f.with_inbound,
        f.answered.numerator,
        _share(f.answered.share),
        f.within["24h"].numerator,
        f.within["24h"].denominator,
        _seconds(f.first_response.median),
        _seconds(f.first_response.p90),
        f.sla["first_response"].numerator,
        f.sla["first_response"].denominator,
        f.resolved,
        f.sentiment.get("negative", 0),
        _share(f.negative_share),
    ]


def table_rows(lines: Iterable[GroupLine]) -> Iterator[list[object]]:
    yield list(TABLE_HEADER)
    for line in lines:
        yield [line.value, line.name, *figure_cells(line.figures)]


def totals_rows(report: Report) -> Iterator[list[object]]:
    """The page's headline numbers: this period and the one before, side by side."""
    yield ["period", "from", "to", *TABLE_HEADER[2:]]
    for name, period, f in (
        ("this", report.period, report.totals),
        ("previous", report.previous, report.before),
    ):
        yield [name, period.start.isoformat(), period.end.isoformat(), *figure_cells(f)]


def series_rows(report: Report) -> Iterator[list[object]]:
    yield ["day", "conversations", "answered_share", "first_response_median_seconds", "negative_share"]
    for point in report.series:
        yield [
            point.day.isoformat(),
            point.conversations,
            _share(point.answered_share),
            _seconds(point.first_response_median),
            _share(point.negative_share),
        ]


CONVERSATION_HEADER = (
    "conversation",
    "started_at",
    "status",
    "channel",
    "account",
    "location",
    "department",
    "team",
    "assignee",
    "language",
    "intent",
    "sentiment",
    "stage",
    "first_customer_message_at",
    "first_response_at",
    "first_response_seconds",
    "first_response_business_seconds",
    *(f"sla_{t}" for t in SLA_TARGETS),
    "resolved_at",
    "resolution_seconds",
    "transfers",
    "replies_held_for_approval",
    "approval_review_seconds",
)


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _outcome(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "breached")


def conversation_row(
    fact: ConversationFacts,
    status: str,
    transfers: int,
    names: tuple[Mapping[int, str], Mapping[int, str], Mapping[int, str]],
) -> list[object]:
    """One conversation with every timing; names = (account keys, location keys, people)."""
    accounts, places, people = names
    return [
        fact.conversation_id,
        _iso(fact.created_at),
        status,
        fact.channel,
        accounts.get(fact.account_id or 0, ""),
        places.get(fact.location_id or 0, ""),
        fact.department or "",
        fact.team or "",
        people.get(fact.assignee_id or 0, ""),
        fact.language or "",
        fact.intent or "",
        fact.sentiment or "",
        fact.stage or "",
        _iso(fact.first_inbound_at),
        _iso(fact.first_response_at),
        _seconds(fact.first_response_seconds),
        _seconds(fact.first_response_business_seconds),
        *(_outcome(fact.sla_met(t)) for t in SLA_TARGETS),
        _iso(fact.resolved_at),
        _seconds(fact.resolution_seconds),
        transfers,
        fact.approvals_requested,
        sum(round(s) for s in fact.review_seconds) if fact.review_seconds else None,
    ]
