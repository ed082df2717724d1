"""Settings: the hub of every settings page, and the audit log for owners and admins."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from relaydesk.audit.service import KINDS, AuditFilter, audit_service
from relaydesk.web.i18n import _
from relaydesk.web.rendering import render
from relaydesk.web.session import container_of, current_caller, to_login

router = APIRouter(include_in_schema=False)
PAGE = "/settings/audit"


@router.get("/settings", response_class=HTMLResponse, response_model=None)
def settings_hub(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    return render(request, "settings.html", {}, caller=caller)


def _day(text: str, caller_zone: Any, *, end: bool = False) -> datetime | None:
    """A date from the filter's date box, as the start (or the end) of that day in the reader's zone."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None
    moment = datetime.combine(day, time(0), tzinfo=caller_zone)
    return moment + timedelta(days=1) if end else moment


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def audit_page(
    request: Request,
    kind: str = "",
    actor: str = "",
    key: str = "",
    since: str = "",
    until: str = "",
    before_id: int | None = None,
) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not caller.scope.can_configure:
        return render(
            request,
            "error.html",
            {"title": _("Not allowed"), "message": _("The audit log is for admins and owners.")},
            caller=caller,
            status_code=403,
        )
    sessions = container_of(request).sessions
    where = AuditFilter(
        kind=kind if kind in KINDS.values() else None,
        actor=actor or None,
        key=key or None,
        since=_day(since, caller.zone),
        until=_day(until, caller.zone, end=True),
    )
    page = audit_service.page(sessions, caller.scope, where, before_id)
    query = {"kind": kind, "actor": actor, "key": key, "since": since, "until": until}
    return render(
        request,
        "settings_audit.html",
        {
            "page": page,
            "kinds": sorted(set(KINDS.values())),
            "actors": audit_service.actors(sessions, caller.scope),
            "query": query,
            "export_query": {
                k: v
                for k, v in {
                    "kind": where.kind,
                    "actor": where.actor,
                    "key": where.key,
                    "since": where.since.isoformat() if where.since else None,
                    "until": where.until.isoformat() if where.until else None,
                }.items()
                if v
            },
        },
        caller=caller,
    )
