"""The inbox: a filtered page of the conversations the caller may see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from relaydesk.conversations.filters import ConversationFilters
from relaydesk.conversations.saved_views import VIEW_KEYS
from relaydesk.conversations.service import ConversationService
from relaydesk.conversations.sorting import SORTS
from relaydesk.core.enums import Priority, Sentiment
from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.models import Department
from relaydesk.web import i18n
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import container_of, csrf_ok, current_caller, to_login

ACTIVE_STATUSES = ["new", "open", "pending", "reopened"]
STATUSES = ("new", "open", "pending", "reopened", "snoozed", "resolved")
LANGUAGES = ("fa", "ar", "he", "th", "en")
SLA_STATES = ("breached", "warning", "ok", "none")
PAGE_SIZE = 50
FILTER_KEYS = ("status", "department", "assignee", "language", "sentiment", "intent", "sla", "q", "tag")

router = APIRouter(include_in_schema=False)


def _agents(service: ConversationService, departments: list[Department]) -> list[dict[str, Any]]:
    """Who the bulk bar can assign to: the people of the departments the caller sees."""
    found: dict[int, dict[str, Any]] = {}
    for department in departments:
        for agent in service.agents(department.id):
            found.setdefault(agent["id"], agent)
    return sorted(found.values(), key=lambda a: str(a["name"]).casefold())


# -- the inbox ------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse, response_model=None)
def inbox(
    request: Request,
    status: str = "",
    department: str = "",
    assignee: str = "",
    language: str = "",
    sentiment: str = "",
    intent: str = "",
    sla: str = "",
    q: str = "",
    sort: str = "",
    tag: str = "",
    cursor: str = "",
    network: str = "",
    stage: str = "",
    account: str = "",
    location: str = "",
    created_from: str = "",
    created_to: str = "",
    without_tag: str = "",
    answered: str = "",
) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    container = container_of(request)
    # A report's drill-down adds these; the page lists them so the reader knows the list is narrowed.
    drill = {
        "network": network,
        "stage": stage,
        "account": account,
        "location": location,
        "created_from": created_from,
        "created_to": created_to,
        "without_tag": without_tag,
        "answered": answered if answered in ("yes", "no") else "",
    }
    chosen = {
        "status": status,
        "department": department,
        "assignee": assignee,
        "language": language,
        "sentiment": sentiment,
        "intent": intent,
        "sla": sla,
        "q": q,
        "sort": sort,
        "tag": tag,
    }
    filters = ConversationFilters(
        status=None if status == "all" else [status] if status else ACTIVE_STATUSES,
        department=department or None,
        assignee=assignee or None,
        language=language or None,
        sentiment=sentiment or None,
        intent=intent or None,
        sla=sla or None,
        q=q.strip() or None,
        sort=sort or None,
        tag=tag.strip() or None,
        network=network or None,
        stage=stage or None,
        account=account or None,
        location=location or None,
        without_tag=without_tag.strip() or None,
        answered=drill["answered"] or None,
    )
    error = None
    status_code = 200
    try:
        filters.created_from = _instant("created_from", created_from)
        filters.created_to = _instant("created_to", created_to)
        page = container.conversations.page(caller.scope, filters, cursor or None, PAGE_SIZE)
        items, next_cursor = page.items, page.next_cursor
    except UserError as exc:
        items, next_cursor, error, status_code = [], None, str(exc), exc.status_code
    params = {k: v for k, v in {**chosen, **drill}.items() if v}
    next_url = "/?" + urlencode({**params, "cursor": next_cursor}) if next_cursor else None
    first_url = ("/?" + urlencode(params) if params else "/") if cursor else None
    departments = container.conversations.departments(caller.scope)
    visible_departments = [d for d in departments if caller.scope.sees_department(d.id)]
    can_bulk = caller.scope.can_write and bool(items)
    return render(
        request,
        "inbox.html",
        {
            "items": items,
            "next_url": next_url,
            "first_url": first_url,
            "departments": visible_departments,
            "intents": container.conversations.intent_names(caller.scope),
            "statuses": STATUSES,
            "languages": i18n.language_choices(LANGUAGES),
            "sentiments": [s.value for s in Sentiment],
            "priorities": [p.value for p in Priority],
            "sla_states": SLA_STATES,
            "sorts": SORTS,
            "f": chosen,
            "drill": {k: v for k, v in drill.items() if v},
            "undrilled_url": "/?" + urlencode({k: v for k, v in chosen.items() if v}),
            "filtered": any(chosen[k] for k in FILTER_KEYS) or any(drill.values()),
            "can_bulk": can_bulk,
            "agents": _agents(container.conversations, visible_departments) if can_bulk else [],
            "views": container.conversations.views(caller.scope),
            "view_params": params,
            "can_share_views": caller.scope.can_manage,
        },
        caller=caller,
        status_code=status_code,
        flash={"message": error, "kind": "error"} if error else None,
    )


def _instant(name: str, value: str) -> datetime | None:
    """An ISO date-time from a report's link; a wrong one is the reader's to see, not a 500."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserError(f"{name}: {value!r} is not a date and time (ISO 8601)") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- saved views ----------------------------------------------------------------------------------


@router.post("/views", response_model=None)
def save_view(
    request: Request,
    csrf: str = Form(""),
    name: str = Form(""),
    shared: str = Form(""),
    params: str = Form(""),
) -> Response:
    """Save the inbox's current filters and order (`params`, its query string) under a name."""
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    back = "/?" + params if params else "/"
    if not csrf_ok(request, csrf):
        return redirect(request, back, _("This form expired; please try again."), "error")
    if not name.strip():
        return redirect(request, back, _("Give the view a name."), "error")
    chosen: dict[str, object] = {k: v for k, v in parse_qsl(params) if k in VIEW_KEYS}
    try:
        view = container_of(request).conversations.save_view(caller.scope, name, chosen, shared=bool(shared))
    except (UserError, Forbidden) as exc:
        return redirect(request, back, user_message(exc), "error")
    return redirect(request, view.url, _("View saved."))


@router.post("/views/{view_id}/delete", response_model=None)
def delete_view(request: Request, view_id: int, csrf: str = Form("")) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not csrf_ok(request, csrf):
        return redirect(request, "/", _("This form expired; please try again."), "error")
    try:
        container_of(request).conversations.delete_view(caller.scope, view_id)
    except (UserError, Forbidden, NotFound) as exc:
        return redirect(request, "/", user_message(exc), "error")
    return redirect(request, "/", _("View deleted."))
