from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relaydesk.analytics.kpis import (
    ConversationFacts,
    Rate,
    answered_within,
    approval_kpis,
    by_channel,
    by_department,
    by_hour_of_day,
    duration_stats,
    percentile,
    response_rates,
    sentiment_mix,
    sla_attainment,
    summarize,
)

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def fact(
    inbound_hours_ago: float | None = 100,
    answered_after_hours: float | None = None,
    **extra: object,
) -> ConversationFacts:
    inbound = NOW - timedelta(hours=inbound_hours_ago) if inbound_hours_ago is not None else None
    response = (
        inbound + timedelta(hours=answered_after_hours)
        if inbound and answered_after_hours is not None
        else None
    )
    created = inbound or NOW - timedelta(hours=1)
    return ConversationFacts(
        created_at=created, first_inbound_at=inbound, first_response_at=response, **extra
    )  # type: ignore[arg-type]


# --- percentiles ----------------------------------------------------------------------------------


def test_percentile_interpolates_linearly() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([10, 20, 30, 40, 50], 0.9) == pytest.approx(46.0)
    assert percentile([7], 0.9) == 7
    assert percentile([3, 1, 2], 0.0) == 1
    assert percentile([3, 1, 2], 1.0) == 3


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 0.5) is None


def test_percentile_rejects_out_of_range_q() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile([1.0], 90)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1, max_size=60),
    q=st.floats(min_value=0, max_value=1),
)
def test_percentile_matches_numpy_linear(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(
        float(np.percentile(values, q * 100, method="linear")), rel=1e-9, abs=1e-6
    )


def test_duration_stats_skip_missing_and_handle_empty() -> None:
    stats = duration_stats([60, None, 120, 180, 3600])
    assert stats.count == 4
    assert stats.mean == pytest.approx(990)
    assert stats.median == 150
    assert stats.p90 == pytest.approx(180 + 0.7 * (3600 - 180))
    assert stats.max == 3600
    empty = duration_stats([None])
    assert (empty.count, empty.mean, empty.median, empty.p90, empty.max) == (0, None, None, None, None)


# --- facts ----------------------------------------------------------------------------------------


def test_first_response_seconds_and_clamping() -> None:
    assert fact(10, 0.5).first_response_seconds == 1800
    assert fact(10, None).first_response_seconds is None
    early = ConversationFacts(created_at=NOW, first_inbound_at=NOW, first_response_at=NOW - HOUR)
    assert early.first_response_seconds == 0.0


def test_naive_datetimes_are_read_as_utc() -> None:
    naive = ConversationFacts(
        created_at=datetime(2026, 1, 1, 10), first_inbound_at=datetime(2026, 1, 1, 10), first_response_at=NOW
    )
    assert naive.created_at.tzinfo is UTC
    assert naive.first_response_seconds == (NOW - datetime(2026, 1, 1, 10, tzinfo=UTC)).total_seconds()


def test_resolution_seconds() -> None:
    resolved = ConversationFacts(created_at=NOW - 2 * HOUR, resolved_at=NOW)
    assert resolved.resolution_seconds == 7200
    assert ConversationFacts(created_at=NOW).resolution_seconds is None


# --- response rates -------------------------------------------------------------------------------


def test_seven_of_eight_unanswered_after_72_hours() -> None:
    facts = [fact(100, 2)] + [fact(100, None) for _ in range(7)]
    rates = response_rates(facts, NOW)
    assert rates.unanswered_after_72h == Rate(7, 8, 0.875)
    assert rates.answered == Rate(1, 8, 0.125)
    assert rates.within["1h"] == Rate(0, 8, 0.0)
    assert rates.within["24h"].share == 0.125


def test_recent_messages_are_not_yet_failures_of_a_window() -> None:
    facts = [
        fact(0.5, None),  # arrived 30 min ago: not yet due for any window
        fact(0.5, 0.25),  # answered within 15 min: counts everywhere
        fact(30, None),  # 30h ago, unanswered: fails 1h and 24h, not yet 72h
        fact(80, 50),  # answered after 50h
    ]
    rates = response_rates(facts, NOW)
    assert rates.within["1h"] == Rate(1, 3, 1 / 3)
    assert rates.within["24h"] == Rate(1, 3, 1 / 3)
    assert rates.within["72h"] == Rate(2, 2, 1.0)
    assert rates.unanswered_after_72h == Rate(0, 2, 0.0)
    assert rates.answered == Rate(2, 4, 0.5)
    assert rates.with_inbound == 4


def test_conversations_without_inbound_are_left_out() -> None:
    outbound_only = ConversationFacts(created_at=NOW - 100 * HOUR)
    assert response_rates([outbound_only], NOW).answered == Rate(0, 0, None)
    assert answered_within([outbound_only], HOUR, NOW) == Rate(0, 0, None)


def test_window_edge_is_inclusive() -> None:
    assert answered_within([fact(5, 1)], HOUR, NOW) == Rate(1, 1, 1.0)
    assert answered_within([fact(1, None)], HOUR, NOW) == Rate(0, 1, 0.0)


# --- SLA, sentiment, groups -----------------------------------------------------------------------


def test_sla_attainment_ignores_undecided() -> None:
    facts = [
        fact(sla_first_response_met=True, sla_resolution_met=False),
        fact(sla_first_response_met=True),
        fact(sla_first_response_met=False, sla_next_response_met=True),
        fact(),
    ]
    sla = sla_attainment(facts)
    assert sla["first_response"] == Rate(2, 3, 2 / 3)
    assert sla["next_response"] == Rate(1, 1, 1.0)
    assert sla["resolution"] == Rate(0, 1, 0.0)


def test_unknown_sla_target_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown SLA target"):
        fact().sla_met("lunch")


def test_sentiment_mix_counts_unknown() -> None:
    mix = sentiment_mix(
        [
            fact(sentiment="negative"),
            fact(sentiment="negative"),
            fact(sentiment="positive"),
            fact(),
            fact(sentiment="angry"),
        ]
    )
    assert mix.counts == {"positive": 1, "neutral": 0, "negative": 2, "unknown": 2}
    assert mix.shares["negative"] == 0.4
    assert sentiment_mix([]).shares["negative"] is None


def test_breakdowns_by_department_and_channel() -> None:
    facts = [
        fact(10, 1, department="sales", channel="instagram"),
        fact(10, 3, department="sales", channel="x"),
        fact(30, None, department="hr", channel="x"),
        fact(30, None, channel="x"),
    ]
    departments = by_department(facts, NOW)
    assert set(departments) == {"sales", "hr", "unknown"}
    assert departments["sales"].conversations == 2
    assert departments["sales"].first_response.median == 2 * 3600
    assert departments["hr"].answered == Rate(0, 1, 0.0)
    channels = by_channel(facts, NOW)
    assert channels["x"].conversations == 3
    assert channels["x"].answered_within_24h == Rate(1, 3, 1 / 3)


def test_hour_of_day_uses_the_given_zone_and_lists_all_hours() -> None:
    morning_utc = ConversationFacts(
        created_at=datetime(2026, 1, 5, 6, tzinfo=UTC),
        first_inbound_at=datetime(2026, 1, 5, 6, 10, tzinfo=UTC),
    )
    hours = by_hour_of_day([morning_utc], NOW, tz="Asia/Tehran")
    assert list(hours) == list(range(24))
    assert hours[9].conversations == 1  # 06:10 UTC is 09:40 in Tehran
    assert hours[6].conversations == 0
    assert hours[6].first_response.median is None
    with pytest.raises(ValueError, match="unknown time zone"):
        by_hour_of_day([], NOW, tz="Mars/Base")


# --- summary --------------------------------------------------------------------------------------


def test_summary_of_nothing_has_no_numbers_and_no_errors() -> None:
    summary = summarize([], NOW)
    assert summary.conversations == 0
    assert summary.first_response.median is None
    assert summary.response.answered.share is None
    assert summary.response.unanswered_after_72h.share is None
    assert all(rate.share is None for rate in summary.sla.values())
    assert summary.resolution.mean is None
    assert summary.by_department == {}
    assert len(summary.by_hour) == 24
    json.dumps(summary.to_dict())


def test_summary_bundles_everything() -> None:
    facts = [
        ConversationFacts(
            created_at=NOW - 10 * HOUR,
            first_inbound_at=NOW - 10 * HOUR,
            first_response_at=NOW - 9 * HOUR,
            resolved_at=NOW - 5 * HOUR,
            department="care",
            channel="whatsapp",
            sentiment="negative",
            sla_first_response_met=True,
            first_response_business_seconds=1200,
        ),
        ConversationFacts(
            created_at=NOW - 100 * HOUR,
            first_inbound_at=NOW - 100 * HOUR,
            department="care",
            channel="facebook",
            sentiment="neutral",
            sla_first_response_met=False,
        ),
    ]
    summary = summarize(facts, NOW)
    assert summary.conversations == 2
    assert summary.first_response.count == 1
    assert summary.first_response.median == 3600
    assert summary.first_response_business.median == 1200
    assert summary.resolution.median == 5 * 3600
    assert summary.sla["first_response"] == Rate(1, 2, 0.5)
    assert summary.response.unanswered_after_72h == Rate(1, 2, 0.5)
    assert summary.sentiment.counts["negative"] == 1
    assert summary.by_department["care"].conversations == 2
    assert set(summary.by_channel) == {"whatsapp", "facebook"}
    data = summary.to_dict()
    assert data["generated_at"] == NOW.isoformat()
    assert json.loads(json.dumps(data))["sla"]["first_response"]["share"] == 0.5


# --- approvals and teams ---------------------------------------------------------------------------


def test_approvals_count_decisions_and_review_time() -> None:
    facts = [
        ConversationFacts(
            created_at=NOW, approvals_requested=2, approvals_approved=1, review_seconds=(60.0,)
        ),
        ConversationFacts(
            created_at=NOW, approvals_requested=1, approvals_rejected=1, review_seconds=(300.0,)
        ),
        ConversationFacts(
            created_at=NOW, approvals_requested=1, approvals_approved=1, review_seconds=(120.0,)
        ),
        ConversationFacts(created_at=NOW),
    ]
    result = approval_kpis(facts)
    assert (result.requested, result.approved, result.rejected, result.waiting) == (4, 2, 1, 1)
    assert result.review_time.count == 3
    assert result.review_time.median == 120.0
    assert result.review_time.max == 300.0


def test_no_approvals_gives_zeros_and_none() -> None:
    result = approval_kpis([])
    assert (result.requested, result.approved, result.rejected, result.waiting) == (0, 0, 0, 0)
    assert result.review_time.median is None
    # More decisions than requests (a draft made before reporting began) never gives a negative backlog.
    assert approval_kpis([ConversationFacts(created_at=NOW, approvals_approved=2)]).waiting == 0


def test_agency_and_in_house_sla_are_measured_apart() -> None:
    facts = [
        ConversationFacts(created_at=NOW, team="agency:outco", sla_first_response_met=True),
        ConversationFacts(created_at=NOW, team="agency:outco", sla_first_response_met=False),
        ConversationFacts(created_at=NOW, team="in-house", sla_first_response_met=True),
        ConversationFacts(created_at=NOW),
    ]
    teams = summarize(facts, NOW).by_team
    assert teams["agency:outco"].sla["first_response"] == Rate(1, 2, 0.5)
    assert teams["in-house"].sla["first_response"] == Rate(1, 1, 1.0)
    assert teams["unknown"].conversations == 1
    assert summarize(facts, NOW).to_dict()["approvals"]["requested"] == 0
