"""Reports: the numbers a manager steers by, for any range of days, compared with the days before.

Read from the rollups (analytics/rollups.py), so a month of a 1,000-location chain answers as fast
as a week of one shop. Every number that counts conversations links to those conversations in the
inbox, and every table downloads as CSV with the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from relaydesk.analytics.report import Figures, Period, Report, change, parse_period
from relaydesk.analytics.report_service import drill_instant
from relaydesk.analytics.rollups import zone_of
from relaydesk.analytics.staffing import hourly_staffing
from relaydesk.core.errors import UserError
from relaydesk.core.timeutil import utcnow
from relaydesk.crisis.alert_service import alert_service
from relaydesk.db import reading
from relaydesk.web.charts import bar_chart, heat_cells, line_chart
from relaydesk.web.i18n import _
from relaydesk.web.rendering import render
from relaydesk.web.session import Caller, container_of, current_caller, to_login

REPORT_DAYS = (7, 30, 90)
TABLE_LINES = 25  # per breakdown on the page; the CSV has every line
# Which inbox filter a breakdown's value drills into; a team has none (it is a set of departments).
DRILL_KEYS = {
    "department": "department",
    "channel": "network",
    "account": "account",
    "intent": "intent",
    "language": "language",
    "stage": "stage",
    "assignee": "assignee",
    "location": "location",
}

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Delta:
    """A change from the previous period, and whether it is good news (None: neither)."""

    share: float
    good: bool | None


def delta(now: float | None, before: float | None, *, lower_is_better: bool | None) -> Delta | None:
    moved = change(now, before)
    if moved is None or abs(moved) < 0.005:
        return None
    if lower_is_better is None:
        return Delta(moved, None)
    return Delta(moved, (moved < 0) == lower_is_better)


def deltas(now: Figures, before: Figures) -> dict[str, Delta | None]:
    return {
        "conversations": delta(now.conversations, before.conversations, lower_is_better=None),
        "first_response": delta(
            now.first_response.median, before.first_response.median, lower_is_better=True
        ),
        "answered": delta(now.answered.share, before.answered.share, lower_is_better=False),
        "unanswered": delta(
            now.unanswered_after_72h.share, before.unanswered_after_72h.share, lower_is_better=True
        ),
        "sla": delta(
            now.sla["first_response"].share, before.sla["first_response"].share, lower_is_better=False
        ),
        "resolution": delta(now.resolution.median, before.resolution.median, lower_is_better=True),
        "negative": delta(now.negative_share, before.negative_share, lower_is_better=True),
    }


class Links:
    """Drill-down and download addresses for one report (its days, department and location)."""

    def __init__(self, period: Period, zone: str, department: str, location: str) -> None:
        self.period = period
        self.zone = zone
        self.narrowing = {k: v for k, v in (("department", department), ("location", location)) if v}

    def query(self, **extra: str) -> str:
        params = {"from": self.period.start.isoformat(), "to": self.period.end.isoformat(), **self.narrowing}
        return urlencode({**params, **{k: v for k, v in extra.items() if v}})

    def inbox(self, day: Any = None, **filters: str) -> str:
        """The conversations behind a number: the same days, spam left out, every status."""
        first = day or self.period.start
        last = day or self.period.end
        params = {
            "status": "all",
            "without_tag": "spam",
            "created_from": drill_instant(first, self.zone).isoformat(),
            "created_to": drill_instant(last, self.zone, end=True).isoformat(),
            **self.narrowing,
            **{k: v for k, v in filters.items() if v},
        }
        return "/?" + urlencode(params)

    def group(self, table: str, value: str) -> str | None:
        key = DRILL_KEYS.get(table)
        if table == "assignee" and not value:
            return self.inbox(assignee="none")  # the inbox's own word for "not assigned"
        if key is None or not value or value == "unknown":
            return None
        return self.inbox(**{key: value})

    def csv(self, table: str) -> str:
        return f"/api/v1/reports/{table}.csv?{self.query()}"


@router.get("/reports", response_class=HTMLResponse, response_model=None)
def reports(
    request: Request,
    days: str = "",
    department: str = "",
    location: str = "",
    by_location: str = "",
) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    params = request.query_params
    container = container_of(request)
    zone = container.reports.zone(caller.scope)
    today = utcnow().astimezone(zone_of(zone)).date()
    quick = int(days) if days.isdigit() and int(days) in REPORT_DAYS else None
    error = None
    try:
        if quick:
            period = parse_period("", "", today, default_days=quick)
        else:
            period = parse_period(params.get("from", ""), params.get("to", ""), today)
        report = container.reports.report(
            caller.scope,
            period,
            department=department,
            location=location,
            wide=bool(by_location),
            limit=TABLE_LINES,
        )
    except (ValueError, UserError) as exc:
        error = str(exc)
        period = parse_period("", "", today)
        department = location = ""
        report = container.reports.report(caller.scope, period, limit=TABLE_LINES)
    return render(
        request,
        "reports.html",
        _context(request, caller, report, zone, department, location, quick, bool(by_location)),
        caller=caller,
        status_code=422 if error else 200,
        flash={"message": error, "kind": "error"} if error else None,
    )


def _context(
    request: Request,
    caller: Caller,
    report: Report,
    zone: str,
    department: str,
    location: str,
    quick: int | None,
    wide: bool,
) -> dict[str, Any]:
    container = container_of(request)
    series = report.series
    links = Links(report.period, zone, department, location)
    # Erlang C from the period's arrivals by hour of day (the hour-of-week grid, averaged per day).
    per_day_hours = [sum(report.hour_of_week[d][h] for d in range(7)) / 7 for h in range(24)]
    staffing = hourly_staffing(
        per_day_hours,
        aht_seconds=720,
        target_answer_seconds=900,
        target_service_level=0.8,
        concurrency=3,
        shrinkage=0.3,
    )
    departments = container.conversations.departments(caller.scope)
    # The period's crisis alerts, the local days of the period as instants.
    zone_info = zone_of(zone)
    start = datetime.combine(report.period.start, time(0), tzinfo=zone_info).astimezone(UTC)
    end = datetime.combine(report.period.end + timedelta(days=1), time(0), tzinfo=zone_info).astimezone(UTC)
    with reading(container.sessions) as session:
        alert_metrics = alert_service.metrics(session, caller.scope, start, end)
    return {
        "alerts": alert_metrics,
        "r": report,
        "as_of": container.reports.as_of(),
        "s": report.totals,
        "b": report.before,
        "d": deltas(report.totals, report.before),
        "links": links,
        "quick": quick,
        "choices": REPORT_DAYS,
        "department": department,
        "location": location,
        "wide": wide,
        "departments": [d for d in departments if caller.scope.sees_department(d.id)],
        "volume": bar_chart([p.conversations for p in series]),
        "speed": line_chart([p.first_response_median for p in series]),
        "answered": line_chart([p.answered_share for p in series], top=1.0),
        "negative": line_chart([p.negative_share for p in series], top=1.0),
        "heat": heat_cells(report.hour_of_week),
        "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
        "tables": _tables(report, wide),
        "staffing": staffing,
        "staffing_tz": zone,
        "staffing_peak": max((h.scheduled_agents for h in staffing), default=0),
        "on_shift": container.reports.on_shift(caller.scope, department),
        "loads": container.reports.agent_loads(caller.scope, report.breakdowns.get("assignee", [])),
    }


def _tables(report: Report, wide: bool) -> list[tuple[str, str, list[Any]]]:
    titles = {
        "department": _("By department"),
        "team": _("In-house and agency"),
        "channel": _("By channel"),
        "account": _("By account"),
        "intent": _("By intent"),
        "language": _("By language"),
        "stage": _("By purchase stage"),
        "assignee": _("By agent"),
        "policy": _("By SLA policy"),
        "location": _("By location"),
    }
    order = ["department", "team", "policy", "assignee", "channel", "account", "intent", "language", "stage"]
    if wide:
        order.insert(0, "location")
    return [(key, titles[key], report.breakdowns.get(key, [])) for key in order]
