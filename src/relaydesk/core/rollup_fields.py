"""The columns of a report rollup row, shared by the table (models/reports.py) and the folding
(analytics/rollup.py): counters, then one count per first-response time band."""

from __future__ import annotations

# Band edges in seconds: fine where response targets live (minutes), coarse past a day.
EDGES: tuple[float, ...] = (
    0, 30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400,
    21600, 28800, 43200, 57600, 86400, 129600, 172800, 259200, 432000, 604800, 1209600, 2592000,
)  # fmt: skip
COUNTERS: tuple[str, ...] = (
    "conversations",
    "with_inbound",
    "answered",
    "answered_1h",
    "answered_24h",
    "answered_72h",
    "eligible_1h",
    "eligible_24h",
    "eligible_72h",
    "resolved",
    "positive",
    "neutral",
    "negative",
    "sla_first_response_met",
    "sla_next_response_met",
    "sla_resolution_met",
    "sla_first_response_decided",
    "sla_next_response_decided",
    "sla_resolution_decided",
    "approvals_requested",
    "approvals_approved",
    "approvals_rejected",
    "first_response_sum",
    "resolution_sum",
)
FIELDS: tuple[str, ...] = (*COUNTERS, *(f"fr_{i}" for i in range(len(EDGES))))
# The totals' other durations, one row per (location, day, department): business-hours first
# response, resolution, and approval review, in the same bands.
HISTOGRAM_PREFIXES: dict[str, str] = {"first_response_business": "frb", "resolution": "res", "review": "rev"}
HISTOGRAM_FIELDS: tuple[str, ...] = tuple(
    f"{prefix}_{i}" for prefix in HISTOGRAM_PREFIXES.values() for i in range(len(EDGES))
)
