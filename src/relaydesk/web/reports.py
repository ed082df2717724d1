"""Reports: KPIs and the staffing plan for a period."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from relaydesk.core.timeutil import utcnow
from relaydesk.models import Organization
from relaydesk.web.rendering import render
from relaydesk.web.session import container_of, current_caller, to_login

REPORT_DAYS = (7, 30, 90)

router = APIRouter(include_in_schema=False)

# -- reports --------------------------------------------------------------------------------------


@router.get("/reports", response_class=HTMLResponse, response_model=None)
def reports(request: Request, days: str = "30") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    period = int(days) if days.isdigit() and int(days) in REPORT_DAYS else None
    since = utcnow() - timedelta(days=period) if period else None
    container = container_of(request)
    summary = container.analytics.kpi_summary(caller.scope, since=since)
    with container.sessions() as session:
        org = session.get(Organization, caller.scope.org_id)
        tz = org.default_timezone if org else "UTC"
    # The plan uses the period's traffic (four weeks for "all time") and the API's defaults.
    staffing = container.analytics.staffing_plan(caller.scope, days=period or 28, tz=tz)
    return render(
        request,
        "reports.html",
        {
            "s": summary,
            "days": period,
            "choices": REPORT_DAYS,
            "staffing": staffing,
            "staffing_tz": tz,
            "staffing_peak": max((h.scheduled_agents for h in staffing), default=0),
        },
        caller=caller,
    )
