"""API shapes of the reports: the KPI summary and the staffing plan, field for field as kpis.py and
staffing.py build them (the bodies are those dataclasses as JSON, in their field order)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RateOut(BaseModel):
    numerator: int
    denominator: int
    share: float | None = Field(description="numerator / denominator; null when nothing was counted")


class DurationStatsOut(BaseModel):
    """Seconds; every statistic is null when count is 0."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None
    max: float | None


class ResponseRatesOut(BaseModel):
    with_inbound: int = Field(description="conversations with an inbound message")
    answered: RateOut
    within: dict[str, RateOut] = Field(
        description="answered within 1h, 24h, 72h, among those that had the whole window"
    )
    unanswered_after_72h: RateOut


class SentimentMixOut(BaseModel):
    counts: dict[str, int]
    shares: dict[str, float | None]


class GroupKpisOut(BaseModel):
    conversations: int
    first_response: DurationStatsOut
    answered: RateOut
    answered_within_24h: RateOut
    sla: dict[str, RateOut] = Field(description="attainment per target: met / (met + breached)")
    resolution: DurationStatsOut


class ApprovalKpisOut(BaseModel):
    requested: int = Field(description="replies held as drafts for approval")
    approved: int
    rejected: int
    waiting: int
    review_time: DurationStatsOut = Field(description="draft to decision, over every decision")


class KpiSummaryOut(BaseModel):
    generated_at: str = Field(description="ISO 8601, UTC")
    conversations: int
    first_response: DurationStatsOut = Field(description="first inbound message to first response")
    first_response_business: DurationStatsOut = Field(description="the same, in business hours")
    response: ResponseRatesOut
    sla: dict[str, RateOut] = Field(description="attainment per target: met / (met + breached)")
    resolution: DurationStatsOut = Field(description="created to resolved")
    sentiment: SentimentMixOut
    by_department: dict[str, GroupKpisOut]
    by_channel: dict[str, GroupKpisOut]
    by_hour: dict[int, GroupKpisOut] = Field(
        description="all 24 hours, by the local hour (`tz`) of the first inbound message"
    )
    by_team: dict[str, GroupKpisOut] = Field(description="`agency:<key>` and `in-house`")
    approvals: ApprovalKpisOut | None


class StaffingHourOut(BaseModel):
    hour: int
    arrivals_per_hour: float
    traffic_erlangs: float
    agents: int = Field(description="needed on the floor")
    scheduled_agents: int = Field(description="to schedule, after shrinkage")
    service_level: float
    occupancy: float
    wait_probability: float
    average_speed_of_answer_seconds: float


class StaffingPlanOut(BaseModel):
    tz: str
    days: int
    hours: list[StaffingHourOut] = Field(description="hour 0 first, in `tz`")
