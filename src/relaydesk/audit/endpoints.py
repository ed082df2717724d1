"""The audit log over the API: owners and admins read and export every configuration change."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from fastapi.responses import Response

from relaydesk.audit.schemas import AuditPage
from relaydesk.audit.service import AuditFilter, audit_service
from relaydesk.deps import ContainerDep, ScopeDep

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


def _filter(
    kind: str | None, actor: str | None, key: str | None, since: datetime | None, until: datetime | None
) -> AuditFilter:
    return AuditFilter(kind=kind or None, actor=actor or None, key=key or None, since=since, until=until)


@router.get("", response_model=AuditPage)
def audit_log(
    container: ContainerDep,
    scope: ScopeDep,
    kind: str | None = Query(None, description="routing_rule, person, account, faq, ..."),
    actor: str | None = Query(None, description="the name of the person who made the change"),
    key: str | None = Query(None, description="the object's name, e.g. a rule's"),
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = Query(None, description="the `older` of the previous page"),
) -> AuditPage:
    """Changes to the organisation's configuration, newest first, 100 a page: who, when, what, before -> after."""
    return audit_service.page(container.sessions, scope, _filter(kind, actor, key, since, until), before_id)


@router.get(".csv", response_class=Response)
def audit_csv(
    container: ContainerDep,
    scope: ScopeDep,
    kind: str | None = None,
    actor: str | None = None,
    key: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    """The same, as CSV: one line per changed field."""
    text = audit_service.csv_text(container.sessions, scope, _filter(kind, actor, key, since, until))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="relaydesk-audit.csv"'},
    )
