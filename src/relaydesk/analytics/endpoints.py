"""Reports: the KPIs managers steer by, and the staffing each hour needs."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import AfterValidator

from relaydesk.analytics.exports import (
    CONVERSATION_HEADER,
    conversation_row,
    series_rows,
    table_rows,
    totals_rows,
)
from relaydesk.analytics.report import Period, parse_period
from relaydesk.analytics.report_service import TABLES, WIDE_TABLES
from relaydesk.analytics.rollups import zone_of
from relaydesk.analytics.schemas import KpiSummaryOut, StaffingPlanOut
from relaydesk.core.spreadsheet import csv_lines
from relaydesk.core.timeutil import utcnow
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.sla.clock import load_zone

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


def _known_zone(name: str) -> str:
    load_zone(name)  # its ValueError names the zone: a 422 on `tz` like any invalid parameter
    return name.strip()


TimeZoneQuery = Annotated[
    str,
    Query(max_length=64, description="IANA time zone of the day and hour boundaries, e.g. Asia/Tehran"),
    AfterValidator(_known_zone),
]


# JSONResponse, not FastAPI's direct-to-bytes path: floats keep Python's spelling (1e-05, not
# 0.00001), so the bodies stay byte for byte what clients have always received.
@router.get("/kpis", response_model=KpiSummaryOut, response_class=JSONResponse)
def kpis(
    container: ContainerDep,
    scope: ScopeDep,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: TimeZoneQuery = "UTC",
) -> dict[str, Any]:
    return container.analytics.kpi_summary(scope, since, until, tz).to_dict()


@router.get("/staffing", response_model=StaffingPlanOut, response_class=JSONResponse)
def staffing(
    container: ContainerDep,
    scope: ScopeDep,
    days: Annotated[int, Query(ge=1, le=365)] = 28,
    tz: TimeZoneQuery = "UTC",
    aht_minutes: Annotated[float, Query(gt=0, le=600)] = 12.0,
    target_seconds: Annotated[float, Query(gt=0)] = 900.0,
    service_level: Annotated[float, Query(gt=0, lt=1)] = 0.8,
    concurrency: Annotated[float, Query(ge=1, le=20)] = 3.0,
    shrinkage: Annotated[float, Query(ge=0, lt=1)] = 0.3,
) -> dict[str, Any]:
    """How many agents each hour of the day needs to answer `service_level` within `target_seconds`."""
    try:
        plan = container.analytics.staffing_plan(
            scope,
            days=days,
            tz=tz,
            aht_minutes=aht_minutes,
            target_seconds=target_seconds,
            service_level=service_level,
            concurrency=concurrency,
            shrinkage=shrinkage,
        )
    except (ValueError, KeyError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return {"tz": tz, "days": days, "hours": [asdict(h) for h in plan]}


FromQuery = Annotated[
    str, Query(alias="from", max_length=10, description="First day, YYYY-MM-DD (default: 30 days to `to`)")
]
ToQuery = Annotated[
    str, Query(alias="to", max_length=10, description="Last day, YYYY-MM-DD (default: today)")
]
KeyQuery = Annotated[str, Query(max_length=64)]


def period_of(container: ContainerDep, scope: ScopeDep, start: str, end: str) -> Period:
    """The days asked for, in the organisation's time zone; a wrong date is a 422 naming it."""
    today = utcnow().astimezone(zone_of(container.reports.zone(scope))).date()
    try:
        return parse_period(start, end, today)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


@router.get("/summary", response_class=JSONResponse)
def summary(
    container: ContainerDep,
    scope: ScopeDep,
    start: FromQuery = "",
    end: ToQuery = "",
    department: KeyQuery = "",
    location: KeyQuery = "",
    wide: bool = False,
) -> dict[str, Any]:
    """The reports page's numbers from the rollups: totals, the previous period, days, breakdowns."""
    period = period_of(container, scope, start, end)
    report = container.reports.report(scope, period, department=department, location=location, wide=wide)
    body: dict[str, Any] = jsonable(asdict(report))
    return body


def _download(name: str, lines: Any) -> StreamingResponse:
    return StreamingResponse(
        csv_lines(lines),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/conversations.csv", response_class=StreamingResponse)
def conversations_csv(
    container: ContainerDep,
    scope: ScopeDep,
    start: FromQuery = "",
    end: ToQuery = "",
    department: KeyQuery = "",
    location: KeyQuery = "",
) -> StreamingResponse:
    """One line per conversation the report counts, with every timing and SLA outcome."""
    period = period_of(container, scope, start, end)
    names = container.reports.export_names(scope)
    # Checked before streaming starts: an unknown key is a 422, not a broken download.
    lines = container.reports.conversation_lines(scope, period, department=department, location=location)
    first = next(lines, None)

    def rows() -> Any:
        yield list(CONVERSATION_HEADER)
        if first is not None:
            yield conversation_row(*first, names)
        for fact, status, transfers in lines:
            yield conversation_row(fact, status, transfers, names)

    return _download(f"conversations-{period.start}-{period.end}.csv", rows())


@router.get("/{table}.csv", response_class=StreamingResponse)
def table_csv(
    table: str,
    container: ContainerDep,
    scope: ScopeDep,
    start: FromQuery = "",
    end: ToQuery = "",
    department: KeyQuery = "",
    location: KeyQuery = "",
) -> StreamingResponse:
    """A table of the reports page as CSV: totals, days, or a breakdown (department, channel...)."""
    known = ("totals", "days", *TABLES, *WIDE_TABLES)
    if table not in known:
        raise HTTPException(status_code=404, detail=f"no report table {table!r} (known: {', '.join(known)})")
    period = period_of(container, scope, start, end)
    report = container.reports.report(
        scope, period, department=department, location=location, wide=table in WIDE_TABLES
    )
    if table == "totals":
        lines = totals_rows(report)
    elif table == "days":
        lines = series_rows(report)
    else:
        lines = table_rows(report.breakdowns.get(table, []))
    return _download(f"{table}-{period.start}-{period.end}.csv", lines)


def jsonable(value: Any) -> Any:
    """Dates as ISO text, everything else as it is."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
