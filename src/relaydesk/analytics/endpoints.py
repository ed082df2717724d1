"""Reports: the KPIs managers steer by, and the staffing each hour needs."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from relaydesk.analytics.schemas import KpiSummaryOut, StaffingPlanOut
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
