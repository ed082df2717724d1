"""Reports: the KPIs managers steer by, and the staffing each hour needs."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from relaydesk.analytics.service import kpi_summary, staffing_plan
from relaydesk.deps import ContainerDep, ScopeDep

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("/kpis")
def kpis(
    container: ContainerDep,
    scope: ScopeDep,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: Annotated[str, Query(max_length=64)] = "UTC",
) -> dict[str, Any]:
    with container.sessions() as session:
        return kpi_summary(session, scope, since, until, tz).to_dict()


@router.get("/staffing")
def staffing(
    container: ContainerDep,
    scope: ScopeDep,
    days: Annotated[int, Query(ge=1, le=365)] = 28,
    tz: Annotated[str, Query(max_length=64)] = "UTC",
    aht_minutes: Annotated[float, Query(gt=0, le=600)] = 12.0,
    target_seconds: Annotated[float, Query(gt=0)] = 900.0,
    service_level: Annotated[float, Query(gt=0, lt=1)] = 0.8,
    concurrency: Annotated[float, Query(ge=1, le=20)] = 3.0,
    shrinkage: Annotated[float, Query(ge=0, lt=1)] = 0.3,
) -> dict[str, Any]:
    """How many agents each hour of the day needs to answer `service_level` within `target_seconds`."""
    try:
        with container.sessions() as session:
            plan = staffing_plan(
                session,
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
